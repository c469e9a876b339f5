"""How the outbox's activity notices read when they are sent: a freed seat offered
(or given outright), an offer that lapsed, and a late cancellation for the staff."""

from __future__ import annotations

from typing import Any

from aiogram import html
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.activities.common import offer_buttons, when, zone
from services import activities, activity_views
from services import when as wh
from storage.models import ActivityStatus, SignupStatus
from storage.types import utcnow
from ui.format import format_moment
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.outbox import Rendered, renderer


def _default_zone(payload: dict[str, Any]) -> str:
    return str(payload.get("tz") or wh.DEFAULT_ZONE)


@renderer(activities.SEAT_OFFERED)
async def render_seat_offered(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """A freed seat for someone from the waitlist: held for them until a deadline (with
    Yes / No), or given outright near the start. None once it is answered, lapsed or
    gone, or the activity was cancelled."""
    found = await activity_views.signup_view(session, int(payload["signup_id"]))
    if found is None or found.activity.status is not ActivityStatus.PUBLISHED:
        return None
    signup, activity = found.signup, found.activity
    assert activity.id is not None
    locale = get_i18n().current_locale
    local = await zone(session, activity, _default_zone(payload))
    title, slot = html.quote(activity.title), when(activity, local, locale)
    if payload.get("outright"):
        if signup.status is not SignupStatus.CONFIRMED:
            return None
        return _(
            "🎟 A seat opened at <b>{title}</b> ({when}) and it is yours. If you "
            "cannot come, cancel it in /my."
        ).format(title=title, when=slot), None
    expires = signup.offer_expires_at
    if signup.status is not SignupStatus.OFFERED or expires is None or expires <= utcnow():
        return None
    kb = InlineKeyboardBuilder()
    offer_buttons(kb, activity.id)
    kb.adjust(1)
    return _(
        "🎟 A seat opened at <b>{title}</b> ({when}). It is held for you until "
        "{deadline}. Will you come?"
    ).format(title=title, when=slot, deadline=format_moment(expires, local, locale)), kb.as_markup()


@renderer(activities.OFFER_LAPSED)
async def render_offer_lapsed(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    activity = await activity_views.find(session, int(payload["activity_id"]))
    if activity is None:
        return None
    text = _(
        "The seat held for you at <b>{title}</b> has gone to the next person, "
        "as we had no answer in time."
    )
    return text.format(title=html.quote(activity.title)), None


@renderer(activities.LATE_CANCEL)
async def render_late_cancel(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """A seat given up inside the late window, for the station's staff; None when the
    person has taken a place again or the activity was cancelled. Someone who has
    since erased their data is not named."""
    found = await activity_views.signup_view(session, int(payload["signup_id"]))
    if found is None or found.activity.status is not ActivityStatus.PUBLISHED:
        return None
    if found.signup.status is not SignupStatus.CANCELLED:
        return None
    activity = found.activity
    volunteer = found.volunteer
    name = (
        html.quote(volunteer.real_name)
        if volunteer is not None and volunteer.real_name
        else _("A volunteer")
    )
    local = await zone(session, activity, _default_zone(payload))
    return _("⚠️ Late cancellation: {name} gave up their seat at <b>{title}</b> ({when}).").format(
        name=name,
        title=html.quote(activity.title),
        when=when(activity, local, get_i18n().current_locale),
    ), None
