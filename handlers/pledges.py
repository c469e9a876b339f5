"""Pledges: /pledge (a volunteer promises a small donation to their station's community
fund or to an upcoming activity), /mypledges (their own), /pledges (staff: the open
pledges of their stations, marked received or cancelled). The bot takes no money; it
says so at every step. The outbox messages: the volunteer's thanks or note on a
decision, and the one reminder of a pledge still open."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_skeleton
from babel.numbers import format_currency
from sqlmodel.ext.asyncio.session import AsyncSession

from services import activity_admin, money, pledges, when
from services.errors import DomainError, InvalidInput, NotAllowed, NotFound
from services.pledges import PledgeView, Purpose
from storage.models import PledgeStatus
from storage.types import utcnow
from ui import labels
from ui.callbacks import (
    MyPledgesCb,
    MyPledgeWithdrawCb,
    PledgeAmountCb,
    PledgeAnonymousCb,
    PledgeConfirmCb,
    PledgeDecideCb,
    PledgeListCb,
    PledgePurposeCb,
    PledgePurposePageCb,
)
from ui.format import babel_locale, money_text
from ui.outbox import Rendered, renderer
from ui.people import day, no_permission, refuse
from ui.screen import show_in_place
from ui.settings import Settings
from ui.states import PledgeDialog

STAFF_PAGE = 5
MY_PAGE = 5
PURPOSE_PAGE = 5
TITLE_ON_BUTTON = 28
# A typed answer; a command is never taken as an amount.
ANSWER = F.text & ~F.text.startswith("/")


# --- words and numbers --------------------------------------------------------------


def button_money(fen: int, locale: str) -> str:
    """A whole amount on a button: ¥50 / CN¥50."""
    return format_currency(
        Decimal(fen) / money.FEN_PER_YUAN,
        "CNY",
        format="¤#,##0",
        currency_digits=False,
        locale=babel_locale(locale),
    )


def ceiling_fen(settings: Settings) -> int:
    return money.yuan_to_fen(settings.pledge_ceiling_yuan)


def error_text(error: DomainError, locale: str) -> str:
    """A translated sentence for each error the pledge features can meet."""
    code = error.code
    if code == "amount_above_ceiling":
        ceiling = int(str(error.params.get("ceiling_fen", 0)))
        return _(
            "A single pledge can be at most {ceiling}. For a larger gift, please talk to "
            "the station."
        ).format(ceiling=money_text(ceiling, locale))
    if code == "pledge_decided":
        receipt = str(error.params.get("receipt", ""))
        if error.params.get("status") == PledgeStatus.RECEIVED.value:
            return _("Pledge {receipt} has already been marked received.").format(receipt=receipt)
        return _("Pledge {receipt} has already been cancelled.").format(receipt=receipt)
    texts = {
        "not_registered": _("Please register first: send /start."),
        "volunteer_pending": _(
            "Your station has not approved your registration yet. You can pledge once it has."
        ),
        "volunteer_not_active": _("Your registration is not active. Please ask your station."),
        "not_allowed": no_permission(),
        "activity_gone": _("This activity is no longer open for pledges. Please choose again."),
        "pledge_not_found": _("This pledge no longer exists."),
        "amount_empty": _("Please type an amount in yuan, for example 50."),
        "amount_unreadable": _(
            "I could not read that amount. Please type a number in yuan, such as 50, 50.5 or ¥50."
        ),
        "amount_negative": _("The amount cannot be negative."),
        "amount_zero": _("The amount must be more than zero."),
        "amount_too_precise": _(
            "At most two decimal places, please: the smallest unit is one fen (0.01)."
        ),
    }
    return texts.get(code, _("That did not work. Please try again."))


def stale() -> str:
    return _("This button is no longer active.")


class Zones:
    """Station time zones, looked up once per screen."""

    def __init__(self, session: AsyncSession, default: str) -> None:
        self.session, self.default = session, default
        self.cache: dict[int, ZoneInfo] = {}

    async def of(self, station_id: int) -> ZoneInfo:
        if station_id not in self.cache:
            self.cache[station_id] = await activity_admin.station_zone(
                self.session, station_id, self.default
            )
        return self.cache[station_id]


def purpose_text(purpose: Purpose, locale: str) -> str:
    """What a pledge is for, as HTML."""
    station = html.quote(labels.station_name(purpose.station, locale))
    if purpose.activity is None:
        return _("the community fund of {station}").format(station=station)
    return _("the activity <b>{title}</b> ({station})").format(
        title=html.quote(purpose.activity.title), station=station
    )


def station_text(purpose: Purpose, locale: str) -> str:
    return html.quote(labels.station_name(purpose.station, locale))


def name_text(view: PledgeView) -> str:
    """The volunteer as staff see them: their name, or "anonymous"."""
    if view.pledge.anonymous:
        return _("anonymous")
    return html.quote(view.name) if view.name else "—"


def status_text(status: PledgeStatus) -> str:
    return {
        PledgeStatus.OPEN: _("⏳ open"),
        PledgeStatus.RECEIVED: _("✅ received"),
        PledgeStatus.CANCELLED: _("✖️ cancelled"),
    }[status]


def no_money_note(station: str) -> str:
    return _(
        "⚠️ <b>The bot takes no money</b> and will never ask you to pay. {station} will "
        "tell you how to give: in person at the station, or through the station's "
        "official channel. Never send money to anyone who claims to be this bot."
    ).format(station=station)


async def _drop_buttons(callback: CallbackQuery, bot: Bot) -> None:
    if callback.message is None:
        return
    with contextlib.suppress(TelegramBadRequest):
        await bot.edit_message_reply_markup(
            chat_id=callback.from_user.id, message_id=callback.message.message_id
        )


async def _edit(
    callback: CallbackQuery, bot: Bot, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Replace the pressed message (the press is answered by the caller)."""
    if callback.message is None:
        await bot.send_message(callback.from_user.id, text, reply_markup=markup)
        return
    await bot.edit_message_text(
        text,
        chat_id=callback.from_user.id,
        message_id=callback.message.message_id,
        reply_markup=markup,
    )


# --- the volunteer's dialog: purpose, amount, anonymity, confirmation ---------------


async def purpose_screen(
    session: AsyncSession, user_id: int, page: int, settings: Settings, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    found = await pledges.choices(
        session,
        user_id=user_id,
        now=utcnow(),
        offset=max(page, 0) * PURPOSE_PAGE,
        limit=PURPOSE_PAGE,
    )
    page = found.offset // PURPOSE_PAGE
    zones = Zones(session, settings.timezone)
    home = labels.station_name(found.home, locale)
    lines = [
        _("<b>Make a pledge</b>"),
        _(
            "A pledge is a promise of a small donation. The bot takes no money: after you "
            "pledge, the station tells you how to give."
        ),
        "",
    ]
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("🏠 Community fund of {station}").format(station=home),
        callback_data=PledgePurposeCb(activity=0),
    )
    if found.total:
        lines.append(
            _(
                "What is your pledge for? The community fund of your station, or one of "
                "these upcoming activities:"
            )
        )
        for number, activity in enumerate(found.activities, start=found.offset + 1):
            assert activity.id is not None
            zone = await zones.of(activity.station_id)
            date = format_skeleton(
                "MMMd", activity.starts_at, tzinfo=zone, locale=babel_locale(locale)
            )
            station = found.stations.get(activity.station_id)
            lines.append(
                f"{number}. <b>{html.quote(activity.title)}</b> · {date} · "
                + html.quote(labels.station_name(station, locale) if station else "—")
            )
            kb.button(
                text=f"{number}. {activity.title[:TITLE_ON_BUTTON]} · {date}",
                callback_data=PledgePurposeCb(activity=activity.id),
            )
    else:
        lines.append(
            _(
                "What is your pledge for? There are no upcoming activities right now, so "
                "it can go to the community fund of your station."
            )
        )
    pages = -(-found.total // PURPOSE_PAGE)
    nav = 0
    if page > 0:
        kb.button(text=_("‹ Previous"), callback_data=PledgePurposePageCb(page=page - 1))
        nav += 1
    if page < pages - 1:
        kb.button(text=_("Next ›"), callback_data=PledgePurposePageCb(page=page + 1))
        nav += 1
    kb.button(text=_("✖️ Cancel"), callback_data=PledgeConfirmCb(action="cancel"))
    kb.adjust(1, *([1] * len(found.activities)), *([nav] if nav else []), 1)
    return "\n".join(lines), kb.as_markup()


def amount_screen(
    purpose: Purpose, settings: Settings, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    ceiling = ceiling_fen(settings)
    text = "\n".join(
        [
            _("Your pledge for {purpose}.").format(purpose=purpose_text(purpose, locale)),
            "",
            _(
                "How much would you like to pledge? Choose an amount, or type one in yuan, "
                "for example 50 or 50.5 (at most {ceiling})."
            ).format(ceiling=money_text(ceiling, locale)),
        ]
    )
    kb = InlineKeyboardBuilder()
    quick = [fen for fen in pledges.QUICK_AMOUNTS_FEN if fen <= ceiling]
    for fen in quick:
        kb.button(text=button_money(fen, locale), callback_data=PledgeAmountCb(fen=fen))
    kb.button(text=_("Another amount"), callback_data=PledgeAmountCb(fen=0))
    kb.button(text=_("✖️ Cancel"), callback_data=PledgeConfirmCb(action="cancel"))
    kb.adjust(*([len(quick)] if quick else []), 1, 1)
    return text, kb.as_markup()


def anonymous_screen(amount_fen: int, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n".join(
        [
            _("Amount: {amount}").format(amount=money_text(amount_fen, locale)),
            "",
            _("Should the station staff see your name with this pledge?"),
            _(
                "If you choose anonymous, staff lists show “anonymous” instead of your name. "
                "The pledge stays linked to you, so that you can see it in /mypledges and "
                "get its reminder."
            ),
        ]
    )
    kb = InlineKeyboardBuilder()
    kb.button(text=_("👤 Show my name"), callback_data=PledgeAnonymousCb(anonymous=False))
    kb.button(text=_("🙈 Anonymous"), callback_data=PledgeAnonymousCb(anonymous=True))
    kb.button(text=_("✖️ Cancel"), callback_data=PledgeConfirmCb(action="cancel"))
    kb.adjust(2, 1)
    return text, kb.as_markup()


def anonymity_line(anonymous: bool) -> str:
    if anonymous:
        return _("Your name: anonymous (staff do not see it)")
    return _("Your name: shown to the station staff")


def confirm_screen(
    purpose: Purpose, amount_fen: int, anonymous: bool, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n".join(
        [
            _("<b>Please check your pledge</b>"),
            "",
            _("For: {purpose}").format(purpose=purpose_text(purpose, locale)),
            _("Amount: {amount}").format(amount=money_text(amount_fen, locale)),
            anonymity_line(anonymous),
            "",
            _(
                "The bot takes no money: this is a promise. After you confirm, the station "
                "tells you how to give."
            ),
        ]
    )
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Confirm the pledge"), callback_data=PledgeConfirmCb(action="ok"))
    kb.button(text=_("✖️ Cancel"), callback_data=PledgeConfirmCb(action="cancel"))
    kb.adjust(1)
    return text, kb.as_markup()


def receipt_text(view: PledgeView, locale: str) -> str:
    pledge = view.pledge
    return "\n".join(
        [
            _("✅ <b>Thank you! Your pledge is recorded.</b>"),
            "",
            _("Receipt number: <code>{receipt}</code>").format(receipt=pledge.receipt),
            _("For: {purpose}").format(purpose=purpose_text(view.purpose, locale)),
            _("Amount: {amount}").format(amount=money_text(pledge.amount_fen, locale)),
            anonymity_line(pledge.anonymous),
            "",
            no_money_note(station_text(view.purpose, locale)),
            "",
            _("Your pledges: /mypledges"),
        ]
    )


async def start_pledge(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    assert message.from_user is not None
    try:
        text, markup = await purpose_screen(
            session, message.from_user.id, 0, settings, i18n.current_locale
        )
    except DomainError as error:
        await message.answer(error_text(error, i18n.current_locale))
        return
    await state.set_state(PledgeDialog.purpose)
    await state.set_data({})
    await message.answer(text, reply_markup=markup)


async def _fail(
    callback: CallbackQuery, bot: Bot, state: FSMContext, error: DomainError, locale: str
) -> None:
    """The volunteer may no longer pledge: say why and end the dialog."""
    await state.clear()
    await callback.answer(error_text(error, locale), show_alert=True)
    await _drop_buttons(callback, bot)


async def purpose_page(
    callback: CallbackQuery,
    callback_data: PledgePurposePageCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    locale = i18n.current_locale
    try:
        text, markup = await purpose_screen(
            session, callback.from_user.id, callback_data.page, settings, locale
        )
    except DomainError as error:
        await _fail(callback, bot, state, error, locale)
        return
    await show_in_place(callback, bot, text, markup)


async def purpose_chosen(
    callback: CallbackQuery,
    callback_data: PledgePurposeCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    locale = i18n.current_locale
    try:
        chosen = await pledges.purpose(
            session,
            user_id=callback.from_user.id,
            activity_id=callback_data.activity or None,
            now=utcnow(),
        )
    except InvalidInput as error:
        await callback.answer(error_text(error, locale), show_alert=True)
        await _back_to_purpose(callback, bot, state, session, settings, locale)
        return
    except DomainError as error:
        await _fail(callback, bot, state, error, locale)
        return
    await state.set_data({"activity": callback_data.activity})
    await state.set_state(PledgeDialog.amount)
    text, markup = amount_screen(chosen, settings, locale)
    await show_in_place(callback, bot, text, markup)


async def _back_to_purpose(
    callback: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    locale: str,
) -> None:
    try:
        text, markup = await purpose_screen(session, callback.from_user.id, 0, settings, locale)
    except DomainError as error:
        await _fail(callback, bot, state, error, locale)
        return
    await state.set_data({})
    await state.set_state(PledgeDialog.purpose)
    await _edit(callback, bot, text, markup)


async def _dialog_purpose(
    state: FSMContext, session: AsyncSession, user_id: int
) -> tuple[dict[str, Any], Purpose]:
    """The dialog's data and its purpose, checked again now."""
    data = await state.get_data()
    activity = data.get("activity")
    chosen = await pledges.purpose(
        session,
        user_id=user_id,
        activity_id=activity if isinstance(activity, int) and activity else None,
        now=utcnow(),
    )
    return data, chosen


async def amount_chosen(
    callback: CallbackQuery,
    callback_data: PledgeAmountCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    locale = i18n.current_locale
    if callback_data.fen == 0:
        await callback.answer()
        await bot.send_message(
            callback.from_user.id,
            _("Type the amount in yuan, for example 50, 50.5 or ¥50."),
        )
        return
    try:
        fen = money.check_fen(callback_data.fen, ceiling_fen=ceiling_fen(settings))
    except InvalidInput as error:
        await callback.answer(error_text(error, locale), show_alert=True)
        return
    await _store_amount(state, fen)
    text, markup = anonymous_screen(fen, locale)
    await show_in_place(callback, bot, text, markup)


async def _store_amount(state: FSMContext, fen: int) -> None:
    await state.update_data(amount_fen=fen)
    await state.set_state(PledgeDialog.anonymous)


async def amount_typed(message: Message, state: FSMContext, settings: Settings, i18n: I18n) -> None:
    locale = i18n.current_locale
    try:
        fen = money.parse_fen(message.text or "", ceiling_fen=ceiling_fen(settings))
    except InvalidInput as error:
        await message.answer(
            error_text(error, locale)
            + "\n"
            + _("Please type the amount again, or send /cancel to stop.")
        )
        return
    await _store_amount(state, fen)
    text, markup = anonymous_screen(fen, locale)
    await message.answer(text, reply_markup=markup)


async def anonymity_chosen(
    callback: CallbackQuery,
    callback_data: PledgeAnonymousCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    locale = i18n.current_locale
    try:
        data, chosen = await _dialog_purpose(state, session, callback.from_user.id)
    except InvalidInput as error:
        await callback.answer(error_text(error, locale), show_alert=True)
        await _back_to_purpose(callback, bot, state, session, settings, locale)
        return
    except DomainError as error:
        await _fail(callback, bot, state, error, locale)
        return
    amount = data.get("amount_fen")
    if not isinstance(amount, int):
        await callback.answer(stale())
        return
    # The receipt's random part, drawn now: confirming twice finds the same pledge.
    await state.update_data(anonymous=callback_data.anonymous, token=pledges.new_token())
    await state.set_state(PledgeDialog.confirm)
    text, markup = confirm_screen(chosen, amount, callback_data.anonymous, locale)
    await show_in_place(callback, bot, text, markup)


async def confirmed(
    callback: CallbackQuery,
    callback_data: PledgeConfirmCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    locale = i18n.current_locale
    if callback_data.action == "cancel":
        await cancelled(callback, bot, state)
        return
    if callback_data.action != "ok":
        await callback.answer(stale())
        return
    data = await state.get_data()
    activity, amount = data.get("activity"), data.get("amount_fen")
    token, anonymous = data.get("token"), data.get("anonymous")
    if not (isinstance(amount, int) and isinstance(anonymous, bool) and pledges.is_token(token)):
        await state.clear()
        await callback.answer(stale(), show_alert=True)
        await _drop_buttons(callback, bot)
        return
    assert isinstance(token, str)
    try:
        made = await pledges.create(
            session,
            user_id=callback.from_user.id,
            activity_id=activity if isinstance(activity, int) and activity else None,
            amount_fen=amount,
            anonymous=anonymous,
            token=token,
            ceiling_fen=ceiling_fen(settings),
            now=utcnow(),
            default_tz=settings.timezone,
        )
    except InvalidInput as error:
        await callback.answer(error_text(error, locale), show_alert=True)
        if error.code == "activity_gone":
            await _back_to_purpose(callback, bot, state, session, settings, locale)
        elif error.code.startswith("amount_"):  # the ceiling was lowered meanwhile
            try:
                _data, chosen = await _dialog_purpose(state, session, callback.from_user.id)
            except DomainError as again:
                await _fail(callback, bot, state, again, locale)
                return
            await state.set_state(PledgeDialog.amount)
            text, markup = amount_screen(chosen, settings, locale)
            await _edit(callback, bot, text, markup)
        return
    except DomainError as error:
        await _fail(callback, bot, state, error, locale)
        return
    await state.clear()
    await callback.answer(_("Pledge recorded."))
    await _edit(callback, bot, receipt_text(made.view, locale), None)


async def cancelled(callback: CallbackQuery, bot: Bot, state: FSMContext) -> None:
    await state.clear()
    await callback.answer()
    await _edit(callback, bot, _("Cancelled. No pledge was made."), None)


# --- the volunteer's own pledges ----------------------------------------------------


async def my_screen(
    session: AsyncSession, user_id: int, page: int, settings: Settings, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    found = await pledges.mine(
        session, user_id=user_id, offset=max(page, 0) * MY_PAGE, limit=MY_PAGE
    )
    if not found.total:
        return _("You have not made any pledges yet. Send /pledge to make one."), None
    first = found.offset + 1
    page = found.offset // MY_PAGE
    zones = Zones(session, settings.timezone)
    lines = [
        _("<b>Your pledges</b> ({first} to {last} of {total})").format(
            first=first, last=found.offset + len(found.items), total=found.total
        )
    ]
    kb = InlineKeyboardBuilder()
    withdrawable = 0
    for number, view in enumerate(found.items, start=first):
        pledge = view.pledge
        zone = await zones.of(pledge.station_id)
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
                callback_data=MyPledgeWithdrawCb(pledge=view.id, action="ask", page=page),
            )
            withdrawable += 1
    lines += [
        "",
        _(
            "The bot takes no money. To give what you pledged, go to the station in "
            "person or use its official channel."
        ),
    ]
    pages = -(-found.total // MY_PAGE)
    nav = 0
    if page > 0:
        kb.button(text=_("‹ Previous"), callback_data=MyPledgesCb(page=page - 1))
        nav += 1
    if page < pages - 1:
        kb.button(text=_("Next ›"), callback_data=MyPledgesCb(page=page + 1))
        nav += 1
    if not withdrawable and not nav:
        return "\n".join(lines), None
    kb.adjust(*([1] * withdrawable), *([nav] if nav else []))
    return "\n".join(lines), kb.as_markup()


async def my_pledges(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    assert message.from_user is not None
    try:
        text, markup = await my_screen(
            session, message.from_user.id, 0, settings, i18n.current_locale
        )
    except DomainError as error:
        await message.answer(error_text(error, i18n.current_locale))
        return
    await message.answer(text, reply_markup=markup)


async def _show_mine(
    callback: CallbackQuery,
    bot: Bot,
    session: AsyncSession,
    page: int,
    settings: Settings,
    locale: str,
    *,
    answered: bool = False,
) -> None:
    try:
        text, markup = await my_screen(session, callback.from_user.id, page, settings, locale)
    except DomainError as error:
        if not answered:
            await callback.answer(error_text(error, locale), show_alert=True)
        return
    if not answered:
        await callback.answer()
    await _edit(callback, bot, text, markup)


async def my_page(
    callback: CallbackQuery,
    callback_data: MyPledgesCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    await _show_mine(callback, bot, session, callback_data.page, settings, i18n.current_locale)


async def my_withdraw(
    callback: CallbackQuery,
    callback_data: MyPledgeWithdrawCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    locale = i18n.current_locale
    user_id = callback.from_user.id
    page = callback_data.page
    action = callback_data.action
    try:
        if action == "ask":
            view = await pledges.own(session, user_id=user_id, pledge_id=callback_data.pledge)
            if view.pledge.status is not PledgeStatus.OPEN:
                raise InvalidInput(
                    "pledge_decided",
                    status=view.pledge.status.value,
                    receipt=view.pledge.receipt,
                )
            await callback.answer()
            await _edit(callback, bot, *withdraw_question(view, page, locale))
            return
        if action == "yes":
            view = await pledges.withdraw(
                session, user_id=user_id, pledge_id=callback_data.pledge, now=utcnow()
            )
            await callback.answer(_("Withdrawn: {receipt}").format(receipt=view.pledge.receipt))
            await _show_mine(callback, bot, session, page, settings, locale, answered=True)
            return
    except NotAllowed:
        await refuse(callback)
        return
    except DomainError as error:
        await callback.answer(error_text(error, locale), show_alert=True)
        await _show_mine(callback, bot, session, page, settings, locale, answered=True)
        return
    await _show_mine(callback, bot, session, page, settings, locale)  # keep


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
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("Yes, withdraw it"),
        callback_data=MyPledgeWithdrawCb(pledge=view.id, action="yes", page=page),
    )
    kb.button(
        text=_("No, keep it"),
        callback_data=MyPledgeWithdrawCb(pledge=view.id, action="keep", page=page),
    )
    kb.adjust(2)
    return text, kb.as_markup()


# --- staff: the open pledges of their stations --------------------------------------


async def staff_screen(
    session: AsyncSession, actor_id: int, page: int, settings: Settings, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    found = await pledges.open_for_staff(
        session,
        actor_id=actor_id,
        admin_ids=settings.admin_ids,
        offset=max(page, 0) * STAFF_PAGE,
        limit=STAFF_PAGE,
    )
    if not found.total:
        return _("There are no open pledges at your stations."), None
    first = found.offset + 1
    page = found.offset // STAFF_PAGE
    zones = Zones(session, settings.timezone)
    lines = [
        _("<b>Open pledges</b> ({first} to {last} of {total}; {amount} in all)").format(
            first=first,
            last=found.offset + len(found.items),
            total=found.total,
            amount=money_text(found.amount_fen, locale),
        )
    ]
    kb = InlineKeyboardBuilder()
    for number, view in enumerate(found.items, start=first):
        pledge = view.pledge
        zone = await zones.of(pledge.station_id)
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
            callback_data=PledgeDecideCb(pledge=view.id, action="received", page=page),
        )
        kb.button(
            text=_("✖️ {number}. Cancel").format(number=number),
            callback_data=PledgeDecideCb(pledge=view.id, action="ask", page=page),
        )
    lines += [
        "",
        _(
            "Mark a pledge received once the station has the gift; the volunteer is "
            "thanked. Cancel it if it will not come; the volunteer is told kindly."
        ),
    ]
    pages = -(-found.total // STAFF_PAGE)
    nav = 0
    if page > 0:
        kb.button(text=_("‹ Previous"), callback_data=PledgeListCb(page=page - 1))
        nav += 1
    if page < pages - 1:
        kb.button(text=_("Next ›"), callback_data=PledgeListCb(page=page + 1))
        nav += 1
    kb.adjust(*([2] * len(found.items)), *([nav] if nav else []))
    return "\n".join(lines), kb.as_markup()


async def staff_list(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    assert message.from_user is not None
    try:
        text, markup = await staff_screen(
            session, message.from_user.id, 0, settings, i18n.current_locale
        )
    except NotAllowed:
        await refuse(message)
        return
    await message.answer(text, reply_markup=markup)


async def _show_staff(
    callback: CallbackQuery,
    bot: Bot,
    session: AsyncSession,
    page: int,
    settings: Settings,
    locale: str,
    *,
    answered: bool = False,
) -> None:
    try:
        text, markup = await staff_screen(session, callback.from_user.id, page, settings, locale)
    except NotAllowed:
        if not answered:
            await refuse(callback)
        return
    if not answered:
        await callback.answer()
    await _edit(callback, bot, text, markup)


async def staff_page(
    callback: CallbackQuery,
    callback_data: PledgeListCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    await _show_staff(callback, bot, session, callback_data.page, settings, i18n.current_locale)


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
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("Yes, cancel it"),
        callback_data=PledgeDecideCb(pledge=view.id, action="cancel", page=page),
    )
    kb.button(
        text=_("No, keep it"),
        callback_data=PledgeDecideCb(pledge=view.id, action="keep", page=page),
    )
    kb.adjust(2)
    return text, kb.as_markup()


async def staff_decide(
    callback: CallbackQuery,
    callback_data: PledgeDecideCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    locale = i18n.current_locale
    actor_id = callback.from_user.id
    page, action = callback_data.page, callback_data.action
    statuses = {"received": PledgeStatus.RECEIVED, "cancel": PledgeStatus.CANCELLED}
    try:
        if action == "ask":
            view = await pledges.for_staff(
                session,
                actor_id=actor_id,
                admin_ids=settings.admin_ids,
                pledge_id=callback_data.pledge,
            )
            if view.pledge.status is not PledgeStatus.OPEN:
                raise InvalidInput(
                    "pledge_decided",
                    status=view.pledge.status.value,
                    receipt=view.pledge.receipt,
                )
            await callback.answer()
            await _edit(callback, bot, *cancel_question(view, page, locale))
            return
        if action in statuses:
            view = await pledges.decide(
                session,
                actor_id=actor_id,
                admin_ids=settings.admin_ids,
                pledge_id=callback_data.pledge,
                status=statuses[action],
                now=utcnow(),
                default_tz=settings.timezone,
            )
            if view.pledge.status is PledgeStatus.RECEIVED:
                note = _("Marked received: {receipt}. The volunteer will be thanked.")
            else:
                note = _("Cancelled: {receipt}. The volunteer will be told.")
            await callback.answer(note.format(receipt=view.pledge.receipt))
            await _show_staff(callback, bot, session, page, settings, locale, answered=True)
            return
    except NotAllowed:
        await refuse(callback)
        return
    except (InvalidInput, NotFound) as error:
        await callback.answer(error_text(error, locale), show_alert=True)
        await _show_staff(callback, bot, session, page, settings, locale, answered=True)
        return
    await _show_staff(callback, bot, session, page, settings, locale)  # keep


# --- messages from the outbox -------------------------------------------------------


async def _pledge_date(
    session: AsyncSession, view: PledgeView, payload: dict[str, Any], locale: str
) -> str:
    default = str(payload.get("tz") or when.DEFAULT_ZONE)
    zone = await activity_admin.station_zone(session, view.pledge.station_id, default)
    return day(view.pledge.created_at, locale, zone)


@renderer(pledges.REMINDER)
async def render_reminder(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """The one reminder of a pledge still open; None once it is not."""
    view = await pledges.reminder_view(session, int(payload["pledge_id"]))
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


def make_router() -> Router:
    router = Router(name="pledges")
    router.message.filter(F.chat.type == "private")
    router.message.register(start_pledge, Command("pledge"))
    router.message.register(my_pledges, Command("mypledges"))
    router.message.register(staff_list, Command("pledges"))
    router.message.register(amount_typed, PledgeDialog.amount, ANSWER)
    router.callback_query.register(purpose_page, PledgeDialog.purpose, PledgePurposePageCb.filter())
    router.callback_query.register(purpose_chosen, PledgeDialog.purpose, PledgePurposeCb.filter())
    router.callback_query.register(amount_chosen, PledgeDialog.amount, PledgeAmountCb.filter())
    router.callback_query.register(
        anonymity_chosen, PledgeDialog.anonymous, PledgeAnonymousCb.filter()
    )
    router.callback_query.register(confirmed, PledgeDialog.confirm, PledgeConfirmCb.filter())
    # Cancel works from every step of the dialog.
    router.callback_query.register(
        cancelled,
        StateFilter(PledgeDialog.purpose, PledgeDialog.amount, PledgeDialog.anonymous),
        PledgeConfirmCb.filter(F.action == "cancel"),
    )
    router.callback_query.register(my_page, MyPledgesCb.filter())
    router.callback_query.register(my_withdraw, MyPledgeWithdrawCb.filter())
    router.callback_query.register(staff_page, PledgeListCb.filter())
    router.callback_query.register(staff_decide, PledgeDecideCb.filter())
    return router
