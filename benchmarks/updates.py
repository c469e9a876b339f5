"""Updates per second: a registered volunteer's /profile against a bare aiogram echo bot.

One run starts one local Bot API stand-in and measures two phases against it, one
after the other, both long polling it with aiogram's defaults (updates handled as
tasks) except a short ``polling_timeout``:

A. a bare aiogram echo bot: one router answering every message with its text;
B. our bot (``build_bot`` + ``build_dispatcher``) on a fresh database (SQLite in a
   temporary directory unless ``--database-url`` is given), with N volunteers
   registered through the services beforehand.

Each phase warms up, then queues M updates at once (plain texts for A, ``/profile``
from the N volunteers round-robin for B) and times until every one has its reply in
the stand-in. Replies are checked before anything is reported (B: each one is the
profile card with the volunteer's name). Reported: updates/s of each phase, the
ratio B/A (the goal is 0.5 or better) and the resident memory of the process.

Everything runs in one process and one event loop: the stand-in's HTTP server and
simulated users share it with the bot under test, the same way in both phases.

    .venv/bin/python -m benchmarks.updates [--updates 2000] [--volunteers 200]
        [--database-url postgresql://...] [--json]

A ``--database-url`` must point to an empty database (no schema yet): the benchmark
creates the tables, fills them, and downgrades the schema to base when it is done.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import platform
import resource
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# The repository root, for `python benchmarks/updates.py` (harmless with `-m`).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiogram
import psutil
from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message
from sqlalchemy.engine import make_url

from bot.app import build_bot, build_dispatcher, make_app_engine, poll
from bot.database import load_tree
from services import stations, users, volunteers
from standin.server import BotAPIStandin
from storage import migrate
from storage.db import SessionMaker, make_sessionmaker
from storage.models import StationLevel
from ui.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:BENCHMARK-TOKEN"
EXAMPLE_TREE = ROOT / "bot" / "example_stations.yaml"
FIRST_USER_ID = 710_000_001
WARMUP = 50
POLLING_TIMEOUT = 1  # seconds a getUpdates long poll may wait
PHASE_TIMEOUT = 90.0  # seconds before a phase is declared stuck
GOAL = 0.5
NOTE = (
    "one process, one event loop: the Bot API stand-in shares it with the bot under "
    "test, the same way in both phases"
)
MIB = 1024 * 1024

# Real names without digits, unique for up to 20 * 20 * 20 volunteers.
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"


class BenchmarkError(Exception):
    """A phase did not finish or answered wrongly; nothing is reported."""


@dataclass(frozen=True)
class Volunteer:
    user_id: int
    name: str
    phone: str

    @property
    def shown_phone(self) -> str:
        """The phone as the profile card shows it: +86 138 0000 0001."""
        local = self.phone.removeprefix("+86")
        return f"+86 {local[:3]} {local[3:7]} {local[7:]}"


@dataclass(frozen=True)
class PhaseResult:
    updates: int
    seconds: float
    updates_per_second: float


def volunteer_name(index: int) -> str:
    s, g = len(_SURNAMES), len(_GIVEN)
    return _SURNAMES[index % s] + _GIVEN[index // s % g] + _GIVEN[index // (s * g) % g]


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# The bots


def build_echo() -> Dispatcher:
    """The bare aiogram bot to compare with: echo every message."""
    router = Router(name="echo")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


def bare_bot(api_base: str) -> Bot:
    return Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))


# Driving a phase


async def _drain(dispatcher: Dispatcher) -> None:
    """Let handler tasks that already sent their reply finish (closing DB sessions)."""
    # aiogram keeps the tasks of handle_as_tasks here; there is no public accessor.
    tasks: set[asyncio.Task[Any]] = getattr(dispatcher, "_handle_update_tasks", set())
    if tasks:
        await asyncio.wait(list(tasks), timeout=10)


@contextlib.asynccontextmanager
async def polling(
    dispatcher: Dispatcher, bot: Bot, settings: Settings | None
) -> AsyncIterator[asyncio.Task[None]]:
    """Poll the stand-in for the duration of the block, then stop cleanly: with
    aiogram's defaults for the bare bot (``settings`` None), and for ours exactly as
    `volunteer-bot run` polls (bounded concurrency)."""
    common: dict[str, Any] = {
        "polling_timeout": POLLING_TIMEOUT,
        "handle_signals": False,
        "close_bot_session": True,
    }
    if settings is None:
        started = dispatcher.start_polling(
            bot, allowed_updates=dispatcher.resolve_used_update_types(), **common
        )
    else:
        started = poll(dispatcher, bot, settings, **common)
    task = asyncio.create_task(started)
    try:
        yield task
    finally:
        await _drain(dispatcher)
        if not task.done():
            with contextlib.suppress(RuntimeError):  # polling had not started
                await dispatcher.stop_polling()
        try:
            await asyncio.wait_for(task, timeout=10)
        except BaseException:
            task.cancel()
            raise


async def send_and_wait(
    standin: BotAPIStandin,
    poller: asyncio.Task[None],
    senders: Sequence[int],
    count: int,
    text_for: Callable[[int], str],
) -> float:
    """Queue ``count`` texts round-robin from ``senders`` at once; return the seconds
    until the stand-in has recorded as many bot messages more."""
    target = standin.stats.messages_sent + count
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i in range(count):
        standin.send_text(senders[i % len(senders)], text_for(i))
    while standin.stats.messages_sent < target:
        if poller.done():
            poller.result()  # raises what stopped the bot
            raise BenchmarkError("the bot stopped polling")
        if standin.internal_errors:
            raise BenchmarkError(f"the stand-in failed: {standin.internal_errors[0]!r}")
        if loop.time() - start > PHASE_TIMEOUT:
            missing = target - standin.stats.messages_sent
            raise BenchmarkError(f"{missing} of {count} replies missing after {PHASE_TIMEOUT} s")
        await asyncio.sleep(0.002)
    return loop.time() - start


async def run_phase(
    standin: BotAPIStandin,
    dispatcher: Dispatcher,
    bot: Bot,
    *,
    senders: Sequence[int],
    updates: int,
    text_for: Callable[[int], str],
    check: Callable[[dict[int, list[str]], dict[int, list[str]]], None],
    settings: Settings | None = None,
) -> PhaseResult:
    gc.collect()
    async with polling(dispatcher, bot, settings) as poller:
        await send_and_wait(standin, poller, senders, WARMUP, text_for)
        marks = {chat_id: standin.mark(chat_id) for chat_id in senders}
        sent: dict[int, list[str]] = {chat_id: [] for chat_id in senders}
        for i in range(updates):  # what send_and_wait will send, for the check
            sent[senders[i % len(senders)]].append(text_for(i))
        seconds = await send_and_wait(standin, poller, senders, updates, text_for)
    replies = {
        chat_id: [m.plain_text for m in standin.changes(chat_id, marks[chat_id])]
        for chat_id in senders
    }
    check(sent, replies)
    if len(standin.updates):
        # Answered updates whose confirmation was cut by the stop: not for the next bot.
        standin.updates.drop_all()
    return PhaseResult(updates, round(seconds, 3), round(updates / seconds, 1))


def check_echo(sent: dict[int, list[str]], replies: dict[int, list[str]]) -> None:
    for chat_id, texts in sent.items():
        if Counter(replies[chat_id]) != Counter(texts):
            raise BenchmarkError(
                f"echo: chat {chat_id} got {len(replies[chat_id])} replies for "
                f"{len(texts)} messages, or different texts: {replies[chat_id][:3]}"
            )


def profile_check(
    roster: dict[int, Volunteer],
) -> Callable[[dict[int, list[str]], dict[int, list[str]]], None]:
    def check(sent: dict[int, list[str]], replies: dict[int, list[str]]) -> None:
        for chat_id, texts in sent.items():
            got = replies[chat_id]
            if len(got) != len(texts):
                raise BenchmarkError(
                    f"/profile: chat {chat_id} got {len(got)} replies for {len(texts)} "
                    f"commands: {[t[:60] for t in got[:3]]}"
                )
            volunteer = roster[chat_id]
            wrong = [t for t in got if volunteer.name not in t or volunteer.shown_phone not in t]
            if wrong:
                raise BenchmarkError(
                    f"/profile: chat {chat_id} got something other than the profile card "
                    f"of {volunteer.name}: {wrong[0][:200]!r}"
                )

    return check


# Our bot's data


async def register_volunteers(maker: SessionMaker, count: int) -> list[Volunteer]:
    """Load the example tree and register ``count`` volunteers through the services."""
    async with maker() as session:
        await stations.import_tree(session, load_tree(EXAMPLE_TREE))
        communities = [
            s.id
            for s in await stations.all_stations(session)
            if s.level == StationLevel.COMMUNITY and s.id is not None
        ]
    if not communities:
        raise BenchmarkError(f"{EXAMPLE_TREE} has no community station")
    roster: list[Volunteer] = []
    for i in range(count):
        user_id = FIRST_USER_ID + i
        volunteer = Volunteer(user_id, volunteer_name(i), f"+861380000{i:04d}")
        draft = volunteers.Draft(
            real_name=volunteer.name,
            phone=volunteer.phone,
            station_id=communities[i % len(communities)],
            age_group="18_35",
            privacy_consent=True,
        )
        async with maker() as session:
            await users.ensure_user(session, user_id)
            await volunteers.save(session, user_id=user_id, draft=draft)
        roster.append(volunteer)
    return roster


def settings_for(url: str) -> Settings:
    return Settings(_env_file=None, database_url=url)


@contextlib.asynccontextmanager
async def database(url: str | None) -> AsyncIterator[str]:
    """A migrated, empty database: a temporary SQLite file, or ``url`` if it has no
    schema yet (downgraded to base afterwards)."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            await migrate.upgrade(url)
            yield url
        return
    settings_for(url)  # validates the URL like the bot does
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


# The run


def rss_mib() -> float:
    rss: int = psutil.Process().memory_info().rss
    return round(rss / MIB, 1)


def peak_rss_mib() -> float:
    peak: int = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return round(peak * scale / MIB, 1)


async def benchmark(*, updates: int, volunteers_count: int, url: str | None) -> dict[str, Any]:
    async with BotAPIStandin() as standin, database(url) as db_url:
        engine = make_app_engine(settings_for(db_url))
        try:
            roster = await register_volunteers(make_sessionmaker(engine), volunteers_count)
            for volunteer in roster:
                standin.add_user(volunteer.user_id, volunteer.name, language_code="zh-hans")
            chats = [v.user_id for v in roster]

            echo = await run_phase(
                standin,
                build_echo(),
                bare_bot(standin.base_url),
                senders=chats,
                updates=updates,
                text_for=lambda i: f"hello {i}",
                check=check_echo,
            )
            rss_after_echo = rss_mib()

            dispatcher = build_dispatcher(
                settings=settings_for(db_url), sessionmaker=make_sessionmaker(engine)
            )
            profile = await run_phase(
                standin,
                dispatcher,
                build_bot(TOKEN, standin.base_url),
                senders=chats,
                updates=updates,
                text_for=lambda _i: "/profile",
                check=profile_check({v.user_id: v for v in roster}),
                settings=settings_for(db_url),
            )
            rss_after_profile = rss_mib()
        finally:
            await engine.dispose()
    return {
        "echo": asdict(echo),
        "profile": asdict(profile),
        "ratio": round(profile.updates_per_second / echo.updates_per_second, 3),
        "goal": GOAL,
        "rss_mib_after_echo": rss_after_echo,
        "rss_mib_after_profile": rss_after_profile,
        "peak_rss_mib": peak_rss_mib(),
        "database": make_url(db_url).get_backend_name() if url else "sqlite (temporary file)",
        "database_url": safe_url(url) if url else None,
        "volunteers": volunteers_count,
        "warmup_updates": WARMUP,
        "polling_timeout": POLLING_TIMEOUT,
        "python": platform.python_version(),
        "aiogram": aiogram.__version__,
        "cpus": psutil.cpu_count(),
        "note": NOTE,
    }


def report(result: dict[str, Any]) -> str:
    lines = []
    for key, label in (("echo", "A  bare aiogram echo"), ("profile", "B  /profile, our bot")):
        phase = result[key]
        lines.append(
            f"{label:<22} {phase['updates']:>6} updates  {phase['seconds']:>7.2f} s"
            f"  {phase['updates_per_second']:>8.1f} updates/s"
        )
    verdict = "meets" if result["ratio"] >= result["goal"] else "below"
    database = result["database"] + (f" {result['database_url']}" if result["database_url"] else "")
    lines += [
        f"ratio B/A              {result['ratio']:.3f}  ({verdict} the goal of {GOAL})",
        f"resident memory        {result['rss_mib_after_profile']:.1f} MiB after B "
        f"({result['rss_mib_after_echo']:.1f} after A), peak {result['peak_rss_mib']:.1f} MiB",
        f"database               {database}, {result['volunteers']} volunteers",
        f"setup                  {result['warmup_updates']} warm-up updates per phase, "
        f"polling_timeout={result['polling_timeout']}, Python {result['python']}, "
        f"aiogram {result['aiogram']}, {result['cpus']} CPUs",
        f"note                   {result['note']}",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.updates",
        description="Updates per second of /profile against a bare aiogram echo bot.",
    )
    parser.add_argument("--updates", type=int, default=2000, help="timed updates per phase")
    parser.add_argument("--volunteers", type=int, default=200, help="registered volunteers")
    parser.add_argument(
        "--database-url",
        help="an empty database for our bot (default: SQLite in a temporary directory)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.updates < 1 or args.volunteers < 1:
        parser.error("--updates and --volunteers must be at least 1")
    if args.volunteers > len(_SURNAMES) * len(_GIVEN) ** 2:
        parser.error(f"--volunteers must be at most {len(_SURNAMES) * len(_GIVEN) ** 2}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        result = asyncio.run(
            benchmark(updates=args.updates, volunteers_count=args.volunteers, url=args.database_url)
        )
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
