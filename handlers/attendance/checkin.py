"""Volunteers check in and out: /checkin CODE (or /checkin, then the code), the check-in
QR code's deep link /start ci_CODE, the activity card's buttons, and /checkout (with
the code, or of the activity one is checked in to). Wrong codes are counted per person
(settings.checkin_attempts per 10 minutes); past that, every code is refused for a
while, a right one too. The count is the dispatcher's ``checkin_limiter`` (bot.app):
in this process, or shared by every worker through Redis. This router runs before
registration's /start."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.attendance.checkin_texts import blocked_text, result_text, wrong_text
from handlers.attendance.common import explain
from services.attendance_codes import DEEP_LINK_PREFIX
from services.checkin import ATTEMPT_WINDOW, WrongCodeLimiter, card_state, check_in, check_out
from services.errors import DomainError
from storage.types import utcnow
from ui.callbacks import CheckinAskCb, CheckoutCb
from ui.prompt import ANSWER
from ui.settings import Settings
from ui.states import CheckinDialog

# Errors that count as a wrong code.
WRONG_CODE = frozenset({"code_malformed", "code_unknown"})


def ask_code_text() -> str:
    return _(
        "Type the 6-digit check-in code the staff show you (or scan their QR code). "
        "Send /cancel to stop."
    )


async def _leave_dialog(state: FSMContext) -> None:
    """End the code dialog, and only it: a check-in never breaks another dialog."""
    if await state.get_state() == CheckinDialog.code.state:
        await state.clear()


async def _check_in(
    message: Message,
    code: str,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
    limiter: WrongCodeLimiter,
) -> None:
    assert message.from_user is not None
    user_id = message.from_user.id
    now = utcnow()
    limit = settings.checkin_attempts
    locale = i18n.current_locale
    wait = await limiter.blocked_for(user_id, now, limit=limit)
    if wait is not None:
        await _leave_dialog(state)
        await message.answer(blocked_text(wait))
        return
    try:
        result = await check_in(session, user_id=user_id, code=code, now=now)
    except DomainError as error:
        if error.code not in WRONG_CODE:
            await _leave_dialog(state)
            await message.answer(
                await explain(error, session, settings, locale, audience="volunteer")
            )
            return
        left = await limiter.fail(user_id, now, limit=limit)
        if left == 0:
            await _leave_dialog(state)
            wait = await limiter.blocked_for(user_id, now, limit=limit)
            await message.answer(blocked_text(wait or ATTEMPT_WINDOW))
            return
        await state.set_state(CheckinDialog.code)
        await message.answer(wrong_text(left))
        return
    await _leave_dialog(state)
    text, markup = await result_text(result, session, settings, locale)
    await message.answer(text, reply_markup=markup)


async def checkin_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
    checkin_limiter: WrongCodeLimiter,
) -> None:
    code = (command.args or "").strip()
    if not code:
        await state.set_state(CheckinDialog.code)
        await message.answer(ask_code_text())
        return
    await _check_in(message, code, session, settings, i18n, state, checkin_limiter)


async def deep_link(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
    checkin_limiter: WrongCodeLimiter,
) -> None:
    """/start ci_<code>: the staff's QR code, scanned."""
    await _check_in(message, command.args or "", session, settings, i18n, state, checkin_limiter)


async def code_typed(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
    checkin_limiter: WrongCodeLimiter,
) -> None:
    await _check_in(message, message.text or "", session, settings, i18n, state, checkin_limiter)


async def ask_from_card(
    callback: CallbackQuery,
    callback_data: CheckinAskCb,
    bot: Bot,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    found = await card_state(
        session, user_id=callback.from_user.id, activity_id=callback_data.activity
    )
    if not found.can_check_in:
        await callback.answer(_("Check-in is not open for this activity now."), show_alert=True)
        return
    await callback.answer()
    await state.set_state(CheckinDialog.code)
    await bot.send_message(callback.from_user.id, ask_code_text())


async def _check_out(
    user_id: int,
    session: AsyncSession,
    settings: Settings,
    locale: str,
    limiter: WrongCodeLimiter,
    *,
    code: str | None = None,
    activity_id: int | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    now = utcnow()
    limit = settings.checkin_attempts
    if code is not None:
        wait = await limiter.blocked_for(user_id, now, limit=limit)
        if wait is not None:
            return blocked_text(wait), None
    try:
        result = await check_out(
            session, user_id=user_id, code=code, activity_id=activity_id, now=now
        )
    except DomainError as error:
        if error.code in WRONG_CODE:
            left = await limiter.fail(user_id, now, limit=limit)
            if left == 0:
                wait = await limiter.blocked_for(user_id, now, limit=limit)
                return blocked_text(wait or ATTEMPT_WINDOW), None
            return _(
                "That code is not right. Send /checkout alone to check out of the activity "
                "you are checked in to."
            ), None
        return await explain(error, session, settings, locale, audience="volunteer"), None
    return await result_text(result, session, settings, locale)


async def checkout_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    checkin_limiter: WrongCodeLimiter,
) -> None:
    assert message.from_user is not None
    code = (command.args or "").strip() or None
    text, markup = await _check_out(
        message.from_user.id, session, settings, i18n.current_locale, checkin_limiter, code=code
    )
    await message.answer(text, reply_markup=markup)


async def checkout_pressed(
    callback: CallbackQuery,
    callback_data: CheckoutCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    checkin_limiter: WrongCodeLimiter,
) -> None:
    user_id = callback.from_user.id
    text, markup = await _check_out(
        user_id,
        session,
        settings,
        i18n.current_locale,
        checkin_limiter,
        activity_id=callback_data.activity,
    )
    await callback.answer()
    await bot.send_message(user_id, text, reply_markup=markup)


def make_router() -> Router:
    """Must come before the registration router: it takes /start ci_... first."""
    router = Router(name="checkin")
    router.message.filter(F.chat.type == "private")
    router.message.register(
        deep_link,
        CommandStart(deep_link=True, magic=F.args.startswith(DEEP_LINK_PREFIX)),
    )
    router.message.register(checkin_command, Command("checkin"))
    router.message.register(checkout_command, Command("checkout"))
    router.message.register(code_typed, CheckinDialog.code, ANSWER)
    router.callback_query.register(ask_from_card, CheckinAskCb.filter())
    router.callback_query.register(checkout_pressed, CheckoutCb.filter())
    return router
