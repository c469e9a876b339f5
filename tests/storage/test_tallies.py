"""Every figure of a tally equals an independent SQL query over the raw records.

A few thousand activities, attendance rows, beneficiary counts, registrations and
pledges are generated across the example tree (seeded, so a failure repeats), then
each figure for several stations and periods is recomputed here in plain SQL."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, text
from sqlmodel.ext.asyncio.session import AsyncSession

from services import stations, tallies
from services.errors import InvalidInput
from storage.db import SessionMaker, write_transaction
from storage.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Attendance,
    AttendanceMark,
    Beneficiaries,
    Pledge,
    PledgeStatus,
    TargetGroup,
    Volunteer,
    VolunteerStatus,
)
from tests.conftest import load_example_tree

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # Friday noon in Shanghai, week 47
START = datetime(2026, 10, 1, tzinfo=UTC)


async def _populate(maker: SessionMaker, ids: dict[str, int], seed: int = 47) -> None:
    rng = random.Random(seed)
    station_ids = sorted(ids.values())
    kinds, groups = list(ActivityKind), list(TargetGroup)
    span = int((NOW + timedelta(days=10) - START).total_seconds())

    def moment() -> datetime:
        return START + timedelta(seconds=rng.randrange(span))

    # Records exactly on the edges of week 47 (and of week 46 before it), where an
    # off-by-one in a bound would show.
    edge = tallies.iso_week(2026, 47).bounds(ZONE)
    edges = [edge[0], edge[1], edge[0] - timedelta(microseconds=1), edge[1] - timedelta(seconds=1)]
    volunteers: list[dict[str, Any]] = []
    for n in range(600):
        volunteers.append(
            {
                "station_id": rng.choice(station_ids),
                "status": rng.choice(list(VolunteerStatus)),
                "real_name": f"v{n}",
                "skills": [],
                "created_at": edges[n] if n < len(edges) else moment(),
                "updated_at": NOW,
                "weekly_digest": True,
            }
        )
    activities: list[dict[str, Any]] = []
    for n in range(2500):
        starts = edges[n] if n < len(edges) else moment()
        activities.append(
            {
                "station_id": rng.choice(station_ids),
                "kind": rng.choice(kinds),
                "title": f"a{n}",
                "description": "",
                "place": "p",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=2),
                "capacity": 30,
                "target_group": rng.choice(groups),
                "status": ActivityStatus.CANCELLED if rng.random() < 0.08 else "published",
                "created_at": START,
                "updated_at": START,
            }
        )
    async with maker() as session, write_transaction(session):
        await session.execute(insert(Volunteer), volunteers)
        await session.execute(insert(Activity), activities)
    async with maker() as session:
        conn = await session.connection()
        volunteer_ids = list((await conn.execute(text("SELECT id FROM volunteer"))).scalars())
        activity_ids = list((await conn.execute(text("SELECT id FROM activity"))).scalars())
    attendance: list[dict[str, Any]] = []
    benefit: list[dict[str, Any]] = []
    for activity_id in activity_ids:
        for volunteer_id in rng.sample(volunteer_ids, rng.randrange(0, 6)):
            mark = rng.choice([None, *AttendanceMark])
            attendance.append(
                {
                    "activity_id": activity_id,
                    "volunteer_id": volunteer_id,
                    "mark": mark,
                    "minutes": 0 if mark is AttendanceMark.ABSENT else rng.randrange(0, 121),
                    "confirmed": rng.random() < 0.85,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
        for group in rng.sample(groups, rng.randrange(0, 3)):
            benefit.append(
                {
                    "activity_id": activity_id,
                    "target_group": group,
                    "count": rng.randrange(0, 40),
                    "updated_at": NOW,
                }
            )
    pledges: list[dict[str, Any]] = []
    for n in range(900):
        pledges.append(
            {
                "receipt": f"R{n:06d}",
                "volunteer_id": rng.choice(volunteer_ids),
                "station_id": rng.choice(station_ids),
                "amount_fen": rng.randrange(1, 500_000),
                "anonymous": rng.random() < 0.2,
                "status": PledgeStatus.RECEIVED
                if n < len(edges)
                else rng.choice(list(PledgeStatus)),
                "created_at": edges[n] if n < len(edges) else moment(),
            }
        )
    async with maker() as session, write_transaction(session):
        await session.execute(insert(Attendance), attendance)
        await session.execute(insert(Beneficiaries), benefit)
        await session.execute(insert(Pledge), pledges)


async def _scalar(session: AsyncSession, sql: str, **params: Any) -> int:
    value = (await (await session.connection()).execute(text(sql), params)).scalar()
    return int(value or 0)


def _in(ids: list[int]) -> str:
    return ",".join(str(int(i)) for i in ids)


async def _expected(
    session: AsyncSession, subtree: list[int], first: date, last: date
) -> dict[str, Any]:
    """The figures, straight from SQL, written without the service's helpers."""
    start = datetime(first.year, first.month, first.day, tzinfo=ZONE).astimezone(UTC)
    end = (datetime(last.year, last.month, last.day, tzinfo=ZONE) + timedelta(days=1)).astimezone(
        UTC
    )
    upto = min(end, NOW + timedelta(microseconds=1))
    sqlite = session.get_bind().dialect.name == "sqlite"

    def ts(moment: datetime) -> Any:
        return moment.replace(tzinfo=None) if sqlite else moment

    where = (
        f"a.station_id IN ({_in(subtree)}) AND a.status <> 'cancelled' "
        "AND a.starts_at >= :start AND a.starts_at < :upto"
    )
    attended = "t.confirmed AND (t.mark IS NULL OR t.mark <> 'absent')"
    p = {"start": ts(start), "upto": ts(upto), "end": ts(end)}
    conn = await session.connection()
    by_kind = {
        ActivityKind(kind): int(n)
        for kind, n in (
            await conn.execute(
                text(f"SELECT a.kind, COUNT(*) FROM activity a WHERE {where} GROUP BY a.kind"), p
            )
        ).all()
    }
    by_group = {
        TargetGroup(group): int(n)
        for group, n in (
            await conn.execute(
                text(
                    "SELECT b.target_group, SUM(b.count) FROM beneficiaries b "
                    f"JOIN activity a ON a.id = b.activity_id WHERE {where} "
                    "GROUP BY b.target_group"
                ),
                p,
            )
        ).all()
    }
    join = f"FROM attendance t JOIN activity a ON a.id = t.activity_id WHERE {where} AND {attended}"
    pledge_where = (
        f"station_id IN ({_in(subtree)}) AND status <> 'cancelled' "
        "AND created_at >= :start AND created_at < :end"
    )
    return {
        "activities_by_kind": by_kind,
        "participations": await _scalar(session, f"SELECT COUNT(*) {join}", **p),
        "volunteers": await _scalar(session, f"SELECT COUNT(DISTINCT t.volunteer_id) {join}", **p),
        "minutes": await _scalar(session, f"SELECT SUM(t.minutes) {join}", **p),
        "beneficiaries_by_group": {g: n for g, n in by_group.items() if n},
        "new_volunteers": await _scalar(
            session,
            f"SELECT COUNT(*) FROM volunteer WHERE station_id IN ({_in(subtree)}) "
            "AND created_at >= :start AND created_at < :end",
            **p,
        ),
        "pledges": await _scalar(session, f"SELECT COUNT(*) FROM pledge WHERE {pledge_where}", **p),
        "pledged_fen": await _scalar(
            session, f"SELECT SUM(amount_fen) FROM pledge WHERE {pledge_where}", **p
        ),
        "received_fen": await _scalar(
            session,
            f"SELECT SUM(amount_fen) FROM pledge WHERE {pledge_where} AND status = 'received'",
            **p,
        ),
    }


def _actual(figures: tallies.Figures) -> dict[str, Any]:
    return {
        "activities_by_kind": {k: n for k, n in figures.activities_by_kind.items() if n},
        "participations": figures.participations,
        "volunteers": figures.volunteers,
        "minutes": figures.minutes,
        "beneficiaries_by_group": {g: n for g, n in figures.beneficiaries_by_group.items() if n},
        "new_volunteers": figures.new_volunteers,
        "pledges": figures.pledges,
        "pledged_fen": figures.pledged_fen,
        "received_fen": figures.received_fen,
    }


PERIODS = [
    tallies.iso_week(2026, 47),  # this week: activities after NOW are not held yet
    tallies.iso_week(2026, 46),
    tallies.Period(date(2026, 10, 1), date(2026, 11, 30)),
]


@pytest.mark.parametrize("code", ["hf", "hf-ss", "hf-ss-xy", "hf-ss-xy-xyxc"])
async def test_every_figure_matches_sql(sessionmaker: SessionMaker, code: str) -> None:
    ids = await load_example_tree(sessionmaker)
    await _populate(sessionmaker, ids)
    async with sessionmaker() as session:
        tree = await stations.tree(session)
        for period in PERIODS:
            result = await tallies.tally(
                session, station_id=ids[code], period=period, zone=ZONE, now=NOW
            )
            expected = await _expected(session, tree.subtree(ids[code]), period.first, period.last)
            assert _actual(result.figures) == expected, (code, period)
            assert result.figures.activities > 0 or code == "hf-ss-xy-xyxc"
            before = period.previous()
            assert _actual(result.previous) == await _expected(
                session, tree.subtree(ids[code]), before.first, before.last
            )
            # One line per child station (its whole subtree), plus the station's own.
            for line in result.lines:
                assert line.station.id is not None
                members = [line.station.id] if line.own else tree.subtree(line.station.id)
                assert _actual(line.figures) == await _expected(
                    session, members, period.first, period.last
                ), (code, line.station.code)
            assert {line.station.id for line in result.lines if not line.own} == set(
                tree.children.get(ids[code], [])
            )


async def test_large_subtrees_match_sql_too(
    sessionmaker: SessionMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Subtrees above SMALL_SUBTREE stations are found by the recursive query alone
    (no list of ids): the same figures."""
    monkeypatch.setattr(tallies, "SMALL_SUBTREE", 0)
    ids = await load_example_tree(sessionmaker)
    await _populate(sessionmaker, ids)
    async with sessionmaker() as session:
        tree = await stations.tree(session)
        for code in ("hf", "hf-ss-xy", "hf-ss-xy-xyxc"):
            for period in PERIODS:
                result = await tallies.tally(
                    session, station_id=ids[code], period=period, zone=ZONE, now=NOW
                )
                subtree = tree.subtree(ids[code])
                expected = await _expected(session, subtree, period.first, period.last)
                assert _actual(result.figures) == expected, (code, period)
                for line in result.lines:
                    assert line.station.id is not None
                    members = [line.station.id] if line.own else tree.subtree(line.station.id)
                    assert _actual(line.figures) == await _expected(
                        session, members, period.first, period.last
                    ), (code, line.station.code)


async def test_the_data_is_not_trivial(sqlite_sessionmaker: SessionMaker) -> None:
    """The generated records exercise every figure, so the comparison above means something."""
    ids = await load_example_tree(sqlite_sessionmaker)
    await _populate(sqlite_sessionmaker, ids)
    async with sqlite_sessionmaker() as session:
        result = await tallies.tally(
            session, station_id=ids["hf"], period=PERIODS[2], zone=ZONE, now=NOW
        )
    f = result.figures
    assert f.activities > 1000 and len(f.activities_by_kind) == len(ActivityKind)
    assert f.participations > f.volunteers > 100
    assert f.minutes > 10_000 and f.beneficiaries > 1000 and f.new_volunteers > 100
    assert f.pledges > 100 and f.pledged_fen > f.received_fen > 0


def test_periods() -> None:
    assert tallies.parse_period("2026-W47") == tallies.Period(
        date(2026, 11, 16), date(2026, 11, 22)
    )
    assert tallies.parse_period(" 2026w1 ").first == date(2025, 12, 29)
    assert tallies.parse_period("2026-11-1 至 2026-11-30").days == 30
    assert tallies.parse_period("2026-11-01 to 2026-11-30").days == 30  # the English example
    assert tallies.week_of(date(2026, 11, 22)) == tallies.iso_week(2026, 47)
    assert tallies.iso_week(2026, 47).previous() == tallies.iso_week(2026, 46)
    assert tallies.iso_week(2026, 47).iso_week == (2026, 47)
    for bad in ("2026-W54", "2026-11-30 2026-11-01", "last tuesday", "2024-01-01 2026-01-01"):
        with pytest.raises(InvalidInput):
            tallies.parse_period(bad)
