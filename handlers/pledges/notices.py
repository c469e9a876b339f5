"""The pledge messages sent through the outbox: the one reminder of a pledge still
open, and the volunteer's thanks (received) or kind note (cancelled by staff)."""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.pledges.words import no_money_note, purpose_text, station_text
from services import pledge_reminders, pledges, stations, when
from services.pledges import PledgeView
from storage.models import PledgeStatus
from ui.callbacks import MyPledgesCb, MyPledgeWithdrawCb
from ui.format import day, money_text
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.outbox import Rendered, renderer


async def _pledge_date(
    session: AsyncSession, view: PledgeView, payload: dict[str, Any], locale: str
) -> str:
    default = str(payload.get("tz") or when.DEFAULT_ZONE)
    zone = await stations.zone(session, view.pledge.station_id, default)
    return day(view.pledge.created_at, locale, zone)


@renderer(pledges.REMINDER)
async def render_reminder(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """The one reminder of a pledge still open; None once it is not."""
    view = await pledge_reminders.reminder_view(session, int(payload["pledge_id"]))
    if view is None:
        return None
    locale = get_i18n().current_locale
    pledge = view.pledge
    text = "\n".join(
        [
            _("🔔 <b>About your pledge</b>"),
            "",
            _(
                "On {date} you pledged {amount} for {purpose} (receipt "
                "<code>{receipt}</code>). The station has not marked it received yet."
            ).format(
                date=await _pledge_date(session, view, payload, locale),
                amount=money_text(pledge.amount_fen, locale),
                purpose=purpose_text(view.purpose, locale),
                receipt=pledge.receipt,
            ),
            "",
            no_money_note(station_text(view.purpose, locale)),
            "",
            _("If you have changed your mind, that is fine: you can withdraw the pledge."),
        ]
    )
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("Withdraw this pledge"),
        callback_data=MyPledgeWithdrawCb(pledge=view.id, action="ask", page=0),
    )
    kb.button(text=_("My pledges"), callback_data=MyPledgesCb(page=0))
    kb.adjust(1)
    return text, kb.as_markup()


@renderer(pledges.DECIDED)
async def render_decided(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """The volunteer's thanks (received) or kind note (cancelled by staff)."""
    view = await pledges.view_of(session, int(payload["pledge_id"]))
    if view is None or view.user_id is None:
        return None
    locale = get_i18n().current_locale
    pledge = view.pledge
    values = {
        "station": station_text(view.purpose, locale),
        "amount": money_text(pledge.amount_fen, locale),
        "purpose": purpose_text(view.purpose, locale),
        "receipt": pledge.receipt,
    }
    if pledge.status is PledgeStatus.RECEIVED:
        text = _(
            "🙏 <b>Thank you!</b> {station} has received your pledge of {amount} for "
            "{purpose} (receipt <code>{receipt}</code>). Your kindness helps our community."
        ).format(**values)
    elif pledge.status is PledgeStatus.CANCELLED and pledge.decided_by != view.user_id:
        text = _(
            "Your pledge of {amount} for {purpose} (receipt <code>{receipt}</code>) has "
            "been closed by {station}, and nothing more is needed from you. Thank you for "
            "your goodwill all the same. If you have a question, please contact the station."
        ).format(**values)
    else:
        return None
    return text, None
