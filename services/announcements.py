"""Announcing a published activity to the volunteers of its station and every
station under it, the way a broadcast goes (``services.broadcasts``): each gets the
activity's card in their language, with a Join button. An activity is announced
once."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.access import Actor
from services.broadcasts import Created, count_recipients, open_broadcast, require
from services.broadcasts import require_somewhere as require_broadcasting
from services.errors import InvalidInput, NotFound
from storage import queries
from storage.db import write_transaction
from storage.models import Activity, ActivityStatus, Broadcast
from storage.queries import broadcasts as broadcast_queries
from storage.types import utcnow


async def announcement_audience(
    session: AsyncSession, *, actor: Actor, activity_id: int
) -> tuple[Activity, int]:
    """The activity to announce and how many volunteers would get it, after the same
    checks ``announce`` makes."""
    await require_broadcasting(session, actor=actor)
    activity = await queries.get_activity(session, activity_id)
    if activity is None:
        raise NotFound("activity_not_found")
    await require(session, actor=actor, station_id=activity.station_id)
    _check_announceable(activity, utcnow())
    return activity, await count_recipients(session, station_id=activity.station_id)


def _check_announceable(activity: Activity, now: datetime) -> None:
    if activity.status is not ActivityStatus.PUBLISHED:
        raise InvalidInput("activity_cancelled")
    if activity.starts_at <= now:
        raise InvalidInput("activity_started")


async def announce(
    session: AsyncSession, *, actor: Actor, activity_id: int, now: datetime | None = None
) -> Created:
    """Announce a published activity; asking again returns the first announcement."""
    now = now or utcnow()
    async with write_transaction(session):
        await require_broadcasting(session, actor=actor)
        activity = await queries.lock_activity(session, activity_id)
        if activity is None or activity.id is None:
            raise NotFound("activity_not_found")
        await require(session, actor=actor, station_id=activity.station_id)
        old = await broadcast_queries.announcement_of(session, activity.id)
        if old is not None:
            return Created(old, new=False)
        _check_announceable(activity, now)
        broadcast = await open_broadcast(
            session,
            actor=actor,
            station_id=activity.station_id,
            text=activity.title,
            activity_id=activity.id,
            now=now,
        )
        audit.record(
            session,
            actor_id=actor.id,
            action="broadcast.announced",
            station_id=activity.station_id,
            subject_type="broadcast",
            subject_id=broadcast.id,
            activity_id=activity.id,
            recipients=broadcast.total,
        )
    return Created(broadcast, new=True)


async def announced_activity(session: AsyncSession, broadcast: Broadcast) -> Activity | None:
    """The activity a broadcast announces; None for a plain broadcast."""
    if broadcast.activity_id is None:
        return None
    return await queries.get_activity(session, broadcast.activity_id)
