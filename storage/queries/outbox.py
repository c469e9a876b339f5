"""The outbox's rows: queueing, withdrawing and moving them (``services.outbox``), and
claiming and settling them for the deliverer (``services.delivery``). Nothing here
commits; callers own the transaction."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, case, exists, func, update
from sqlalchemy import select as select_columns
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Outbox, OutboxState, User

# Rows per INSERT, under the backends' bound-parameter limits.
CHUNK = 500


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# --- queueing -----------------------------------------------------------------------


async def insert_new(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert outbox rows, leaving a key already there as it is; how many were new."""
    insert = pg_insert if _is_postgres(session) else sqlite_insert
    new = 0
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        statement = insert(Outbox).values(chunk).on_conflict_do_nothing(index_elements=["key"])
        result = await session.exec(statement)
        new += max(result.rowcount or 0, 0)
    return new


async def withdraw_keys(session: AsyncSession, keys: Sequence[str]) -> int:
    statement = (
        update(Outbox)
        .where(col(Outbox.key).in_(keys), col(Outbox.state) == OutboxState.PENDING)
        .values(state=OutboxState.WITHDRAWN)
    )
    result = await session.exec(statement)
    return int(result.rowcount or 0)


async def withdraw_prefix(session: AsyncSession, prefix: str) -> int:
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
    statement = (
        update(Outbox)
        .where(col(Outbox.key) == key, col(Outbox.state) == OutboxState.PENDING)
        .values(due_at=due_at)
    )
    result = await session.exec(statement)
    return bool(result.rowcount)


async def pending_keys(session: AsyncSession, prefix: str) -> list[str]:
    statement = select_columns(col(Outbox.key)).where(
        col(Outbox.key).startswith(prefix, autoescape=True),
        col(Outbox.state) == OutboxState.PENDING,
    )
    return list((await session.scalars(statement)).all())


async def broadcast_counts(session: AsyncSession, broadcast_id: int) -> dict[OutboxState, int]:
    statement = (
        select_columns(col(Outbox.state), func.count())
        .where(col(Outbox.broadcast_id) == broadcast_id)
        .group_by(Outbox.state)
    )
    rows = (await session.execute(statement)).all()
    return {OutboxState(state): int(n) for state, n in rows}


# --- claiming and settling ----------------------------------------------------------


def _unreachable() -> ColumnElement[bool]:
    return exists().where(
        col(User.id) == col(Outbox.user_id), col(User.unreachable_at).is_not(None)
    )


async def due_rows(session: AsyncSession, *, now: datetime, limit: int) -> Sequence[Row[Any]]:
    """Up to ``limit`` due pending rows, highest priority first, then oldest, with the
    recipient's language and whether they are unreachable; on PostgreSQL locked
    ``FOR UPDATE SKIP LOCKED``."""
    locale = select(col(User.locale)).where(col(User.id) == col(Outbox.user_id))
    query = (
        select_columns(
            col(Outbox.id),
            col(Outbox.user_id),
            col(Outbox.kind),
            col(Outbox.payload),
            col(Outbox.urgent),
            col(Outbox.station_id),
            col(Outbox.broadcast_id),
            col(Outbox.attempts),
            locale.scalar_subquery().label("locale"),
            _unreachable().label("unreachable"),
        )
        .where(col(Outbox.state) == OutboxState.PENDING, col(Outbox.due_at) <= now)
        .order_by(col(Outbox.priority).desc(), col(Outbox.due_at), col(Outbox.id))
        .limit(limit)
    )
    if _is_postgres(session):
        query = query.with_for_update(skip_locked=True, of=Outbox)
    connection = await session.connection()
    return (await connection.execute(query)).all()


async def set_sending(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    await session.exec(
        update(Outbox)
        .where(col(Outbox.id).in_(ids))
        .values(state=OutboxState.SENDING, claimed_at=now, attempts=col(Outbox.attempts) + 1)
    )


async def set_skipped(session: AsyncSession, ids: Sequence[int], error: str) -> None:
    await session.exec(
        update(Outbox)
        .where(col(Outbox.id).in_(ids))
        .values(state=OutboxState.SKIPPED, last_error=error)
    )


async def set_due(session: AsyncSession, ids: Sequence[int], due_at: datetime) -> None:
    await session.exec(update(Outbox).where(col(Outbox.id).in_(ids)).values(due_at=due_at))


async def recover_lapsed(
    session: AsyncSession, *, before: datetime, keep: Collection[int] = ()
) -> int:
    """Rows in ``sending`` claimed before ``before`` (but not ``keep``) back to
    ``pending``; on PostgreSQL skipping rows another deliverer holds."""
    lapsed = and_(
        col(Outbox.state) == OutboxState.SENDING,
        col(Outbox.claimed_at) < before,
    )
    if keep:
        lapsed = and_(lapsed, col(Outbox.id).not_in(list(keep)))
    target: ColumnElement[bool] = lapsed
    if _is_postgres(session):
        # Never wait on rows another deliverer is settling right now.
        ids = select(col(Outbox.id)).where(lapsed).with_for_update(skip_locked=True)
        target = col(Outbox.id).in_(ids.scalar_subquery())
    result = await session.exec(
        update(Outbox).where(target).values(state=OutboxState.PENDING, claimed_at=None)
    )
    return int(result.rowcount or 0)


def _claimed(row_id: int, claimed_at: datetime) -> ColumnElement[bool]:
    return and_(
        col(Outbox.id) == row_id,
        col(Outbox.state) == OutboxState.SENDING,
        col(Outbox.claimed_at) == claimed_at,
    )


async def settle(
    session: AsyncSession, row_id: int, claimed_at: datetime, values: dict[str, Any]
) -> int:
    """Set ``values`` on a row still held by the claim made at ``claimed_at``; 1 if it
    was, else 0."""
    result = await session.exec(update(Outbox).where(_claimed(row_id, claimed_at)).values(**values))
    return int(result.rowcount or 0)


def fewer_attempts() -> Any:
    """The value that takes back one attempt (a claim given back unsent)."""
    return col(Outbox.attempts) - 1


async def skip_pending_of(session: AsyncSession, user_id: int, error: str) -> int:
    result = await session.exec(
        update(Outbox)
        .where(col(Outbox.user_id) == user_id, col(Outbox.state) == OutboxState.PENDING)
        .values(state=OutboxState.SKIPPED, last_error=error)
    )
    return int(result.rowcount or 0)


async def clear_unreachable(session: AsyncSession, user_id: int) -> bool:
    result = await session.exec(
        update(User)
        .where(col(User.id) == user_id, col(User.unreachable_at).is_not(None))
        .values(unreachable_at=None)
    )
    return bool(result.rowcount)


async def next_due(session: AsyncSession) -> datetime | None:
    query = (
        select(col(Outbox.due_at))
        .where(col(Outbox.state) == OutboxState.PENDING)
        .order_by(col(Outbox.due_at))
        .limit(1)
    )
    return (await session.exec(query)).first()


async def revive(session: AsyncSession, key: str, due_at: datetime | None) -> int:
    """A row withdrawn earlier is pending again, due at ``due_at``, as if new; 1 if
    there was one."""
    result = await session.exec(
        update(Outbox)
        .where(col(Outbox.key) == key, col(Outbox.state) == OutboxState.WITHDRAWN)
        .values(
            state=OutboxState.PENDING,
            due_at=due_at,
            attempts=0,
            last_error=None,
            claimed_at=None,
        )
    )
    return int(result.rowcount or 0)


async def pending_keys_of(session: AsyncSession, kind: str, user_ids: Sequence[int]) -> list[str]:
    """Keys of pending rows of ``kind`` to any of ``user_ids``."""
    found: list[str] = []
    for start in range(0, len(user_ids), CHUNK):
        rows = await session.exec(
            select(Outbox.key).where(
                Outbox.kind == kind,
                Outbox.state == OutboxState.PENDING,
                col(Outbox.user_id).in_(user_ids[start : start + CHUNK]),
            )
        )
        found += rows.all()
    return found


async def state_summary(
    session: AsyncSession, now: datetime
) -> dict[OutboxState, tuple[int, datetime | None]]:
    """Rows by state, each state with the earliest ``due_at`` at or before ``now``
    (for pending rows: the oldest one waiting to be sent). One grouped query, read
    from the (state, due_at) index."""
    due = case((col(Outbox.due_at) <= now, col(Outbox.due_at)), else_=None)
    statement = select_columns(col(Outbox.state), func.count(), func.min(due)).group_by(
        col(Outbox.state)
    )
    rows = (await (await session.connection()).execute(statement)).all()
    return {OutboxState(state): (int(n), oldest) for state, n, oldest in rows}
