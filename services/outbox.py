"""The outbox: everything the bot sends on its own is first a row here, written in
the same transaction as the change it tells of. A deliverer (``bot.deliverer``)
sends due rows at a paced rate; this module only queues, moves and withdraws them.

A row says *what* to send (``kind`` and a JSON ``payload``), not the words: the
Telegram layer renders it in the recipient's language when it is sent, so a
reminder queued a week ahead shows the activity as it is then. ``key`` is unique:
queueing the same key twice keeps the first row, which makes retries, redelivered
updates and periodic jobs that run again harmless."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxState
from storage.queries import outbox as outbox_queries
from storage.types import utcnow

# Priorities: higher is sent first. A reply Telegram could not take at once goes
# first; one-to-one notices (an offered seat, an approval) go ahead of reminders,
# and both ahead of broadcasts and digests.
REPLY = 30
NOTICE = 20
REMINDER = 10
BULK = 0

OPEN_STATES = (OutboxState.PENDING, OutboxState.SENDING)


@dataclass(frozen=True)
class Message:
    """One message to queue for one recipient."""

    user_id: int
    kind: str
    key: str
    payload: dict[str, Any] = field(default_factory=dict)
    due_at: datetime | None = None  # None: now
    urgent: bool = False  # sent during quiet hours too
    priority: int = NOTICE
    station_id: int | None = None  # whose time zone decides the quiet hours
    broadcast_id: int | None = None


async def enqueue(session: AsyncSession, messages: Iterable[Message]) -> int:
    """Queue ``messages``; a key already queued is left as it is. Returns how many
    rows were new. Call inside the caller's write transaction."""
    now = utcnow()
    rows = [
        {
            "key": m.key,
            "user_id": m.user_id,
            "kind": m.kind,
            "payload": m.payload,
            "due_at": m.due_at or now,
            "urgent": m.urgent,
            "priority": m.priority,
            "station_id": m.station_id,
            "broadcast_id": m.broadcast_id,
            "state": OutboxState.PENDING,
            "attempts": 0,
            "created_at": now,
        }
        for m in messages
    ]
    if not rows:
        return 0
    return await outbox_queries.insert_new(session, rows)


async def withdraw(session: AsyncSession, keys: Sequence[str]) -> int:
    """Withdraw queued rows that are not sent yet (a cancelled seat, a cancelled
    activity). A row already claimed by a deliverer may still go out."""
    if not keys:
        return 0
    return await outbox_queries.withdraw_keys(session, keys)


async def withdraw_prefix(session: AsyncSession, prefix: str) -> int:
    """Withdraw every pending row whose key starts with ``prefix``."""
    return await outbox_queries.withdraw_prefix(session, prefix)


async def reschedule(session: AsyncSession, key: str, due_at: datetime) -> bool:
    """Move a pending row to ``due_at`` (a rescheduled activity's reminder)."""
    return await outbox_queries.reschedule(session, key, due_at)


async def pending_keys(session: AsyncSession, prefix: str) -> list[str]:
    """Keys of pending rows starting with ``prefix``."""
    return await outbox_queries.pending_keys(session, prefix)


async def counts(session: AsyncSession, broadcast_id: int) -> dict[OutboxState, int]:
    """Rows of a broadcast by state."""
    return await outbox_queries.broadcast_counts(session, broadcast_id)
