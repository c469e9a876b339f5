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
    Select,
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


async def _count(session: AsyncSession, statement: Select[Any]) -> int:
    conn = await session.connection()
    return int((await conn.execute(statement)).scalar() or 0)


def _current(window: Window, column: Any) -> ColumnElement[int]:
    return case((column >= (window.current or window.start), 1), else_=0)


def _held_here(window: Window) -> tuple[ColumnElement[bool], ...]:
    return (
        *held(window.start, window.end, window.now),
        *within(col(Activity.station_id), window.small),
    )


# --- the figures, per period (``cur``) and line -----------------------------------


async def held_by_kind(session: AsyncSession, window: Window) -> Rows:
    """(cur, line, kind, activities) of the activities held."""
    lines = subtree_lines(window.root)
    rows = (
        select(
            _current(window, col(Activity.starts_at)).label("cur"),
            lines.c.line,
            col(Activity.kind).label("kind"),
        )
        .join(lines, lines.c.id == col(Activity.station_id))
        .where(*_held_here(window))
        .subquery("held")
    )
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
    lines = subtree_lines(window.root)
    rows = (
        select(
            _current(window, col(Activity.starts_at)).label("cur"),
            lines.c.line,
            col(Attendance.volunteer_id).label("person"),
            col(Attendance.minutes).label("minutes"),
        )
        .select_from(Attendance)
        .join(Activity, col(Activity.id) == col(Attendance.activity_id))
        .join(lines, lines.c.id == col(Activity.station_id))
        .where(*_held_here(window), *attended())
        .subquery("served")
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
    lines = subtree_lines(window.root)
    rows = (
        select(
            _current(window, col(Activity.starts_at)).label("cur"),
            lines.c.line,
            col(Beneficiaries.target_group).label("grp"),
            col(Beneficiaries.count).label("n"),
        )
        .select_from(Beneficiaries)
        .join(Activity, col(Activity.id) == col(Beneficiaries.activity_id))
        .join(lines, lines.c.id == col(Activity.station_id))
        .where(*_held_here(window))
        .subquery("benefit")
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


def _pledged(window: Window) -> tuple[ColumnElement[bool], ...]:
    return (
        col(Pledge.status) != PledgeStatus.CANCELLED,
        *within(col(Pledge.station_id), window.small),
        col(Pledge.created_at) >= window.start,
        col(Pledge.created_at) < window.end,
    )


async def pledges_by_line(session: AsyncSession, window: Window) -> Rows:
    """(cur, line, pledges, pledged fen, received fen) of the pledges not cancelled."""
    lines = subtree_lines(window.root)
    rows = (
        select(
            _current(window, col(Pledge.created_at)).label("cur"),
            lines.c.line,
            col(Pledge.amount_fen).label("fen"),
            case(
                (col(Pledge.status) == PledgeStatus.RECEIVED, col(Pledge.amount_fen)), else_=0
            ).label("got"),
        )
        .join(lines, lines.c.id == col(Pledge.station_id))
        .where(*_pledged(window))
        .subquery("promised")
    )
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
    lines = subtree_lines(window.root)
    rows = await _rows(
        session,
        select(
            col(Attendance.activity_id),
            func.count(),
            func.coalesce(func.sum(col(Attendance.minutes)), 0),
        )
        .join(Activity, col(Activity.id) == col(Attendance.activity_id))
        .join(lines, lines.c.id == col(Activity.station_id))
        .where(*_held_here(window), *attended())
        .group_by(col(Attendance.activity_id)),
    )
    return {int(a): (int(n), int(m or 0)) for a, n, m in rows}


async def beneficiaries_per_activity(session: AsyncSession, window: Window) -> dict[int, int]:
    """activity id -> beneficiaries recorded."""
    lines = subtree_lines(window.root)
    rows = await _rows(
        session,
        select(col(Beneficiaries.activity_id), func.coalesce(func.sum(col(Beneficiaries.count)), 0))
        .join(Activity, col(Activity.id) == col(Beneficiaries.activity_id))
        .join(lines, lines.c.id == col(Activity.station_id))
        .where(*_held_here(window))
        .group_by(col(Beneficiaries.activity_id)),
    )
    return {int(a): int(n) for a, n in rows}


async def held_activities(session: AsyncSession, window: Window, limit: int) -> Rows:
    """(id, station, kind, title, place, starts, ends, target group, closed at) of the
    activities held, in order of their start; at most ``limit``."""
    lines = subtree_lines(window.root)
    return await _rows(
        session,
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
        .join(lines, lines.c.id == col(Activity.station_id))
        .where(*_held_here(window))
        .order_by(col(Activity.starts_at), col(Activity.id))
        .limit(limit),
    )


async def count_held(session: AsyncSession, window: Window) -> int:
    lines = subtree_lines(window.root)
    return await _count(
        session,
        select(func.count())
        .select_from(Activity)
        .join(lines, lines.c.id == col(Activity.station_id))
        .where(*_held_here(window)),
    )


async def participations(session: AsyncSession, window: Window, limit: int) -> Rows:
    """(activity, station, starts, title, volunteer, mark, minutes) of the attendance
    that counts, in order of the activities' start; at most ``limit``."""
    lines = subtree_lines(window.root)
    return await _rows(
        session,
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
        .join(lines, lines.c.id == col(Activity.station_id))
        .where(*_held_here(window), *attended())
        .order_by(col(Activity.starts_at), col(Activity.id), col(Attendance.id))
        .limit(limit),
    )


async def pledge_records(session: AsyncSession, window: Window, limit: int) -> Rows:
    """(receipt, station, activity, fen, status, created at) of the pledges not
    cancelled, in order; at most ``limit``."""
    lines = subtree_lines(window.root)
    return await _rows(
        session,
        select(
            col(Pledge.receipt),
            col(Pledge.station_id),
            col(Pledge.activity_id),
            col(Pledge.amount_fen),
            col(Pledge.status),
            col(Pledge.created_at),
        )
        .join(lines, lines.c.id == col(Pledge.station_id))
        .where(*_pledged(window))
        .order_by(col(Pledge.created_at), col(Pledge.id))
        .limit(limit),
    )


async def count_pledges(session: AsyncSession, window: Window) -> int:
    lines = subtree_lines(window.root)
    return await _count(
        session,
        select(func.count())
        .select_from(Pledge)
        .join(lines, lines.c.id == col(Pledge.station_id))
        .where(*_pledged(window)),
    )


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
