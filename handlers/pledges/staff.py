"""/pledges: staff see the open pledges of their stations, newest first, and mark each
received (the volunteer is thanked) or, after a question, cancelled (the volunteer is
told kindly)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.pledges.words import name_text, purpose_text, show_list
from services import pledge_decisions, pledge_lists, stations
from services.access import Actor
from services.errors import InvalidInput, NotAllowed, NotFound
from services.pledges import PledgeView
from storage.models import PledgeStatus
from storage.types import utcnow
from ui import confirm, paged, screen
from ui.callbacks import PledgeDecideCb, PledgeListCb
from ui.errors import error_text, refuse
from ui.format import day, money_text
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.settings import Settings

STAFF_PAGE = 5
DECISIONS = {"received": PledgeStatus.RECEIVED, "cancel": PledgeStatus.CANCELLED}


async def staff_screen(
    session: AsyncSession, actor: Actor, page: int, settings: Settings
) -> tuple[str, InlineKeyboardMarkup | None]:
    locale = actor.locale
    found = await pledge_lists.open_for_staff(
        session, actor=actor, offset=max(page, 0) * STAFF_PAGE, limit=STAFF_PAGE
    )
    if not found.total:
        return _("There are no open pledges at your stations."), None
    shown = paged.window(found.offset // STAFF_PAGE, found.total, STAFF_PAGE)
    lines = [
        _("<b>Open pledges</b> ({first} to {last} of {total}; {amount} in all)").format(
            first=shown.first,
            last=shown.last,
            total=found.total,
            amount=money_text(found.amount_fen, locale),
        )
    ]
    kb = InlineKeyboardBuilder()
    for number, view in enumerate(found.items, start=shown.first):
        pledge = view.pledge
        zone = await stations.zone(session, pledge.station_id, settings.timezone)
        lines += [
            "",
            f"{number}. <code>{pledge.receipt}</code> · <b>"
            + money_text(pledge.amount_fen, locale)
            + "</b>",
            "   " + name_text(view) + " · " + purpose_text(view.purpose, locale),
            "   " + _("Pledged on {date}").format(date=day(pledge.created_at, locale, zone)),
        ]
        kb.button(
            text=_("✅ {number}. Received").format(number=number),
            callback_data=PledgeDecideCb(pledge=view.id, action="received", page=shown.number),
        )
        kb.button(
            text=_("✖️ {number}. Cancel").format(number=number),
            callback_data=PledgeDecideCb(pledge=view.id, action="ask", page=shown.number),
        )
    lines += [
        "",
        _(
            "Mark a pledge received once the station has the gift; the volunteer is "
            "thanked. Cancel it if it will not come; the volunteer is told kindly."
        ),
    ]
    nav = paged.nav_row(kb, shown, lambda n: PledgeListCb(page=n))
    kb.adjust(*([2] * len(found.items)), *([nav] if nav else []))
    return "\n".join(lines), kb.as_markup()


def cancel_question(view: PledgeView, page: int, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    pledge = view.pledge
    text = "\n".join(
        [
            _("Cancel pledge <code>{receipt}</code> of {amount} by {name}?").format(
                receipt=pledge.receipt,
                amount=money_text(pledge.amount_fen, locale),
                name=name_text(view),
            ),
            _("For: {purpose}").format(purpose=purpose_text(view.purpose, locale)),
            "",
            _("The volunteer will be told that the pledge is closed."),
        ]
    )
    markup = confirm.keyboard(
        yes=PledgeDecideCb(pledge=view.id, action="cancel", page=page),
        yes_text=_("Yes, cancel it"),
        no=PledgeDecideCb(pledge=view.id, action="keep", page=page),
        no_text=_("No, keep it"),
        side_by_side=True,
    )
    return text, markup


async def staff_list(
    message: Message, session: AsyncSession, settings: Settings, actor: Actor
) -> None:
    try:
        text, markup = await staff_screen(session, actor, 0, settings)
    except NotAllowed:
        await refuse(message)
        return
    await message.answer(text, reply_markup=markup)


async def staff_page(
    callback: CallbackQuery,
    callback_data: PledgeListCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    await show_list(callback, bot, staff_screen(session, actor, callback_data.page, settings))


async def staff_decide(
    callback: CallbackQuery,
    callback_data: PledgeDecideCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    page, action = callback_data.page, callback_data.action
    try:
        if action == "ask":
            view = await pledge_decisions.for_staff(
                session, actor=actor, pledge_id=callback_data.pledge
            )
            pledge_decisions.still_open(view.pledge)
            await screen.replace(callback, bot, *cancel_question(view, page, actor.locale))
            return
        if action in DECISIONS:
            view = await pledge_decisions.decide(
                session,
                actor=actor,
                pledge_id=callback_data.pledge,
                status=DECISIONS[action],
                now=utcnow(),
                default_tz=settings.timezone,
            )
            if view.pledge.status is PledgeStatus.RECEIVED:
                note = _("Marked received: {receipt}. The volunteer will be thanked.")
            else:
                note = _("Cancelled: {receipt}. The volunteer will be told.")
            note = note.format(receipt=view.pledge.receipt)
            await show_list(callback, bot, staff_screen(session, actor, page, settings), note=note)
            return
    except NotAllowed:
        await refuse(callback)
        return
    except (InvalidInput, NotFound) as error:
        note = error_text(error, plain=True)
        await show_list(
            callback, bot, staff_screen(session, actor, page, settings), note=note, alert=True
        )
        return
    await show_list(callback, bot, staff_screen(session, actor, page, settings))  # keep
