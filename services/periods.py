"""Periods of whole days: an ISO week, this week and the ones before it, or a range of
dates as typed (``2026-W47``, ``2026-11-01 2026-11-30``). The tallies count over
them; the period picker (``ui.period_picker``) offers and reads them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.errors import InvalidInput

MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    """Whole local days, both ends included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise InvalidInput("tally.period_reversed")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def next(self) -> Period:
        """The period of the same length just after this one."""
        return Period(self.last + timedelta(days=1), self.last + timedelta(days=self.days))

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC."""
        start = datetime.combine(self.first, time(), zone).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(), zone).astimezone(UTC)
        return start, end

    @property
    def iso_week(self) -> tuple[int, int] | None:
        """(year, week) when the period is exactly one ISO week."""
        year, week, weekday = self.first.isocalendar()
        return (year, week) if weekday == 1 and self.days == 7 else None


def week_of(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    return Period(monday, monday + timedelta(days=6))


def iso_week(year: int, week: int) -> Period:
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise InvalidInput("tally.bad_week") from exc
    return Period(monday, monday + timedelta(days=6))


_WEEK = re.compile(r"^\s*(\d{4})\s*-?\s*[wW]\s*(\d{1,2})\s*$")
_DAY = r"(\d{4}-\d{1,2}-\d{1,2})"
_RANGE = re.compile(rf"^\s*{_DAY}\s*(?:\.\.|至|到|~|～|—|–|--|to\b|\s)\s*{_DAY}\s*$", re.IGNORECASE)


def parse_period(text: str) -> Period:
    """``2026-W47`` (an ISO week) or ``2026-11-01 2026-11-30`` (also with ``..``,
    ``至``, ``to``, ``~`` between). Raises InvalidInput on anything else."""
    text = text.strip()
    if match := _WEEK.match(text):
        return iso_week(int(match[1]), int(match[2]))
    if match := _RANGE.match(text):
        try:
            first, last = (date.fromisoformat(_pad(part)) for part in (match[1], match[2]))
        except ValueError as exc:
            raise InvalidInput("tally.bad_period") from exc
        period = Period(first, last)
        if period.days > MAX_DAYS:
            raise InvalidInput("tally.period_too_long", days=MAX_DAYS)
        return period
    raise InvalidInput("tally.bad_period")


def parse_begun(text: str, today: date) -> Period:
    """A typed period that has begun by ``today`` (the station's day): as
    ``parse_period``, and InvalidInput('tally.future') for one still to come."""
    period = parse_period(text)
    if period.first > today:
        raise InvalidInput("tally.future")
    return period


def from_ordinals(first: int, last: int) -> Period | None:
    """A period from a button's day ordinals, or None when they make no sense."""
    try:
        period = Period(date.fromordinal(first), date.fromordinal(last))
    except (ValueError, OverflowError, InvalidInput):
        return None
    return period if period.days <= MAX_DAYS else None


def _pad(day: str) -> str:
    year, month, dom = day.split("-")
    return f"{year}-{int(month):02d}-{int(dom):02d}"
