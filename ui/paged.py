"""Paged lists: which items a page shows, and the ‹ Previous / Next › row under them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import gettext as _

from ui.keyboards.builder import InlineKeyboardBuilder

T = TypeVar("T")


def page_count(total: int, per_page: int) -> int:
    """How many pages ``total`` items fill (at least one, so an empty list has a page)."""
    return max(1, -(-total // per_page))


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items, its number (from 0) and how many there are."""

    items: Sequence[T]
    number: int
    count: int
    total: int
    per_page: int

    @property
    def first(self) -> int:
        """The position (from 1) of the page's first item in the whole list."""
        return self.number * self.per_page + 1

    @property
    def last(self) -> int:
        return self.number * self.per_page + len(self.items)


def page_of(items: Sequence[T], page: int, per_page: int) -> Page[T]:
    """The page asked for, kept within the pages there are (an old button may ask for
    one past the end after the list shrank)."""
    count = page_count(len(items), per_page)
    number = min(max(page, 0), count - 1)
    shown = items[number * per_page : (number + 1) * per_page]
    return Page(shown, number, count, len(items), per_page)


def window(page: int, total: int, per_page: int) -> Page[int]:
    """A page of a list counted in the database: the page number kept in range, and
    its item positions (offset ``page.number * per_page``)."""
    count = page_count(total, per_page)
    number = min(max(page, 0), count - 1)
    start = number * per_page
    return Page(range(start, min(start + per_page, total)), number, count, total, per_page)


def nav_row(kb: InlineKeyboardBuilder, page: Page[T], to: Callable[[int], CallbackData]) -> int:
    """Add ‹ Previous and Next › where there is such a page; returns how many buttons
    were added (for ``kb.adjust``). ``to(n)`` makes the data of page ``n``."""
    added = 0
    if page.number > 0:
        kb.button(text=_("‹ Previous"), callback_data=to(page.number - 1))
        added += 1
    if page.number < page.count - 1:
        kb.button(text=_("Next ›"), callback_data=to(page.number + 1))
        added += 1
    return added
