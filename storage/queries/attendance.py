"""Queries of attendance: check-in codes, attendance rows, rosters, beneficiaries,
records still open, credited hours and no-shows, sign-in sheets. Nothing here
commits; callers own the transaction."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Activity,
    ActivityStatus,
    Attendance,
    AttendanceMark,
    Beneficiaries,
    Signup,
    SignupStatus,
    Station,
    TargetGroup,
    Volunteer,
)

CHUNK = 1000  # ids per IN (...): well under every backend's limit of parameters


# --- attendance rows ----------------------------------------------------------------


async def attendance_of(
    session: AsyncSession, activity_id: int, volunteer_id: int
) -> Attendance | None:
    query = select(Attendance).where(
        Attendance.activity_id == activity_id, Attendance.volunteer_id == volunteer_id
    )
    return (await session.exec(query.execution_options(populate_existing=True))).first()


async def attendances_of(session: AsyncSession, activity_id: int) -> Sequence[Attendance]:
    query = (
        select(Attendance).where(Attendance.activity_id == activity_id).order_by(col(Attendance.id))
    )
    return (await session.exec(query.execution_options(populate_existing=True))).all()


async def checked_in_activities(
    session: AsyncSession, volunteer_id: int, ended_after: datetime
) -> Sequence[tuple[Activity, Attendance]]:
    """The activities ending after ``ended_after`` the volunteer checked in to, each
    with the attendance row."""
    query = (
        select(Activity, Attendance)
        .join(Attendance, col(Attendance.activity_id) == col(Activity.id))
        .where(
            Attendance.volunteer_id == volunteer_id,
            col(Attendance.checked_in_at).is_not(None),
            col(Activity.ends_at) > ended_after,
        )
    )
    return (await session.exec(query)).all()


def flagged() -> ColumnElement[bool]:
    """Checked in, not checked out, not confirmed by staff."""
    return and_(
        col(Attendance.checked_in_at).is_not(None),
        col(Attendance.checked_out_at).is_(None),
        col(Attendance.confirmed).is_(False),
    )


async def missing_checkout_names(session: AsyncSession, activity_id: int) -> list[str | None]:
    """Names of those flagged at the activity, in check-in order."""
    query = (
        select(Volunteer.real_name)
        .join(Attendance, col(Attendance.volunteer_id) == col(Volunteer.id))
        .where(Attendance.activity_id == activity_id, flagged())
        .order_by(col(Attendance.checked_in_at), col(Attendance.id))
        .execution_options(populate_existing=True)
    )
    return list((await session.exec(query)).all())


# --- check-in codes -----------------------------------------------------------------


async def activities_with_code(
    session: AsyncSession, code: str, ended_after: datetime
) -> Sequence[Activity]:
    query = (
        select(Activity)
        .where(Activity.checkin_code == code, col(Activity.ends_at) > ended_after)
        .order_by(col(Activity.starts_at), col(Activity.id))
    )
    return (await session.exec(query)).all()


# --- volunteers ---------------------------------------------------------------------


async def volunteer_names(
    session: AsyncSession, volunteer_ids: Collection[int]
) -> dict[int, str | None]:
    if not volunteer_ids:
        return {}
    query = select(Volunteer.id, Volunteer.real_name).where(col(Volunteer.id).in_(volunteer_ids))
    return {vid: name for vid, name in (await session.exec(query)).all() if vid}


async def volunteer_phones(
    session: AsyncSession, volunteer_ids: Sequence[int]
) -> dict[int, str | None]:
    found: dict[int, str | None] = {}
    ids = list(volunteer_ids)
    for first in range(0, len(ids), 500):
        query = select(Volunteer.id, Volunteer.phone).where(
            col(Volunteer.id).in_(ids[first : first + 500])
        )
        found.update({vid: phone for vid, phone in (await session.exec(query)).all() if vid})
    return found


async def volunteers_by_ids(
    session: AsyncSession, volunteer_ids: Collection[int]
) -> Sequence[Volunteer]:
    return (await session.exec(select(Volunteer).where(col(Volunteer.id).in_(volunteer_ids)))).all()


# --- rosters ------------------------------------------------------------------------


async def seat_holders(
    session: AsyncSession, activity_id: int, holding: Collection[SignupStatus]
) -> Sequence[tuple[Signup, Volunteer]]:
    """Sign-ups holding a seat with their volunteers, in sign-up order."""
    query = (
        select(Signup, Volunteer)
        .join(Volunteer, col(Volunteer.id) == col(Signup.volunteer_id))
        .where(Signup.activity_id == activity_id, col(Signup.status).in_(holding))
        .order_by(col(Signup.queued_at), col(Signup.id))
    )
    return (await session.exec(query)).all()


async def signups_of(
    session: AsyncSession, activity_id: int, volunteer_ids: Collection[int]
) -> Sequence[Signup]:
    query = select(Signup).where(
        Signup.activity_id == activity_id, col(Signup.volunteer_id).in_(volunteer_ids)
    )
    return (await session.exec(query)).all()


async def absences_between(
    session: AsyncSession, volunteer_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, int]:
    """Attendance marked absent per volunteer, at activities started in [start, end)."""
    found: dict[int, int] = {}
    ids = list(volunteer_ids)
    for first in range(0, len(ids), CHUNK):
        query = (
            select(Attendance.volunteer_id, func.count())
            .join(Activity, col(Activity.id) == col(Attendance.activity_id))
            .where(
                col(Attendance.volunteer_id).in_(ids[first : first + CHUNK]),
                Attendance.mark == AttendanceMark.ABSENT,
                col(Activity.starts_at) >= start,
                col(Activity.starts_at) < end,
            )
            .group_by(col(Attendance.volunteer_id))
        )
        found.update({vid: int(n) for vid, n in (await session.exec(query)).all()})
    return found


async def roster_activities(
    session: AsyncSession,
    *,
    station_ids: Sequence[int] | None,
    starts_before: datetime,
    ended_after: datetime,
    now: datetime,
    page: int,
    per_page: int,
) -> tuple[Sequence[Activity], int, int]:
    """Published activities on ``station_ids`` (None: every station) starting before
    ``starts_before`` that are open or ended after ``ended_after``: those not over
    first, soonest first, then those over, the latest first. Returns the page's
    activities, the page shown (``page`` within the pages there are) and the total."""
    where: list[Any] = [
        Activity.status == ActivityStatus.PUBLISHED,
        col(Activity.starts_at) <= starts_before,
        or_(col(Activity.closed_at).is_(None), col(Activity.ends_at) >= ended_after),
    ]
    if station_ids is not None:
        where.append(col(Activity.station_id).in_(station_ids))
    total = int((await session.exec(select(func.count()).where(*where))).one())
    pages = max(1, -(-total // per_page))
    page = min(max(page, 0), pages - 1)
    query = (
        select(Activity)
        .where(*where)
        .order_by(
            case((col(Activity.ends_at) > now, 0), else_=1),
            case((col(Activity.ends_at) > now, col(Activity.starts_at))),
            col(Activity.starts_at).desc(),
            col(Activity.id),
        )
        .offset(page * per_page)
        .limit(per_page)
    )
    return (await session.exec(query)).all(), page, total


# --- beneficiaries ------------------------------------------------------------------


async def beneficiaries_of(session: AsyncSession, activity_id: int) -> Sequence[Beneficiaries]:
    query = select(Beneficiaries).where(Beneficiaries.activity_id == activity_id)
    return (await session.exec(query.execution_options(populate_existing=True))).all()


async def beneficiaries_row(
    session: AsyncSession, activity_id: int, group: TargetGroup
) -> Beneficiaries | None:
    query = select(Beneficiaries).where(
        Beneficiaries.activity_id == activity_id, Beneficiaries.target_group == group
    )
    return (await session.exec(query.execution_options(populate_existing=True))).first()


# --- records still open -------------------------------------------------------------


async def ended_open_activities(session: AsyncSession, now: datetime) -> Sequence[Activity]:
    """Published activities ended by ``now`` whose records are not closed, the
    earliest ended first."""
    query = (
        select(Activity)
        .where(
            Activity.status == ActivityStatus.PUBLISHED,
            col(Activity.closed_at).is_(None),
            col(Activity.ends_at) <= now,
        )
        .order_by(col(Activity.ends_at), col(Activity.id))
    )
    return (await session.exec(query)).all()


async def open_activities_missing_checkouts(
    session: AsyncSession, ended_after: datetime, ended_by: datetime
) -> Sequence[Activity]:
    """Published activities not closed, ended in (ended_after, ended_by], with someone
    flagged, the earliest ended first."""
    query = (
        select(Activity)
        .where(
            Activity.status == ActivityStatus.PUBLISHED,
            col(Activity.closed_at).is_(None),
            col(Activity.ends_at) <= ended_by,
            col(Activity.ends_at) > ended_after,
            col(Activity.id).in_(select(Attendance.activity_id).where(flagged())),
        )
        .order_by(col(Activity.ends_at), col(Activity.id))
    )
    return (await session.exec(query)).all()


# --- credited hours -----------------------------------------------------------------


def credited_clause() -> list[Any]:
    """The conditions under which an attendance row counts (joined with its activity)."""
    return [
        col(Attendance.confirmed).is_(True),
        col(Attendance.credited_at).is_not(None),
        col(Attendance.minutes) > 0,
        or_(col(Attendance.mark).is_(None), col(Attendance.mark) != AttendanceMark.ABSENT),
        col(Activity.status) != ActivityStatus.CANCELLED,
    ]


def _started_within(since: datetime | None, until: datetime | None) -> list[Any]:
    where: list[Any] = []
    if since is not None:
        where.append(col(Activity.starts_at) >= since)
    if until is not None:
        where.append(col(Activity.starts_at) < until)
    return where


async def credited_minutes(
    session: AsyncSession, volunteer_id: int, since: datetime | None, until: datetime | None
) -> int:
    """Credited minutes of one volunteer, for activities started in [since, until)."""
    query = (
        select(func.coalesce(func.sum(Attendance.minutes), 0))
        .join(Activity, col(Activity.id) == col(Attendance.activity_id))
        .where(
            Attendance.volunteer_id == volunteer_id,
            *credited_clause(),
            *_started_within(since, until),
        )
    )
    return int((await session.exec(query)).one() or 0)


async def credited_activities(
    session: AsyncSession,
    volunteer_id: int,
    *,
    since: datetime | None,
    until: datetime | None,
    newest_first: bool,
    limit: int | None,
) -> Sequence[tuple[Activity, int | None, Station, bool]]:
    """The activities one volunteer was credited for, started in [since, until), each
    with the minutes, the station, and whether staff recorded it on their behalf."""
    order = col(Activity.starts_at).desc() if newest_first else col(Activity.starts_at)
    query = (
        select(Activity, Attendance.minutes, Station, Attendance.on_behalf)
        .join(Attendance, col(Attendance.activity_id) == col(Activity.id))
        .join(Station, col(Station.id) == col(Activity.station_id))
        .where(
            Attendance.volunteer_id == volunteer_id,
            *credited_clause(),
            *_started_within(since, until),
        )
        .order_by(order, col(Activity.id))
    )
    if limit is not None:
        query = query.limit(limit)
    return (await session.exec(query)).all()


async def no_shows_between(
    session: AsyncSession, volunteer_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, int]:
    """No-shows (attendance marked absent) at activities that started in [start, end)
    and were not cancelled, per volunteer (only those with any)."""
    query = (
        select(Attendance.volunteer_id, func.count())
        .join(Activity, col(Activity.id) == col(Attendance.activity_id))
        .where(
            col(Attendance.volunteer_id).in_(volunteer_ids),
            col(Attendance.mark) == AttendanceMark.ABSENT,
            col(Activity.status) != ActivityStatus.CANCELLED,
            col(Activity.starts_at) >= start,
            col(Activity.starts_at) < end,
        )
        .group_by(col(Attendance.volunteer_id))
    )
    return {vid: int(n) for vid, n in (await session.exec(query)).all()}
