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
from aiogram.utils.keyboard import InlineKeyboardBuilder

from services import periods
from services.errors import DomainError
from services.periods import Period
from ui.date_range import date_range
from ui.errors import error_text


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
