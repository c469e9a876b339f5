"""How long a coordinator's yearly report takes for a city.

The data are those of ``benchmarks/tally.py`` (its builder is imported, not copied):
a city of 2,002 stations; at ``--scale 1`` 100,000 volunteers, 50,000 activities over
the 52 weeks before ``NOW``, 1,000,000 attendance rows, about 75,000 beneficiary
counts and 20,000 pledges. To that this benchmark adds what the report reads beyond
the tally: every activity that has ended gets its records closed, from the same day
to five weeks after its end (a seventh never), and half the pledges are made to an
activity.

Then ``services.coordinator_reports.report`` (the year's figures, the year before
beside them, the ten most active stations, every station's records-on-time rate and
the pledges linked to their activities' beneficiaries: what /report and
``volunteer-bot report --year`` compute) runs for the year of ``NOW`` for the city,
``--repeat`` (5) times after one warm-up; the median and the spread are printed,
with the CPU time, and the time to render the report as text, XLSX and PNG once.
No goal is set; the issue asks for the time.

    .venv/bin/python -m benchmarks.report                       # SQLite, scales 0.1 and 1
    .venv/bin/python -m benchmarks.report --scale 0.1 --scale 1 \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench_report

A ``--database-url`` must name a database used by nothing else: it is wiped, filled,
and its schema dropped at the end unless ``--keep`` (``--reuse`` measures again on
data kept by an earlier ``--keep`` run of the same scale).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The repository root, for `python benchmarks/report.py` (harmless with `-m`).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from benchmarks import tally as tally_bench
from benchmarks.common import load_average, process_cpu, scaled_main, scaled_options
from services import coordinator_reports, stations
from services.report_periods import year_of
from storage.db import make_sessionmaker
from storage.models import Activity, Pledge
from ui.i18n import make_i18n

CHUNK = 5_000


@dataclass(frozen=True)
class Timing:
    scale: float
    backend: str
    stations: int
    activities: int
    participations: int
    on_time_due: int
    pledged_activities: int
    median_ms: float
    min_ms: float
    max_ms: float
    cpu_ms: float  # this process, and a local PostgreSQL server's process
    runs: int
    text_ms: float
    xlsx_ms: float
    png_ms: float | None  # None: no Chinese font here


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def add_closings(engine: AsyncEngine, seed: int = 14) -> None:
    """Close the records of the activities that have ended, and link half the
    pledges to an activity; skipped when an earlier run (``--keep``) did it."""
    async with engine.connect() as conn:
        done = (
            await conn.execute(
                select(func.count())
                .select_from(Activity)
                .where(col(Activity.closed_at).is_not(None))
            )
        ).scalar()
        if done:
            return
        rows = (
            await conn.execute(
                select(col(Activity.id), col(Activity.ends_at)).order_by(col(Activity.id))
            )
        ).all()
        pledges = list(
            (await conn.execute(select(col(Pledge.id)).order_by(col(Pledge.id)))).scalars()
        )
    rng = random.Random(seed)
    closings: list[dict[str, Any]] = []
    for activity_id, ends_at in rows:
        ends = _utc(ends_at)
        if ends > tally_bench.NOW or rng.random() < 1 / 7:
            continue
        closed = ends + timedelta(days=rng.randrange(0, 36), hours=rng.randrange(0, 24))
        closings.append({"i": activity_id, "c": min(closed, tally_bench.NOW)})
    ids = [int(activity_id) for activity_id, _ends in rows if activity_id is not None]
    links = [{"i": p, "a": rng.choice(ids)} for p in pledges if rng.random() < 0.5]
    for statement, values in (
        (
            update(Activity)
            .where(col(Activity.id) == bindparam("i"))
            .values(closed_at=bindparam("c")),
            closings,
        ),
        (
            update(Pledge)
            .where(col(Pledge.id) == bindparam("i"))
            .values(activity_id=bindparam("a")),
            links,
        ),
    ):
        for start in range(0, len(values), CHUNK):
            async with engine.begin() as conn:
                await conn.execute(statement, values[start : start + CHUNK])


async def measure(engine: AsyncEngine, scale: float, repeat: int) -> Timing:
    from reports import report_chart, report_text, report_xlsx, tally_chart

    maker = make_sessionmaker(engine)
    period = year_of(tally_bench.NOW.astimezone(tally_bench.ZONE).date())
    times: list[float] = []
    cpu = 0.0
    async with maker() as session:
        tree = await stations.tree(session)
        city = next(s for s in tree.stations.values() if s.code == tally_bench.CODE)
        assert city.id is not None
        city_id = city.id
        server = await tally_bench._backend_pid(session)
        result = None
        for run in range(repeat + 1):
            began, began_cpu = time.perf_counter(), tally_bench._cpu(server)
            result = await coordinator_reports.report(
                session,
                station_id=city_id,
                period=period,
                zone=tally_bench.ZONE,
                now=tally_bench.NOW,
            )
            if run:  # the first run warms caches and is not counted
                times.append((time.perf_counter() - began) * 1000)
                cpu += tally_bench._cpu(server) - began_cpu
            await session.rollback()
    assert result is not None
    i18n = make_i18n("zh_CN")
    with i18n.context(), i18n.use_locale("zh_CN"):
        began = time.perf_counter()
        report_text.report_text(result, locale="zh_CN")
        text_ms = (time.perf_counter() - began) * 1000
        began = time.perf_counter()
        report_xlsx.render_xlsx(result, locale="zh_CN")
        xlsx_ms = (time.perf_counter() - began) * 1000
        font = tally_chart.find_chart_font()
        png_ms = None
        if font is not None:
            began = time.perf_counter()
            report_chart.render_png(report_chart.chart_data(result, "zh_CN"), font)
            png_ms = round((time.perf_counter() - began) * 1000, 1)
    return Timing(
        scale=scale,
        backend=engine.dialect.name,
        stations=len(tree.subtree(city_id)),
        activities=result.figures.activities,
        participations=result.figures.participations,
        on_time_due=result.on_time_total.due,
        pledged_activities=len(result.pledged),
        median_ms=round(statistics.median(times), 1),
        min_ms=round(min(times), 1),
        max_ms=round(max(times), 1),
        cpu_ms=round(cpu * 1000 / len(times), 1),
        runs=len(times),
        text_ms=round(text_ms, 1),
        xlsx_ms=round(xlsx_ms, 1),
        png_ms=png_ms,
    )


async def main_async(args: argparse.Namespace) -> list[Timing]:
    timings: list[Timing] = []

    async def one(engine: AsyncEngine, scale: float) -> None:
        began = time.perf_counter()
        await add_closings(engine)
        print(f"  closings added in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        timings.append(await measure(engine, scale, args.repeat))
        print(f"  {asdict(timings[-1])}", file=sys.stderr)  # each scale as it ends

    await tally_bench.each_scale(args, "report", one)
    return timings


def report(timings: Sequence[Timing]) -> None:
    print(
        f"{'backend':10} {'scale':>5} {'stations':>8} {'activities':>10} {'particip.':>9} "
        f"{'due':>6} {'pledged':>7} {'median ms':>9} {'min':>8} {'max':>8} {'cpu ms':>8} "
        f"{'text':>6} {'xlsx':>7} {'png':>7}"
    )
    for t in timings:
        png = f"{t.png_ms:7.1f}" if t.png_ms is not None else "      -"
        print(
            f"{t.backend:10} {t.scale:5g} {t.stations:8} {t.activities:10} {t.participations:9} "
            f"{t.on_time_due:6} {t.pledged_activities:7} {t.median_ms:9.1f} {t.min_ms:8.1f} "
            f"{t.max_ms:8.1f} {t.cpu_ms:8.1f} {t.text_ms:6.1f} {t.xlsx_ms:7.1f} {png}"
        )
    print(
        "median/min/max: the city's yearly report (services.coordinator_reports.report), "
        "ms; cpu ms: this process plus a local PostgreSQL server process, per report; "
        "text/xlsx/png: rendering it once (zh_CN), ms"
    )
    print(f"load average: {load_average()}; process CPU {process_cpu():.1f} s")


def parser() -> argparse.ArgumentParser:
    return scaled_options(__doc__, repeat=5, repeat_help="timed runs (default 5)")


def main(argv: Sequence[str] | None = None) -> int:
    return scaled_main(argv, parser(), main_async, report)


if __name__ == "__main__":
    sys.exit(main())
