"""Typed answers: a value typed in a dialog, handed to a parser (a service's), and
asked again with the error's text when the parser refuses it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aiogram import F
from aiogram.types import Message

from services.errors import DomainError
from ui.errors import error_text

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
