"""Every figure of a coordinator's report equals an independent SQL query over the
raw records: the tally figures of the period, the previous period (环比) and the same
period a year earlier (同比), the ten most active stations, each station's
records-on-time rate, and the pledges linked to their activities' beneficiaries.

The records of the tally test (``tests.storage.test_tallies``) are generated, then a
third of the activities and of the pledges are moved a year back (so that 同比 has a
base), activities get closing times on both sides of their due day, and a share of
the pledges are made to an activity."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, text, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import coordinator_reports, report_periods, stations, workdays
from services.errors import InvalidInput
from services.report_periods import ReportPeriod, Span
from storage.db import SessionMaker, write_transaction
from storage.models import Activity, Pledge, TargetGroup
from tests.conftest import load_example_tree
from tests.storage.test_tallies import NOW, ZONE, _actual, _expected, _populate


async def _reshape(maker: SessionMaker, seed: int = 14) -> None:
    rng = random.Random(seed)
    async with maker() as session:
        conn = await session.connection()
        activities = (
            await conn.execute(text("SELECT id, starts_at, ends_at FROM activity ORDER BY id"))
        ).all()
        pledges = (await conn.execute(text("SELECT id, created_at FROM pledge ORDER BY id"))).all()
    moved: list[dict[str, Any]] = []
    for activity_id, starts, ends in activities:
        starts, ends = _utc(starts), _utc(ends)
        if rng.random() < 0.33:
            starts, ends = starts - timedelta(days=365), ends - timedelta(days=365)
        # Closed from the same day to five weeks after the end, or never.
        closed = (
            None
            if rng.random() < 0.2
            else ends + timedelta(days=rng.randrange(0, 36), hours=rng.randrange(0, 24))
        )
        if closed is not None and closed > NOW:
            closed = None
        moved.append({"i": activity_id, "s": starts, "e": ends, "c": closed})
    pledge_rows: list[dict[str, Any]] = []
    ids = [row["i"] for row in moved]
    for pledge_id, created in pledges:
        created = _utc(created)
        if rng.random() < 0.33:
            created -= timedelta(days=365)
        linked = rng.choice(ids[:400]) if rng.random() < 0.5 else None
        pledge_rows.append({"i": pledge_id, "c": created, "a": linked})
    async with maker() as session, write_transaction(session):
        conn = await session.connection()
        await conn.execute(
            update(Activity)
            .where(col(Activity.id) == bindparam("i"))
            .values(starts_at=bindparam("s"), ends_at=bindparam("e"), closed_at=bindparam("c")),
            moved,
        )
        await conn.execute(
            update(Pledge)
            .where(col(Pledge.id) == bindparam("i"))
            .values(created_at=bindparam("c"), activity_id=bindparam("a")),
            pledge_rows,
        )


def _bounds(period: ReportPeriod) -> tuple[datetime, datetime]:
    first, last = period.period.first, period.period.last
    start = datetime(first.year, first.month, first.day, tzinfo=ZONE).astimezone(UTC)
    end = (datetime(last.year, last.month, last.day, tzinfo=ZONE) + timedelta(days=1)).astimezone(
        UTC
    )
    return start, end


def _in(ids: list[int]) -> str:
    return ",".join(str(int(i)) for i in ids)


def _utc(moment: datetime | str) -> datetime:
    """A timestamp read back: SQLite gives text, naive UTC."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _query(session: AsyncSession, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    sqlite = session.get_bind().dialect.name == "sqlite"
    bound = {
        k: v.replace(tzinfo=None) if sqlite and isinstance(v, datetime) else v
        for k, v in params.items()
    }
    return [tuple(r) for r in (await (await session.connection()).execute(text(sql), bound)).all()]


async def _expected_busiest(
    session: AsyncSession, subtree: list[int], period: ReportPeriod, codes: dict[int, str]
) -> list[tuple[str, int, int, int]]:
    start, end = _bounds(period)
    upto = min(end, NOW + timedelta(microseconds=1))
    where = (
        f"a.station_id IN ({_in(subtree)}) AND a.status <> 'cancelled' "
        "AND a.starts_at >= :start AND a.starts_at < :upto"
    )
    held = dict(
        await _query(
            session,
            f"SELECT a.station_id, COUNT(*) FROM activity a WHERE {where} GROUP BY a.station_id",
            start=start,
            upto=upto,
        )
    )
    served = {
        s: (int(n), int(m or 0))
        for s, n, m in await _query(
            session,
            "SELECT a.station_id, COUNT(*), SUM(t.minutes) FROM attendance t "
            f"JOIN activity a ON a.id = t.activity_id WHERE {where} AND t.confirmed "
            "AND (t.mark IS NULL OR t.mark <> 'absent') GROUP BY a.station_id",
            start=start,
            upto=upto,
        )
    }
    rows = [
        (codes[s], int(held.get(s, 0)), *served.get(s, (0, 0))) for s in set(held) | set(served)
    ]
    rows.sort(key=lambda r: (-r[1], -r[2], -r[3], r[0]))
    return rows[:10]


def _in_time(ended: date, day: date) -> bool:
    """Whether ``day`` is at the latest the 10th working day after ``ended``: fewer
    than 10 working days pass between them (both excluded), counted one at a time."""
    passed = sum(
        workdays.is_working_day(ended + timedelta(days=n)) for n in range(1, (day - ended).days)
    )
    return passed < 10


async def _expected_on_time(
    session: AsyncSession, subtree: list[int], period: ReportPeriod, codes: dict[int, str]
) -> dict[str, tuple[int, int, int]]:
    start, end = _bounds(period)
    upto = min(end, NOW + timedelta(microseconds=1))
    rows = await _query(
        session,
        "SELECT station_id, ends_at, closed_at FROM activity "
        f"WHERE station_id IN ({_in(subtree)}) AND status <> 'cancelled' "
        "AND starts_at >= :start AND starts_at < :upto AND ends_at <= :now",
        start=start,
        upto=upto,
        now=NOW,
    )
    today = NOW.astimezone(ZONE).date()
    found: dict[str, list[int]] = {}
    for station_id, ends, closed in rows:
        ended = _utc(ends).astimezone(ZONE).date()
        counts = found.setdefault(codes[station_id], [0, 0, 0])
        if closed is not None:
            in_time = _in_time(ended, _utc(closed).astimezone(ZONE).date())
            counts[0 if in_time else 1] += 1
        elif not _in_time(ended, today):
            counts[1] += 1
        else:
            counts[2] += 1
    return {code: (a, b, c) for code, (a, b, c) in found.items()}


async def _expected_pledged(
    session: AsyncSession, subtree: list[int], period: ReportPeriod
) -> dict[int, tuple[int, int, int, dict[TargetGroup, int]]]:
    start, end = _bounds(period)
    pledges = await _query(
        session,
        "SELECT activity_id, COUNT(*), SUM(amount_fen), "
        "SUM(CASE WHEN status = 'received' THEN amount_fen ELSE 0 END) FROM pledge "
        f"WHERE station_id IN ({_in(subtree)}) AND status <> 'cancelled' "
        "AND activity_id IS NOT NULL AND created_at >= :start AND created_at < :end "
        "GROUP BY activity_id",
        start=start,
        end=end,
    )
    found: dict[int, tuple[int, int, int, dict[TargetGroup, int]]] = {}
    for activity_id, n, fen, got in pledges:
        groups = {
            TargetGroup(g): int(c)
            for g, c in await _query(
                session,
                "SELECT target_group, SUM(count) FROM beneficiaries "
                "WHERE activity_id = :a GROUP BY target_group",
                a=activity_id,
            )
            if int(c)
        }
        found[int(activity_id)] = (int(n), int(fen), int(got), groups)
    return found


REPORTS = [
    ReportPeriod(Span.MONTH, 2026, 11),  # under way: activities after NOW not held yet
    ReportPeriod(Span.MONTH, 2026, 10),
    ReportPeriod(Span.QUARTER, 2026, 4),
    ReportPeriod(Span.YEAR, 2026),
    ReportPeriod(Span.MONTH, 2026, 1),  # nothing in it, nor a year before
]


async def test_every_figure_matches_sql(sessionmaker: SessionMaker) -> None:
    ids = await load_example_tree(sessionmaker)
    await _populate(sessionmaker, ids)
    await _reshape(sessionmaker)
    async with sessionmaker() as session:
        tree = await stations.tree(session)
        codes = {s: tree.stations[s].code for s in tree.stations}
        for code, period in [(c, p) for c in ("hf", "hf-ss", "hf-ss-xy") for p in REPORTS]:
            subtree = tree.subtree(ids[code])
            result = await coordinator_reports.report(
                session, station_id=ids[code], period=period, zone=ZONE, now=NOW
            )
            for figures, compared in (
                (result.figures, period),
                (result.previous, period.previous()),
                (result.year_ago, period.year_ago()),
            ):
                span = compared.period
                assert _actual(figures) == await _expected(
                    session, subtree, span.first, span.last
                ), (code, period, compared)
            assert [
                (b.station.code, b.activities, b.participations, b.minutes) for b in result.busiest
            ] == await _expected_busiest(session, subtree, period, codes), (code, period)
            expected = await _expected_on_time(session, subtree, period, codes)
            assert {
                o.station.code: (o.on_time, o.late, o.pending) for o in result.on_time
            } == expected, (code, period)
            total = result.on_time_total
            assert (total.on_time, total.late, total.pending) == tuple(
                sum(v[i] for v in expected.values()) for i in range(3)
            )
            pledged = await _expected_pledged(session, subtree, period)
            assert {
                p.activity_id: (p.pledges, p.pledged_fen, p.received_fen, p.beneficiaries_by_group)
                for p in result.pledged
            } == pledged, (code, period)
            assert [p.pledged_fen for p in result.pledged] == sorted(
                (p.pledged_fen for p in result.pledged), reverse=True
            )


async def test_the_data_is_not_trivial(sqlite_sessionmaker: SessionMaker) -> None:
    """Every part of the report has something to compare, on both sides of each rule."""
    ids = await load_example_tree(sqlite_sessionmaker)
    await _populate(sqlite_sessionmaker, ids)
    await _reshape(sqlite_sessionmaker)
    async with sqlite_sessionmaker() as session:
        result = await coordinator_reports.report(
            session, station_id=ids["hf"], period=REPORTS[2], zone=ZONE, now=NOW
        )
    assert result.figures.activities > 500 and result.year_ago.activities > 200
    assert result.previous.activities == 0  # Q3 2026 holds nothing: 环比 has no base
    assert coordinator_reports.change(result.figures.activities, 0) is None
    assert len(result.busiest) == 10
    total = result.on_time_total
    assert total.on_time > 50 and total.late > 50 and total.pending > 10
    assert 0 < (total.rate or 0) < 100
    assert len(result.pledged) > 20
    assert any(p.beneficiaries_by_group for p in result.pledged)
    assert any(not p.beneficiaries_by_group for p in result.pledged)
    assert sum(result.pledged_beneficiaries.values()) == sum(
        p.beneficiaries for p in result.pledged
    )


def test_change() -> None:
    assert coordinator_reports.change(150, 120) == pytest.approx(25.0)
    assert coordinator_reports.change(90, 120) == pytest.approx(-25.0)
    assert coordinator_reports.change(5, 0) is None


def test_report_periods() -> None:
    nov = report_periods.parse("2026-11")
    assert nov.period.first == date(2026, 11, 1) and nov.period.last == date(2026, 11, 30)
    assert nov.previous() == report_periods.parse("2026年10月")
    assert nov.year_ago().code == "2025-11"
    assert report_periods.parse("2026-01").previous().code == "2025-12"
    q3 = report_periods.parse("2026-Q3")
    assert (q3.period.first, q3.period.last) == (date(2026, 7, 1), date(2026, 9, 30))
    assert q3.previous().code == "2026-Q2" and q3.next().code == "2026-Q4"
    assert report_periods.parse("2026-Q1").previous().code == "2025-Q4"
    assert report_periods.parse("2026年第三季度") == q3
    year = report_periods.parse("2026")
    assert year.period.days == 365 and year.previous() == year.year_ago()
    assert report_periods.parse("2024").period.days == 366
    assert report_periods.parse("2026-12").next().code == "2027-01"
    for bad in ("2026-13", "2026-Q5", "2026-W47", "last year", "99", "2026-00"):
        with pytest.raises(InvalidInput):
            report_periods.parse(bad)
    with pytest.raises(InvalidInput) as caught:
        report_periods.parse_begun("2026-12", date(2026, 11, 20))
    assert caught.value.code == "report.future"
