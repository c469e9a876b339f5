"""Queries of hours recorded on someone's behalf: finding the person and the activity
a late record or an imported row is about, and the rows already imported. Nothing
here commits; callers own the transaction."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Activity, ActivityStatus, Attendance, Volunteer

CHUNK = 500


async def volunteers_by_phone(
    session: AsyncSession, phones: Collection[str]
) -> dict[str, Volunteer]:
    """Volunteers (not erased) by phone; the oldest row when a phone is on several."""
    found: dict[str, Volunteer] = {}
    wanted = sorted(set(phones))
    for start in range(0, len(wanted), CHUNK):
        query = (
            select(Volunteer)
            .where(
                col(Volunteer.phone).in_(wanted[start : start + CHUNK]),
                col(Volunteer.erased_at).is_(None),
            )
            .order_by(col(Volunteer.id).desc())
        )
        for volunteer in (await session.exec(query)).all():
            assert volunteer.phone is not None
            found[volunteer.phone] = volunteer  # the oldest last, so it wins
    return found


async def phoneless_by_name(session: AsyncSession, station_id: int, name: str) -> Volunteer | None:
    """A person staff recorded before without a phone and without Telegram, at the
    station, by the exact name they were recorded under."""
    query = (
        select(Volunteer)
        .where(
            Volunteer.station_id == station_id,
            Volunteer.real_name == name,
            col(Volunteer.phone).is_(None),
            col(Volunteer.user_id).is_(None),
            col(Volunteer.erased_at).is_(None),
        )
        .order_by(col(Volunteer.id))
        .limit(1)
    )
    return (await session.exec(query)).first()


async def activity_on_day(
    session: AsyncSession, station_id: int, title: str, start: datetime, end: datetime
) -> Activity | None:
    """A (not cancelled) activity of the station with this title starting in [start, end)."""
    query = (
        select(Activity)
        .where(
            Activity.station_id == station_id,
            Activity.title == title,
            col(Activity.starts_at) >= start,
            col(Activity.starts_at) < end,
            col(Activity.status) != ActivityStatus.CANCELLED,
        )
        .order_by(col(Activity.id))
        .limit(1)
    )
    return (await session.exec(query)).first()


async def imported_keys(session: AsyncSession, keys: Collection[str]) -> set[str]:
    """Which of these import keys are on attendance rows already."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        query = select(Attendance.import_key).where(
            col(Attendance.import_key).in_(wanted[start : start + CHUNK])
        )
        found.update(k for k in (await session.exec(query)).all() if k is not None)
    return found


async def attendances_for(
    session: AsyncSession, activity_id: int, volunteer_ids: Sequence[int]
) -> dict[int, Attendance]:
    query = select(Attendance).where(
        Attendance.activity_id == activity_id, col(Attendance.volunteer_id).in_(volunteer_ids)
    )
    return {row.volunteer_id: row for row in (await session.exec(query)).all()}
