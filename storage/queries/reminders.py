"""What the reminders and the weekly digest read: seats starting soon, an activity's
seat holders, activities published lately and who wants the digest. Nothing here
commits; callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Activity,
    ActivityStatus,
    Signup,
    SignupStatus,
    Volunteer,
    VolunteerStatus,
)


async def seats_starting(
    session: AsyncSession, *, after: datetime, until: datetime
) -> Sequence[tuple[Signup, Activity, int | None]]:
    """Confirmed seats on published activities starting in (``after``, ``until``],
    with the holder's Telegram id, by sign-up."""
    query = (
        select(Signup, Activity, Volunteer.user_id)
        .join(Activity, col(Activity.id) == col(Signup.activity_id))
        .join(Volunteer, col(Volunteer.id) == col(Signup.volunteer_id))
        .where(
            Signup.status == SignupStatus.CONFIRMED,
            Activity.status == ActivityStatus.PUBLISHED,
            col(Activity.starts_at) > after,
            col(Activity.starts_at) <= until,
            col(Volunteer.user_id).is_not(None),
        )
        .order_by(col(Signup.id))
    )
    return (await session.exec(query)).all()


async def signups_with_users(
    session: AsyncSession, activity_id: int
) -> Sequence[tuple[int | None, int | None]]:
    """(sign-up id, the volunteer's Telegram id) of every sign-up of the activity."""
    query = (
        select(Signup.id, Volunteer.user_id)
        .join(Volunteer, col(Volunteer.id) == col(Signup.volunteer_id))
        .where(Signup.activity_id == activity_id)
    )
    return (await session.exec(query)).all()


async def published_since(
    session: AsyncSession, *, since: datetime, now: datetime
) -> list[Activity]:
    """Published since ``since`` and starting later than ``now``, soonest first."""
    query = (
        select(Activity)
        .where(
            Activity.status == ActivityStatus.PUBLISHED,
            col(Activity.created_at) >= since,
            col(Activity.starts_at) > now,
        )
        .order_by(col(Activity.starts_at), col(Activity.id))
    )
    return list((await session.exec(query)).all())


async def digest_readers(session: AsyncSession) -> Sequence[tuple[int | None, int]]:
    """(Telegram id, home station) of every active volunteer who wants the digest."""
    query = (
        select(Volunteer.user_id, Volunteer.station_id)
        .where(
            Volunteer.status == VolunteerStatus.ACTIVE,
            col(Volunteer.erased_at).is_(None),
            col(Volunteer.user_id).is_not(None),
            col(Volunteer.weekly_digest).is_(True),
        )
        .order_by(col(Volunteer.id))
    )
    return (await session.exec(query)).all()
