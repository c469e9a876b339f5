"""Queries of the volunteer register (花名册) and of the hours export for the national
system. Hours are the credited ones (``attendance.credited_clause``, what /hours and
the certificate count); the subtree is the tally's (``tallies.subtree_lines``).
Nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, String, Subquery, and_, case, func, or_, select
from sqlalchemy import cast as sql_cast
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Activity, Attendance, Station, Volunteer, VolunteerStatus
from storage.queries.attendance import CHUNK, credited_clause
from storage.queries.tallies import held, subtree_lines


@dataclass(frozen=True)
class Filter:
    """What the register lists. ``statuses``: the volunteer statuses shown;
    ``idle_before``: only those with no credited activity started at or after it and
    registered before it (inactive); ``name``: part of the name; ``phone_tail``: the
    phone's last digits; ``skill``: a skill code; ``minutes``: [low, high) of the
    total credited minutes (a star level; high None: no upper bound)."""

    statuses: Sequence[VolunteerStatus]
    idle_before: datetime | None = None
    name: str | None = None
    phone_tail: str | None = None
    skill: str | None = None
    minutes: tuple[int, int | None] | None = None


def _like(text: str) -> str:
    """``text`` as a LIKE pattern matching itself (escape character ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _sums(year_start: datetime, year_end: datetime) -> Any:
    """(vid, total, year, last) of credited attendance, grouped by volunteer."""
    starts = col(Activity.starts_at)
    this_year = and_(starts >= year_start, starts < year_end)
    return (
        select(
            col(Attendance.volunteer_id).label("vid"),
            func.sum(col(Attendance.minutes)).label("total"),
            func.sum(case((this_year, col(Attendance.minutes)), else_=0)).label("year"),
            func.max(starts).label("last"),
        )
        .join(Activity, col(Activity.id) == col(Attendance.activity_id))
        .where(*credited_clause())
        .group_by(col(Attendance.volunteer_id))
    )


def _totals(lines: Subquery, year_start: datetime, year_end: datetime) -> Subquery:
    """``_sums`` of every volunteer of the subtree: for filters on the totals."""
    statement = (
        _sums(year_start, year_end)
        .join(Volunteer, col(Volunteer.id) == col(Attendance.volunteer_id))
        .join(lines, lines.c.id == col(Volunteer.station_id))
    )
    return cast(Subquery, statement.subquery("totals"))


def _needs_totals(found: Filter) -> bool:
    return found.minutes is not None or found.idle_before is not None


async def _sums_of(
    session: AsyncSession, ids: Sequence[int], year_start: datetime, year_end: datetime
) -> dict[int, tuple[Any, Any, Any]]:
    """``_sums`` of these volunteers only (a page): vid -> (total, year, last)."""
    conn = await session.connection()
    found: dict[int, tuple[Any, Any, Any]] = {}
    for first in range(0, len(ids), CHUNK):
        statement = _sums(year_start, year_end).where(
            col(Attendance.volunteer_id).in_(list(ids[first : first + CHUNK]))
        )
        for vid, total, year, last in (await conn.execute(statement)).all():
            found[int(vid)] = (total, year, last)
    return found


def _conditions(found: Filter, totals: Subquery | None) -> list[ColumnElement[bool]]:
    """The filter's conditions; those on the totals only with ``totals`` joined."""
    where: list[ColumnElement[bool]] = [
        col(Volunteer.erased_at).is_(None),
        col(Volunteer.status).in_(list(found.statuses)),
    ]
    if found.idle_before is not None and totals is not None:
        where.append(col(Volunteer.created_at) < found.idle_before)
        where.append(or_(totals.c.last.is_(None), totals.c.last < found.idle_before))
    if found.name:
        pattern = f"%{_like(found.name)}%"
        where.append(col(Volunteer.real_name).like(pattern, escape="\\"))
    if found.phone_tail:
        where.append(col(Volunteer.phone).like(f"%{_like(found.phone_tail)}", escape="\\"))
    if found.skill:
        # Skills are a JSON list of codes (letters and _): its text holds "code".
        pattern = f'%"{_like(found.skill)}"%'
        where.append(sql_cast(col(Volunteer.skills), String).like(pattern, escape="\\"))
    if found.minutes is not None and totals is not None:
        total = func.coalesce(totals.c.total, 0)
        low, high = found.minutes
        where.append(total >= low)
        if high is not None:
            where.append(total < high)
    return where


def _listing(
    root: int,
    found: Filter,
    year_start: datetime,
    year_end: datetime,
    *columns: Any,
    joined: bool,
) -> Any:
    """The volunteers listed; with their totals joined when ``joined`` (the filter
    needs them, or the whole list is read), else ``volunteers`` reads the totals of
    the page's volunteers only."""
    lines = subtree_lines(root)
    if not joined:
        return (
            select(*columns)
            .select_from(Volunteer)
            .join(lines, lines.c.id == col(Volunteer.station_id))
            .where(*_conditions(found, None))
        )
    totals = _totals(lines, year_start, year_end)
    return (
        select(*columns, totals.c.total, totals.c.year, totals.c.last)
        .select_from(Volunteer)
        .join(lines, lines.c.id == col(Volunteer.station_id))
        .outerjoin(totals, totals.c.vid == col(Volunteer.id))
        .where(*_conditions(found, totals))
    )


async def count_volunteers(
    session: AsyncSession, root: int, found: Filter, year_start: datetime, year_end: datetime
) -> int:
    statement = _listing(
        root, found, year_start, year_end, col(Volunteer.id), joined=_needs_totals(found)
    ).subquery("listed")
    conn = await session.connection()
    return int((await conn.execute(select(func.count()).select_from(statement))).scalar() or 0)


async def volunteers(
    session: AsyncSession,
    root: int,
    found: Filter,
    year_start: datetime,
    year_end: datetime,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> Sequence[tuple[Any, ...]]:
    """(id, name, phone, station id, status, skills, created at, total minutes, this
    year's minutes, last credited activity's start) in order of registration."""
    joined = _needs_totals(found) or limit is None
    statement = _listing(
        root,
        found,
        year_start,
        year_end,
        col(Volunteer.id),
        col(Volunteer.real_name),
        col(Volunteer.phone),
        col(Volunteer.station_id),
        col(Volunteer.status),
        col(Volunteer.skills),
        col(Volunteer.created_at),
        joined=joined,
    ).order_by(col(Volunteer.id))
    if offset:
        statement = statement.offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    conn = await session.connection()
    rows = (await conn.execute(statement)).all()
    if joined:
        return cast(Sequence[tuple[Any, ...]], rows)
    sums = await _sums_of(session, [int(r[0]) for r in rows], year_start, year_end)
    return [(*row, *sums.get(int(row[0]), (None, None, None))) for row in rows]


async def credited_rows(
    session: AsyncSession, root: int, start: datetime, end: datetime, now: datetime
) -> Sequence[tuple[Any, ...]]:
    """(name, phone, title, kind, starts, ends, minutes, station name, station code)
    of the credited attendance at the activities of ``root``'s subtree held in
    [start, end), one row per person and activity, in order of the activities' start.
    Erased volunteers (no name left) are not listed."""
    lines = subtree_lines(root)
    statement = (
        select(
            col(Volunteer.real_name),
            col(Volunteer.phone),
            col(Activity.title),
            col(Activity.kind),
            col(Activity.starts_at),
            col(Activity.ends_at),
            col(Attendance.minutes),
            col(Station.name),
            col(Station.code),
        )
        .select_from(Attendance)
        .join(Activity, col(Activity.id) == col(Attendance.activity_id))
        .join(lines, lines.c.id == col(Activity.station_id))
        .join(Station, col(Station.id) == col(Activity.station_id))
        .join(Volunteer, col(Volunteer.id) == col(Attendance.volunteer_id))
        .where(
            *held(start, end, now),
            *credited_clause(),
            col(Volunteer.erased_at).is_(None),
        )
        .order_by(col(Activity.starts_at), col(Activity.id), col(Attendance.id))
    )
    conn = await session.connection()
    return cast(Sequence[tuple[Any, ...]], (await conn.execute(statement)).all())
