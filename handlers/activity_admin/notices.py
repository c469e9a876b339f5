"""The notices the volunteers signed up get when staff change or cancel an activity
(outbox rows written by services.activity_admin, rendered when they are sent)."""

from __future__ import annotations

from typing import Any

from aiogram import html
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import activity_admin, when
from storage.models import ActivityStatus
from ui import labels
from ui.format import format_when
from ui.outbox import Rendered, renderer


@renderer(activity_admin.CHANGED)
async def render_changed(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """What changed, for a volunteer signed up, as the activity is when it is sent;
    None once it is cancelled."""
    activity = await activity_admin.get(session, int(payload["activity_id"]))
    if activity is None or activity.status is not ActivityStatus.PUBLISHED:
        return None
    locale = get_i18n().current_locale
    fields = set(payload.get("fields") or ())
    zone = await activity_admin.station_zone(
        session, activity.station_id, str(payload.get("tz") or when.DEFAULT_ZONE)
    )
    lines = [
        _("ℹ️ <b>{title}</b>, which you signed up for, has changed:").format(
            title=html.quote(str(payload.get("old_title") or activity.title))
        )
    ]
    if "title" in fields:
        lines.append(_("Title: {title}").format(title=html.quote(activity.title)))
    if "starts_at" in fields or "ends_at" in fields:
        lines.append(
            _("When: {when}").format(
                when=format_when(activity.starts_at, activity.ends_at, zone, locale)
            )
        )
    if "place" in fields:
        lines.append(_("Place: {place}").format(place=html.quote(activity.place)))
    if "capacity" in fields:
        lines.append(_("Places: {capacity}").format(capacity=activity.capacity))
    if "target_group" in fields:
        lines.append(_("For: {target}").format(target=labels.TARGETS[activity.target_group]))
    if "description" in fields:
        lines.append(
            _("Description: {description}").format(
                description=html.quote(activity.description) or "—"
            )
        )
    lines.append(_("Your place is unchanged. /my lists your activities."))
    return "\n".join(lines), None


@renderer(activity_admin.CANCELLED)
async def render_cancelled(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    activity = await activity_admin.get(session, int(payload["activity_id"]))
    if activity is None:
        return None
    zone = await activity_admin.station_zone(
        session, activity.station_id, str(payload.get("tz") or when.DEFAULT_ZONE)
    )
    return _(
        "❌ <b>{title}</b> ({when}) has been cancelled by the station. We are sorry. "
        "/activities lists other activities."
    ).format(
        title=html.quote(activity.title),
        when=format_when(activity.starts_at, activity.ends_at, zone, get_i18n().current_locale),
    ), None
