"""The check-in part of a volunteer's activity card (handlers/activities.py): a line on
their check-in and check-out, and the buttons to check in (with the code) or out."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.attendance.common import clock, zone_of
from services.checkin import card_state
from ui.callbacks import CheckinAskCb, CheckoutCb
from ui.settings import Settings


@dataclass(frozen=True)
class CardExtras:
    note: str  # lines on the check-in and check-out, each after a line break
    buttons: list[tuple[str, CallbackData]]
    checked_in: bool


async def card_extras(
    session: AsyncSession, user_id: int, activity_id: int, settings: Settings, locale: str
) -> CardExtras:
    """For the card of an activity the volunteer holds a seat at: a line on their
    check-in and check-out, the buttons to check in (with the code) or out, and
    whether they have checked in."""
    state = await card_state(session, user_id=user_id, activity_id=activity_id)
    lines: list[str] = []
    if state.checked_in_at is not None and state.station_id is not None:
        zone = await zone_of(session, state.station_id, settings)
        lines.append(
            _("📍 You checked in at {at}.").format(at=clock(state.checked_in_at, zone, locale))
        )
        if state.checked_out_at is not None:
            lines.append(
                _("🏁 You checked out at {at}.").format(
                    at=clock(state.checked_out_at, zone, locale)
                )
            )
    buttons: list[tuple[str, CallbackData]] = []
    if state.can_check_in:
        buttons.append((_("📍 Check in"), CheckinAskCb(activity=activity_id)))
    if state.can_check_out:
        buttons.append((_("🏁 Check out"), CheckoutCb(activity=activity_id)))
    note = "".join("\n" + line for line in lines)
    return CardExtras(note, buttons, state.checked_in_at is not None)
