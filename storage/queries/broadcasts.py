"""Queries of broadcasts: who would get one, the sender's earlier broadcasts and an
activity's announcement, and the progress message and end of each. Nothing here
commits; callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Broadcast, User, Volunteer, VolunteerStatus

CHUNK = 500  # station ids per IN (...)


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
