"""What the attendance screens share: times of day, the marks' names, the roster as it
stands, and how a refusal or an error is told on a pressed button or after a typed
answer (the error's text from ``ui.errors``, its moment in the station's time zone)."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import lazy_gettext as __
from babel.dates import format_time
from sqlmodel.ext.asyncio.session import AsyncSession

from services import stations
from services.access import Actor
from services.errors import DomainError, InvalidInput, NotAllowed
from services.roster import Roster, roster
from storage.models import AttendanceMark
from storage.types import utcnow
from ui.errors import error_text, refuse
from ui.format import babel_locale
from ui.settings import Settings

ALERT_MAX = 200

MARKS = {
    AttendanceMark.PRESENT: __("present"),
    AttendanceMark.LATE: __("late"),
    AttendanceMark.ABSENT: __("absent"),
}


def clock(moment: datetime, zone: ZoneInfo, locale: str) -> str:
    """A time of day in the station's zone: 09:05."""
    return format_time(moment.astimezone(zone), "HH:mm", locale=babel_locale(locale))


async def zone_of(session: AsyncSession, station_id: int, settings: Settings) -> ZoneInfo:
    return await stations.zone(session, station_id, settings.timezone)


def name_of(name: str | None) -> str:
    return name or "—"


async def explain(
    error: DomainError,
    session: AsyncSession,
    settings: Settings,
    locale: str,
    *,
    audience: str = "staff",
    plain: bool = False,
) -> str:
    """The error's text (``ui.errors``) with its moment in the station's time zone."""
    station = error.params.get("station")
    zone = await zone_of(session, station, settings) if isinstance(station, int) else settings.zone
    return error_text(error, locale=locale, zone=zone, audience=audience, plain=plain)


async def alert(callback: CallbackQuery, bot: Bot, text: str) -> None:
    """A short error as an alert on the button; a long one as a message."""
    plain = unescape(re.sub(r"<[^>]+>", "", text))
    if len(plain) <= ALERT_MAX:
        await callback.answer(plain, show_alert=True)
        return
    await callback.answer()
    await bot.send_message(callback.from_user.id, text)


async def fail(
    callback: CallbackQuery,
    bot: Bot,
    error: DomainError,
    session: AsyncSession,
    settings: Settings,
    locale: str,
) -> None:
    if isinstance(error, NotAllowed):
        await refuse(callback)
        return
    await alert(callback, bot, await explain(error, session, settings, locale))


async def fail_typed(
    message: Message,
    state: FSMContext,
    error: DomainError,
    session: AsyncSession,
    settings: Settings,
    locale: str,
    *,
    again: str | None = None,
) -> None:
    """A typed answer the services refused. The dialog ends, unless the answer was
    invalid with a code that starts with ``again``: then the same question stands."""
    if isinstance(error, NotAllowed):
        await state.clear()
        await refuse(message)
        return
    if again is None or not (isinstance(error, InvalidInput) and error.code.startswith(again)):
        await state.clear()
    await message.answer(await explain(error, session, settings, locale))


async def leave_dialog(state: FSMContext) -> None:
    if (await state.get_state() or "").startswith("RosterDialog:"):
        await state.clear()


async def load(session: AsyncSession, settings: Settings, actor: Actor, activity_id: int) -> Roster:
    """The activity's roster as it stands now, for someone who may run it."""
    return await roster(
        session,
        actor=actor,
        activity_id=activity_id,
        now=utcnow(),
        default_timezone=settings.timezone,
    )
