"""A range of days as people read it on certificates and tallies, built here rather
than by Babel's interval formats: CLDR releases change those (Babel 2.19 turned
``2026年1月1日至6月30日`` into ``2026年1月1日 – 6月30日``), and a certificate printed
in June must read the same as one printed in December.

Chinese joins the two days with 至 and leaves out what the first already says
(``2026年11月1日至30日``); English with "to" (``Nov 1 to 30, 2026``)."""

from __future__ import annotations

from datetime import date

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def date_range(first: date, last: date, locale: str, *, year: bool = True) -> str:
    """``first`` to ``last``, both included, in the reader's language; one day when they
    are the same. Without ``year`` the years are left out (a week beside its number)."""
    if locale.startswith("zh"):
        return _chinese(first, last, year=year)
    return _english(first, last, year=year)


def _chinese(first: date, last: date, *, year: bool) -> str:
    def day(d: date, *, with_year: bool, with_month: bool = True) -> str:
        text = f"{d.day}日"
        if with_month:
            text = f"{d.month}月{text}"
        return f"{d.year}年{text}" if with_year else text

    if first == last:
        return day(first, with_year=year)
    same_year = first.year == last.year
    start = day(first, with_year=year)
    end = day(
        last,
        with_year=year and not same_year,
        with_month=not (same_year and first.month == last.month),
    )
    return f"{start}至{end}"


def _english(first: date, last: date, *, year: bool) -> str:
    def day(d: date) -> str:
        return f"{_MONTHS_EN[d.month - 1]} {d.day}"

    if first == last:
        return f"{day(first)}, {first.year}" if year else day(first)
    if first.year != last.year and year:
        return f"{day(first)}, {first.year} to {day(last)}, {last.year}"
    end = str(last.day) if (first.year, first.month) == (last.year, last.month) else day(last)
    text = f"{day(first)} to {end}"
    return f"{text}, {last.year}" if year else text
