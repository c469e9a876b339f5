"""How outbox rows become Telegram messages: one renderer per ``kind``.

The deliverer (``bot.deliverer``) calls the renderer for a row inside the
recipient's language, and sends what it returns. A renderer gets a read session
and the row's payload, and returns the text (HTML) and an optional keyboard, or
None when the message is no longer wanted (the activity was cancelled, say); the
row is then withdrawn. Feature modules register their kinds with ``@renderer``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from sqlmodel.ext.asyncio.session import AsyncSession

Rendered = tuple[str, InlineKeyboardMarkup | None]
Renderer = Callable[[AsyncSession, dict[str, Any]], Awaitable[Rendered | None]]

RENDERERS: dict[str, Renderer] = {}

TEXT = "text"


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    """Register the renderer of ``kind`` (once per kind)."""

    def register(function: Renderer) -> Renderer:
        if RENDERERS.get(kind, function) is not function:
            raise ValueError(f"outbox kind {kind!r} registered twice")
        RENDERERS[kind] = function
        return function

    return register


def text_payload(text: str, markup: InlineKeyboardMarkup | None = None) -> dict[str, Any]:
    """The payload of an already written message (see ``render_text``)."""
    payload: dict[str, Any] = {"text": text}
    if markup is not None:
        payload["markup"] = markup.model_dump(mode="json", exclude_none=True)
    return payload


@renderer(TEXT)
async def render_text(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """A message written when it was queued, already in the recipient's language.
    The bot's own notices are kinds of their own, rendered when sent; this kind stays
    for rows queued by earlier versions and for the benchmarks' plain texts."""
    markup = payload.get("markup")
    return payload["text"], (
        InlineKeyboardMarkup.model_validate(markup) if markup is not None else None
    )
