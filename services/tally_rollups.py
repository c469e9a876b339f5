"""Closed weeks' tally figures, kept per station (issue 15).

A week is closed once its last day has ended in the time zone the tally is read in.
For each closed week that has been asked for (or that the weekly job prepared), the
table ``tally_rollup`` keeps every station's figures twice: of its whole subtree
and of the station alone (only for stations with children). A tally of station R
for that week then reads R's subtree row (the total), R's own row and its children's
subtree rows: a handful of rows, whatever the number of records.

Distinct volunteers are counted when a row is built, over the records of the whole
row (a person at two stations of one subtree counts once); they are never added
across rows or weeks. Periods other than one closed ISO week (this week, a month,
any range of dates) are counted live from the records (``services.tallies``).

A write that changes a figure of a kept week marks it stale in the writer's own
transaction (``storage.rollup_marks``); a stale or missing week is built again when
its tally is next asked for, and by the weekly job (``refresh``)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services.periods import Period, week_of
from storage.db import SessionMaker, is_writing, write_transaction
from storage.queries import tally_rollups as queries
from storage.queries.tally_rollups import WeekState
from storage.types import utcnow

log = logging.getLogger(__name__)


@dataclass
class Kept:
    """One station's figures for one week, as kept (kinds and groups by value)."""

    kinds: dict[str, int] = field(default_factory=dict)
    participations: int = 0
    volunteers: int = 0
    minutes: int = 0
    groups: dict[str, int] = field(default_factory=dict)
    new_volunteers: int = 0
    pledges: int = 0
    pledged_fen: int = 0
    received_fen: int = 0

    def empty(self) -> bool:
        return not (
            any(self.kinds.values())
            or self.participations
            or any(self.groups.values())
            or self.new_volunteers
            or self.pledges
        )


# A week's rows: (station, own) -> figures.
Week = dict[tuple[int, bool], Kept]


@dataclass
class _Acc:
    kinds: Counter[str] = field(default_factory=Counter)
    participations: int = 0
    people: set[int] = field(default_factory=set)
    minutes: int = 0
    groups: Counter[str] = field(default_factory=Counter)
    new_volunteers: int = 0
    pledges: int = 0
    pledged_fen: int = 0
    received_fen: int = 0

    def add(self, other: _Acc) -> None:
        self.kinds.update(other.kinds)
        self.participations += other.participations
        self.people |= other.people
        self.minutes += other.minutes
        self.groups.update(other.groups)
        self.new_volunteers += other.new_volunteers
        self.pledges += other.pledges
        self.pledged_fen += other.pledged_fen
        self.received_fen += other.received_fen

    def kept(self) -> Kept:
        return Kept(
            kinds={k: n for k, n in self.kinds.items() if n},
            participations=self.participations,
            volunteers=len(self.people),
            minutes=self.minutes,
            groups={g: n for g, n in self.groups.items() if n},
            new_volunteers=self.new_volunteers,
            pledges=self.pledges,
            pledged_fen=self.pledged_fen,
            received_fen=self.received_fen,
        )


def closed_week(period: Period, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime] | None:
    """[start, end) when ``period`` is one ISO week that has ended by ``now``."""
    if period.iso_week is None:
        return None
    start, end = period.bounds(zone)
    return (start, end) if end <= now else None


async def compute_week(session: AsyncSession, start: datetime, end: datetime) -> Week:
    """Every station's figures for the closed week [start, end), from the records and
    the station tree as they are now."""
    parents = {
        int(s): (int(p) if p is not None else None)
        for s, p in await queries.station_parents(session)
    }
    own: dict[int, _Acc] = {}

    def at(station: int) -> _Acc:
        found = own.get(station)
        if found is None:
            found = own[station] = _Acc()
        return found

    for station, kind, n in await queries.held_per_station(session, start, end):
        at(int(station)).kinds[str(kind)] += int(n)
    for station, person, n, minutes in await queries.served_per_person(session, start, end):
        acc = at(int(station))
        acc.participations += int(n)
        acc.minutes += int(minutes or 0)
        acc.people.add(int(person))
    for station, group, n in await queries.beneficiaries_per_station(session, start, end):
        at(int(station)).groups[str(group)] += int(n or 0)
    for station, n in await queries.newcomers_per_station(session, start, end):
        at(int(station)).new_volunteers += int(n)
    for station, n, fen, got in await queries.pledges_per_station(session, start, end):
        acc = at(int(station))
        acc.pledges += int(n)
        acc.pledged_fen += int(fen or 0)
        acc.received_fen += int(got or 0)

    subtree: dict[int, _Acc] = {}
    for station, acc in own.items():
        member: int | None = station
        seen: set[int] = set()
        while member is not None and member in parents and member not in seen:
            seen.add(member)
            subtree.setdefault(member, _Acc()).add(acc)
            member = parents[member]
    has_children = {p for p in parents.values() if p is not None}
    week: Week = {}
    for station, acc in subtree.items():
        kept = acc.kept()
        if not kept.empty():
            week[(station, False)] = kept
    for station, acc in own.items():
        if station in has_children:
            kept = acc.kept()
            if not kept.empty():
                week[(station, True)] = kept
    return week


def _row(station: int, own: bool, kept: Kept) -> dict[str, object]:
    return {
        "station_id": station,
        "own": own,
        "kinds": kept.kinds,
        "participations": kept.participations,
        "volunteers": kept.volunteers,
        "minutes": kept.minutes,
        "groups": kept.groups,
        "new_volunteers": kept.new_volunteers,
        "pledges": kept.pledges,
        "pledged_fen": kept.pledged_fen,
        "received_fen": kept.received_fen,
    }


async def _build(session: AsyncSession, start: datetime, end: datetime) -> Week:
    """Inside a write transaction: claim the week, count it, keep the rows."""
    state = await queries.claim_week(session, start, end)
    week = await compute_week(session, start, end)
    rows = [_row(station, own, kept) for (station, own), kept in week.items()]
    await queries.store_week(session, state, rows, utcnow())
    return week


async def build(session: AsyncSession, start: datetime, end: datetime) -> Week:
    """Count the closed week [start, end) and keep it; in the caller's write
    transaction when one is open, else in one of its own."""
    if is_writing(session):
        return await _build(session, start, end)
    async with write_transaction(session):
        return await _build(session, start, end)


def _kept(row: Sequence[Any]) -> Kept:
    (_, _, _, kinds, n, people, minutes, groups, newcomers, pledges, fen, got) = row
    return Kept(
        kinds={str(k): int(v) for k, v in dict(kinds or {}).items()},
        participations=int(n),
        volunteers=int(people),
        minutes=int(minutes),
        groups={str(g): int(v) for g, v in dict(groups or {}).items()},
        new_volunteers=int(newcomers),
        pledges=int(pledges),
        pledged_fen=int(fen),
        received_fen=int(got),
    )


async def weeks(
    session: AsyncSession,
    *,
    stations: Sequence[int],
    periods: Sequence[Period],
    zone: ZoneInfo,
    now: datetime,
) -> dict[Period, Week]:
    """The kept rows of ``stations`` for each of ``periods`` that is a closed ISO week
    (the others are left out): read when current, else built first."""
    bounds = {p: b for p in periods if (b := closed_week(p, zone, now)) is not None}
    if not bounds:
        return {}
    states, rows = await queries.kept_rows(session, list(bounds.values()), list(stations))
    found: dict[Period, Week] = {}
    ready: dict[int, Period] = {}
    for period, (start, end) in bounds.items():
        state = states.get((start, end))
        if state is not None and state.current:
            ready[state.id] = period
            found[period] = {}
    for row in rows:
        target = ready.get(int(row[0]))
        if target is not None:
            found[target][(int(row[1]), bool(row[2]))] = _kept(row)
    for period, (start, end) in bounds.items():
        if period not in found:  # never kept, or marked stale since
            week = await build(session, start, end)
            wanted = set(stations)
            found[period] = {key: kept for key, kept in week.items() if key[0] in wanted}
    return found


# --- the weekly job ----------------------------------------------------------------


async def refresh(
    *, sessionmaker: SessionMaker, zones: Sequence[ZoneInfo], now: datetime | None = None
) -> int:
    """Keep the week just ended in each of ``zones`` and build again every kept week
    marked stale, each in its own transaction. Returns how many weeks were built."""
    now = now or utcnow()
    built = 0
    async with sessionmaker() as session:
        wanted: dict[tuple[datetime, datetime], None] = {}
        for zone in zones:
            last = week_of(now.astimezone(zone).date()).previous()
            wanted[last.bounds(zone)] = None
        states = await queries.week_states(session, list(wanted))
        todo = [b for b in wanted if b not in states or not states[b].current]
        stale: list[WeekState] = await queries.stale_weeks(session)
        todo += [(s.start, s.end) for s in stale if (s.start, s.end) not in wanted]
        for start, end in todo:
            async with write_transaction(session):
                await _build(session, start, end)
            built += 1
    if built:
        log.info("tally roll-ups: %d week(s) built", built)
    return built


__all__ = ["Kept", "Week", "build", "closed_week", "compute_week", "refresh", "weeks"]
