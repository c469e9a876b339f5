"""Tallies for a station subtree over a period: what coordinators report.

Definitions (each figure is one SQL aggregate over the raw records; the tests
recompute every one with independent queries):

- The period is a run of whole days in the station's time zone, [first, last].
- Activities held: not cancelled, starting inside the period and not after now.
- Participations (人次): attendance rows of those activities that are confirmed and
  not marked absent; distinct volunteers are the people behind them.
- Service hours: the minutes of those same rows.
- Beneficiaries (受益人次): the counts recorded for those activities, by target group.
- New volunteers: registrations made inside the period at stations of the subtree
  (erased volunteers keep an anonymous row, so they still count).
- Pledges: made inside the period for stations of the subtree and not cancelled;
  the pledged amount, and of it what is marked received. Amounts in fen.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

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

from services import stations
from services.errors import InvalidInput, NotFound
from storage.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Attendance,
    AttendanceMark,
    Beneficiaries,
    Pledge,
    PledgeStatus,
    Station,
    TargetGroup,
    Volunteer,
)


@dataclass(frozen=True)
class Period:
    """Whole local days, both ends included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise InvalidInput("tally.period_reversed")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC."""
        start = datetime.combine(self.first, time(), zone).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(), zone).astimezone(UTC)
        return start, end

    @property
    def iso_week(self) -> tuple[int, int] | None:
        """(year, week) when the period is exactly one ISO week."""
        year, week, weekday = self.first.isocalendar()
        return (year, week) if weekday == 1 and self.days == 7 else None


def week_of(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    return Period(monday, monday + timedelta(days=6))


def iso_week(year: int, week: int) -> Period:
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise InvalidInput("tally.bad_week") from exc
    return Period(monday, monday + timedelta(days=6))


_WEEK = re.compile(r"^\s*(\d{4})\s*-?\s*[wW]\s*(\d{1,2})\s*$")
_DAY = r"(\d{4}-\d{1,2}-\d{1,2})"
_RANGE = re.compile(rf"^\s*{_DAY}\s*(?:\.\.|至|到|~|～|—|–|--|to\b|\s)\s*{_DAY}\s*$", re.IGNORECASE)
MAX_DAYS = 366


def parse_period(text: str) -> Period:
    """``2026-W47`` (an ISO week) or ``2026-11-01 2026-11-30`` (also with ``..``,
    ``至``, ``to``, ``~`` between). Raises InvalidInput on anything else."""
    text = text.strip()
    if match := _WEEK.match(text):
        return iso_week(int(match[1]), int(match[2]))
    if match := _RANGE.match(text):
        try:
            first, last = (date.fromisoformat(_pad(part)) for part in (match[1], match[2]))
        except ValueError as exc:
            raise InvalidInput("tally.bad_period") from exc
        period = Period(first, last)
        if period.days > MAX_DAYS:
            raise InvalidInput("tally.period_too_long", days=MAX_DAYS)
        return period
    raise InvalidInput("tally.bad_period")


def _pad(day: str) -> str:
    year, month, dom = day.split("-")
    return f"{year}-{int(month):02d}-{int(dom):02d}"


@dataclass
class Figures:
    activities_by_kind: dict[ActivityKind, int] = field(default_factory=dict)
    participations: int = 0
    volunteers: int = 0
    minutes: int = 0
    beneficiaries_by_group: dict[TargetGroup, int] = field(default_factory=dict)
    new_volunteers: int = 0
    pledges: int = 0
    pledged_fen: int = 0
    received_fen: int = 0

    @property
    def activities(self) -> int:
        return sum(self.activities_by_kind.values())

    @property
    def beneficiaries(self) -> int:
        return sum(self.beneficiaries_by_group.values())

    @property
    def hours(self) -> float:
        return self.minutes / 60


@dataclass(frozen=True)
class Line:
    """One child station (its whole subtree), or the station itself (``own``)."""

    station: Station
    figures: Figures
    own: bool = False


@dataclass(frozen=True)
class Tally:
    station: Station
    period: Period
    figures: Figures
    previous: Figures
    lines: Sequence[Line]


async def tally(
    session: AsyncSession,
    *,
    station_id: int,
    period: Period,
    zone: ZoneInfo,
    now: datetime,
    with_previous: bool = True,
) -> Tally:
    """The figures of ``station_id``'s subtree over ``period``, the previous period
    beside them, and one line per child station."""
    tree = await stations.tree(session)
    root = tree.stations.get(station_id)
    if root is None:
        raise NotFound("station.not_found")
    children = sorted(tree.children.get(station_id, []))
    members = tree.subtree(station_id)
    current, earlier = await _figures(
        session,
        root=station_id,
        small=members if len(members) <= SMALL_SUBTREE else None,
        period=period,
        zone=zone,
        now=now,
        with_previous=with_previous,
    )
    total = current.pop(None, Figures())
    previous = earlier.get(None, Figures())
    lines = [Line(tree.stations[child], current.get(child, Figures())) for child in children]
    own = current.get(station_id)
    if own is not None and children and _any(own):
        lines.insert(0, Line(root, own, own=True))
    return Tally(root, period, total, previous, lines)


def _any(figures: Figures) -> bool:
    return bool(
        figures.activities
        or figures.participations
        or figures.beneficiaries
        or figures.new_volunteers
        or figures.pledges
    )


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


# A subtree this small is also named by its station ids: the planners then start
# from the stations' index instead of every activity of the period.
SMALL_SUBTREE = 200


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


# Figures per period and line: {0: previous, 1: current} -> {line or None: Figures}.
_Out = dict[int, dict[int | None, Figures]]


async def _figures(
    session: AsyncSession,
    *,
    root: int,
    small: Sequence[int] | None,
    period: Period,
    zone: ZoneInfo,
    now: datetime,
    with_previous: bool,
) -> tuple[dict[int | None, Figures], dict[int | None, Figures]]:
    """Figures per line (key: the line's station) and in total (key None), for the
    period and for the previous one. Each kind of record is read in one query for
    both periods (``cur`` tells them apart), grouped by line in the database."""
    start, end = period.bounds(zone)
    first = period.previous().bounds(zone)[0] if with_previous else start
    out: _Out = {0: defaultdict(Figures), 1: defaultdict(Figures)}
    conn = await session.connection()
    lines = subtree_lines(root)
    on_line = lines.c.id == col(Activity.station_id)

    def current(column: Any) -> ColumnElement[int]:
        return case((column >= start, 1), else_=0)

    def targets(cur: int, line: int) -> tuple[Figures, Figures]:
        return out[cur][line], out[cur][None]

    # Activities held, by kind.
    rows = (
        select(
            current(col(Activity.starts_at)).label("cur"),
            lines.c.line,
            col(Activity.kind).label("kind"),
        )
        .join(lines, on_line)
        .where(*held(first, end, now), *within(col(Activity.station_id), small))
        .subquery("held")
    )
    kinds = await conn.execute(
        select(rows.c.cur, rows.c.line, rows.c.kind, func.count()).group_by(
            rows.c.cur, rows.c.line, rows.c.kind
        )
    )
    for cur, line, kind, n in kinds.all():
        for target in targets(cur, line):
            by_kind = target.activities_by_kind
            by_kind[ActivityKind(kind)] = by_kind.get(ActivityKind(kind), 0) + int(n)

    # Participations, minutes and distinct people, per line and in total, from one
    # pass over the attendance: grouped by (period, line, person) first.
    served = (
        select(
            current(col(Activity.starts_at)).label("cur"),
            lines.c.line,
            col(Attendance.volunteer_id).label("person"),
            col(Attendance.minutes).label("minutes"),
        )
        .select_from(Attendance)
        .join(Activity, col(Activity.id) == col(Attendance.activity_id))
        .join(lines, on_line)
        .where(*held(first, end, now), *attended(), *within(col(Activity.station_id), small))
        .subquery("served")
    )
    people = (
        select(
            served.c.cur,
            served.c.line,
            served.c.person,
            func.count().label("n"),
            func.coalesce(func.sum(served.c.minutes), 0).label("m"),
        )
        .group_by(served.c.cur, served.c.line, served.c.person)
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
    for cur, line, persons, n, minutes in (await conn.execute(union_all(per_line, overall))).all():
        target = out[cur][line]
        target.volunteers = int(persons)
        target.participations = int(n or 0)
        target.minutes = int(minutes or 0)

    # Beneficiaries, by target group.
    benefit = (
        select(
            current(col(Activity.starts_at)).label("cur"),
            lines.c.line,
            col(Beneficiaries.target_group).label("grp"),
            col(Beneficiaries.count).label("n"),
        )
        .select_from(Beneficiaries)
        .join(Activity, col(Activity.id) == col(Beneficiaries.activity_id))
        .join(lines, on_line)
        .where(*held(first, end, now), *within(col(Activity.station_id), small))
        .subquery("benefit")
    )
    groups = await conn.execute(
        select(
            benefit.c.cur, benefit.c.line, benefit.c.grp, func.coalesce(func.sum(benefit.c.n), 0)
        ).group_by(benefit.c.cur, benefit.c.line, benefit.c.grp)
    )
    for cur, line, group, n in groups.all():
        for target in targets(cur, line):
            by_group = target.beneficiaries_by_group
            by_group[TargetGroup(group)] = by_group.get(TargetGroup(group), 0) + int(n)

    # New volunteers.
    joined = (
        select(current(col(Volunteer.created_at)).label("cur"), lines.c.line)
        .join(lines, lines.c.id == col(Volunteer.station_id))
        .where(
            col(Volunteer.created_at) >= first,
            col(Volunteer.created_at) < end,
            *within(col(Volunteer.station_id), small),
        )
        .subquery("joined")
    )
    newcomers = await conn.execute(
        select(joined.c.cur, joined.c.line, func.count()).group_by(joined.c.cur, joined.c.line)
    )
    for cur, line, n in newcomers.all():
        for target in targets(cur, line):
            target.new_volunteers += int(n)

    # Pledges: not cancelled; pledged and received amounts.
    promised = (
        select(
            current(col(Pledge.created_at)).label("cur"),
            lines.c.line,
            col(Pledge.amount_fen).label("fen"),
            case(
                (col(Pledge.status) == PledgeStatus.RECEIVED, col(Pledge.amount_fen)), else_=0
            ).label("got"),
        )
        .join(lines, lines.c.id == col(Pledge.station_id))
        .where(
            col(Pledge.status) != PledgeStatus.CANCELLED,
            *within(col(Pledge.station_id), small),
            col(Pledge.created_at) >= first,
            col(Pledge.created_at) < end,
        )
        .subquery("promised")
    )
    pledges = await conn.execute(
        select(
            promised.c.cur,
            promised.c.line,
            func.count(),
            func.coalesce(func.sum(promised.c.fen), 0),
            func.coalesce(func.sum(promised.c.got), 0),
        ).group_by(promised.c.cur, promised.c.line)
    )
    for cur, line, n, fen, got in pledges.all():
        for target in targets(cur, line):
            target.pledges += int(n)
            target.pledged_fen += int(fen)
            target.received_fen += int(got)

    this, before = dict(out[1]), dict(out[0])
    this.setdefault(None, Figures())
    before.setdefault(None, Figures())
    return this, before


__all__ = [
    "Figures",
    "Line",
    "Period",
    "Tally",
    "iso_week",
    "parse_period",
    "tally",
    "week_of",
]
