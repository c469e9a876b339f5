"""Queries of the tally roll-ups: the kept weeks and their rows, and the raw records
of one closed week grouped per station (and per station and person) from which they
are built. The records counted are those of ``storage.queries.tallies`` (``held``,
``attended``): one definition for the live figures and the kept ones. Nothing here
commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Activity,
    Attendance,
    Beneficiaries,
    Pledge,
    PledgeStatus,
    Station,
    TallyRollup,
    TallyWeek,
    Volunteer,
)
from storage.queries.tallies import Rows, attended, held
from storage.types import UTCDateTime


@dataclass(frozen=True)
class WeekState:
    id: int
    start: datetime
    end: datetime
    version: int
    built_version: int | None

    @property
    def current(self) -> bool:
        """Its rows count every change made so far."""
        return self.built_version == self.version


def _state(row: Any) -> WeekState:
    return WeekState(int(row[0]), row[1], row[2], int(row[3]), row[4])


_COLUMNS = (
    col(TallyWeek.id),
    col(TallyWeek.week_start),
    col(TallyWeek.week_end),
    col(TallyWeek.version),
    col(TallyWeek.built_version),
)


async def week_states(
    session: AsyncSession, bounds: Sequence[tuple[datetime, datetime]]
) -> dict[tuple[datetime, datetime], WeekState]:
    """The kept weeks among ``bounds`` ([start, end) each), by their bounds."""
    if not bounds:
        return {}
    conn = await session.connection()
    found = await conn.execute(
        select(*_COLUMNS).where(
            or_(
                *(
                    (col(TallyWeek.week_start) == start) & (col(TallyWeek.week_end) == end)
                    for start, end in bounds
                )
            )
        )
    )
    states = [_state(row) for row in found.all()]
    return {(s.start, s.end): s for s in states}


async def stale_weeks(session: AsyncSession) -> list[WeekState]:
    """Kept weeks whose rows miss a change, oldest first."""
    conn = await session.connection()
    found = await conn.execute(
        select(*_COLUMNS)
        .where(
            or_(
                col(TallyWeek.built_version).is_(None),
                col(TallyWeek.built_version) != col(TallyWeek.version),
            )
        )
        .order_by(col(TallyWeek.week_start))
    )
    return [_state(row) for row in found.all()]


async def claim_week(session: AsyncSession, start: datetime, end: datetime) -> WeekState:
    """The week's row, made if missing, locked until the transaction ends (on
    PostgreSQL; SQLite's write transaction holds the whole database): a change
    marked meanwhile waits, so it is never lost between reading and storing."""
    conn = await session.connection()
    where = (col(TallyWeek.week_start) == start, col(TallyWeek.week_end) == end)
    row = (await conn.execute(select(*_COLUMNS).where(*where).with_for_update())).first()
    if row is None:
        try:
            async with conn.begin_nested():
                await conn.execute(
                    insert(TallyWeek).values(week_start=start, week_end=end, version=0)
                )
        except IntegrityError:  # made meanwhile by another builder: wait for its lock
            pass
        row = (await conn.execute(select(*_COLUMNS).where(*where).with_for_update())).one()
    return _state(row)


async def store_week(
    session: AsyncSession, week: WeekState, rows: Sequence[dict[str, Any]], built_at: datetime
) -> None:
    """Replace the week's rows; they count every change up to ``week.version``."""
    conn = await session.connection()
    await conn.execute(delete(TallyRollup).where(col(TallyRollup.week_id) == week.id))
    if rows:
        await conn.execute(insert(TallyRollup), [{"week_id": week.id, **row} for row in rows])
    await conn.execute(
        update(TallyWeek)
        .where(col(TallyWeek.id) == week.id)
        .values(built_version=week.version, built_at=built_at)
    )


_KEPT: dict[int, Any] = {}


def _kept_statement(weeks: int) -> Any:
    """The statement of ``kept_rows`` for ``weeks`` bounds, built once: its values
    are bound at each call (``start0``, ``end0``, ... and ``stations``)."""
    statement = _KEPT.get(weeks)
    if statement is not None:
        return statement
    rollup = TallyRollup.__table__.alias("r")  # type: ignore[attr-defined]
    statement = (
        select(
            *_COLUMNS,
            rollup.c.week_id,
            rollup.c.station_id,
            rollup.c.own,
            rollup.c.kinds,
            rollup.c.participations,
            rollup.c.volunteers,
            rollup.c.minutes,
            rollup.c.groups,
            rollup.c.new_volunteers,
            rollup.c.pledges,
            rollup.c.pledged_fen,
            rollup.c.received_fen,
        )
        .select_from(TallyWeek)
        .outerjoin(
            rollup,
            (rollup.c.week_id == col(TallyWeek.id))
            & rollup.c.station_id.in_(bindparam("stations", expanding=True)),
        )
        .where(
            or_(
                *(
                    (col(TallyWeek.week_start) == bindparam(f"start{n}", type_=UTCDateTime))
                    & (col(TallyWeek.week_end) == bindparam(f"end{n}", type_=UTCDateTime))
                    for n in range(weeks)
                )
            )
        )
    )
    _KEPT[weeks] = statement
    return statement


async def kept_rows(
    session: AsyncSession,
    bounds: Sequence[tuple[datetime, datetime]],
    station_ids: Sequence[int],
) -> tuple[dict[tuple[datetime, datetime], WeekState], Rows]:
    """The kept weeks among ``bounds`` and, in the same query, their rows of the given
    stations: (week, station, own, kinds, participations, volunteers, minutes, groups,
    new volunteers, pledges, pledged fen, received fen)."""
    if not bounds:
        return {}, []
    conn = await session.connection()
    values: dict[str, Any] = {"stations": list(station_ids)}
    for n, (start, end) in enumerate(bounds):
        values[f"start{n}"] = start
        values[f"end{n}"] = end
    found = await conn.execute(_kept_statement(len(bounds)), values)
    states: dict[tuple[datetime, datetime], WeekState] = {}
    rows = []
    width = len(_COLUMNS)
    for row in found.all():
        state = _state(row[:width])
        states[(state.start, state.end)] = state
        if row[width] is not None:
            rows.append(tuple(row[width:]))
    return states, rows


# --- one closed week's records, per station ---------------------------------------


async def _rows(session: AsyncSession, statement: Any) -> Rows:
    conn = await session.connection()
    return (await conn.execute(statement)).all()


async def station_parents(session: AsyncSession) -> Rows:
    """(station, parent) of every station, as stored now."""
    return await _rows(session, select(col(Station.id), col(Station.parent_id)))


async def held_per_station(session: AsyncSession, start: datetime, end: datetime) -> Rows:
    """(station, kind, activities) held in [start, end), a closed week."""
    return await _rows(
        session,
        select(col(Activity.station_id), col(Activity.kind), func.count())
        .where(*held(start, end, end))
        .group_by(col(Activity.station_id), col(Activity.kind)),
    )


async def served_per_person(session: AsyncSession, start: datetime, end: datetime) -> Rows:
    """(station, volunteer, participations, minutes) of the attendance that counts."""
    return await _rows(
        session,
        select(
            col(Activity.station_id),
            col(Attendance.volunteer_id),
            func.count(),
            func.coalesce(func.sum(col(Attendance.minutes)), 0),
        )
        .select_from(Attendance)
        .join(Activity, col(Activity.id) == col(Attendance.activity_id))
        .where(*held(start, end, end), *attended())
        .group_by(col(Activity.station_id), col(Attendance.volunteer_id)),
    )


async def beneficiaries_per_station(session: AsyncSession, start: datetime, end: datetime) -> Rows:
    """(station, target group, beneficiaries) recorded for the activities held."""
    return await _rows(
        session,
        select(
            col(Activity.station_id),
            col(Beneficiaries.target_group),
            func.coalesce(func.sum(col(Beneficiaries.count)), 0),
        )
        .select_from(Beneficiaries)
        .join(Activity, col(Activity.id) == col(Beneficiaries.activity_id))
        .where(*held(start, end, end))
        .group_by(col(Activity.station_id), col(Beneficiaries.target_group)),
    )


async def newcomers_per_station(session: AsyncSession, start: datetime, end: datetime) -> Rows:
    """(station, registrations) made in [start, end)."""
    return await _rows(
        session,
        select(col(Volunteer.station_id), func.count())
        .where(col(Volunteer.created_at) >= start, col(Volunteer.created_at) < end)
        .group_by(col(Volunteer.station_id)),
    )


async def pledges_per_station(session: AsyncSession, start: datetime, end: datetime) -> Rows:
    """(station, pledges, pledged fen, received fen) made in [start, end), not cancelled."""
    received = case((col(Pledge.status) == PledgeStatus.RECEIVED, col(Pledge.amount_fen)), else_=0)
    return await _rows(
        session,
        select(
            col(Pledge.station_id),
            func.count(),
            func.coalesce(func.sum(col(Pledge.amount_fen)), 0),
            func.coalesce(func.sum(received), 0),
        )
        .where(
            col(Pledge.status) != PledgeStatus.CANCELLED,
            col(Pledge.created_at) >= start,
            col(Pledge.created_at) < end,
        )
        .group_by(col(Pledge.station_id)),
    )


__all__ = [
    "WeekState",
    "beneficiaries_per_station",
    "claim_week",
    "held_per_station",
    "kept_rows",
    "newcomers_per_station",
    "pledges_per_station",
    "served_per_person",
    "stale_weeks",
    "station_parents",
    "store_week",
    "week_states",
]
