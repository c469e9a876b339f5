"""/mypledges: the volunteer's own pledges, newest first, and withdrawing an open one
(from the list, or from the reminder's button)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.pledges.words import purpose_text, show_list, status_text
from services import pledge_decisions, pledge_lists, stations
from services.access import Actor
from services.errors import DomainError, NotAllowed
from services.pledges import PledgeView
from storage.models import PledgeStatus
from storage.types import utcnow
from ui import confirm, paged, screen
from ui.callbacks import MyPledgesCb, MyPledgeWithdrawCb
from ui.errors import error_text, refuse
from ui.format import day, money_text
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.settings import Settings

MY_PAGE = 5


async def my_screen(
    session: AsyncSession, actor: Actor, page: int, settings: Settings
) -> tuple[str, InlineKeyboardMarkup | None]:
    locale = actor.locale
    found = await pledge_lists.mine(
        session, user_id=actor.id, offset=max(page, 0) * MY_PAGE, limit=MY_PAGE
    )
    if not found.total:
        return _("You have not made any pledges yet. Send /pledge to make one."), None
    shown = paged.window(found.offset // MY_PAGE, found.total, MY_PAGE)
    lines = [
        _("<b>Your pledges</b> ({first} to {last} of {total})").format(
            first=shown.first, last=shown.last, total=found.total
        )
    ]
    kb = InlineKeyboardBuilder()
    withdrawable = 0
    for number, view in enumerate(found.items, start=shown.first):
        pledge = view.pledge
        zone = await stations.zone(session, pledge.station_id, settings.timezone)
        lines += [
            "",
            f"{number}. <code>{pledge.receipt}</code> · <b>"
            + money_text(pledge.amount_fen, locale)
            + "</b> · "
            + status_text(pledge.status),
            "   "
            + _("For {purpose}, on {date}").format(
                purpose=purpose_text(view.purpose, locale),
                date=day(pledge.created_at, locale, zone),
            )
            + (" · " + _("anonymous") if pledge.anonymous else ""),
        ]
        if pledge.status is PledgeStatus.OPEN:
            kb.button(
                text=_("Withdraw no. {number}").format(number=number),
                callback_data=MyPledgeWithdrawCb(pledge=view.id, action="ask", page=shown.number),
            )
            withdrawable += 1
    lines += [
        "",
        _(
            "The bot takes no money. To give what you pledged, go to the station in "
            "person or use its official channel."
        ),
    ]
    nav = paged.nav_row(kb, shown, lambda n: MyPledgesCb(page=n))
    if not withdrawable and not nav:
        return "\n".join(lines), None
    kb.adjust(*([1] * withdrawable), *([nav] if nav else []))
    return "\n".join(lines), kb.as_markup()


def withdraw_question(view: PledgeView, page: int, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    pledge = view.pledge
    text = _(
        "Withdraw your pledge <code>{receipt}</code> of {amount} for {purpose}? That is "
        "fine: plans change."
    ).format(
        receipt=pledge.receipt,
        amount=money_text(pledge.amount_fen, locale),
        purpose=purpose_text(view.purpose, locale),
    )
    markup = confirm.keyboard(
        yes=MyPledgeWithdrawCb(pledge=view.id, action="yes", page=page),
        yes_text=_("Yes, withdraw it"),
        no=MyPledgeWithdrawCb(pledge=view.id, action="keep", page=page),
        no_text=_("No, keep it"),
        side_by_side=True,
    )
    return text, markup


async def my_pledges(
    message: Message, session: AsyncSession, settings: Settings, actor: Actor
) -> None:
    try:
        text, markup = await my_screen(session, actor, 0, settings)
    except DomainError as error:
        await message.answer(error_text(error))
        return
    await message.answer(text, reply_markup=markup)


async def my_page(
    callback: CallbackQuery,
    callback_data: MyPledgesCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    await show_list(callback, bot, my_screen(session, actor, callback_data.page, settings))


async def my_withdraw(
    callback: CallbackQuery,
    callback_data: MyPledgeWithdrawCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    page, action = callback_data.page, callback_data.action
    try:
        if action == "ask":
            view = await pledge_decisions.own(
                session, user_id=actor.id, pledge_id=callback_data.pledge
            )
            pledge_decisions.still_open(view.pledge)
            await screen.replace(callback, bot, *withdraw_question(view, page, actor.locale))
            return
        if action == "yes":
            view = await pledge_decisions.withdraw(
                session, user_id=actor.id, pledge_id=callback_data.pledge, now=utcnow()
            )
            note = _("Withdrawn: {receipt}").format(receipt=view.pledge.receipt)
            await show_list(callback, bot, my_screen(session, actor, page, settings), note=note)
            return
    except NotAllowed:
        await refuse(callback)
        return
    except DomainError as error:
        note = error_text(error, plain=True)
        await show_list(
            callback, bot, my_screen(session, actor, page, settings), note=note, alert=True
        )
        return
    await show_list(callback, bot, my_screen(session, actor, page, settings))  # keep
