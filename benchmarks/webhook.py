"""Updates per second of one webhook worker and of three, against the same stand-in.

    .venv/bin/python -m benchmarks.webhook --database-url postgresql://user@host/empty_db
    .venv/bin/python -m benchmarks.webhook --workers 3 --volunteers 300 --rounds 4

Four `volunteer-bot serve` processes run at once on one database, each on its own
port. The Bot API stand-in (in this process) posts the updates to the webhook, through
its stand-in of a load balancer (``webhook_pusher.targets``): to worker 1 alone for
side A, to workers 2 to 4 (``--workers``) in turn for side B. Rounds alternate A, B,
A, B... (``--rounds`` each, after one untimed round each); in a round every volunteer
sends ``--text`` once and the clock runs until every reply is in. Reported: the median
updates/s of each side, and their ratio B / A, the median over the pairs.

The machine has two cores: the stand-in, the simulated users and the workers share
them, so three workers can use at most what is left after the stand-in; the figure
says how much serving by several processes gains on this machine, not on a larger one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import (
    BenchmarkError,
    backend_name,
    empty_database,
    load_average,
    safe_url,
)
from benchmarks.updates import register_volunteers
from standin.server import BotAPIStandin
from storage.db import make_engine, make_sessionmaker

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:WEBHOOK-BENCH"
SECRET = "bench-secret"
ROUND_TIMEOUT = 120.0
HOOK_PATH = "/hook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_worker(
    standin: BotAPIStandin, database_url: str, port: int, workdir: Path
) -> asyncio.subprocess.Process:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("BOT_", "WEBHOOK_", "DATABASE_", "HEALTH_", "REDIS_"))
    }
    env |= {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": standin.base_url,
        "DATABASE_URL": database_url,
        "WEBHOOK_URL": f"http://127.0.0.1:{port}{HOOK_PATH}",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN_PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    log = (workdir / f"worker-{port}.log").open("wb")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", cwd=workdir, env=env, stdout=log, stderr=log
    )


async def until_listening(port: int, processes: Sequence[asyncio.subprocess.Process]) -> None:
    for _ in range(1200):
        if any(p.returncode is not None for p in processes):
            raise BenchmarkError("a worker stopped while starting (see its log)")
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise BenchmarkError(f"no worker listening on {port} after 60 s")


def show_logs(workdir: Path) -> None:
    """The end of each worker's log, when the benchmark failed."""
    for log in sorted(workdir.glob("worker-*.log")):
        sys.stderr.write(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")


def replies(standin: BotAPIStandin) -> int:
    return standin.stats.messages_sent + standin.stats.messages_edited


async def run_round(standin: BotAPIStandin, chats: Sequence[int], text: str) -> float:
    loop = asyncio.get_running_loop()
    target = replies(standin) + len(chats)
    started = loop.time()
    for chat_id in chats:
        standin.send_text(chat_id, text)
    while replies(standin) < target or len(standin.updates):
        if loop.time() - started > ROUND_TIMEOUT:
            raise BenchmarkError(f"{target - replies(standin)} replies missing")
        if standin.internal_errors:
            raise BenchmarkError(f"the stand-in failed: {standin.internal_errors[0]!r}")
        await asyncio.sleep(0.002)
    return len(chats) / (loop.time() - started)


async def benchmark(
    database_url: str, *, workers: int, volunteers: int, rounds: int, text: str
) -> dict[str, Any]:
    engine = make_engine(database_url)
    try:
        roster = await register_volunteers(make_sessionmaker(engine), volunteers)
    finally:
        await engine.dispose()
    chats = [v.user_id for v in roster]
    ports = [free_port() for _ in range(1 + workers)]
    with tempfile.TemporaryDirectory(prefix="webhook-bench-") as workdir:
        async with BotAPIStandin() as standin:
            for volunteer in roster:
                standin.add_user(volunteer.user_id, volunteer.name, language_code="zh-hans")
            processes: list[asyncio.subprocess.Process] = []
            try:
                for port in ports:
                    processes.append(await start_worker(standin, database_url, port, Path(workdir)))
                for port in ports:
                    await until_listening(port, processes)
                for _ in range(600):  # every worker has set the webhook
                    if sum(1 for m, _ in standin.requests if m == "setWebhook") >= len(ports):
                        break
                    await asyncio.sleep(0.1)
                sides = {
                    "A": [f"http://127.0.0.1:{ports[0]}{HOOK_PATH}"],
                    "B": [f"http://127.0.0.1:{p}{HOOK_PATH}" for p in ports[1:]],
                }
                rates: dict[str, list[float]] = {"A": [], "B": []}
                for n in range(rounds + 1):
                    for side, targets in sides.items():
                        standin.webhook_pusher.targets = targets
                        rate = await run_round(standin, chats, text)
                        if n:  # the first round of each warms up
                            rates[side].append(rate)
                rejected = len(standin.webhook_pusher.rejections)
            except BaseException:
                show_logs(Path(workdir))
                raise
            finally:
                for process in processes:
                    if process.returncode is None:
                        process.send_signal(signal.SIGTERM)
                for process in processes:
                    try:
                        await asyncio.wait_for(process.wait(), timeout=30)
                    except TimeoutError:
                        process.kill()
    pairs = [b / a for a, b in zip(rates["A"], rates["B"], strict=True)]
    return {
        "database": backend_name(database_url),
        "workers": workers,
        "volunteers": volunteers,
        "rounds": rounds,
        "text": text,
        "one_worker_updates_per_s": statistics.median(rates["A"]),
        "several_workers_updates_per_s": statistics.median(rates["B"]),
        "ratio_median": statistics.median(pairs),
        "ratio_min": min(pairs),
        "ratio_max": max(pairs),
        "posts_refused": rejected,
        "load_average": load_average(),
    }


def report(result: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"webhook: {result['volunteers']} volunteers each send {result['text']!r} once a "
            f"round, {result['rounds']} rounds a side, A/B/A/B...",
            f"  A 1 worker    {result['one_worker_updates_per_s']:8.1f} updates/s (median)",
            f"  B {result['workers']} workers   {result['several_workers_updates_per_s']:8.1f}"
            " updates/s (median)",
            f"  ratio B/A     median {result['ratio_median']:.3f} "
            f"(min {result['ratio_min']:.3f}, max {result['ratio_max']:.3f}); no goal set",
            f"  posts refused {result['posts_refused']} (the stand-in retries them)",
            f"database       {result['database']}",
            f"load average   {result['load_average']}",
        ]
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--volunteers", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--text", default="/profile")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser.parse_args(argv)


async def amain(args: argparse.Namespace) -> dict[str, Any]:
    async with empty_database(args.database_url) as url:
        print(f"database: {safe_url(url)}", file=sys.stderr)
        return await benchmark(
            url,
            workers=args.workers,
            volunteers=args.volunteers,
            rounds=args.rounds,
            text=args.text,
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = asyncio.run(amain(args))
    except BenchmarkError as exc:
        print(f"webhook benchmark failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
