"""The period choice: this week and last week on buttons (their days beside them),
another week or dates typed (``2026-W47``, ``2026-11-01 2026-11-30``, also with
``至``, ``to``, ``..`` between), and the previous and next period under a result.
A button carries its period as two day ordinals (``ordinals``); the services read
button data and typed text back (``services.periods``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from babel.dates import format_skeleton

from services import periods, report_periods
from services.errors import DomainError
from services.periods import Period
from services.report_periods import ReportPeriod, Span
from ui.date_range import date_range
from ui.errors import error_text
from ui.format import babel_locale
from ui.keyboards.builder import InlineKeyboardBuilder


def ordinals(period: Period) -> tuple[int, int]:
    """The period as a button carries it: its first and last day's ordinals."""
    return period.first.toordinal(), period.last.toordinal()


def from_button(first: int, last: int) -> Period | None:
    """The period of a button's ordinals; None when they make no sense (forged)."""
    return periods.from_ordinals(first, last)


def week_days(period: Period, locale: str) -> str:
    """A week's days beside its name: ``11月16日至22日`` / ``Nov 16 to 22``."""
    return date_range(period.first, period.last, locale, year=False)


def keyboard(
    today: date,
    locale: str,
    *,
    pick: Callable[[Period], CallbackData],
    typed: CallbackData,
    extra: Sequence[tuple[str, CallbackData]] = (),
) -> InlineKeyboardMarkup:
    """This week, last week, "another week or dates" (``typed``: ask with ``ask()``),
    then the ``extra`` buttons; one a row. ``pick(period)`` makes a period's data."""
    this = periods.week_of(today)
    last = this.previous()
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("This week ({days})").format(days=week_days(this, locale)),
        callback_data=pick(this),
    )
    kb.button(
        text=_("Last week ({days})").format(days=week_days(last, locale)),
        callback_data=pick(last),
    )
    kb.button(text=_("⌨️ Another week or dates"), callback_data=typed)
    for text, data in extra:
        kb.button(text=text, callback_data=data)
    kb.adjust(1)
    return kb.as_markup()


def step_row(
    kb: InlineKeyboardBuilder, period: Period, today: date, to: Callable[[Period], CallbackData]
) -> int:
    """Add ‹ Previous period, and Next period › when that one has begun by ``today``;
    returns how many buttons were added (for ``kb.adjust``)."""
    kb.button(text=_("‹ Previous period"), callback_data=to(period.previous()))
    after = period.next()
    if after.first > today:
        return 1
    kb.button(text=_("Next period ›"), callback_data=to(after))
    return 2


def ask() -> str:
    """The question when a period is to be typed."""
    return _(
        "Type the period: an ISO week such as 2026-W47, or the first and the last day "
        "such as 2026-11-01 2026-11-30 (or 2026-11-01 to 2026-11-30)."
    )


def unreadable() -> str:
    """The answer to text that is no period at all."""
    return _(
        "Please type an ISO week such as 2026-W47, or the first and the last day such "
        "as 2026-11-01 2026-11-30. Send /cancel to stop."
    )


def read(text: str, today: date) -> Period:
    """A typed period that has begun by ``today``; raises InvalidInput."""
    return periods.parse_begun(text, today)


def error(problem: DomainError) -> str:
    """What was wrong with a typed period (``unreadable`` for what is none)."""
    return error_text(problem, default=unreadable)


# --- months, quarters and years (the reports a coordinator signs) -------------------


def calendar_name(chosen: ReportPeriod, locale: str) -> str:
    """``2026年11月`` / ``November 2026``; ``2026年第三季度`` / ``Q3 2026``;
    ``2026年度`` / ``the year 2026``."""
    if chosen.span is Span.MONTH:
        return format_skeleton("yMMMM", chosen.period.first, locale=babel_locale(locale))
    if chosen.span is Span.QUARTER:
        names = {1: _("Q1 {year}"), 2: _("Q2 {year}"), 3: _("Q3 {year}"), 4: _("Q4 {year}")}
        return names[chosen.number].format(year=chosen.year)
    return _("the year {year}").format(year=chosen.year)


def calendar_keyboard(
    today: date,
    locale: str,
    *,
    pick: Callable[[ReportPeriod], CallbackData],
    typed: CallbackData,
    extra: Sequence[tuple[str, CallbackData]] = (),
) -> InlineKeyboardMarkup:
    """Last month and this month, last quarter and this quarter, last year and this
    year (two a row), "another month, quarter or year" (``typed``: ask with
    ``ask_calendar()``), then the ``extra`` buttons."""
    kb = InlineKeyboardBuilder()
    for this in (
        report_periods.month_of(today),
        report_periods.quarter_of(today),
        report_periods.year_of(today),
    ):
        for chosen in (this.previous(), this):
            kb.button(text=calendar_name(chosen, locale), callback_data=pick(chosen))
    kb.button(text=_("⌨️ Another month, quarter or year"), callback_data=typed)
    for text, data in extra:
        kb.button(text=text, callback_data=data)
    kb.adjust(2, 2, 2, *([1] * (1 + len(extra))))
    return kb.as_markup()


def calendar_steps(
    kb: InlineKeyboardBuilder,
    chosen: ReportPeriod,
    today: date,
    locale: str,
    to: Callable[[ReportPeriod], CallbackData],
) -> int:
    """Add ‹ the month, quarter or year before, and the one after when it has begun
    by ``today``; returns how many buttons were added (for ``kb.adjust``)."""
    before, after = chosen.previous(), chosen.next()
    kb.button(text="‹ " + calendar_name(before, locale), callback_data=to(before))
    if after.period.first > today:
        return 1
    kb.button(text=calendar_name(after, locale) + " ›", callback_data=to(after))
    return 2


def from_calendar_button(span: str, year: int, number: int) -> ReportPeriod | None:
    """A month, quarter or year from a button's data; None when it makes no sense."""
    try:
        return ReportPeriod(Span(span), year, number)
    except (ValueError, DomainError):
        return None


def ask_calendar() -> str:
    """The question when a month, quarter or year is to be typed."""
    return _(
        "Type the period: a month such as 2026-11, a quarter such as 2026-Q3, or a year "
        "such as 2026."
    )


def unreadable_calendar() -> str:
    return _(
        "Please type a month such as 2026-11, a quarter such as 2026-Q3, or a year such "
        "as 2026. Send /cancel to stop."
    )


def read_calendar(text: str, today: date) -> ReportPeriod:
    """A typed month, quarter or year that has begun by ``today``; raises InvalidInput."""
    return report_periods.parse_begun(text, today)


def calendar_error(problem: DomainError) -> str:
    """What was wrong with a typed month, quarter or year."""
    return error_text(problem, default=unreadable_calendar)
