"""The records behind a tally, for its spreadsheet: the activities held, the
attendance that counts, and the pledges. The same definitions as
``services.tallies`` (its ``held``, ``attended`` and ``subtree_lines``), so the
rows of each list add up to the tally's figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import stations
from services.tallies import SMALL_SUBTREE, Period, attended, held, subtree_lines, within
from storage.models import (
    Activity,
    ActivityKind,
    Attendance,
    AttendanceMark,
    Beneficiaries,
    Pledge,
    PledgeStatus,
    Station,
    TargetGroup,
)

# The most rows one list holds: a spreadsheet sheet takes about a million, and a
# year of a whole city's attendance could pass that. Beyond it the list is cut and
# says how many rows there are.
MAX_ROWS = 200_000


@dataclass(frozen=True)
class HeldActivity:
    id: int
    station_id: int
    kind: ActivityKind
    title: str
    place: str
    starts_at: datetime
    ends_at: datetime
    target_group: TargetGroup
    closed: bool
    participations: int
    minutes: int
    beneficiaries: int


@dataclass(frozen=True)
class Participation:
    """One attendance row that counts (confirmed, not absent). Volunteers are shown
    by their number only: a spreadsheet travels further than a chat."""

    activity_id: int
    station_id: int
    starts_at: datetime
    title: str
    volunteer_id: int
    mark: AttendanceMark | None
    minutes: int


@dataclass(frozen=True)
class PledgeRecord:
    receipt: str
    station_id: int
    activity_id: int | None
    amount_fen: int
    status: PledgeStatus
    created_at: datetime


@dataclass(frozen=True)
class Details:
    activities: list[HeldActivity]
    attendance: list[Participation]
    pledges: list[PledgeRecord]
    # How many rows each list would hold without MAX_ROWS.
    totals: dict[str, int] = field(default_factory=dict)
    stations: dict[int, Station] = field(default_factory=dict)

    def cut(self, name: str) -> bool:
        """Whether a list ("activities", "attendance", "pledges") is shorter than the
        records it stands for."""
        shown: dict[str, int] = {
            "activities": len(self.activities),
            "attendance": len(self.attendance),
            "pledges": len(self.pledges),
        }
        return self.totals.get(name, shown[name]) > shown[name]


async def details(
    session: AsyncSession,
    *,
    station_id: int,
    period: Period,
    zone: ZoneInfo,
    now: datetime,
    limit: int = MAX_ROWS,
) -> Details:
    """Every record behind the tally of ``station_id``'s subtree over ``period``."""
    tree = await stations.tree(session)
    lines = subtree_lines(station_id)
    start, end = period.bounds(zone)
    conn = await session.connection()
    members = tree.subtree(station_id)
    small = members if len(members) <= SMALL_SUBTREE else None
    joined = (lines, lines.c.id == col(Activity.station_id))
    held_here = (*held(start, end, now), *within(col(Activity.station_id), small))

    served_rows = await conn.execute(
        select(
            col(Attendance.activity_id),
            func.count(),
            func.coalesce(func.sum(col(Attendance.minutes)), 0),
        )
        .join(Activity, col(Activity.id) == col(Attendance.activity_id))
        .join(*joined)
        .where(*held_here, *attended())
        .group_by(col(Attendance.activity_id))
    )
    served = {int(a): (int(n), int(m or 0)) for a, n, m in served_rows.all()}
    benefit_rows = await conn.execute(
        select(col(Beneficiaries.activity_id), func.coalesce(func.sum(col(Beneficiaries.count)), 0))
        .join(Activity, col(Activity.id) == col(Beneficiaries.activity_id))
        .join(*joined)
        .where(*held_here)
        .group_by(col(Beneficiaries.activity_id))
    )
    benefit = {int(a): int(n) for a, n in benefit_rows.all()}

    activity_rows = await conn.execute(
        select(
            col(Activity.id),
            col(Activity.station_id),
            col(Activity.kind),
            col(Activity.title),
            col(Activity.place),
            col(Activity.starts_at),
            col(Activity.ends_at),
            col(Activity.target_group),
            col(Activity.closed_at),
        )
        .join(*joined)
        .where(*held_here)
        .order_by(col(Activity.starts_at), col(Activity.id))
        .limit(limit)
    )
    activities = [
        HeldActivity(
            id=_id(a_id),
            station_id=s_id,
            kind=ActivityKind(kind),
            title=str(title),
            place=str(place),
            starts_at=starts,
            ends_at=ends,
            target_group=TargetGroup(target),
            closed=closed is not None,
            participations=served.get(_id(a_id), (0, 0))[0],
            minutes=served.get(_id(a_id), (0, 0))[1],
            beneficiaries=benefit.get(_id(a_id), 0),
        )
        for a_id, s_id, kind, title, place, starts, ends, target, closed in activity_rows.all()
    ]
    activity_total = (
        len(activities)
        if len(activities) < limit
        else await _count(
            session, select(func.count()).select_from(Activity).join(*joined).where(*held_here)
        )
    )

    attendance_rows = await conn.execute(
        select(
            col(Attendance.activity_id),
            col(Activity.station_id),
            col(Activity.starts_at),
            col(Activity.title),
            col(Attendance.volunteer_id),
            col(Attendance.mark),
            col(Attendance.minutes),
        )
        .join(Activity, col(Activity.id) == col(Attendance.activity_id))
        .join(*joined)
        .where(*held_here, *attended())
        .order_by(col(Activity.starts_at), col(Activity.id), col(Attendance.id))
        .limit(limit)
    )
    attendance = [
        Participation(
            activity_id=int(a_id),
            station_id=int(s_id),
            starts_at=starts,
            title=str(title),
            volunteer_id=int(volunteer),
            mark=AttendanceMark(mark) if mark is not None else None,
            minutes=int(minutes or 0),
        )
        for a_id, s_id, starts, title, volunteer, mark, minutes in attendance_rows.all()
    ]

    pledge_where = (
        col(Pledge.status) != PledgeStatus.CANCELLED,
        *within(col(Pledge.station_id), small),
        col(Pledge.created_at) >= start,
        col(Pledge.created_at) < end,
    )
    pledge_rows = await conn.execute(
        select(
            col(Pledge.receipt),
            col(Pledge.station_id),
            col(Pledge.activity_id),
            col(Pledge.amount_fen),
            col(Pledge.status),
            col(Pledge.created_at),
        )
        .join(lines, lines.c.id == col(Pledge.station_id))
        .where(*pledge_where)
        .order_by(col(Pledge.created_at), col(Pledge.id))
        .limit(limit)
    )
    pledges = [
        PledgeRecord(
            receipt=str(receipt),
            station_id=int(s_id),
            activity_id=int(a_id) if a_id is not None else None,
            amount_fen=int(fen),
            status=PledgeStatus(status),
            created_at=created,
        )
        for receipt, s_id, a_id, fen, status, created in pledge_rows.all()
    ]
    totals = {
        "activities": activity_total,
        "attendance": sum(n for n, _ in served.values()),
        "pledges": len(pledges)
        if len(pledges) < limit
        else await _count(
            session,
            select(func.count())
            .select_from(Pledge)
            .join(lines, lines.c.id == col(Pledge.station_id))
            .where(*pledge_where),
        ),
    }
    return Details(activities, attendance, pledges, totals, dict(tree.stations))


def _id(value: int | None) -> int:
    assert value is not None  # a stored row's key
    return value


async def _count(session: AsyncSession, statement: object) -> int:
    conn = await session.connection()
    value = (await conn.execute(statement)).scalar()  # type: ignore[call-overload]
    return int(value or 0)
