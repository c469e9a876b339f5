"""Queries of the reports a coordinator signs (monthly, quarterly, yearly), beyond
the tally's figures: each station's own activity (the most active stations), the
closing of the activities held (records on time), and what pledges to an activity
were linked to (its beneficiaries by group). The same definitions of an activity
held and of attendance that counts as the tallies (``storage.queries.tallies``).
Nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import case, func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Activity, Attendance, Beneficiaries, Pledge, PledgeStatus
from storage.queries.tallies import attended, held, subtree_lines

Rows = Sequence[tuple[Any, ...]]


@dataclass(frozen=True)
class Span:
    """The subtree of ``root`` and [start, end); activities only once begun by ``now``."""

    root: int
    start: datetime
    end: datetime
    now: datetime


async def _rows(session: AsyncSession, statement: Any) -> Rows:
    conn = await session.connection()
    return cast(Rows, (await conn.execute(statement)).all())


def _held_in(span: Span, statement: Any) -> Any:
    lines = subtree_lines(span.root)
    return statement.join(lines, lines.c.id == col(Activity.station_id)).where(
        *held(span.start, span.end, span.now)
    )


async def activities_per_station(session: AsyncSession, span: Span) -> Rows:
    """(station, activities held) of each station's own records."""
    statement = select(col(Activity.station_id), func.count()).select_from(Activity)
    return await _rows(session, _held_in(span, statement).group_by(col(Activity.station_id)))


async def served_per_station(session: AsyncSession, span: Span) -> Rows:
    """(station, participations, minutes) of the attendance that counts, by the
    station that held the activity."""
    statement = (
        select(
            col(Activity.station_id),
            func.count(),
            func.coalesce(func.sum(col(Attendance.minutes)), 0),
        )
        .select_from(Attendance)
        .join(Activity, col(Activity.id) == col(Attendance.activity_id))
    )
    return await _rows(
        session,
        _held_in(span, statement).where(*attended()).group_by(col(Activity.station_id)),
    )


async def closings(session: AsyncSession, span: Span) -> Rows:
    """(station, ends at, closed at or None) of the activities held that have ended
    by ``now``: whether their records were closed in time is counted by the caller,
    on the working-day calendar."""
    statement = select(
        col(Activity.station_id), col(Activity.ends_at), col(Activity.closed_at)
    ).where(col(Activity.ends_at) <= span.now)
    return await _rows(session, _held_in(span, statement))


def _pledged(span: Span) -> Any:
    """Pledges made in the window for stations of the subtree, not cancelled, to an
    activity."""
    lines = subtree_lines(span.root)
    return (
        select(
            col(Pledge.activity_id).label("activity_id"),
            col(Pledge.amount_fen).label("fen"),
            col(Pledge.status).label("status"),
        )
        .join(lines, lines.c.id == col(Pledge.station_id))
        .where(
            col(Pledge.activity_id).is_not(None),
            col(Pledge.status) != PledgeStatus.CANCELLED,
            col(Pledge.created_at) >= span.start,
            col(Pledge.created_at) < span.end,
        )
        .subquery("pledged")
    )


async def pledges_per_activity(session: AsyncSession, span: Span) -> Rows:
    """(activity, station, title, starts at, pledges, fen pledged, fen received) of
    the activities pledged to in the window."""
    pledged = _pledged(span)
    got = func.sum(case((pledged.c.status == PledgeStatus.RECEIVED, pledged.c.fen), else_=0))
    received = select(
        pledged.c.activity_id.label("activity_id"),
        func.count().label("n"),
        func.sum(pledged.c.fen).label("fen"),
        got.label("got"),
    ).group_by(pledged.c.activity_id)
    per = received.subquery("per")
    statement = (
        select(
            col(Activity.id),
            col(Activity.station_id),
            col(Activity.title),
            col(Activity.starts_at),
            per.c.n,
            per.c.fen,
            per.c.got,
        )
        .join(per, per.c.activity_id == col(Activity.id))
        .order_by(per.c.fen.desc(), col(Activity.id))
    )
    return await _rows(session, statement)


async def beneficiaries_of_pledged(session: AsyncSession, span: Span) -> Rows:
    """(activity, target group, beneficiaries) recorded for the activities pledged to
    in the window."""
    pledged = _pledged(span)
    ids = select(pledged.c.activity_id).distinct().subquery("ids")
    statement = (
        select(
            col(Beneficiaries.activity_id),
            col(Beneficiaries.target_group),
            func.coalesce(func.sum(col(Beneficiaries.count)), 0),
        )
        .join(ids, ids.c.activity_id == col(Beneficiaries.activity_id))
        .group_by(col(Beneficiaries.activity_id), col(Beneficiaries.target_group))
    )
    return await _rows(session, statement)
