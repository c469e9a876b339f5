"""Queries of staff publishing: editing, cancelling and listing the activities one
manages. Nothing here commits; callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Activity, ActivityStatus, Signup, SignupStatus, Volunteer


async def activity_now(session: AsyncSession, activity_id: int) -> Activity | None:
    """An activity as the database holds it now (not as this session last saw it)."""
    return await session.get(Activity, activity_id, populate_existing=True)


async def signed_up_user_ids(
    session: AsyncSession, activity_id: int, statuses: Sequence[SignupStatus]
) -> list[int]:
    """Telegram ids of the volunteers with a sign-up in one of ``statuses`` (erased
    volunteers, who have no user, left out), in sign-up order."""
    query = (
        select(Volunteer.user_id)
        .join(Signup, col(Signup.volunteer_id) == col(Volunteer.id))
        .where(
            Signup.activity_id == activity_id,
            col(Signup.status).in_(statuses),
            col(Volunteer.user_id).is_not(None),
        )
        .order_by(col(Signup.queued_at), col(Signup.id))
    )
    return [uid for uid in (await session.exec(query)).all() if uid is not None]


async def signups_for_update(
    session: AsyncSession, activity_id: int, statuses: Sequence[SignupStatus]
) -> Sequence[Signup]:
    """Sign-ups of one activity in one of ``statuses``, locked on PostgreSQL."""
    query = (
        select(Signup)
        .where(Signup.activity_id == activity_id, col(Signup.status).in_(statuses))
        .order_by(col(Signup.id))
        .with_for_update()
    )
    return (await session.exec(query.execution_options(populate_existing=True))).all()


async def managed_activities_not_over(
    session: AsyncSession,
    station_ids: Sequence[int] | None,
    now: datetime,
    *,
    offset: int,
    limit: int,
) -> tuple[Sequence[Activity], int]:
    """Published activities not yet over, on ``station_ids`` (None: every station),
    soonest first (one under way before today's next); and how many there are in all."""
    where: list[Any] = [Activity.status == ActivityStatus.PUBLISHED, col(Activity.ends_at) > now]
    if station_ids is not None:
        where.append(col(Activity.station_id).in_(station_ids))
    total = (await session.exec(select(func.count()).where(*where))).one()
    query = (
        select(Activity)
        .where(*where)
        .order_by(col(Activity.starts_at), col(Activity.id))
        .offset(offset)
        .limit(limit)
    )
    return (await session.exec(query)).all(), total
