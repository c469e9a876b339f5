"""What the outbox sends for broadcasts: a message as its recipients read it, an
activity's announcement (its card and a Join button), and the final report to the
sender when there was no progress message left to edit."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.broadcast.progress import heading, report_lines
from services import (
    activities,
    activity_admin,
    announcements,
    broadcast_progress,
    broadcasts,
    stations,
    when,
)
from storage.models import ActivityStatus
from storage.types import utcnow
from ui import labels
from ui.callbacks import DetailCb, JoinCb
from ui.format import format_when
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.outbox import Rendered, renderer


def message_text(station: str, text: str) -> str:
    """A broadcast as its recipients read it: a heading naming the station (already
    escaped), then the sender's plain text, escaped."""
    return _("📣 <b>Message from {station}</b>").format(station=station) + "\n\n" + html.quote(text)


async def station_name(session: AsyncSession, station_id: int, locale: str) -> str:
    station = await stations.find(session, station_id)
    return html.quote(labels.station_name(station, locale)) if station else "—"


@renderer(broadcasts.KIND)
async def render_broadcast(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """A plain broadcast, or an activity's announcement (its card and a Join button;
    None once the activity is cancelled or has started)."""
    broadcast = await broadcast_progress.get(session, int(payload["broadcast_id"]))
    if broadcast is None:
        return None
    locale = get_i18n().current_locale
    station = await station_name(session, broadcast.station_id, locale)
    if broadcast.activity_id is None:
        return message_text(station, broadcast.text), None
    activity = await announcements.announced_activity(session, broadcast)
    if (
        activity is None
        or activity.id is None
        or activity.status is not ActivityStatus.PUBLISHED
        or activity.starts_at <= utcnow()
    ):
        return None
    seats = await activities.seats(session, activity)
    zone = await activity_admin.station_zone(
        session, activity.station_id, str(payload.get("tz") or when.DEFAULT_ZONE)
    )
    text = _("📣 <b>New activity from {station}</b>").format(station=station)
    text += "\n\n" + announcement_card(seats, zone, locale)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🙋 Join"), callback_data=JoinCb(activity=activity.id))
    kb.button(text=_("Details"), callback_data=DetailCb(activity=activity.id))
    kb.adjust(2)
    return text, kb.as_markup()


def announcement_card(seats: activities.Seats, zone: ZoneInfo, locale: str) -> str:
    activity = seats.activity
    lines = [
        f"<b>{html.quote(activity.title)}</b>",
        _("{kind} · for {target}").format(
            kind=labels.KINDS[activity.kind], target=labels.TARGETS[activity.target_group]
        ),
        "🕘 " + format_when(activity.starts_at, activity.ends_at, zone, locale),
        "📍 " + html.quote(activity.place),
    ]
    if seats.left:
        lines.append(
            ngettext(
                "👥 {left} of {capacity} seat left",
                "👥 {left} of {capacity} seats left",
                seats.left,
            ).format(left=seats.left, capacity=activity.capacity)
        )
    else:
        lines.append(_("👥 Full · {waiting} on the waitlist").format(waiting=seats.waiting))
    if activity.description:
        lines += ["", html.quote(activity.description)]
    return "\n".join(lines)


@renderer(broadcast_progress.REPORT)
async def render_report(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """The final report as a message of its own."""
    broadcast = await broadcast_progress.get(session, int(payload["broadcast_id"]))
    if broadcast is None:
        return None
    progress = await broadcast_progress.progress(session, broadcast)
    top = await heading(session, broadcast, get_i18n().current_locale)
    return "\n".join([top, *report_lines(progress)]), None
