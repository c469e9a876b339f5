"""Resident memory of the bot: idle against aiogram's import, and after many users.

One run, all in fresh processes of this Python:

1. ``python -c "import aiogram"`` (it then waits on its stdin): its resident memory,
   the floor any aiogram bot starts from;
2. the bot as it is run in production, ``python -m bot run``, against a local Bot
   API stand-in (in this process) and a fresh database (SQLite in a temporary
   directory unless ``--database-url`` is given): its resident memory at its first
   getUpdates and ``--idle`` (10) seconds later (the idle figure; the goal: at most
   1.2 times aiogram's import), and once its CPU has gone quiet (settled: on a busy
   machine its startup work may outlast the 10 s);
3. then ``--users`` (10,000) different users each send ``--text`` once (default: a
   greeting that reaches the fallback; a first visit, so the user row is written;
   ``--text /start`` also opens the registration dialog), in waves of ``--wave``,
   until every one has its answer; after ``--settle`` (5) seconds, the resident memory
   again (the goal: flat, at most ``--margin`` (5) per cent above the lower of the
   idle and settled figures).
4. ``python -c "import aiogram"`` once more, to see the machine did not change.

Memory is read with psutil (RSS) from this process; the bot's log goes to a file in
the temporary directory and is shown if it fails.

    .venv/bin/python -m benchmarks.memory [--users 10000] [--idle 10]
        [--database-url postgresql://...] [--json]

A ``--database-url`` must point to an empty database (no schema yet): the bot
creates the tables, and the benchmark downgrades the schema to base when it is done.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

# The repository root, for `python benchmarks/memory.py` (harmless with `-m`).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiogram
import psutil

from benchmarks.common import (
    BenchmarkError,
    backend_name,
    empty_database,
    load_average,
    rss_mib,
    safe_url,
    verdict,
)
from standin.server import BotAPIStandin

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:MEMORY-BENCHMARK"
FIRST_USER_ID = 740_000_001
GREETING = "你好"  # no feature takes it: the fallback answers
IDLE_GOAL = 1.2  # idle resident memory at most this times aiogram's import
START_TIMEOUT = 120.0
WAVE_TIMEOUT = 300.0
QUIET_LIMIT = 120.0


def aiogram_import_mib() -> float:
    """Resident memory of a fresh Python that imported aiogram."""
    code = "import sys, aiogram; print('ready', flush=True); sys.stdin.readline()"
    with subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None and child.stdin is not None
        if child.stdout.readline().strip() != "ready":
            raise BenchmarkError("python -c 'import aiogram' failed")
        found = rss_mib(child.pid)
        child.stdin.write("\n")
        child.stdin.flush()
        child.wait(timeout=30)
    return found


def bot_environment(api_base: str, database_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k.upper()
        not in {"BOT_TOKEN", "TELEGRAM_API_BASE", "DATABASE_URL", "ADMIN_IDS", "LOG_LEVEL"}
    }
    env.update(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE=api_base,
        DATABASE_URL=database_url,
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    return env


@contextlib.asynccontextmanager
async def running_bot(
    api_base: str, database_url: str, workdir: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, Path]]:
    """``python -m bot run`` in ``workdir`` (no .env there), stopped with SIGINT."""
    log = workdir / "bot.log"
    with log.open("wb") as out:
        bot = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=workdir,
            env=bot_environment(api_base, database_url),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield bot, log
    finally:
        if bot.returncode is None:
            bot.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(bot.wait(), timeout=30)
            except TimeoutError:
                bot.kill()
                await bot.wait()


@contextlib.asynccontextmanager
async def kept_log(log: Path, keep: Path | None) -> AsyncIterator[None]:
    """Copy the bot's log to ``keep`` once the bot has stopped, also on failure."""
    try:
        yield
    finally:
        if keep is not None:
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(shutil.copyfile, log, keep)


def tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


async def first_get_updates(
    standin: BotAPIStandin, bot: asyncio.subprocess.Process, log: Path
) -> float:
    """Seconds from now until the bot's first getUpdates."""
    started = time.monotonic()
    while not any(name == "getUpdates" for name, _ in standin.requests):
        if bot.returncode is not None:
            raise BenchmarkError(f"the bot exited with {bot.returncode}:\n{tail(log)}")
        if time.monotonic() - started > START_TIMEOUT:
            raise BenchmarkError(f"no getUpdates after {START_TIMEOUT} s:\n{tail(log)}")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


def problems(log: Path, lines: int = 10) -> str:
    """The bot's last warnings and errors (a reply put in the outbox, a failed update)."""
    try:
        text = log.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    found = [line for line in text if " WARNING " in line or " ERROR " in line]
    return "\n".join(found[-lines:]) or "(no warning or error in the bot's log)"


def unanswered(standin: BotAPIStandin, users: Sequence[int]) -> list[int]:
    """The users in ``users`` to whom the bot has sent nothing yet."""
    return [user_id for user_id in users if not standin.chats[user_id].transcript]


async def send_users(
    standin: BotAPIStandin,
    bot: asyncio.subprocess.Process,
    log: Path,
    users: Sequence[int],
    wave: int,
    text: str,
) -> float:
    """Each user sends ``text``, ``wave`` at a time; seconds until all are answered.

    A wave is done when each of its users has a message from the bot, counted per chat:
    a total of messages sent would let one user's second message (an answer sent again
    after a timeout, a notice) stand in for another user's missing answer, and would
    not say who is missing."""
    started = time.monotonic()
    for start in range(0, len(users), wave):
        chunk = users[start : start + wave]
        for user_id in chunk:
            standin.send_text(user_id, text)
        wave_started = time.monotonic()
        waiting = list(chunk)
        while waiting := unanswered(standin, waiting):
            if bot.returncode is not None:
                raise BenchmarkError(f"the bot exited with {bot.returncode}:\n{tail(log)}")
            if standin.internal_errors:
                raise BenchmarkError(f"the stand-in failed: {standin.internal_errors[0]!r}")
            if time.monotonic() - wave_started > WAVE_TIMEOUT:
                undelivered = [u for u in waiting if standin.updates.pending_for(u)]
                raise BenchmarkError(
                    f"{len(waiting)} answers missing after {WAVE_TIMEOUT} s: users "
                    f"{waiting[:10]}; {len(undelivered)} of their updates not yet taken "
                    f"by the bot; {standin.stats.messages_sent} messages sent in all; "
                    f"the bot's last warnings and errors:\n{problems(log)}"
                )
            await asyncio.sleep(0.05)
    return time.monotonic() - started


async def quiet(process: psutil.Process, limit: float = QUIET_LIMIT) -> float:
    """Wait until the bot uses under 5 % of a CPU for a second (its startup work is
    done), at most ``limit`` seconds; return the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = sum(process.cpu_times()[:2])
        await asyncio.sleep(1.0)
        if sum(process.cpu_times()[:2]) - before < 0.05:
            break
    return time.monotonic() - started


async def benchmark(
    *,
    users: int,
    idle: float,
    settle: float,
    wave: int,
    margin: float,
    text: str,
    url: str | None,
    keep_log: Path | None = None,
) -> dict[str, Any]:
    load_before = load_average()
    aiogram_before = aiogram_import_mib()
    ids = list(range(FIRST_USER_ID, FIRST_USER_ID + users))
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        workdir = Path(tmp)
        async with BotAPIStandin() as standin, empty_database(url) as db_url:
            for i, user_id in enumerate(ids):
                standin.add_user(user_id, f"用户{i}", language_code="zh-hans")
            async with (
                kept_log(workdir / "bot.log", keep_log),
                running_bot(standin.base_url, db_url, workdir) as (bot, log),
            ):
                process = psutil.Process(bot.pid)
                to_first = await first_get_updates(standin, bot, log)
                at_first = rss_mib(bot.pid)
                samples = [at_first]
                idle_started = time.monotonic()
                while time.monotonic() - idle_started < idle:
                    await asyncio.sleep(0.5)
                    samples.append(rss_mib(bot.pid))
                at_idle = rss_mib(bot.pid)
                settled_after = await quiet(process)
                at_settled = rss_mib(bot.pid)
                cpu_before = sum(process.cpu_times()[:2])
                sent_before = standin.stats.messages_sent
                seconds = await send_users(standin, bot, log, ids, wave, text)
                cpu_users = sum(process.cpu_times()[:2]) - cpu_before
                messages = standin.stats.messages_sent - sent_before
                await asyncio.sleep(settle)
                after = rss_mib(bot.pid)
                if bot.returncode is not None:
                    raise BenchmarkError(f"the bot exited with {bot.returncode}:\n{tail(log)}")
    aiogram_after = aiogram_import_mib()
    floor = aiogram_before
    ratio = at_idle / floor
    # Flat is judged against the lower of the idle and settled figures: at 10 s a busy
    # machine may still be in the bot's startup work.
    base = min(at_idle, at_settled)
    growth = after - base
    return {
        "aiogram_import_mib": aiogram_before,
        "aiogram_import_mib_again": aiogram_after,
        "first_get_updates_s": round(to_first, 2),
        "rss_mib_at_first_get_updates": at_first,
        "idle_s": idle,
        "rss_mib_idle": at_idle,
        "rss_mib_idle_max": max(samples),
        "idle_ratio": round(ratio, 3),
        "idle_goal": IDLE_GOAL,
        "idle_goal_met": ratio <= IDLE_GOAL,
        "rss_mib_settled": at_settled,
        "settled_after_s": round(idle + settled_after, 1),
        "settled_ratio": round(at_settled / floor, 3),
        "users": users,
        "users_text": text,
        "users_seconds": round(seconds, 1),
        "bot_cpu_ms_per_update": round(1000 * cpu_users / users, 2),
        "bot_messages": messages,
        "rss_mib_after_users": after,
        "growth_mib": round(growth, 1),
        "growth_per_cent": round(100 * growth / base, 1),
        "flat_margin_per_cent": margin,
        "flat_goal_met": after <= base * (1 + margin / 100),
        "database": backend_name(url),
        "database_url": safe_url(url) if url else None,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "python": platform.python_version(),
        "aiogram": aiogram.__version__,
    }


def report(r: dict[str, Any]) -> str:
    database = r["database"] + (f" {r['database_url']}" if r["database_url"] else "")
    return "\n".join(
        [
            f"import aiogram         {r['aiogram_import_mib']:.1f} MiB "
            f"({r['aiogram_import_mib_again']:.1f} MiB again at the end)",
            f"bot, first getUpdates  {r['rss_mib_at_first_get_updates']:.1f} MiB "
            f"({r['first_get_updates_s']:.1f} s after start)",
            f"bot, idle {r['idle_s']:g} s later   {r['rss_mib_idle']:.1f} MiB "
            f"(max {r['rss_mib_idle_max']:.1f}): {r['idle_ratio']:.2f} x aiogram's import "
            f"(goal <= {r['idle_goal']}: {verdict(r['idle_goal_met'])})",
            f"bot, settled           {r['rss_mib_settled']:.1f} MiB once its CPU went quiet, "
            f"{r['settled_after_s']:.1f} s after the first getUpdates: "
            f"{r['settled_ratio']:.2f} x aiogram's import",
            f"after {r['users']} users     {r['rss_mib_after_users']:.1f} MiB, "
            f"{r['growth_mib']:+.1f} MiB ({r['growth_per_cent']:+.1f} %) from idle or settled, "
            "the lower "
            f"(goal flat, within {r['flat_margin_per_cent']:g} %: {verdict(r['flat_goal_met'])})",
            f"the users              each sent {r['users_text']!r} once; all answered in "
            f"{r['users_seconds']:.1f} s ({r['bot_messages']} messages from the bot), "
            f"bot CPU {r['bot_cpu_ms_per_update']:.2f} ms/update",
            f"database               {database}",
            f"load average           {r['load_average_before']} before, "
            f"{r['load_average_after']} after",
            f"setup                  python -m bot run (its defaults), Python {r['python']}, "
            f"aiogram {r['aiogram']}",
        ]
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.memory",
        description="Resident memory of the bot: idle against aiogram's import, and after users.",
    )
    parser.add_argument("--users", type=int, default=10_000, help="different users (10000)")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds idle (10)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the users (5)")
    parser.add_argument("--wave", type=int, default=1000, help="users sending at once (1000)")
    parser.add_argument("--text", default=GREETING, help="what each user sends (a greeting)")
    parser.add_argument(
        "--margin", type=float, default=5.0, help="per cent above idle still flat (5)"
    )
    parser.add_argument(
        "--database-url",
        help="an empty database (default: SQLite in a temporary directory)",
    )
    parser.add_argument(
        "--keep-log", type=Path, help="copy the bot's log there when it stops (also on failure)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.users < 1 or args.wave < 1 or args.idle < 0 or args.settle < 0:
        parser.error("--users and --wave must be at least 1, --idle and --settle not negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        result = asyncio.run(
            benchmark(
                users=args.users,
                idle=args.idle,
                settle=args.settle,
                wave=args.wave,
                margin=args.margin,
                text=args.text,
                url=args.database_url,
                keep_log=args.keep_log,
            )
        )
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
