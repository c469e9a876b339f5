"""A broadcast to N volunteers through the deliverer, against the local Bot API
stand-in enforcing Telegram's flood limits (30 messages/s overall, 1/s per chat).

N volunteers (user rows) and one broadcast to all of them are queued in the outbox
of a fresh database (SQLite in a temporary directory unless ``--database-url`` is
given); then one ``Deliverer`` (``bot.deliverer``), configured as ``volunteer-bot run``
would be with ``SEND_RATE=--rate``, sends them all through ``build_bot``'s Bot over
real HTTP, and the clock runs until every row is settled.

Checked before anything is reported: every recipient's chat holds exactly one
message, and the outbox shows N rows sent. Reported: the elapsed time against the
ideal N / rate and their ratio (the goal: within 5%), the 429 answers the stand-in
gave (the goal: none at the default rate), the deliverer's own counts, and the peak
resident memory of the process.

Everything runs in one process and one event loop: the stand-in's HTTP server shares
it with the deliverer under test.

Then, in the same database, the enqueue: ``--enqueue`` (100,000) active volunteers
of one community (users and volunteers written with bulk inserts, untimed), and one
``services.broadcasts.create`` to that community timed: the service call that finds
the recipients and queues one outbox row each, in one transaction (the goal: about
a second, counted as met up to 1.5 s). Checked: the outbox holds that many rows of
the broadcast. Reported: wall time, rows per second, and the CPU time of this
process and, for a PostgreSQL server on this machine, of its backends.

    .venv/bin/python -m benchmarks.broadcast [--n 10000] [--rate 25] [--enqueue 100000]
        [--database-url postgresql://...] [--json]

A ``--database-url`` must point to an empty database (no schema yet): the benchmark
creates the tables, fills them, and downgrades the schema to base when it is done.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import platform
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The repository root, for `python benchmarks/broadcast.py` (harmless with `-m`).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiogram
import psutil
from sqlalchemy import func, insert
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from benchmarks.common import (
    BenchmarkError,
    ServerCpu,
    empty_database,
    load_average,
    process_cpu,
    safe_url,
    verdict,
)
from bot.app import build_bot, make_app_engine
from bot.deliverer import Deliverer, deliver_due
from services import broadcasts, outbox
from services.access import Actor
from services.outbox import Message
from standin.server import BotAPIStandin
from storage.db import SessionMaker, make_sessionmaker, write_transaction
from storage.models import (
    Broadcast,
    Outbox,
    OutboxState,
    Station,
    StationLevel,
    User,
    Volunteer,
    VolunteerStatus,
)
from storage.types import utcnow
from ui.i18n import make_i18n
from ui.outbox import TEXT, text_payload
from ui.settings import Settings

TOKEN = "123456:BROADCAST-BENCHMARK"
FIRST_CHAT = 720_000_001
GOAL = 0.05  # elapsed within 5% of N / rate
ENQUEUE_GOAL_S = 1.5  # issue 15: queueing 100,000 recipients takes about a second
ENQUEUE_GOAL_N = 100_000  # the goal is judged at this size only
FIRST_ENQUEUE_USER = 730_000_001
ADMIN_ID = 700_000_002
CHUNK = 5_000
MIB = 1024 * 1024
NOTE = "one process, one event loop: the Bot API stand-in shares it with the deliverer"


def settings_for(url: str, rate: float) -> Settings:
    # Quiet hours off: the broadcast is not urgent, and the benchmark runs at any hour.
    return Settings(
        _env_file=None,
        database_url=url,
        send_rate=rate,
        quiet_hours="off",
    )


async def queue_broadcast(maker: SessionMaker, recipients: Sequence[int]) -> None:
    async with maker() as session, write_transaction(session):
        station = Station(code="bench", name="基准测试社区", level=StationLevel.COMMUNITY)
        session.add(station)
        session.add_all(User(id=chat_id, locale="zh_CN") for chat_id in recipients)
        await session.flush()
        assert station.id is not None
        text = "本周六上午九点，社区垃圾分类督导志愿服务，欢迎报名。"
        broadcast = Broadcast(station_id=station.id, text=text, created_by=1, total=len(recipients))
        session.add(broadcast)
        await session.flush()
        await outbox.enqueue(
            session,
            (
                Message(
                    user_id=chat_id,
                    kind=TEXT,
                    key=f"broadcast:{broadcast.id}:{chat_id}",
                    payload=text_payload(f"<b>社区通知</b>\n{text}"),
                    priority=outbox.BULK,
                    urgent=False,
                    station_id=station.id,
                    broadcast_id=broadcast.id,
                )
                for chat_id in recipients
            ),
        )


async def outbox_states(maker: SessionMaker) -> dict[str, int]:
    async with maker() as session:
        rows = await session.exec(
            select(col(Outbox.state), func.count()).group_by(col(Outbox.state))
        )
        return {OutboxState(state).value: int(n) for state, n in rows.all()}


async def time_enqueue(maker: SessionMaker, url: str, count: int) -> dict[str, Any]:
    """``count`` volunteers at one community (bulk inserts, untimed), then one
    ``broadcasts.create`` to it, timed; checks the outbox rows it queued."""
    now = utcnow()
    async with maker() as session, write_transaction(session):
        station = Station(code="bench-enqueue", name="基准入队社区", level=StationLevel.COMMUNITY)
        session.add(station)
        await session.flush()
        assert station.id is not None
        station_id = station.id
    ids = range(FIRST_ENQUEUE_USER, FIRST_ENQUEUE_USER + count)
    async with maker() as session:
        conn = await session.connection()
        for start in range(0, count, CHUNK):
            chunk = ids[start : start + CHUNK]
            await conn.execute(
                insert(User), [{"id": i, "locale": "zh_CN", "created_at": now} for i in chunk]
            )
            await conn.execute(
                insert(Volunteer),
                [
                    {
                        "user_id": i,
                        "station_id": station_id,
                        "status": VolunteerStatus.ACTIVE,
                        "real_name": f"志愿者{i}",
                        "phone": f"+86139{i % 100_000_000:08d}",
                        "skills": [],
                        "created_at": now,
                        "updated_at": now,
                        "weekly_digest": True,
                    }
                    for i in chunk
                ],
            )
        await session.commit()
    server = ServerCpu(url)
    await server.start()
    try:
        async with maker() as session:
            server_before = await server.snapshot()
            cpu_before = process_cpu()
            started = time.perf_counter()
            created = await broadcasts.create(
                session,
                actor=Actor(ADMIN_ID, is_admin=True),
                station_id=station_id,
                skills=[],
                text="本周六上午九点，社区垃圾分类督导志愿服务，欢迎报名。",
                since=now,
            )
            elapsed = time.perf_counter() - started
            cpu = process_cpu() - cpu_before
            server_cpu = ServerCpu.used(server_before, await server.snapshot())
            queued = int(
                (
                    await session.exec(
                        select(func.count())
                        .select_from(Outbox)
                        .where(Outbox.broadcast_id == created.broadcast.id)
                    )
                ).one()
            )
    finally:
        await server.close()
    if queued != count:
        raise BenchmarkError(f"the enqueue queued {queued} outbox rows, not {count}")
    return {
        "recipients": count,
        "seconds": round(elapsed, 3),
        "rows_per_s": round(count / elapsed),
        "cpu_s": round(cpu, 3),
        "server_cpu_s": None if server_cpu is None else round(server_cpu, 3),
        "goal_s": ENQUEUE_GOAL_S,
        "goal_met": elapsed <= ENQUEUE_GOAL_S if count >= ENQUEUE_GOAL_N else None,
    }


def rss_mib() -> float:
    rss: int = psutil.Process().memory_info().rss
    return round(rss / MIB, 1)


def peak_rss_mib() -> float:
    peak: int = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return round(peak * scale / MIB, 1)


async def benchmark(*, n: int, rate: float, url: str | None, enqueue: int) -> dict[str, Any]:
    load_before = load_average()
    recipients = list(range(FIRST_CHAT, FIRST_CHAT + n))
    async with BotAPIStandin(strict_rate_limits=True) as standin, empty_database(url) as db_url:
        for chat_id in recipients:
            standin.add_user(chat_id, f"V{chat_id}", language_code="zh-hans")
        settings = settings_for(db_url, rate)
        engine = make_app_engine(settings)
        bot = build_bot(TOKEN, standin.base_url)
        try:
            maker = make_sessionmaker(engine)
            await queue_broadcast(maker, recipients)
            rss_before = rss_mib()
            deliverer = Deliverer(
                bot=bot, sessionmaker=maker, i18n=make_i18n("zh_CN"), settings=settings
            )
            started = time.perf_counter()
            stats = await deliver_due(deliverer)
            elapsed = time.perf_counter() - started
            states = await outbox_states(maker)
            queued = await time_enqueue(maker, db_url, enqueue) if enqueue else None
        finally:
            await bot.session.close()
            await engine.dispose()
        wrong = [c for c in recipients if len(standin.messages(c)) != 1]
        if wrong:
            counts = {c: len(standin.messages(c)) for c in wrong[:5]}
            raise BenchmarkError(f"{len(wrong)} recipients did not get exactly one: {counts}")
        if states != {"sent": n}:
            raise BenchmarkError(f"the outbox ended as {states}, not {n} sent")
        ideal = n / rate
        return {
            "recipients": n,
            "rate": rate,
            "elapsed_s": round(elapsed, 2),
            "ideal_s": round(ideal, 2),
            "ratio": round(elapsed / ideal, 4),
            "goal": GOAL,
            "messages_per_s": round(n / elapsed, 2),
            "standin_429": standin.stats.too_many_requests,
            "deliverer": {
                "sent": stats.sent,
                "rate_limited": stats.rate_limited,
                "retried": stats.retried,
                "released": stats.released,
                "failed": stats.failed,
            },
            "send_concurrency": settings.send_concurrency,
            "batch_size": deliverer.batch_size,
            "rss_mib_before": rss_before,
            "rss_mib_after": rss_mib(),
            "peak_rss_mib": peak_rss_mib(),
            "database": make_url(db_url).get_backend_name() if url else "sqlite (temporary file)",
            "database_url": safe_url(url) if url else None,
            "python": platform.python_version(),
            "aiogram": aiogram.__version__,
            "cpus": psutil.cpu_count(),
            "enqueue": queued,
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "note": NOTE,
        }


def report(result: dict[str, Any]) -> str:
    over = result["ratio"] - 1
    pacing = verdict(abs(over) <= result["goal"])
    four29 = result["standin_429"]
    database = result["database"] + (f" {result['database_url']}" if result["database_url"] else "")
    enqueue = result["enqueue"]
    if enqueue is None:
        queued = ["enqueue                not measured (--enqueue 0)"]
    else:
        server = enqueue["server_cpu_s"]
        queued = [
            f"enqueue                {enqueue['recipients']} recipients queued by "
            f"broadcasts.create in {enqueue['seconds']:.3f} s ({enqueue['rows_per_s']} rows/s; "
            f"goal for {ENQUEUE_GOAL_N:,}: about 1 s, met up to {enqueue['goal_s']} s: "
            + (
                "not judged at this size)"
                if enqueue["goal_met"] is None
                else f"{verdict(enqueue['goal_met'])})"
            ),
            f"enqueue CPU            {enqueue['cpu_s']:.3f} s this process"
            + ("" if server is None else f", {server:.3f} s PostgreSQL backends"),
        ]
    return "\n".join(
        [
            f"recipients             {result['recipients']} at SEND_RATE={result['rate']:g}/s",
            f"elapsed                {result['elapsed_s']:.2f} s against N/rate "
            f"{result['ideal_s']:.2f} s: ratio {result['ratio']:.4f} "
            f"({over:+.2%}; goal within ±{result['goal']:.0%}: {pacing})",
            f"throughput             {result['messages_per_s']:.2f} messages/s",
            f"429 answers            {four29} from the stand-in "
            f"(goal none: {verdict(four29 == 0)}), "
            f"{result['deliverer']['rate_limited']} seen by the deliverer",
            f"deliverer              {result['deliverer']}",
            f"resident memory        {result['rss_mib_before']:.1f} MiB before sending, "
            f"{result['rss_mib_after']:.1f} after, peak {result['peak_rss_mib']:.1f} MiB",
            f"database               {database}",
            f"setup                  send_concurrency={result['send_concurrency']}, "
            f"batch {result['batch_size']}, Python {result['python']}, "
            f"aiogram {result['aiogram']}, {result['cpus']} CPUs",
            *queued,
            f"load average           {result['load_average_before']} before, "
            f"{result['load_average_after']} after",
            f"note                   {result['note']}",
        ]
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    default_rate = Settings.model_fields["send_rate"].default
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.broadcast",
        description="A broadcast to N volunteers through the paced deliverer.",
    )
    parser.add_argument("--n", type=int, default=10_000, help="recipients (default 10000)")
    parser.add_argument(
        "--rate", type=float, default=default_rate, help=f"SEND_RATE (default {default_rate:g})"
    )
    parser.add_argument(
        "--enqueue",
        type=int,
        default=100_000,
        help="recipients of the timed enqueue (default 100000; 0 skips it)",
    )
    parser.add_argument(
        "--database-url",
        help="an empty database (default: SQLite in a temporary directory)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.n < 1 or args.rate <= 0 or args.enqueue < 0:
        parser.error("--n must be at least 1, --rate positive, --enqueue not negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        result = asyncio.run(
            benchmark(n=args.n, rate=args.rate, url=args.database_url, enqueue=args.enqueue)
        )
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
