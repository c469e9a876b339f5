"""Messages the bot sends on its own to someone other than the person writing.

They are written in the recipient's language and queued in the outbox (kind
"text"); the deliverer sends them at the paced rate, one-to-one notices ahead of
bulk traffic. Replies to the person writing are sent directly, never queued."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from aiogram import Bot
from aiogram.utils.i18n import I18n
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.messages import TEXT, text_payload
from services import outbox, users
from services.outbox import Message
from storage.db import write_transaction

Render = Callable[[], tuple[str, Any]]


async def tell(
    bot: Bot,
    session: AsyncSession,
    i18n: I18n,
    user_id: int,
    render: Render,
    *,
    key: str | None = None,
    urgent: bool = True,
) -> bool:
    """Queue ``render()`` (text and reply markup), built in the recipient's language.
    ``key`` makes it idempotent (a redelivered update queues nothing twice); without
    one, every call queues a message. Returns whether a message was queued."""
    del bot  # sent by the deliverer
    prefix = key or f"note:{uuid.uuid4().hex}"
    return await tell_many(session, i18n, [user_id], render, key_prefix=prefix, urgent=urgent) > 0


async def tell_many(
    session: AsyncSession,
    i18n: I18n,
    user_ids: Iterable[int],
    render: Render,
    *,
    key_prefix: str,
    urgent: bool = True,
    priority: int = outbox.NOTICE,
    station_id: int | None = None,
    broadcast_id: int | None = None,
) -> int:
    """Queue ``render()`` for each recipient in their language, under the keys
    ``{key_prefix}:{user_id}``, in one transaction. Returns how many were new."""
    locales = await users.locales_of(session, user_ids, i18n.default_locale)
    rendered: dict[str, dict[str, Any]] = {}
    messages = []
    for user_id, locale in locales.items():
        if locale not in rendered:
            with i18n.context(), i18n.use_locale(locale):
                text, markup = render()
            rendered[locale] = text_payload(text, markup)
        messages.append(
            Message(
                user_id=user_id,
                kind=TEXT,
                key=f"{key_prefix}:{user_id}",
                payload=rendered[locale],
                urgent=urgent,
                priority=priority,
                station_id=station_id,
                broadcast_id=broadcast_id,
            )
        )
    async with write_transaction(session):
        return await outbox.enqueue(session, messages)
