"""Queries of hours recorded on someone's behalf: finding the person and the activity
a late record or an imported row is about, and the rows already imported. Nothing
here commits; callers own the transaction."""

from __future__ import annotations

from collections.abc import Collection
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


async def phoneless_by_names(
    session: AsyncSession, station_id: int, names: Collection[str]
) -> dict[str, Volunteer]:
    """People recorded before without a phone and without Telegram at the station,
    by name (the first recorded when a name is on several)."""
    found: dict[str, Volunteer] = {}
    wanted = sorted(set(names))
    for start in range(0, len(wanted), CHUNK):
        query = (
            select(Volunteer)
            .where(
                Volunteer.station_id == station_id,
                col(Volunteer.real_name).in_(wanted[start : start + CHUNK]),
                col(Volunteer.phone).is_(None),
                col(Volunteer.user_id).is_(None),
                col(Volunteer.erased_at).is_(None),
            )
            .order_by(col(Volunteer.id).desc())
        )
        for volunteer in (await session.exec(query)).all():
            assert volunteer.real_name is not None
            found[volunteer.real_name] = volunteer
    return found


async def activities_between(
    session: AsyncSession,
    station_id: int,
    titles: Collection[str],
    start: datetime,
    end: datetime,
) -> list[Activity]:
    """The station's (not cancelled) activities with these titles starting in
    [start, end), oldest first."""
    found: list[Activity] = []
    wanted = sorted(set(titles))
    for first in range(0, len(wanted), CHUNK):
        query = (
            select(Activity)
            .where(
                Activity.station_id == station_id,
                col(Activity.title).in_(wanted[first : first + CHUNK]),
                col(Activity.starts_at) >= start,
                col(Activity.starts_at) < end,
                col(Activity.status) != ActivityStatus.CANCELLED,
            )
            .order_by(col(Activity.starts_at), col(Activity.id))
        )
        found.extend((await session.exec(query)).all())
    return found


async def attendances_of_pairs(
    session: AsyncSession, activity_ids: Collection[int], volunteer_ids: Collection[int]
) -> dict[tuple[int, int], Attendance]:
    """Attendance rows of these activities and volunteers, by (activity, volunteer)."""
    found: dict[tuple[int, int], Attendance] = {}
    activities, volunteers = sorted(set(activity_ids)), sorted(set(volunteer_ids))
    for first in range(0, len(activities), CHUNK):
        for second in range(0, len(volunteers), CHUNK):
            query = select(Attendance).where(
                col(Attendance.activity_id).in_(activities[first : first + CHUNK]),
                col(Attendance.volunteer_id).in_(volunteers[second : second + CHUNK]),
            )
            for row in (await session.exec(query)).all():
                found[(row.activity_id, row.volunteer_id)] = row
    return found
