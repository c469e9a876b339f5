"""The periods a coordinator reports on: a calendar month, quarter or year
(``2026-11``, ``2026-Q3``, ``2026``). The period before one (环比) is the previous
month, quarter or year; the same period a year earlier (同比) is the one of the
previous year. Each is a ``services.periods.Period`` of whole days."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from services.errors import InvalidInput
from services.periods import Period


class Span(StrEnum):
    MONTH = "m"
    QUARTER = "q"
    YEAR = "y"


# Years a report may name (a button's data and typed text alike).
FIRST_YEAR = 2000
LAST_YEAR = 2999


@dataclass(frozen=True, order=True)
class ReportPeriod:
    """A month (number 1-12), a quarter (1-4) or a year (number 1)."""

    span: Span
    year: int
    number: int = 1

    def __post_init__(self) -> None:
        top = {Span.MONTH: 12, Span.QUARTER: 4, Span.YEAR: 1}[self.span]
        if not (FIRST_YEAR <= self.year <= LAST_YEAR and 1 <= self.number <= top):
            raise InvalidInput("report.bad_period")

    @property
    def period(self) -> Period:
        if self.span is Span.YEAR:
            return Period(date(self.year, 1, 1), date(self.year, 12, 31))
        months = 1 if self.span is Span.MONTH else 3
        first_month = self.number if self.span is Span.MONTH else 3 * self.number - 2
        first = date(self.year, first_month, 1)
        after = _add_months(first, months)
        return Period(first, after - timedelta(days=1))

    def previous(self) -> ReportPeriod:
        """The month, quarter or year before (环比)."""
        if self.number > 1:
            return ReportPeriod(self.span, self.year, self.number - 1)
        top = {Span.MONTH: 12, Span.QUARTER: 4, Span.YEAR: 1}[self.span]
        return ReportPeriod(self.span, self.year - 1, top)

    def next(self) -> ReportPeriod:
        top = {Span.MONTH: 12, Span.QUARTER: 4, Span.YEAR: 1}[self.span]
        if self.number < top:
            return ReportPeriod(self.span, self.year, self.number + 1)
        return ReportPeriod(self.span, self.year + 1, 1)

    def year_ago(self) -> ReportPeriod:
        """The same month, quarter or year a year earlier (同比)."""
        return ReportPeriod(self.span, self.year - 1, self.number)

    @property
    def code(self) -> str:
        """``2026-11``, ``2026-Q3``, ``2026``: as typed, and in file names."""
        if self.span is Span.MONTH:
            return f"{self.year}-{self.number:02d}"
        if self.span is Span.QUARTER:
            return f"{self.year}-Q{self.number}"
        return str(self.year)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_of(day: date) -> ReportPeriod:
    return ReportPeriod(Span.MONTH, day.year, day.month)


def quarter_of(day: date) -> ReportPeriod:
    return ReportPeriod(Span.QUARTER, day.year, (day.month - 1) // 3 + 1)


def year_of(day: date) -> ReportPeriod:
    return ReportPeriod(Span.YEAR, day.year)


_MONTH = re.compile(r"^\s*(\d{4})\s*(?:-|/|年|\.)\s*(\d{1,2})\s*月?\s*$")
_QUARTER = re.compile(r"^\s*(\d{4})\s*(?:-|年)?\s*(?:[qQ]|第)\s*([1-4一二三四])\s*(?:季度?)?\s*$")
_YEAR = re.compile(r"^\s*(\d{4})\s*年?\s*$")
_CHINESE = {"一": 1, "二": 2, "三": 3, "四": 4}


def parse(text: str) -> ReportPeriod:
    """``2026-11`` (also 2026年11月), ``2026-Q3`` (also 2026年第三季度), ``2026``.
    Raises InvalidInput('report.bad_period') on anything else."""
    if match := _MONTH.match(text):
        return ReportPeriod(Span.MONTH, int(match[1]), int(match[2]))
    if match := _QUARTER.match(text):
        number = _CHINESE.get(match[2]) or int(match[2])
        return ReportPeriod(Span.QUARTER, int(match[1]), number)
    if match := _YEAR.match(text):
        return ReportPeriod(Span.YEAR, int(match[1]))
    raise InvalidInput("report.bad_period")


def parse_begun(text: str, today: date) -> ReportPeriod:
    """As ``parse``, and InvalidInput('report.future') for a period still to come."""
    chosen = parse(text)
    if chosen.period.first > today:
        raise InvalidInput("report.future")
    return chosen
