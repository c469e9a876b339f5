"""China's working days, for "records are due within 10 working days".

The official calendar (the State Council's yearly notice of public holidays and the
weekend days worked in their place, 调休) comes from the ``chinese-calendar`` package,
which is updated each November once the next year's notice is out. A year it does not
cover yet is counted Monday to Friday, and a warning saying so is logged once per year
and process: upgrade the package to count that year right."""

from __future__ import annotations

import functools
import logging
from datetime import date, timedelta

import chinese_calendar  # type: ignore[import-untyped]

log = logging.getLogger(__name__)

_VERSION = str(getattr(chinese_calendar, "__version__", "?"))
_FIRST_YEAR: int = min(chinese_calendar.holidays).year
_LAST_YEAR: int = max(chinese_calendar.holidays).year


def covers(year: int) -> bool:
    """Whether the official calendar of ``year`` is known."""
    return _FIRST_YEAR <= year <= _LAST_YEAR


@functools.cache
def _warn_uncovered(year: int) -> None:
    log.warning(
        "China's official holiday calendar for %d is not in chinese-calendar %s (it covers "
        "%d to %d): counting Monday to Friday as working days in %d. Upgrade chinese-calendar "
        "once the State Council has published that year's holidays.",
        year,
        _VERSION,
        _FIRST_YEAR,
        _LAST_YEAR,
        year,
    )


def forget_warnings() -> None:
    """Warn again about uncovered years (for tests)."""
    _warn_uncovered.cache_clear()


def is_working_day(day: date) -> bool:
    """A working day in mainland China: Monday to Friday unless a public holiday or a
    day off in one's week, and a weekend day worked in place of one."""
    if covers(day.year):
        return bool(chinese_calendar.is_workday(day))
    _warn_uncovered(day.year)
    return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The day ``days`` working days after ``start`` (``start`` itself not counted)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            days -= 1
    return current
