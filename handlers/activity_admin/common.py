"""What the activity screens share: the error texts, dates and times as staff read
them, the quick picks of a start, and how many volunteers are told."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel.dates import format_skeleton

from services import when
from services.errors import DomainError
from ui.errors import error_text as catalogue_text
from ui.format import babel_locale

# Errors about the schedule, after which the start is asked again.
SCHEDULE_ERRORS = {"in_the_past", "end_before_start", "too_long", "when_unreadable"}


def error_text(error: DomainError) -> str:
    """The catalogue's sentence, as staff managing activities read it."""
    return catalogue_text(error, audience="manager")


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
