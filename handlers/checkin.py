"""Volunteers check in and out: /checkin CODE (or /checkin, then the code), the check-in
QR code's deep link /start ci_CODE, the activity card's buttons, and /checkout (with
the code, or of the activity one is checked in to). Wrong codes are counted per person
(settings.checkin_attempts per 10 minutes); past that, every code is refused for a
while, a right one too. This router runs before registration's /start."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import BaseMiddleware, Bot, F, Router, html
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.dates import format_time
from sqlmodel.ext.asyncio.session import AsyncSession

from services import attendance
from services.activity_admin import station_zone
from services.attendance import AttemptLimiter, CheckOutcome, CheckResult
from services.errors import DomainError
from storage.types import utcnow
from ui.callbacks import CheckinAskCb, CheckoutCb
from ui.durations import duration
from ui.format import babel_locale, format_moment
from ui.keyboards import attendance as kb
from ui.settings import Settings
from ui.states import CheckinDialog

# Errors that count as a wrong code.
WRONG_CODE = frozenset({"code_malformed", "code_unknown"})
ANSWER = F.text & ~F.text.startswith("/")


# --- shared texts (the roster uses them too) ----------------------------------------


def clock(moment: datetime, zone: ZoneInfo, locale: str) -> str:
    """A time of day in the station's zone: 09:05."""
    return format_time(moment.astimezone(zone), "HH:mm", locale=babel_locale(locale))


async def zone_of(session: AsyncSession, station_id: int, settings: Settings) -> ZoneInfo:
    return await station_zone(session, station_id, settings.timezone)


def blocked_text(wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return ngettext(
        "Too many wrong codes. Please try again in {n} minute.",
        "Too many wrong codes. Please try again in {n} minutes.",
        minutes,
    ).format(n=minutes)


def wrong_text(left: int) -> str:
    return ngettext(
        "That code is not right. Please check the 6 digits the staff show you and type "
        "them again ({left} try left), or send /cancel.",
        "That code is not right. Please check the 6 digits the staff show you and type "
        "them again ({left} tries left), or send /cancel.",
        left,
    ).format(left=left)


async def error_text(
    error: DomainError, session: AsyncSession, settings: Settings, locale: str
) -> str:
    params = error.params
    title = html.quote(str(params.get("title", "")))
    at = params.get("at")
    station = params.get("station")
    moment = ""
    if isinstance(at, datetime) and isinstance(station, int):
        moment = format_moment(at, await zone_of(session, station, settings), locale)
    texts = {
        "not_registered": _("Please register first: send /start."),
        "volunteer_pending": _(
            "Your station has not approved your registration yet. You can check in once it has."
        ),
        "volunteer_not_active": _("Your registration is not active. Please ask your station."),
        "code_expired": _(
            "That code has expired: check-in for its activity is over. If you were there, "
            "please ask the staff to record you."
        ),
        "checkin_not_open": _(
            "Check-in for <b>{title}</b> opens at {at}, 30 minutes before the start."
        ),
        "checkin_closed": _(
            "Check-in for <b>{title}</b> closed at {at}, when it ended. If you were there, "
            "please ask the staff to record you."
        ),
        "checkout_closed": _(
            "Check-out for <b>{title}</b> closed at {at}. The staff will confirm your time."
        ),
        "activity_cancelled": _("<b>{title}</b> has been cancelled."),
        "activity_not_found": _("This activity no longer exists."),
        "records_closed": _(
            "The records of <b>{title}</b> are closed. If something is wrong, please ask the staff."
        ),
        "not_checked_in": _(
            "You are not checked in to any activity right now. Check in with "
            "/checkin and the code the staff show you."
        ),
    }
    text = texts.get(error.code, _("That did not work. Please try again."))
    return text.format(title=title, at=moment)


async def result_text(
    result: CheckResult, session: AsyncSession, settings: Settings, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    activity, row = result.activity, result.attendance
    assert activity.id is not None
    zone = await zone_of(session, activity.station_id, settings)
    title = html.quote(activity.title)
    outcome = result.outcome
    markup: InlineKeyboardMarkup | None = None
    if outcome in (CheckOutcome.CHECKED_IN, CheckOutcome.ALREADY_IN):
        assert row.checked_in_at is not None
        at = clock(row.checked_in_at, zone, locale)
        if outcome is CheckOutcome.CHECKED_IN:
            lines = [_("✅ Checked in to <b>{title}</b> at {at}.").format(title=title, at=at)]
            if result.walk_in:
                lines.append(
                    _(
                        "You had no seat for this activity, so you are recorded as a walk-in; "
                        "the staff can see it."
                    )
                )
        else:
            lines = [
                _("You already checked in to <b>{title}</b> at {at}.").format(title=title, at=at)
            ]
        if row.checked_out_at is None:
            lines.append(_("When you leave, check out with the button below or /checkout."))
            markup = kb.checkout(activity.id)
        else:
            lines.append(
                _("You checked out at {at}.").format(at=clock(row.checked_out_at, zone, locale))
            )
        return "\n".join(lines), markup
    assert row.checked_out_at is not None
    at = clock(row.checked_out_at, zone, locale)
    if outcome is CheckOutcome.CHECKED_OUT:
        first = _("🏁 Checked out of <b>{title}</b> at {at}.")
    else:
        first = _("You already checked out of <b>{title}</b> at {at}.")
    lines = [first.format(title=title, at=at)]
    if row.minutes is not None:
        lines.append(_("Time counted: {time}.").format(time=duration(row.minutes, locale)))
        actual = (row.checked_out_at - (row.checked_in_at or row.checked_out_at)).total_seconds()
        if actual // 60 > attendance.length_minutes(activity):
            lines.append(_("(At most the activity's length is counted.)"))
    lines.append(_("Your hours count once the staff close the records. Thank you!"))
    return "\n".join(lines), None


# --- the activity card --------------------------------------------------------------


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
    state = await attendance.card_state(session, user_id=user_id, activity_id=activity_id)
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


# --- handlers -----------------------------------------------------------------------


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
    limiter: AttemptLimiter,
) -> None:
    assert message.from_user is not None
    user_id = message.from_user.id
    now = utcnow()
    limit = settings.checkin_attempts
    locale = i18n.current_locale
    wait = limiter.blocked_for(user_id, now, limit=limit)
    if wait is not None:
        await _leave_dialog(state)
        await message.answer(blocked_text(wait))
        return
    try:
        result = await attendance.check_in(session, user_id=user_id, code=code, now=now)
    except DomainError as error:
        if error.code not in WRONG_CODE:
            await _leave_dialog(state)
            await message.answer(await error_text(error, session, settings, locale))
            return
        left = limiter.fail(user_id, now, limit=limit)
        if left == 0:
            await _leave_dialog(state)
            wait = limiter.blocked_for(user_id, now, limit=limit)
            await message.answer(blocked_text(wait or attendance.ATTEMPT_WINDOW))
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
    checkin_limiter: AttemptLimiter,
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
    checkin_limiter: AttemptLimiter,
) -> None:
    """/start ci_<code>: the staff's QR code, scanned."""
    await _check_in(message, command.args or "", session, settings, i18n, state, checkin_limiter)


async def code_typed(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
    checkin_limiter: AttemptLimiter,
) -> None:
    await _check_in(message, message.text or "", session, settings, i18n, state, checkin_limiter)


async def ask_from_card(
    callback: CallbackQuery,
    callback_data: CheckinAskCb,
    bot: Bot,
    session: AsyncSession,
    state: FSMContext,
) -> None:
    found = await attendance.card_state(
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
    limiter: AttemptLimiter,
    *,
    code: str | None = None,
    activity_id: int | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    now = utcnow()
    limit = settings.checkin_attempts
    if code is not None:
        wait = limiter.blocked_for(user_id, now, limit=limit)
        if wait is not None:
            return blocked_text(wait), None
    try:
        result = await attendance.check_out(
            session, user_id=user_id, code=code, activity_id=activity_id, now=now
        )
    except DomainError as error:
        if error.code in WRONG_CODE:
            left = limiter.fail(user_id, now, limit=limit)
            if left == 0:
                wait = limiter.blocked_for(user_id, now, limit=limit)
                return blocked_text(wait or attendance.ATTEMPT_WINDOW), None
            return _(
                "That code is not right. Send /checkout alone to check out of the activity "
                "you are checked in to."
            ), None
        return await error_text(error, session, settings, locale), None
    return await result_text(result, session, settings, locale)


async def checkout_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    checkin_limiter: AttemptLimiter,
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
    checkin_limiter: AttemptLimiter,
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


class _Inject(BaseMiddleware):
    """Hands the router's wrong-code limiter to its handlers (``checkin_limiter``)."""

    def __init__(self, limiter: AttemptLimiter) -> None:
        self.limiter = limiter

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data["checkin_limiter"] = self.limiter
        return await handler(event, data)


def make_router() -> Router:
    """Must come before the registration router: it takes /start ci_... first."""
    router = Router(name="checkin")
    inject = _Inject(AttemptLimiter())
    router.message.middleware(inject)
    router.callback_query.middleware(inject)
    router.message.filter(F.chat.type == "private")
    router.message.register(
        deep_link,
        CommandStart(deep_link=True, magic=F.args.startswith(attendance.DEEP_LINK_PREFIX)),
    )
    router.message.register(checkin_command, Command("checkin"))
    router.message.register(checkout_command, Command("checkout"))
    router.message.register(code_typed, CheckinDialog.code, ANSWER)
    router.callback_query.register(ask_from_card, CheckinAskCb.filter())
    router.callback_query.register(checkout_pressed, CheckoutCb.filter())
    return router
