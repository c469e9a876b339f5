"""Queries of the tallies: the records a station subtree's figures count over a time
window, grouped in the database, and the records behind them for the spreadsheet.
One definition for both (``held``, ``attended``, ``subtree_lines``), so the rows of
each list add up to the figures. Nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Subquery,
    Table,
    case,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Activity,
    ActivityStatus,
    Attendance,
    AttendanceMark,
    Beneficiaries,
    Pledge,
    PledgeStatus,
    Role,
    RoleKind,
    Station,
    Volunteer,
)

# A subtree this small is also named by its station ids: the planners then start
# from the stations' index instead of every activity of the period.
SMALL_SUBTREE = 200


@dataclass(frozen=True)
class Window:
    """What the queries count over: the subtree of ``root`` (``small``: its station
    ids when there are at most SMALL_SUBTREE, to guide the planner) and [start, end);
    activities only once begun by ``now``. Rows from ``current`` on belong to the
    current period (``cur`` 1), earlier ones to the previous period (``cur`` 0)."""

    root: int
    small: Sequence[int] | None
    start: datetime
    end: datetime
    now: datetime
    current: datetime | None = None


def held(start: datetime, end: datetime, now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Activities held in [start, end): not cancelled and started by ``now``."""
    until = min(end, now + timedelta(microseconds=1))
    return (
        col(Activity.status) != ActivityStatus.CANCELLED,
        col(Activity.starts_at) >= start,
        col(Activity.starts_at) < until,
    )


def attended() -> tuple[ColumnElement[bool], ...]:
    """Attendance rows that count: confirmed, and not marked absent."""
    return (
        col(Attendance.confirmed).is_(True),
        or_(col(Attendance.mark).is_(None), col(Attendance.mark) != AttendanceMark.ABSENT),
    )


def within(column: Any, small: Sequence[int] | None) -> tuple[ColumnElement[bool], ...]:
    """The extra condition for a small subtree (the join with ``subtree_lines``
    already limits the rows; this only guides the planner)."""
    return (column.in_(list(small)),) if small is not None else ()


def subtree_lines(root: int) -> Subquery:
    """Every station of ``root``'s subtree (``id``) with the line it counts towards
    (``line``): the child of ``root`` it is under, or ``root`` itself. A recursive
    query in the database, so that no list of station ids is sent along: with a
    city's two thousand stations, binding the list cost more than the counting."""
    station = cast(Table, Station.__table__)  # type: ignore[attr-defined]
    top = station.alias("top")
    down = (
        select(top.c.id.label("id"), top.c.id.label("line"))
        .where(top.c.parent_id == root)
        .cte("down", recursive=True)
    )
    below = station.alias("below")
    down = down.union_all(select(below.c.id, down.c.line).where(below.c.parent_id == down.c.id))
    itself = select(literal(root, Integer).label("id"), literal(root, Integer).label("line"))
    return union_all(select(down.c.id, down.c.line), itself).subquery("lines")


# Result rows, each a tuple of the columns selected.
Rows = Sequence[tuple[Any, ...]]


async def _rows(session: AsyncSession, statement: Any) -> Rows:
    conn = await session.connection()
    return cast(Rows, (await conn.execute(statement)).all())


async def _count(session: AsyncSession, statement: Any) -> int:
    conn = await session.connection()
    return int((await conn.execute(statement)).scalar() or 0)


def _current(window: Window, column: Any) -> ColumnElement[int]:
    return case((column >= (window.current or window.start), 1), else_=0)


def _of_held(
    window: Window, statement: Any, *, source: Any = None, lines: Subquery | None = None
) -> Any:
    """``statement`` limited to the activities held in the window; ``source``: the
    table it reads with an ``activity_id`` (Attendance, Beneficiaries), joined to its
    activity. ``lines``: the subtree's lines, when the statement selects them."""
    lines = subtree_lines(window.root) if lines is None else lines
    if source is not None:
        statement = statement.select_from(source).join(
            Activity, col(Activity.id) == col(source.activity_id)
        )
    return statement.join(lines, lines.c.id == col(Activity.station_id)).where(
        *held(window.start, window.end, window.now),
        *within(col(Activity.station_id), window.small),
    )


def _per_line(window: Window, *columns: Any, source: Any = None, counts: bool = False) -> Subquery:
    """(cur, line, *columns) of the activities held, or of ``source``'s rows of them
    (``counts``: only the attendance that counts)."""
    lines = subtree_lines(window.root)
    statement = select(_current(window, col(Activity.starts_at)).label("cur"), lines.c.line)
    statement = _of_held(window, statement.add_columns(*columns), source=source, lines=lines)
    rows: Subquery = (statement.where(*attended()) if counts else statement).subquery()
    return rows


def _of_pledges(window: Window, statement: Any, lines: Subquery | None = None) -> Any:
    """``statement`` limited to the pledges made in the window and not cancelled."""
    lines = subtree_lines(window.root) if lines is None else lines
    return statement.join(lines, lines.c.id == col(Pledge.station_id)).where(
        col(Pledge.status) != PledgeStatus.CANCELLED,
        *within(col(Pledge.station_id), window.small),
        col(Pledge.created_at) >= window.start,
        col(Pledge.created_at) < window.end,
    )


# --- the figures, per period (``cur``) and line -----------------------------------


async def held_by_kind(session: AsyncSession, window: Window) -> Rows:
    """(cur, line, kind, activities) of the activities held."""
    rows = _per_line(window, col(Activity.kind).label("kind"))
    return await _rows(
        session,
        select(rows.c.cur, rows.c.line, rows.c.kind, func.count()).group_by(
            rows.c.cur, rows.c.line, rows.c.kind
        ),
    )


async def served(session: AsyncSession, window: Window) -> Rows:
    """(cur, line, people, participations, minutes) per line, and (cur, None, ...) in
    total with each person counted once, from one pass over the attendance that counts:
    grouped by (period, line, person) first."""
    rows = _per_line(
        window,
        col(Attendance.volunteer_id).label("person"),
        col(Attendance.minutes).label("minutes"),
        source=Attendance,
        counts=True,
    )
    people = (
        select(
            rows.c.cur,
            rows.c.line,
            rows.c.person,
            func.count().label("n"),
            func.coalesce(func.sum(rows.c.minutes), 0).label("m"),
        )
        .group_by(rows.c.cur, rows.c.line, rows.c.person)
        .cte("people")
    )
    per_line = select(
        people.c.cur, people.c.line, func.count(), func.sum(people.c.n), func.sum(people.c.m)
    ).group_by(people.c.cur, people.c.line)
    overall = select(
        people.c.cur,
        null(),
        func.count(func.distinct(people.c.person)),
        func.sum(people.c.n),
        func.sum(people.c.m),
    ).group_by(people.c.cur)
    return await _rows(session, union_all(per_line, overall))


async def beneficiaries_by_group(session: AsyncSession, window: Window) -> Rows:
    """(cur, line, target group, beneficiaries) recorded for the activities held."""
    rows = _per_line(
        window,
        col(Beneficiaries.target_group).label("grp"),
        col(Beneficiaries.count).label("n"),
        source=Beneficiaries,
    )
    return await _rows(
        session,
        select(rows.c.cur, rows.c.line, rows.c.grp, func.coalesce(func.sum(rows.c.n), 0)).group_by(
            rows.c.cur, rows.c.line, rows.c.grp
        ),
    )


async def newcomers(session: AsyncSession, window: Window) -> Rows:
    """(cur, line, registrations) made in the window (erased volunteers included)."""
    lines = subtree_lines(window.root)
    rows = (
        select(_current(window, col(Volunteer.created_at)).label("cur"), lines.c.line)
        .join(lines, lines.c.id == col(Volunteer.station_id))
        .where(
            col(Volunteer.created_at) >= window.start,
            col(Volunteer.created_at) < window.end,
            *within(col(Volunteer.station_id), window.small),
        )
        .subquery("joined")
    )
    return await _rows(
        session,
        select(rows.c.cur, rows.c.line, func.count()).group_by(rows.c.cur, rows.c.line),
    )


async def pledges_by_line(session: AsyncSession, window: Window) -> Rows:
    """(cur, line, pledges, pledged fen, received fen) of the pledges not cancelled."""
    lines = subtree_lines(window.root)
    received = (col(Pledge.status) == PledgeStatus.RECEIVED, col(Pledge.amount_fen))
    statement = select(
        _current(window, col(Pledge.created_at)).label("cur"),
        lines.c.line,
        col(Pledge.amount_fen).label("fen"),
        case(received, else_=0).label("got"),
    )
    rows = _of_pledges(window, statement, lines).subquery("promised")
    return await _rows(
        session,
        select(
            rows.c.cur,
            rows.c.line,
            func.count(),
            func.coalesce(func.sum(rows.c.fen), 0),
            func.coalesce(func.sum(rows.c.got), 0),
        ).group_by(rows.c.cur, rows.c.line),
    )


# --- the records behind the figures (the spreadsheet) -----------------------------


async def served_per_activity(session: AsyncSession, window: Window) -> dict[int, tuple[int, int]]:
    """activity id -> (participations, minutes) that count."""
    statement = select(
        col(Attendance.activity_id),
        func.count(),
        func.coalesce(func.sum(col(Attendance.minutes)), 0),
    )
    rows = await _rows(
        session,
        _of_held(window, statement, source=Attendance)
        .where(*attended())
        .group_by(col(Attendance.activity_id)),
    )
    return {int(a): (int(n), int(m or 0)) for a, n, m in rows}


async def beneficiaries_per_activity(session: AsyncSession, window: Window) -> dict[int, int]:
    """activity id -> beneficiaries recorded."""
    statement = select(
        col(Beneficiaries.activity_id), func.coalesce(func.sum(col(Beneficiaries.count)), 0)
    )
    rows = await _rows(
        session,
        _of_held(window, statement, source=Beneficiaries).group_by(col(Beneficiaries.activity_id)),
    )
    return {int(a): int(n) for a, n in rows}


async def held_activities(session: AsyncSession, window: Window, limit: int) -> Rows:
    """(id, station, kind, title, place, starts, ends, target group, closed at) of the
    activities held, in order of their start; at most ``limit``."""
    statement = select(
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
    return await _rows(
        session,
        _of_held(window, statement)
        .order_by(col(Activity.starts_at), col(Activity.id))
        .limit(limit),
    )


async def count_held(session: AsyncSession, window: Window) -> int:
    return await _count(session, _of_held(window, select(func.count()).select_from(Activity)))


async def participations(session: AsyncSession, window: Window, limit: int) -> Rows:
    """(activity, station, starts, title, volunteer, mark, minutes) of the attendance
    that counts, in order of the activities' start; at most ``limit``."""
    statement = select(
        col(Attendance.activity_id),
        col(Activity.station_id),
        col(Activity.starts_at),
        col(Activity.title),
        col(Attendance.volunteer_id),
        col(Attendance.mark),
        col(Attendance.minutes),
    )
    return await _rows(
        session,
        _of_held(window, statement, source=Attendance)
        .where(*attended())
        .order_by(col(Activity.starts_at), col(Activity.id), col(Attendance.id))
        .limit(limit),
    )


async def pledge_records(session: AsyncSession, window: Window, limit: int) -> Rows:
    """(receipt, station, activity, fen, status, created at) of the pledges not
    cancelled, in order; at most ``limit``."""
    statement = select(
        col(Pledge.receipt),
        col(Pledge.station_id),
        col(Pledge.activity_id),
        col(Pledge.amount_fen),
        col(Pledge.status),
        col(Pledge.created_at),
    )
    return await _rows(
        session,
        _of_pledges(window, statement)
        .order_by(col(Pledge.created_at), col(Pledge.id))
        .limit(limit),
    )


async def count_pledges(session: AsyncSession, window: Window) -> int:
    return await _count(session, _of_pledges(window, select(func.count()).select_from(Pledge)))


# --- the Monday tally ---------------------------------------------------------------


async def coordinator_roles(session: AsyncSession) -> Sequence[tuple[int, int]]:
    """(user, station) of every coordinator role, in the order they were granted."""
    rows = await _rows(
        session,
        select(col(Role.user_id), col(Role.station_id))
        .where(col(Role.role) == RoleKind.COORDINATOR)
        .order_by(col(Role.id)),
    )
    return [(int(user), int(station)) for user, station in rows]
