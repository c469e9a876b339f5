"""Queries of broadcasts: who would get one, the sender's earlier broadcasts and an
activity's announcement, and the progress message and end of each. Nothing here
commits; callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Integer,
    String,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    literal_column,
    true,
    update,
)
from sqlalchemy import select as select_columns
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Broadcast, Outbox, OutboxState, User, Volunteer, VolunteerStatus
from storage.types import StrEnumColumn, UTCDateTime

CHUNK = 500  # station ids per IN (...)


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _has_skill(session: AsyncSession, skills: Sequence[str]) -> ColumnElement[bool]:
    """The volunteer's skills (a JSON list) hold at least one of ``skills``."""
    if _is_postgres(session):
        # json_array_elements_text refuses anything but an array: others count as [].
        listed = case(
            (func.json_typeof(Volunteer.skills) == "array", col(Volunteer.skills)),
            else_=literal_column("'[]'::json"),
        )
        found = func.json_array_elements_text(listed).table_valued("value")
        return exists(
            select_columns(literal(1)).select_from(found).where(found.c.value.in_(list(skills)))
        )
    elements = func.json_each(Volunteer.skills).table_valued("value", "type")
    return exists(
        select_columns(literal(1))
        .select_from(elements)
        .where(elements.c.type == "text", elements.c.value.in_(list(skills)))
    )


def _active_at(
    session: AsyncSession, station_ids: Sequence[int], skills: Sequence[str]
) -> list[ColumnElement[bool]]:
    """Active, not erased volunteers with a Telegram account at ``station_ids``; with
    ``skills``, only those having at least one of them."""
    where: list[ColumnElement[bool]] = [
        col(Volunteer.station_id).in_(list(station_ids)),
        col(Volunteer.status) == VolunteerStatus.ACTIVE,
        col(Volunteer.erased_at).is_(None),
        col(Volunteer.user_id).is_not(None),
    ]
    if skills:
        where.append(_has_skill(session, skills))
    return where


async def count_active_volunteers_at(
    session: AsyncSession, station_ids: Sequence[int], skills: Sequence[str] = ()
) -> int:
    """How many ``queue_to_volunteers_at`` would queue."""
    total = 0
    for start in range(0, len(station_ids), CHUNK):
        chunk = station_ids[start : start + CHUNK]
        query = (
            select(func.count()).select_from(Volunteer).where(*_active_at(session, chunk, skills))
        )
        total += int((await session.exec(query)).one())
    return total


async def queue_to_volunteers_at(
    session: AsyncSession,
    *,
    station_ids: Sequence[int],
    skills: Sequence[str],
    key_prefix: str,
    kind: str,
    payload: dict[str, Any],
    urgent: bool,
    priority: int,
    broadcast_id: int,
    now: datetime,
) -> int:
    """One pending outbox row per volunteer ``count_active_volunteers_at`` counts, due
    ``now``, keyed ``key_prefix`` + user id, with their home station (its time zone
    decides the quiet hours), written by the database in one INSERT ... SELECT per
    chunk of stations (in the stations' order, each chunk by volunteer). How many rows
    were queued. ``key_prefix`` must name ``broadcast_id``, a broadcast created in
    the caller's transaction, so that no key can be queued already: the statement
    does not look for one (an ON CONFLICT clause cost PostgreSQL a fifth of the time
    at 100,000 recipients), and a duplicate would fail the transaction, not be
    dropped."""
    columns = [
        "key",
        "user_id",
        "kind",
        "payload",
        "due_at",
        "urgent",
        "priority",
        "station_id",
        "broadcast_id",
        "state",
        "attempts",
        "created_at",
    ]
    new = 0
    for start in range(0, len(station_ids), CHUNK):
        chunk = station_ids[start : start + CHUNK]
        rows = (
            select_columns(
                literal(key_prefix, String) + cast(col(Volunteer.user_id), String),
                col(Volunteer.user_id),
                literal(kind, String),
                literal(payload, JSON),
                literal(now, UTCDateTime),
                literal(urgent, Boolean),
                literal(priority, Integer),
                col(Volunteer.station_id),
                literal(broadcast_id, Integer),
                literal(OutboxState.PENDING, StrEnumColumn(OutboxState)),
                literal(0, Integer),
                literal(now, UTCDateTime),
            )
            .where(true(), *_active_at(session, chunk, skills))
            .order_by(col(Volunteer.id))
        )
        result = await session.exec(insert(Outbox).from_select(columns, rows))
        new += max(result.rowcount or 0, 0)
    return new


async def active_volunteers_at(
    session: AsyncSession, station_ids: Sequence[int]
) -> list[tuple[int, int, list[str]]]:
    """(user, home station, skills) of the active, not erased volunteers with a
    Telegram account whose home is one of ``station_ids``: a chunk of stations at a
    time, in the stations' order, each chunk by volunteer."""
    found: list[tuple[int, int, list[str]]] = []
    for start in range(0, len(station_ids), CHUNK):
        chunk = list(station_ids[start : start + CHUNK])
        query = (
            select(Volunteer.user_id, Volunteer.station_id, Volunteer.skills)
            .where(
                col(Volunteer.station_id).in_(chunk),
                Volunteer.status == VolunteerStatus.ACTIVE,
                col(Volunteer.erased_at).is_(None),
                col(Volunteer.user_id).is_not(None),
            )
            .order_by(col(Volunteer.id))
        )
        for user_id, home, skills in (await session.exec(query)).all():
            if user_id is not None:
                found.append((int(user_id), home, list(skills or ())))
    return found


async def lock_sender(session: AsyncSession, user_id: int) -> None:
    """Lock the sender's user row (PostgreSQL; SQLite's BEGIN IMMEDIATE already
    serialises writers) until the transaction ends."""
    await session.exec(select(User.id).where(User.id == user_id).with_for_update())


async def broadcasts_since(
    session: AsyncSession, *, created_by: int, station_id: int, since: datetime
) -> Sequence[Broadcast]:
    """The sender's plain broadcasts (not announcements) to the station since then."""
    query = (
        select(Broadcast)
        .where(
            Broadcast.created_by == created_by,
            Broadcast.station_id == station_id,
            col(Broadcast.activity_id).is_(None),
            col(Broadcast.created_at) >= since,
        )
        .order_by(col(Broadcast.id))
    )
    return (await session.exec(query)).all()


async def announcement_of(session: AsyncSession, activity_id: int) -> Broadcast | None:
    query = select(Broadcast).where(Broadcast.activity_id == activity_id).limit(1)
    return (await session.exec(query)).first()


async def get_broadcast(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    return await session.get(Broadcast, broadcast_id)


async def set_progress_message(
    session: AsyncSession, *, broadcast_id: int, chat_id: int, message_id: int
) -> None:
    await session.exec(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id)
        .values(progress_chat_id=chat_id, progress_message_id=message_id)
    )


async def unfinished(session: AsyncSession) -> Sequence[Broadcast]:
    query = (
        select(Broadcast).where(col(Broadcast.finished_at).is_(None)).order_by(col(Broadcast.id))
    )
    return (await session.exec(query.execution_options(populate_existing=True))).all()


async def mark_finished(session: AsyncSession, broadcast_id: int, at: datetime) -> bool:
    """Mark it finished; False when it already was."""
    result = await session.exec(
        update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.finished_at).is_(None))
        .values(finished_at=at)
    )
    return bool(result.rowcount)
