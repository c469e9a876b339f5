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

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Outbox, OutboxState
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
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    new = 0
    # Chunks keep each statement under the backends' bound-parameter limits.
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        statement = insert(Outbox).values(chunk).on_conflict_do_nothing(index_elements=["key"])
        result = await session.exec(statement)
        new += max(result.rowcount or 0, 0)
    return new


async def withdraw(session: AsyncSession, keys: Sequence[str]) -> int:
    """Withdraw queued rows that are not sent yet (a cancelled seat, a cancelled
    activity). A row already claimed by a deliverer may still go out."""
    if not keys:
        return 0
    statement = (
        update(Outbox)
        .where(col(Outbox.key).in_(keys), col(Outbox.state) == OutboxState.PENDING)
        .values(state=OutboxState.WITHDRAWN)
    )
    result = await session.exec(statement)
    return int(result.rowcount or 0)


async def withdraw_prefix(session: AsyncSession, prefix: str) -> int:
    """Withdraw every pending row whose key starts with ``prefix``."""
    statement = (
        update(Outbox)
        .where(
            col(Outbox.key).startswith(prefix, autoescape=True),
            col(Outbox.state) == OutboxState.PENDING,
        )
        .values(state=OutboxState.WITHDRAWN)
    )
    result = await session.exec(statement)
    return int(result.rowcount or 0)


async def reschedule(session: AsyncSession, key: str, due_at: datetime) -> bool:
    """Move a pending row to ``due_at`` (a rescheduled activity's reminder)."""
    statement = (
        update(Outbox)
        .where(col(Outbox.key) == key, col(Outbox.state) == OutboxState.PENDING)
        .values(due_at=due_at)
    )
    result = await session.exec(statement)
    return bool(result.rowcount)


async def pending_keys(session: AsyncSession, prefix: str) -> list[str]:
    """Keys of pending rows starting with ``prefix``."""
    statement = select(col(Outbox.key)).where(
        col(Outbox.key).startswith(prefix, autoescape=True),
        col(Outbox.state) == OutboxState.PENDING,
    )
    return list((await session.scalars(statement)).all())


async def counts(session: AsyncSession, broadcast_id: int) -> dict[OutboxState, int]:
    """Rows of a broadcast by state."""
    statement = (
        select(col(Outbox.state), func.count())
        .where(col(Outbox.broadcast_id) == broadcast_id)
        .group_by(Outbox.state)
    )
    rows = (await session.execute(statement)).all()
    return {OutboxState(state): int(n) for state, n in rows}
