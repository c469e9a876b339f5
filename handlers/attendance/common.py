"""What the attendance screens share: times of day, lists of names, the marks' names,
and how a refusal or an error is told on a pressed button."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from zoneinfo import ZoneInfo

from aiogram import Bot, F, html
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext
from babel.dates import format_time
from sqlmodel.ext.asyncio.session import AsyncSession

from services import stations, when
from services.access import Actor
from services.attendance_values import NAMES_SHOWN
from services.errors import DomainError, NotAllowed
from services.roster import Roster, roster
from storage.models import AttendanceMark
from storage.types import utcnow
from ui.durations import duration
from ui.format import babel_locale, format_moment, join
from ui.people import no_permission, refuse
from ui.settings import Settings

ALERT_MAX = 200
ANSWER = F.text & ~F.text.startswith("/")

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


def names(items: list[str]) -> str:
    """甲、乙和另外 3 人 / A, B, and 3 more."""
    shown = [html.quote(n) for n in items[:NAMES_SHOWN]]
    hidden = len(items) - NAMES_SHOWN
    if hidden > 0:
        shown.append(ngettext("{n} more", "{n} more", hidden).format(n=hidden))
    return join(shown)


def error_text(error: DomainError, locale: str, zone: ZoneInfo | None = None) -> str:
    params = error.params
    title = html.quote(str(params.get("title", "")))
    at = params.get("at")
    moment = format_moment(at, zone or when.zone(None), locale) if isinstance(at, datetime) else ""
    maximum = params.get("max")
    limit = duration(maximum) if isinstance(maximum, int) else ""
    found = params.get("names")
    texts = {
        "not_allowed": no_permission(),
        "activity_not_found": _("This activity no longer exists."),
        "activity_cancelled": _("<b>{title}</b> has been cancelled."),
        "activity_over": _(
            "<b>{title}</b> is over, so check-in can no longer be opened. "
            "Mark the volunteers by hand instead."
        ),
        "records_closed": _("The records of <b>{title}</b> are closed."),
        "activity_not_started": _(
            "<b>{title}</b> has not started yet: attendance can be recorded from {at}."
        ),
        "not_on_roster": _("This person is not on the roster of this activity."),
        "nothing_to_confirm": _("There is nothing to confirm: this person did not check in."),
        "minutes_unreadable": _(
            "I could not read that. Type hours (2.5 or 2.5 h) or minutes (90 min), at most {max}."
        ),
        "minutes_out_of_range": _(
            "That is more than the activity's length. Type a time from 0 to {max}; "
            "a number alone is hours (2.5), add min for minutes."
        ),
        "count_unreadable": _("Please type a number of people, such as 35."),
        "count_out_of_range": _("The number must be from 0 to {max}."),
        "target_unknown": _("That target group does not exist."),
        "checkout_missing": _(
            "The records cannot be closed yet. These volunteers checked in but did not "
            "check out: {names}. Open each of them and confirm or correct their time first."
        ),
    }
    text = texts.get(error.code, _("That did not work. Please try again."))
    return text.format(
        title=title,
        at=moment,
        max=limit if error.code.startswith("minutes") else maximum,
        names=names([str(n) for n in found]) if isinstance(found, list) else "",
    )


async def explain(
    error: DomainError, session: AsyncSession, settings: Settings, locale: str
) -> str:
    """``error_text`` with its moment in the station's time zone."""
    station = error.params.get("station")
    zone = await zone_of(session, station, settings) if isinstance(station, int) else settings.zone
    return error_text(error, locale, zone)


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


async def show(
    callback: CallbackQuery, bot: Bot, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Replace the pressed message (a redelivered press changes nothing: no error,
    see ``bot.replies``)."""
    await callback.answer()
    if callback.message is None:
        await bot.send_message(callback.from_user.id, text, reply_markup=markup)
        return
    await bot.edit_message_text(
        text,
        chat_id=callback.from_user.id,
        message_id=callback.message.message_id,
        reply_markup=markup,
    )


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
