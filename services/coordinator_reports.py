"""The reports a coordinator signs: a station subtree's month, quarter or year.

What it holds (each figure is recomputed by an independent SQL query in the tests):

- The tally's figures for the period (``services.tallies``: activities, participations,
  hours, distinct volunteers, beneficiaries by group, pledges), with the previous
  period's (环比) and the same period a year earlier (同比) beside them; for a year
  the two are the same year.
- The ten most active stations of the subtree, each by its own records: activities
  held, then participations, then service minutes.
- Each station's records-on-time rate: of the activities it held in the period that
  have ended, those closed within ``DUE_WORKING_DAYS`` working days of the day they
  ended (China's official calendar, ``services.workdays``), out of those closed and
  those whose time is up; activities still within their time and not closed are
  counted apart (``pending``), in neither.
- Pledges linked to outcomes (五社联动): the activities pledged to in the period
  (pledges made in it, not cancelled, for stations of the subtree), each with its
  pledges and the beneficiaries recorded for it by group, and their sum.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services import stations, tallies, workdays
from services.errors import NotFound
from services.report_periods import ReportPeriod, Span
from services.tallies import Figures
from storage.models import Station, TargetGroup
from storage.queries import reports as queries

DUE_WORKING_DAYS = 10
TOP_STATIONS = 10


def change(now: float, base: float) -> float | None:
    """The change from ``base`` to ``now`` in percent; None when the base is zero."""
    if not base:
        return None
    return (now - base) * 100 / base


@dataclass(frozen=True)
class Busy:
    """One station's own records in the period."""

    station: Station
    activities: int
    participations: int
    minutes: int


@dataclass
class OnTime:
    """The closing of one station's activities held in the period (or the subtree's,
    for the total)."""

    station: Station
    on_time: int = 0
    late: int = 0
    pending: int = 0

    @property
    def due(self) -> int:
        return self.on_time + self.late

    @property
    def rate(self) -> float | None:
        """Percent closed on time of those due; None when none is due yet."""
        return self.on_time * 100 / self.due if self.due else None


@dataclass(frozen=True)
class Pledged:
    """An activity pledged to in the period, and what it did."""

    activity_id: int
    station: Station
    title: str
    starts_at: datetime
    pledges: int
    pledged_fen: int
    received_fen: int
    beneficiaries_by_group: dict[TargetGroup, int] = field(default_factory=dict)

    @property
    def beneficiaries(self) -> int:
        return sum(self.beneficiaries_by_group.values())


@dataclass(frozen=True)
class Report:
    station: Station
    period: ReportPeriod
    figures: Figures
    previous: Figures  # 环比: the month, quarter or year before
    year_ago: Figures  # 同比: the same period a year earlier
    busiest: Sequence[Busy]
    on_time: Sequence[OnTime]  # each station with activities ended, in tree order
    on_time_total: OnTime
    pledged: Sequence[Pledged]
    today: date
    zone: ZoneInfo

    @property
    def pledged_beneficiaries(self) -> dict[TargetGroup, int]:
        """The beneficiaries of every activity pledged to, by group."""
        total: dict[TargetGroup, int] = {}
        for item in self.pledged:
            for group, n in item.beneficiaries_by_group.items():
                total[group] = total.get(group, 0) + n
        return total

    @property
    def has_previous(self) -> bool:
        """Whether 环比 is a period of its own (not for a year: it is 同比)."""
        return self.period.span is not Span.YEAR


async def _figures(
    session: AsyncSession, station_id: int, period: ReportPeriod, zone: ZoneInfo, now: datetime
) -> Figures:
    result = await tallies.tally(
        session,
        station_id=station_id,
        period=period.period,
        zone=zone,
        now=now,
        with_previous=False,
    )
    return result.figures


async def report(
    session: AsyncSession,
    *,
    station_id: int,
    period: ReportPeriod,
    zone: ZoneInfo,
    now: datetime,
) -> Report:
    """The report of ``station_id``'s subtree for ``period``. Raises NotFound for a
    station gone. Permission: ``tallies.require`` (VIEW_TALLIES), as for /tally."""
    tree = await stations.tree(session)
    root = tree.stations.get(station_id)
    if root is None:
        raise NotFound("station.not_found")
    figures = await _figures(session, station_id, period, zone, now)
    year_ago = await _figures(session, station_id, period.year_ago(), zone, now)
    previous = (
        year_ago
        if period.previous() == period.year_ago()
        else await _figures(session, station_id, period.previous(), zone, now)
    )
    start, end = period.period.bounds(zone)
    span = queries.Span(root=station_id, start=start, end=end, now=now)
    today = now.astimezone(zone).date()
    return Report(
        station=root,
        period=period,
        figures=figures,
        previous=previous,
        year_ago=year_ago,
        busiest=await _busiest(session, span, tree),
        on_time=(closing := await _on_time(session, span, tree, zone, today))[0],
        on_time_total=closing[1],
        pledged=await _pledged(session, span, tree),
        today=today,
        zone=zone,
    )


async def _busiest(
    session: AsyncSession, span: queries.Span, tree: stations.StationTree
) -> list[Busy]:
    held = {int(s): int(n) for s, n in await queries.activities_per_station(session, span)}
    served = {
        int(s): (int(n), int(m or 0)) for s, n, m in await queries.served_per_station(session, span)
    }
    every = [
        Busy(tree.stations[s], held.get(s, 0), *served.get(s, (0, 0)))
        for s in set(held) | set(served)
        if s in tree.stations
    ]
    every.sort(key=lambda b: (-b.activities, -b.participations, -b.minutes, b.station.code))
    return every[:TOP_STATIONS]


async def _on_time(
    session: AsyncSession,
    span: queries.Span,
    tree: stations.StationTree,
    zone: ZoneInfo,
    today: date,
) -> tuple[list[OnTime], OnTime]:
    per: dict[int, OnTime] = {}
    total = OnTime(tree.stations[span.root])
    zones: dict[int, ZoneInfo] = {}
    for station_id, ends_at, closed_at in await queries.closings(session, span):
        station_id = int(station_id)
        if station_id not in tree.stations:
            continue
        local = zones.get(station_id)
        if local is None:
            local = zones[station_id] = tree.zone(station_id, zone)
        ended = _aware(ends_at).astimezone(local).date()
        due = due_day(ended)
        line = per.setdefault(station_id, OnTime(tree.stations[station_id]))
        if closed_at is not None and _aware(closed_at).astimezone(local).date() <= due:
            kind = "on_time"
        elif closed_at is not None or today > due:
            kind = "late"
        else:
            kind = "pending"
        for target in (line, total):
            setattr(target, kind, getattr(target, kind) + 1)
    order = {s: i for i, s in enumerate(tree.subtree(span.root))}
    lines = sorted(per.values(), key=lambda o: order.get(o.station.id or 0, len(order)))
    return lines, total


@functools.lru_cache(maxsize=4096)
def due_day(ended: date) -> date:
    """The last day to close the records of an activity that ended on ``ended``
    (the calendar's look-ups are slow: a year's days are remembered)."""
    return workdays.add_working_days(ended, DUE_WORKING_DAYS)


def _aware(moment: datetime) -> datetime:
    """Timestamps come back naive from SQLite: they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _pledged(
    session: AsyncSession, span: queries.Span, tree: stations.StationTree
) -> list[Pledged]:
    groups: dict[int, dict[TargetGroup, int]] = {}
    for activity_id, group, n in await queries.beneficiaries_of_pledged(session, span):
        if int(n):
            groups.setdefault(int(activity_id), {})[TargetGroup(group)] = int(n)
    found = []
    rows = await queries.pledges_per_activity(session, span)
    for activity_id, station_id, title, starts_at, n, fen, got in rows:
        station = tree.stations.get(int(station_id))
        if station is None:
            continue
        found.append(
            Pledged(
                activity_id=int(activity_id),
                station=station,
                title=str(title),
                starts_at=_aware(starts_at),
                pledges=int(n),
                pledged_fen=int(fen or 0),
                received_fen=int(got or 0),
                beneficiaries_by_group=groups.get(int(activity_id), {}),
            )
        )
    return found
