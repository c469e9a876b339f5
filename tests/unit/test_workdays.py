"""Working days follow China's official calendar: public holidays are not working
days, and the weekend days worked in their place (调休) are; a year the calendar does
not cover yet is counted Monday to Friday, with a warning."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from services import attendance_values, workdays


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 10, 1), False),  # National Day, a Thursday
        (date(2026, 10, 7), False),  # a day off in the National Day week
        (date(2026, 10, 10), True),  # a Saturday worked in its place
        (date(2026, 9, 20), True),  # a Sunday worked in its place
        (date(2026, 2, 14), True),  # Saturday before the Spring Festival, worked
        (date(2026, 2, 23), False),  # a Monday off after it
        (date(2026, 11, 23), True),  # an ordinary Monday
        (date(2026, 11, 22), False),  # an ordinary Sunday
    ],
)
def test_a_working_day_follows_the_official_calendar(day: date, working: bool) -> None:
    assert workdays.is_working_day(day) is working


def test_ten_working_days_skip_the_national_day_week_and_count_the_saturday_worked() -> None:
    # Ended Wednesday 30 September 2026: 8, 9, 10 (Saturday, worked), 12 to 16, 19, 20.
    assert workdays.add_working_days(date(2026, 9, 30), 10) == date(2026, 10, 20)
    # The records' due date counts the same way.
    assert attendance_values.add_working_days(date(2026, 9, 30), 10) == date(2026, 10, 20)


def test_ten_working_days_across_the_spring_festival() -> None:
    # Ended Friday 13 February 2026: 14 (Saturday, worked), 24 to 27, 28 (Saturday,
    # worked), 2 to 5 March.
    assert workdays.add_working_days(date(2026, 2, 13), 10) == date(2026, 3, 5)


def test_an_ordinary_fortnight_is_monday_to_friday() -> None:
    assert workdays.add_working_days(date(2026, 11, 20), 10) == date(2026, 12, 4)
    assert workdays.add_working_days(date(2026, 11, 21), 1) == date(2026, 11, 23)
    assert workdays.add_working_days(date(2026, 11, 20), 0) == date(2026, 11, 20)


def test_a_year_not_covered_counts_monday_to_friday_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    workdays.forget_warnings()
    assert not workdays.covers(2099)
    with caplog.at_level(logging.WARNING, logger="services.workdays"):
        # Friday 1 October 2099 is National Day; uncovered, it counts as working.
        assert workdays.add_working_days(date(2099, 9, 30), 1) == date(2099, 10, 1)
        assert workdays.add_working_days(date(2099, 9, 30), 10) == date(2099, 10, 14)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "2099" in warnings[0] and "chinese-calendar" in warnings[0]
    assert "Monday to Friday" in warnings[0]
