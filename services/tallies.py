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

A period that is one ISO week already ended is read from the week's roll-up
(``services.tally_rollups``: the same figures, kept per station and built again
after any late change); every other period (this week, a month, any dates) is
counted live, distinct volunteers included.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, stations, tally_rollups
from services.access import Actor, Permission
from services.errors import NotAllowed, NotFound
from services.periods import MAX_DAYS, Period, iso_week, parse_period, week_of
from storage.models import ActivityKind, Station, TargetGroup
from storage.queries import tallies as queries
from storage.queries.tallies import SMALL_SUBTREE, Window


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
    before = period.previous()
    wanted = [period, before] if with_previous else [period]
    kept = await tally_rollups.weeks(
        session, stations=[station_id, *children], periods=wanted, zone=zone, now=now
    )
    members = tree.subtree(station_id) if len(kept) < len(wanted) else []
    small = members if len(members) <= SMALL_SUBTREE else None
    if len(kept) == len(wanted):
        current = _from_kept(kept[period], station_id)
        earlier = _from_kept(kept[before], station_id) if with_previous else {None: Figures()}
    elif not kept:
        current, earlier = await _figures(
            session,
            root=station_id,
            small=small,
            period=period,
            zone=zone,
            now=now,
            with_previous=with_previous,
        )
    else:  # one of the two is a closed week, the other is counted live
        live = before if period in kept else period
        figures, _ = await _figures(
            session,
            root=station_id,
            small=small,
            period=live,
            zone=zone,
            now=now,
            with_previous=False,
        )
        if period in kept:
            current, earlier = _from_kept(kept[period], station_id), figures
        else:
            current, earlier = figures, _from_kept(kept[before], station_id)
    total = current.pop(None, Figures())
    previous = earlier.get(None, Figures())
    lines = [Line(tree.stations[child], current.get(child, Figures())) for child in children]
    own = current.get(station_id)
    if own is not None and children and _any(own):
        lines.insert(0, Line(root, own, own=True))
    return Tally(root, period, total, previous, lines)


def _figures_of(kept: tally_rollups.Kept) -> Figures:
    return Figures(
        activities_by_kind={ActivityKind(k): n for k, n in kept.kinds.items()},
        participations=kept.participations,
        volunteers=kept.volunteers,
        minutes=kept.minutes,
        beneficiaries_by_group={TargetGroup(g): n for g, n in kept.groups.items()},
        new_volunteers=kept.new_volunteers,
        pledges=kept.pledges,
        pledged_fen=kept.pledged_fen,
        received_fen=kept.received_fen,
    )


def _from_kept(week: tally_rollups.Week, root: int) -> dict[int | None, Figures]:
    """A kept week as ``_figures`` gives it: the total (None), each child's subtree,
    and the root's own records (under its own id)."""
    out: dict[int | None, Figures] = {}
    for (station, own), kept in week.items():
        if station == root:
            out[root if own else None] = _figures_of(kept)
        elif not own:
            out[station] = _figures_of(kept)
    out.setdefault(None, Figures())
    return out


def _any(figures: Figures) -> bool:
    return bool(
        figures.activities
        or figures.participations
        or figures.beneficiaries
        or figures.new_volunteers
        or figures.pledges
    )


async def require(session: AsyncSession, *, actor: Actor, station_id: int) -> None:
    """NotAllowed unless the actor may see the station's tallies now; NotFound when the
    station is gone (told only to those who may see tallies somewhere)."""
    await access.require_somewhere(session, actor=actor, permission=Permission.VIEW_TALLIES)
    if station_id not in (await stations.tree(session)).stations:
        raise NotFound("station.not_found")
    if not await access.allowed(
        session, actor=actor, permission=Permission.VIEW_TALLIES, station_id=station_id
    ):
        raise NotAllowed("not_allowed", permission=Permission.VIEW_TALLIES.value)


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
    window = Window(root=root, small=small, start=first, end=end, now=now, current=start)
    out: _Out = {0: defaultdict(Figures), 1: defaultdict(Figures)}

    def targets(cur: int, line: int) -> tuple[Figures, Figures]:
        return out[cur][line], out[cur][None]

    for cur, line, kind, n in await queries.held_by_kind(session, window):
        for target in targets(cur, line):
            by_kind = target.activities_by_kind
            by_kind[ActivityKind(kind)] = by_kind.get(ActivityKind(kind), 0) + int(n)

    for cur, line, persons, n, minutes in await queries.served(session, window):
        target = out[cur][line]
        target.volunteers = int(persons)
        target.participations = int(n or 0)
        target.minutes = int(minutes or 0)

    for cur, line, group, n in await queries.beneficiaries_by_group(session, window):
        for target in targets(cur, line):
            by_group = target.beneficiaries_by_group
            by_group[TargetGroup(group)] = by_group.get(TargetGroup(group), 0) + int(n)

    for cur, line, n in await queries.newcomers(session, window):
        for target in targets(cur, line):
            target.new_volunteers += int(n)

    for cur, line, n, fen, got in await queries.pledges_by_line(session, window):
        for target in targets(cur, line):
            target.pledges += int(n)
            target.pledged_fen += int(fen)
            target.received_fen += int(got)

    this, before = dict(out[1]), dict(out[0])
    this.setdefault(None, Figures())
    before.setdefault(None, Figures())
    return this, before


__all__ = [
    "MAX_DAYS",
    "Figures",
    "Line",
    "Period",
    "Tally",
    "iso_week",
    "parse_period",
    "require",
    "tally",
    "week_of",
]
