"""What the benchmarks share: an empty database, the load average, CPU time of this
process and of the PostgreSQL server processes serving a database, resident memory,
"goal met / not met" beside a figure, and the command line of the benchmarks that
build their data at several scales (options, then the timings as a table or JSON)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.db import make_engine

MIB = 1024 * 1024


class BenchmarkError(Exception):
    """A benchmark did not finish or something answered wrongly; nothing is reported."""


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def backend_name(url: str | None) -> str:
    return make_url(url).get_backend_name() if url else "sqlite (temporary file)"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} ({psutil.cpu_count()} CPUs)"


def verdict(met: bool) -> str:
    return "goal met" if met else "goal not met"


def rss_mib(pid: int | None = None) -> float:
    rss: int = psutil.Process(pid).memory_info().rss
    return round(rss / MIB, 1)


def peak_rss_mib() -> float:
    peak: int = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return round(peak * scale / MIB, 1)


def process_cpu() -> float:
    """Seconds of CPU this process used so far, every thread (aiosqlite's) included
    (CLOCK_PROCESS_CPUTIME_ID: the same sum psutil's cpu_times gives, to the
    nanosecond rather than the clock tick)."""
    return time.process_time()


@contextlib.asynccontextmanager
async def empty_database(url: str | None) -> AsyncIterator[str]:
    """A migrated, empty database: a temporary SQLite file, or ``url`` if it has no
    schema yet (downgraded to base afterwards)."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            await migrate.upgrade(url)
            yield url
        return
    revision = await migrate.current(url)
    if revision is not None:
        raise BenchmarkError(
            f"{safe_url(url)} already has a schema (revision {revision}); "
            "the benchmark needs an empty database"
        )
    await migrate.upgrade(url)
    try:
        yield url
    finally:
        await migrate.downgrade(url, "base")


def _schedstat_seconds(pid: int) -> float | None:
    """CPU time of a local process from /proc/<pid>/schedstat (nanoseconds)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


class ServerCpu:
    """CPU time of the PostgreSQL server processes that serve one database, when the
    server runs on this machine: the backends listed in ``pg_stat_activity`` for the
    database, read from ``/proc/<pid>/schedstat``. A backend that appears between two
    snapshots counts from its start; one that exits between them is lost (a pooled
    engine keeps its connections). For SQLite, or a server elsewhere, ``available``
    is False and every figure is None."""

    def __init__(self, url: str | None) -> None:
        self._engine: AsyncEngine | None = None
        if url is not None and make_url(url).get_backend_name() == "postgresql":
            self._engine = make_engine(url, pool_size=1, max_overflow=0)
        self.available = False

    async def start(self) -> None:
        if self._engine is None:
            return
        async with self._engine.connect() as conn:
            pid = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar() or 0)
        self.available = _schedstat_seconds(pid) is not None

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()

    async def snapshot(self) -> dict[int, float] | None:
        if self._engine is None or not self.available:
            return None
        query = text(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        async with self._engine.connect() as conn:
            pids = [int(p) for p in (await conn.execute(query)).scalars()]
        found = {}
        for pid in pids:
            seconds = _schedstat_seconds(pid)
            if seconds is not None:
                found[pid] = seconds
        return found

    @staticmethod
    def used(before: dict[int, float] | None, after: dict[int, float] | None) -> float | None:
        """Seconds of server CPU between two snapshots."""
        if before is None or after is None:
            return None
        return sum(max(0.0, seconds - before.get(pid, 0.0)) for pid, seconds in after.items())


def scaled_options(doc: str | None, *, repeat: int, repeat_help: str) -> argparse.ArgumentParser:
    """The options of a benchmark that builds its data at several scales: where, which
    scales, how many timed runs (``repeat`` by default), keep or reuse the data, JSON."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    p.add_argument("--database-url", help="an empty database (default: SQLite in a temp dir)")
    p.add_argument(
        "--scale",
        type=float,
        action="append",
        help="1 = 1,000,000 attendance rows; repeat for several (default: 0.1 and 1)",
    )
    p.add_argument("--repeat", type=int, default=repeat, help=repeat_help)
    p.add_argument("--keep", action="store_true", help="keep the data at the end")
    p.add_argument("--reuse", action="store_true", help="reuse data kept by --keep")
    p.add_argument("--json", action="store_true", help="print the timings as JSON")
    return p


def scaled_main(
    argv: Sequence[str] | None,
    parser: argparse.ArgumentParser,
    measure: Callable[[argparse.Namespace], Coroutine[Any, Any, Sequence[Any]]],
    report: Callable[[Sequence[Any]], None],
) -> int:
    """Parse the options (scales 0.1 and 1 unless given), ``measure``, and print the
    timings (dataclasses) as JSON with --json, else as ``report`` lays them out."""
    args = parser.parse_args(argv)
    args.scale = args.scale or [0.1, 1.0]
    timings = asyncio.run(measure(args))
    if args.json:
        print(json.dumps([asdict(t) for t in timings], indent=2))
    else:
        report(timings)
    return 0
