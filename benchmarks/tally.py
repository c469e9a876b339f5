"""How long a weekly tally takes on a city-sized database.

A city like Hefei: one city centre, five districts, 499 streets and three
communities under each street (2,002 stations). At ``--scale 1`` it holds 100,000
volunteers, 50,000 activities spread over the 52 weeks before ``NOW``, 1,000,000
attendance rows (20 per activity), about 75,000 beneficiary counts and 20,000
pledges; every count is proportional to the scale (``--scale 0.1``: 10,000
volunteers, 5,000 activities, 100,000 attendance rows). The rows are written with
bulk core inserts in chunks.

Then ``services.tallies.tally`` (the figures, the previous week beside them and one
line per child station: exactly what /tally and the Monday message compute) runs
for the latest complete week, for the city and for one street, ``--repeat`` (20)
times each after one warm-up; the median and the spread are printed (goal: a
median under 10 ms each). Several scales in one run show how the time grows.

A closed week is read from the roll-ups: first the weekly job's step keeps last week
and the week before it is built (both timed); ``city+fix`` then times the city's
tally right after a late correction to the week, which builds it again.

    .venv/bin/python -m benchmarks.tally                       # SQLite, scales 0.1 and 1
    .venv/bin/python -m benchmarks.tally --scale 0.1 --scale 1 \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench6
    .venv/bin/python -m benchmarks.tally --database-url ... --keep   # keep the data
    .venv/bin/python -m benchmarks.tally --database-url ... --reuse  # measure again

A ``--database-url`` must name a database used by nothing else: the benchmark wipes
its tables (``--reuse`` keeps rows built by an earlier ``--keep`` run of the same
scale), creates the schema, fills it, and drops the schema at the end unless
``--keep``. Without one, SQLite files go to a temporary directory.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# The repository root, for `python benchmarks/tally.py` (harmless with `-m`).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from benchmarks.common import safe_url, scaled_main, scaled_options
from services import stations, tallies, tally_rollups
from storage import migrate
from storage.db import make_engine, make_sessionmaker, write_transaction
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
    StationLevel,
    TargetGroup,
    Volunteer,
    VolunteerStatus,
)

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # a Friday noon in Shanghai, ISO week 47
WEEKS = 52
DISTRICTS = (100, 100, 100, 100, 99)  # streets per district: 499 in all
COMMUNITIES = 3  # per street
FULL = {"volunteers": 100_000, "activities": 50_000, "pledges": 20_000}
PER_ACTIVITY = 20  # attendance rows
CHUNK = 5_000
GOAL_MS = 10.0  # issue 15: the city tally at 1,000,000 attendance rows
CODE = "bench"


@dataclass(frozen=True)
class Sizes:
    scale: float
    volunteers: int
    activities: int
    attendance: int
    beneficiaries: int
    pledges: int


@dataclass(frozen=True)
class Timing:
    scale: float
    backend: str
    target: str
    stations: int
    activities: int
    participations: int
    median_ms: float
    min_ms: float
    max_ms: float
    cpu_ms: float  # CPU time per tally, the database server's included (see ``_cpu``)
    runs: int


async def _insert(engine: AsyncEngine, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        async with engine.begin() as conn:
            await conn.execute(insert(table), list(rows[start : start + CHUNK]))


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


async def build_tree(engine: AsyncEngine) -> dict[str, int]:
    """The city, its districts, streets and communities; returns code -> id."""
    levels: list[list[dict[str, Any]]] = [[], [], [], []]
    levels[0].append({"code": CODE, "name": "合肥市社会工作服务指导中心", "parent": None})
    street_no = 0
    for d, streets in enumerate(DISTRICTS, start=1):
        district = f"{CODE}-d{d}"
        levels[1].append({"code": district, "name": f"第{d}区社会工作服务指导中心", "parent": CODE})
        for _ in range(streets):
            street_no += 1
            street = f"{district}-s{street_no:03d}"
            levels[2].append(
                {"code": street, "name": f"第{street_no}街道社工站", "parent": district}
            )
            for c in range(1, COMMUNITIES + 1):
                levels[3].append(
                    {
                        "code": f"{street}-c{c}",
                        "name": f"第{street_no}街道{c}社区",
                        "parent": street,
                    }
                )
    kinds = [StationLevel.CITY, StationLevel.DISTRICT, StationLevel.STREET, StationLevel.COMMUNITY]
    ids: dict[str, int] = {}
    for level, nodes in zip(kinds, levels, strict=True):
        rows = [
            {
                "code": n["code"],
                "name": n["name"],
                "name_en": None,
                "level": level,
                "parent_id": ids[n["parent"]] if n["parent"] else None,
                "timezone": None,
                "requires_approval": False,
                "created_at": NOW - timedelta(weeks=WEEKS + 1),
            }
            for n in nodes
        ]
        await _insert(engine, _table(Station), rows)
        async with engine.connect() as conn:
            found = await conn.execute(select(col(Station.code), col(Station.id)))
            ids = {code: int(sid or 0) for code, sid in found.all()}
    return ids


def sizes_for(scale: float) -> Sizes:
    activities = round(FULL["activities"] * scale)
    return Sizes(
        scale=scale,
        volunteers=round(FULL["volunteers"] * scale),
        activities=activities,
        attendance=activities * PER_ACTIVITY,
        beneficiaries=0,  # counted as they are made
        pledges=round(FULL["pledges"] * scale),
    )


async def build(engine: AsyncEngine, scale: float, seed: int = 6) -> Sizes:
    rng = random.Random(seed)
    ids = await build_tree(engine)
    # Activities and volunteers belong to streets and communities.
    local = sorted(i for code, i in ids.items() if code.count("-") >= 2)
    sizes = sizes_for(scale)
    span = WEEKS * 7 * 86_400
    first = NOW - timedelta(seconds=span)

    def moment() -> datetime:
        return first + timedelta(seconds=rng.randrange(span))

    volunteers = [
        {
            "station_id": rng.choice(local),
            "status": VolunteerStatus.ACTIVE,
            "real_name": f"v{n}",
            "skills": [],
            "created_at": moment(),
            "updated_at": NOW,
            "weekly_digest": True,
        }
        for n in range(sizes.volunteers)
    ]
    await _insert(engine, _table(Volunteer), volunteers)
    del volunteers
    kinds, groups = list(ActivityKind), list(TargetGroup)
    activities = []
    for n in range(sizes.activities):
        starts = moment()
        activities.append(
            {
                "station_id": rng.choice(local),
                "kind": rng.choice(kinds),
                "title": f"a{n}",
                "description": "",
                "place": "p",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=2),
                "capacity": 30,
                "target_group": rng.choice(groups),
                "status": ActivityStatus.CANCELLED if rng.random() < 0.05 else "published",
                "created_at": starts - timedelta(days=7),
                "updated_at": starts,
            }
        )
    await _insert(engine, _table(Activity), activities)
    del activities
    async with engine.connect() as conn:
        volunteer_ids = list(
            (await conn.execute(text("SELECT id FROM volunteer ORDER BY id"))).scalars()
        )
        activity_ids = list(
            (await conn.execute(text("SELECT id FROM activity ORDER BY id"))).scalars()
        )
    marks = [None, None, AttendanceMark.PRESENT, AttendanceMark.LATE, AttendanceMark.ABSENT]
    attendance: list[dict[str, Any]] = []
    benefit: list[dict[str, Any]] = []
    for activity_id in activity_ids:
        for volunteer_id in rng.sample(volunteer_ids, PER_ACTIVITY):
            mark = rng.choice(marks)
            attendance.append(
                {
                    "activity_id": activity_id,
                    "volunteer_id": volunteer_id,
                    "mark": mark,
                    "minutes": 0 if mark is AttendanceMark.ABSENT else rng.randrange(30, 121),
                    "confirmed": rng.random() < 0.9,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
        for group in rng.sample(groups, rng.randrange(1, 3)):
            benefit.append(
                {
                    "activity_id": activity_id,
                    "target_group": group,
                    "count": rng.randrange(1, 40),
                    "updated_at": NOW,
                }
            )
        if len(attendance) >= 100_000:
            await _insert(engine, _table(Attendance), attendance)
            attendance.clear()
    await _insert(engine, _table(Attendance), attendance)
    await _insert(engine, _table(Beneficiaries), benefit)
    pledges = [
        {
            "receipt": f"B{n:08d}",
            "volunteer_id": rng.choice(volunteer_ids),
            "station_id": rng.choice(local),
            "amount_fen": rng.randrange(100, 500_000),
            "anonymous": False,
            "status": rng.choice(list(PledgeStatus)),
            "created_at": moment(),
        }
        for n in range(sizes.pledges)
    ]
    await _insert(engine, _table(Pledge), pledges)
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE"))  # fresh planner statistics on both backends
    return Sizes(
        scale=scale,
        volunteers=sizes.volunteers,
        activities=sizes.activities,
        attendance=sizes.activities * PER_ACTIVITY,
        beneficiaries=len(benefit),
        pledges=sizes.pledges,
    )


async def counts(engine: AsyncEngine) -> dict[str, int]:
    found = {}
    async with engine.connect() as conn:
        for name in ("station", "volunteer", "activity", "attendance", "beneficiaries", "pledge"):
            value = await conn.execute(select(func.count()).select_from(text(name)))
            found[name] = int(value.scalar() or 0)
    return found


async def _backend_pid(session: Any) -> int | None:
    """The PostgreSQL server process behind this session, when it runs on this machine."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    conn = await session.connection()
    pid = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar() or 0)
    return pid if _local_process(pid) else None


def _local_process(pid: int) -> bool:
    return Path(f"/proc/{pid}/schedstat").exists()


def _cpu(server: int | None) -> float:
    """Seconds of CPU used so far by this process and by the server process."""
    used = time.process_time()
    if server is not None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            used += int(Path(f"/proc/{server}/schedstat").read_text().split()[0]) / 1e9
    return used


async def keep_weeks(engine: AsyncEngine) -> None:
    """What production has before a tally of last week is asked for: the weekly job
    kept last week (``tally_rollups.refresh``); the week before it is built as the
    first tally that shows it would (``tally_rollups.build``). Both timed."""
    maker = make_sessionmaker(engine)
    began = time.perf_counter()
    await tally_rollups.refresh(sessionmaker=maker, zones=[ZONE], now=NOW)
    job = (time.perf_counter() - began) * 1000
    before = tallies.week_of(NOW.astimezone(ZONE).date()).previous().previous()
    async with maker() as session:
        began = time.perf_counter()
        await tally_rollups.build(session, *before.bounds(ZONE))
        one = (time.perf_counter() - began) * 1000
    print(
        f"  roll-ups: the weekly job kept last week in {job:.0f} ms; "
        f"the week before built in {one:.0f} ms",
        file=sys.stderr,
    )


async def _correct(session: Any, period: tallies.Period) -> None:
    """A late correction to a closed week: one counted attendance row's minutes."""
    start, end = period.bounds(ZONE)
    row = (
        await session.scalars(
            select(Attendance)
            .join(Activity, col(Activity.id) == col(Attendance.activity_id))
            .where(
                col(Activity.starts_at) >= start,
                col(Activity.starts_at) < end,
                col(Attendance.confirmed).is_(True),
            )
            .limit(1)
        )
    ).one()
    async with write_transaction(session):
        row.minutes = (row.minutes or 0) + 1
        session.add(row)


async def measure(
    engine: AsyncEngine, scale: float, repeat: int
) -> tuple[list[Timing], dict[str, int]]:
    await keep_weeks(engine)
    maker = make_sessionmaker(engine)
    period = tallies.week_of(NOW.astimezone(ZONE).date()).previous()  # the latest full week
    found: list[Timing] = []
    async with maker() as session:
        tree = await stations.tree(session)
        city = next(s for s in tree.stations.values() if s.code == CODE)
        street = next(s for s in tree.stations.values() if s.code == f"{CODE}-d1-s001")
        targets = (("city", city, False), ("street", street, False), ("city+fix", city, True))
        for label, station, fix in targets:
            assert station.id is not None
            times: list[float] = []
            cpu = 0.0
            result = None
            server = await _backend_pid(session)
            for run in range(repeat + 1):
                if fix:  # each tally after a late correction: the week is built again
                    await _correct(session, period)
                began, began_cpu = time.perf_counter(), _cpu(server)
                result = await tallies.tally(
                    session, station_id=station.id, period=period, zone=ZONE, now=NOW
                )
                if run:  # the first run warms caches and is not counted
                    times.append((time.perf_counter() - began) * 1000)
                    cpu += _cpu(server) - began_cpu
                await session.rollback()
            assert result is not None
            found.append(
                Timing(
                    scale=scale,
                    backend=engine.dialect.name,
                    target=label,
                    stations=len(tree.subtree(station.id)),
                    activities=result.figures.activities,
                    participations=result.figures.participations,
                    median_ms=round(statistics.median(times), 2),
                    min_ms=round(min(times), 2),
                    max_ms=round(max(times), 2),
                    cpu_ms=round(cpu * 1000 / len(times), 2),
                    runs=len(times),
                )
            )
    return found, await counts(engine)


async def prepared(url: str, scale: float, *, reuse: bool) -> tuple[AsyncEngine, Sizes | None]:
    """The engine on a database holding the data of ``scale``: reused when asked and
    there, else built afresh."""
    if reuse:
        engine = make_engine(url)
        try:
            have = await counts(engine)
        except Exception:  # no schema yet
            have = {}
        if have.get("attendance") == sizes_for(scale).attendance:
            await migrate.upgrade(url)  # rows kept by an earlier revision
            return engine, None
        await engine.dispose()
    await wipe(url)
    await migrate.upgrade(url)
    engine = make_engine(url)
    began = time.perf_counter()
    built = await build(engine, scale)
    print(f"  built in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return engine, built


def _remove_sqlite(database: str | None) -> None:
    for suffix in ("", "-wal", "-shm"):
        if database:
            Path(database + suffix).unlink(missing_ok=True)


async def wipe(url: str) -> None:
    if make_url(url).get_backend_name() == "sqlite":
        _remove_sqlite(make_url(url).database)
        return
    await migrate.upgrade(url)  # a database with our schema at any revision, or none
    await migrate.downgrade(url, "base")


async def each_scale(
    args: argparse.Namespace, name: str, measure: Callable[[AsyncEngine, float], Awaitable[None]]
) -> None:
    """``measure`` the data of each --scale, built (or reused with --reuse) in
    --database-url or a temporary SQLite file, and wiped afterwards unless --keep."""
    with tempfile.TemporaryDirectory(prefix=f"{name}-bench-") as tmp:
        for scale in args.scale:
            url = args.database_url or f"sqlite:///{tmp}/{name}-{scale:g}.db"
            print(f"scale {scale:g} on {safe_url(url)}", file=sys.stderr)
            engine, built = await prepared(url, scale, reuse=args.reuse)
            try:
                if built is not None:
                    print(f"  {asdict(built)}", file=sys.stderr)
                await measure(engine, scale)
            finally:
                await engine.dispose()
            if not args.keep:
                await wipe(url)


async def main_async(args: argparse.Namespace) -> list[Timing]:
    timings: list[Timing] = []

    async def one(engine: AsyncEngine, scale: float) -> None:
        found, rows = await measure(engine, scale, args.repeat)
        print(f"  rows: {rows}", file=sys.stderr)
        timings.extend(found)

    await each_scale(args, "tally", one)
    return timings


def report(timings: Sequence[Timing]) -> None:
    print(
        f"{'backend':10} {'scale':>5} {'target':7} {'stations':>8} {'activities':>10} "
        f"{'particip.':>9} {'median ms':>9} {'min':>7} {'max':>7} {'cpu ms':>7}"
    )
    for t in timings:
        flag = "  goal met" if t.median_ms < GOAL_MS else "  goal not met"
        if t.target.endswith("+fix"):
            flag = "  (after a correction: no goal)"
        print(
            f"{t.backend:10} {t.scale:5g} {t.target:7} {t.stations:8} {t.activities:10} "
            f"{t.participations:9} {t.median_ms:9.2f} {t.min_ms:7.2f} {t.max_ms:7.2f} "
            f"{t.cpu_ms:7.2f}{flag}"
        )
    by_key = {(t.backend, t.target, t.scale): t for t in timings}
    scales = sorted({t.scale for t in timings})
    if len(scales) > 1:
        low, high = scales[0], scales[-1]
        for (backend, target, scale), t in sorted(by_key.items()):
            if scale != high or (backend, target, low) not in by_key:
                continue
            before = by_key[(backend, target, low)]
            print(
                f"growth {backend} {target}: x{t.median_ms / before.median_ms:.1f} in time "
                f"for x{high / low:g} rows"
            )
    print(
        f"goal: median under {GOAL_MS:g} ms (issue 15 names the city at scale 1, on both "
        "backends; the street and the smaller scales are held to it too)"
    )
    print(
        "cpu ms: CPU time per tally (mean): this process (with SQLite, the database too) "
        "plus, for a PostgreSQL on this machine, its server process; unlike the wall "
        "times, other load on the machine does not inflate it"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average (1 min) at the end: {load:.2f} on {os.cpu_count()} CPUs")


def parser() -> argparse.ArgumentParser:
    return scaled_options(__doc__, repeat=20, repeat_help="timed runs per tally (default 20)")


def main(argv: Sequence[str] | None = None) -> int:
    return scaled_main(argv, parser(), main_async, report)


if __name__ == "__main__":
    sys.exit(main())
