"""Typed answers: a value typed in a dialog, handed to a parser (a service's), and
asked again with the error's text when the parser refuses it; and what the dialog
kept from its earlier steps, read back (or the dialog ended when it is lost)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from services.errors import DomainError
from ui.errors import error_text, general

T = TypeVar("T")

# A typed answer; a command is never taken as an answer.
ANSWER = F.text & ~F.text.startswith("/")


async def take(
    message: Message,
    parse: Callable[[str], T],
    *,
    explain: Callable[[DomainError], str] = error_text,
) -> T | None:
    """The parsed value of the message's text, or None after telling the person what
    was wrong (so they type it again; the dialog's state is left as it is)."""
    try:
        return parse(message.text or "")
    except DomainError as error:
        await message.answer(explain(error))
        return None


async def kept(
    message: Message,
    state: FSMContext,
    read: Callable[[dict[str, Any]], T],
    *,
    lost: Callable[[], str] = general,
) -> T | None:
    """What ``read`` takes from the dialog's data (it raises KeyError, TypeError or
    ValueError for data missing or wrong), or None after ending the dialog and telling
    the person with ``lost()``: the data went with a restart or another dialog."""
    try:
        return read(await state.get_data())
    except (KeyError, TypeError, ValueError):
        await state.clear()
        await message.answer(lost())
        return None
