"""What the activity screens share: the error texts, dates and times as staff read
them, the quick picks of a start, and how many volunteers are told."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel.dates import format_skeleton

from services import when
from services.errors import DomainError
from ui.format import babel_locale
from ui.people import no_permission

# Errors about the schedule, after which the start is asked again.
SCHEDULE_ERRORS = {"in_the_past", "end_before_start", "too_long", "when_unreadable"}


def error_text(error: DomainError) -> str:
    """A translated sentence for each error the dialog can meet."""
    texts = {
        "not_allowed": no_permission(),
        "when_empty": _("Please type a date and time."),
        "when_unreadable": _(
            "I could not read that. Type a date and a time, for example "
            "tomorrow 9:00, Sat 3pm, 11/28 9:00 or 2026-11-28 09:00."
        ),
        "when_no_date": _("Please add a date, for example tomorrow 9:00 or 11/28 9:00."),
        "when_no_time": _("Please add a time, for example 9:00 or 3pm."),
        "when_bad_date": _("There is no such date. Please check the month and the day."),
        "when_bad_time": _("There is no such time. Hours go from 0 to 23, minutes from 0 to 59."),
        "when_weekday_mismatch": _("That date is not on that weekday. Please check it."),
        "when_period_mismatch": _(
            "That hour does not fit the time of day (上午 is before noon). Please check it, "
            "for example 上午9点 or 下午1点."
        ),
        "in_the_past": _("That time has already passed. Please give a time in the future."),
        "end_before_start": _("The end must come after the start."),
        "too_long": _("An activity can last at most {hours} hours."),
        "title_empty": _("Please type a title."),
        "title_too_long": _("That is too long: at most {max} characters, please."),
        "description_too_long": _("That is too long: at most {max} characters, please."),
        "place_empty": _("Please type where it takes place."),
        "place_too_long": _("That is too long: at most {max} characters, please."),
        "capacity_not_a_number": _("Please type a number of places, such as 20."),
        "capacity_out_of_range": _("The number of places must be from {min} to {max}."),
        "capacity_below_seats": _(
            "{seats} volunteers already hold a seat, so there cannot be fewer places than that."
        ),
        "repeat_not_a_number": _(
            "Please type how many weeks in all, from 1 to {max}, or use the buttons."
        ),
        "repeat_out_of_range": _(
            "Please type how many weeks in all, from 1 to {max}, or use the buttons."
        ),
        "activity_not_found": _("This activity no longer exists."),
        "activity_cancelled": _("This activity has been cancelled already."),
        "activity_over": _("This activity is over and can no longer be changed."),
        "station_not_found": _("That station no longer exists."),
        "draft_incomplete": _("Some details are missing. Please fill them in."),
    }
    return texts.get(error.code, _("That did not work. Please try again.")).format(**error.params)


def day(moment: datetime, zone: ZoneInfo, locale: str) -> str:
    return format_skeleton("yMMMEd", moment, tzinfo=zone, locale=babel_locale(locale))


def clock(moment: datetime, zone: ZoneInfo, locale: str) -> str:
    return format_skeleton("Hm", moment, tzinfo=zone, locale=babel_locale(locale))


def start_picks(now: datetime, zone: ZoneInfo, locale: str) -> list[tuple[str, datetime]]:
    """Tomorrow 09:00 and 14:00, the coming Saturday and Sunday 09:00 (no repeats)."""
    picks: list[tuple[str, datetime]] = []
    for hour in (9, 14):
        moment = when.local_at(now, zone, days=1, hour=hour)
        picks.append((_("Tomorrow {time}").format(time=clock(moment, zone, locale)), moment))
    for weekday in (5, 6):
        moment = when.next_weekday_at(now, zone, weekday=weekday, hour=9)
        label = format_skeleton("MMMEd", moment, tzinfo=zone, locale=babel_locale(locale))
        picks.append((f"{label} {clock(moment, zone, locale)}", moment))
    seen: set[datetime] = set()
    unique = []
    for label, moment in picks:
        if moment not in seen:
            seen.add(moment)
            unique.append((label, moment))
    return unique


def told(queued: int) -> str:
    """How many signed-up volunteers the change goes out to (as queued; one who
    blocked the bot is found out when sending, and skipped)."""
    return ngettext(
        "{count} signed-up volunteer will be told.",
        "{count} signed-up volunteers will be told.",
        queued,
    ).format(count=queued)


async def close(bot: Bot, callback: CallbackQuery, text: str | None = None) -> None:
    """Take the buttons off the message pressed, optionally replacing its text."""
    message = callback.message
    if message is None:
        return
    if text is None:
        await bot.edit_message_reply_markup(
            chat_id=callback.from_user.id, message_id=message.message_id
        )
    else:
        await bot.edit_message_text(
            text, chat_id=callback.from_user.id, message_id=message.message_id
        )
