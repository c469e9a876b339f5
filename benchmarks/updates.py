"""Updates per second of our bot against an echo bot that sends the same replies, in
interleaved rounds; and (``--head-of-line``) how one chat's burst delays the others.

Throughput (the default). Two local Bot API stand-ins, one per bot, each with the
same N registered volunteers (registered through the services in a fresh database:
SQLite in a temporary directory unless ``--database-url`` is given). Both bots long
poll their stand-in the whole time, each as it is meant to run:

A. an echo bot: bare aiogram (its defaults, updates handled as tasks), answering each
   command with the very reply our bot sent for it (captured from our bot first:
   the same HTML text, parse mode and keyboard), so that only our own work is
   charged to us;
B. our bot (``build_bot`` + ``build_dispatcher``, polled as ``volunteer-bot run``
   polls: bounded concurrency).

For each command (``/profile``; a text that reaches the fallback; ``/activities``; a
button of an open dialog, the station walk of the profile's "edit station", whose
presses re-show a screen in place and change nothing), every volunteer first sends
it once to each bot (warm-up, untimed), then rounds alternate A, B, A, B... (8 each
by default); in a round every volunteer sends it once, and the clock runs until
every reply is in and every handler task has finished. Each round's replies are
checked before anything is reported. Reported per command: the median over the
pairs of round B's updates/s divided by round A's (the goal: 0.9 for /profile and
the dialog button, 0.8 for the fallback text, on both backends); and the CPU time
per update of each bot: this process (every thread, aiosqlite's included; it also
runs the stand-in and the simulated users, the same for both bots, so B minus A is
our own work) and, for a PostgreSQL server on this machine, its processes serving
the database.

Head of line (``--head-of-line``). One stand-in answers every Bot API call after a
delay (100 ms, like a round trip to Telegram). Every sender sends /profile once
(untimed); then other volunteers send /profile one at a time, a few tens of
milliseconds apart, first alone and then while one chat sends 100 /profile in a
burst. Reported: the others' p50, p99 and max reply latency in both cases (the
goal: p99 under 0.5 s with the burst).

Everything runs in one process and one event loop: the stand-ins' HTTP servers and
the simulated users share it with the bots under test.

    .venv/bin/python -m benchmarks.updates [--rounds 8] [--volunteers 100]
        [--database-url postgresql://...] [--json]
    .venv/bin/python -m benchmarks.updates --head-of-line [--burst 100] [--others 60]

A ``--database-url`` must point to an empty database (no schema yet): the benchmark
creates the tables, fills them, and downgrades the schema to base when it is done.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import json
import logging
import math
import platform
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The repository root, for `python benchmarks/updates.py` (harmless with `-m`).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiogram
import psutil
from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from benchmarks.common import (
    BenchmarkError,
    ServerCpu,
    backend_name,
    empty_database,
    load_average,
    peak_rss_mib,
    process_cpu,
    rss_mib,
    safe_url,
    verdict,
)
from bot.app import build_bot, build_dispatcher, make_app_engine, poll
from bot.database import load_tree
from services import activity_admin, stations, users, volunteers
from services.access import Actor
from standin.models import SentMessage
from standin.server import BotAPIStandin
from storage.db import SessionMaker, make_sessionmaker
from storage.models import ActivityKind, StationLevel, TargetGroup
from ui.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:BENCHMARK-TOKEN"
ECHO_TOKEN = "654321:ECHO-BENCHMARK-TOKEN"
EXAMPLE_TREE = ROOT / "bot" / "example_stations.yaml"
FIRST_USER_ID = 710_000_001
ADMIN_ID = 700_000_001  # publishes the activities /activities lists
POLLING_TIMEOUT = 1  # seconds a getUpdates long poll may wait
ROUND_TIMEOUT = 120.0  # seconds before a round is declared stuck
FALLBACK_TEXT = "你好，请问今天有什么安排？"  # no feature takes it: the fallback answers
ACTIVITY_MARK = "基准活动"  # in every published activity's title
WALK = "/walk"  # the echo answers it with the station walk's top screen
# The goals of issue 15: ratio to the same-reply echo, and head-of-line latency.
GOALS = {"profile": 0.9, "dialog": 0.9, "fallback": 0.8}
HEAD_OF_LINE_GOAL_S = 0.5
NOTE = (
    "one process, one event loop: the Bot API stand-ins share it with the bots under "
    "test; this process's CPU includes the stand-ins and simulated users, the same for "
    "both bots, so B minus A is our own work"
)

# Real names without digits, unique for up to 20 * 20 * 20 volunteers.
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"


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
class Reply:
    """One reply as the stand-in recorded it: what the echo sends back."""

    text: str  # as sent (HTML source)
    plain: str  # as shown
    parse_mode: str | None
    markup: dict[str, Any] | None

    @classmethod
    def of(cls, message: SentMessage) -> Reply:
        return cls(message.text, message.plain_text, message.parse_mode, message.reply_markup)

    def keyboard(self) -> InlineKeyboardMarkup | None:
        if self.markup is None:
            return None
        return InlineKeyboardMarkup.model_validate(self.markup)

    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]


@dataclass
class EchoReplies:
    """What the echo answers: a message by its text, a button by its data."""

    by_text: dict[str, tuple[Reply, InlineKeyboardMarkup | None]] = field(default_factory=dict)
    by_data: dict[str, tuple[Reply, InlineKeyboardMarkup | None]] = field(default_factory=dict)


@dataclass
class Round:
    side: str  # "A" (echo) or "B" (ours)
    updates: int
    seconds: float
    cpu_s: float  # this process
    server_cpu_s: float | None  # the PostgreSQL backends of the database

    @property
    def rate(self) -> float:
        return self.updates / self.seconds


def volunteer_name(index: int) -> str:
    s, g = len(_SURNAMES), len(_GIVEN)
    return _SURNAMES[index % s] + _GIVEN[index // s % g] + _GIVEN[index // (s * g) % g]


def settings_for(url: str) -> Settings:
    return Settings(_env_file=None, database_url=url)


# The bots


def build_echo(replies: EchoReplies) -> Dispatcher:
    """The bare aiogram bot to compare with: the captured reply for each command."""
    router = Router(name="echo")

    @router.message()
    async def echo(message: Message) -> None:
        found = replies.by_text.get(message.text or "")
        if found is None:
            await message.answer(message.text or "?")
            return
        reply, keyboard = found
        await message.answer(reply.text, parse_mode=reply.parse_mode, reply_markup=keyboard)

    @router.callback_query()
    async def press(callback: CallbackQuery, bot: Bot) -> None:
        found = replies.by_data.get(callback.data or "")
        await callback.answer()
        if found is None or callback.message is None:
            return
        reply, keyboard = found
        await bot.edit_message_text(
            reply.text,
            chat_id=callback.from_user.id,
            message_id=callback.message.message_id,
            parse_mode=reply.parse_mode,
            reply_markup=keyboard,
        )

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


def bare_bot(api_base: str) -> Bot:
    return Bot(ECHO_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))


@contextlib.asynccontextmanager
async def polling(
    dispatcher: Dispatcher, bot: Bot, settings: Settings | None
) -> AsyncIterator[asyncio.Task[None]]:
    """Poll for the duration of the block, then stop cleanly: with aiogram's defaults
    for the echo (``settings`` None), and for ours exactly as `volunteer-bot run`
    polls (bounded concurrency)."""
    common: dict[str, Any] = {
        "polling_timeout": POLLING_TIMEOUT,
        "handle_signals": False,
        "close_bot_session": True,
    }
    if settings is None:
        started = dispatcher.start_polling(
            bot, allowed_updates=["message", "callback_query"], **common
        )
    else:
        started = poll(dispatcher, bot, settings, **common)
    task = asyncio.create_task(started)
    try:
        yield task
    finally:
        await drain(dispatcher)
        if not task.done():
            with contextlib.suppress(RuntimeError):  # polling had not started
                await dispatcher.stop_polling()
        try:
            await asyncio.wait_for(task, timeout=10)
        except BaseException:
            task.cancel()
            raise


async def drain(dispatcher: Dispatcher) -> None:
    """Wait for handler tasks that already sent their reply (closing DB sessions)."""
    # aiogram keeps the tasks of handle_as_tasks here; there is no public accessor.
    tasks: set[asyncio.Task[Any]] = getattr(dispatcher, "_handle_update_tasks", set())
    while tasks:
        await asyncio.wait(list(tasks), timeout=30)


async def settle(limit: float = 30.0) -> None:
    """Wait until no thread but the event loop's uses CPU (the bot's startup checks
    fonts in a thread), at most ``limit`` seconds."""
    me = psutil.Process()
    main = me.pid  # on Linux the main thread's id is the process id
    deadline = time.monotonic() + limit

    def others() -> float:
        return sum(t.user_time + t.system_time for t in me.threads() if t.id != main)

    while time.monotonic() < deadline:
        before = others()
        await asyncio.sleep(0.5)
        if others() - before < 0.02:
            return


@dataclass
class Side:
    """One bot and its stand-in."""

    name: str
    standin: BotAPIStandin
    dispatcher: Dispatcher
    poller: asyncio.Task[None] | None = None
    dialog_message: dict[int, int] = field(default_factory=dict)  # chat -> message id

    def changes_count(self) -> int:
        return self.standin.stats.messages_sent + self.standin.stats.messages_edited


async def wait_for(side: Side, target: int, started: float) -> None:
    loop = asyncio.get_running_loop()
    while side.changes_count() < target:
        if side.poller is not None and side.poller.done():
            side.poller.result()  # raises what stopped the bot
            raise BenchmarkError(f"bot {side.name} stopped polling")
        if side.standin.internal_errors:
            raise BenchmarkError(f"the stand-in failed: {side.standin.internal_errors[0]!r}")
        if loop.time() - started > ROUND_TIMEOUT:
            missing = target - side.changes_count()
            raise BenchmarkError(
                f"bot {side.name}: {missing} replies missing after {ROUND_TIMEOUT} s"
            )
        await asyncio.sleep(0.002)


# The commands

Check = Callable[[int, list[SentMessage]], str | None]  # chat, its changes -> a problem


@dataclass
class Command:
    key: str
    label: str
    goal: float | None
    text: str | None = None  # a message command; None: a button press of the dialog
    reply: Reply | None = None  # ours, captured from the first volunteer
    screens: tuple[Reply, Reply] | None = None  # the dialog: top and opened screens

    def send(self, side: Side, chat_id: int) -> None:
        if self.text is not None:
            side.standin.send_text(chat_id, self.text)
            return
        assert self.screens is not None
        message = side.standin.chat(chat_id).transcript[side.dialog_message[chat_id]]
        top, opened = self.screens
        # On the top screen open its first entry; on the opened one go back.
        button = top.buttons()[0] if message.plain_text == top.plain else opened.buttons()[-1]
        side.standin.press(chat_id, message.message_id, button["callback_data"])


async def run_round(
    side: Side,
    command: Command,
    chats: Sequence[int],
    server: ServerCpu,
    check: Check,
) -> Round:
    """Every chat sends the command once; time until every reply is in and every
    handler has finished; then check the replies."""
    marks = {chat_id: side.standin.mark(chat_id) for chat_id in chats}
    target = side.changes_count() + len(chats)
    server_before = await server.snapshot()
    cpu_before = process_cpu()
    loop = asyncio.get_running_loop()
    started = loop.time()
    for chat_id in chats:
        command.send(side, chat_id)
    await wait_for(side, target, started)
    await drain(side.dispatcher)
    seconds = loop.time() - started
    cpu = process_cpu() - cpu_before
    server_cpu = ServerCpu.used(server_before, await server.snapshot())
    for chat_id in chats:
        changed = side.standin.changes(chat_id, marks[chat_id])
        problem = check(chat_id, changed)
        if problem is not None:
            raise BenchmarkError(f"{command.label}, bot {side.name}, chat {chat_id}: {problem}")
    return Round(side.name, len(chats), seconds, cpu, server_cpu)


def one_reply(changed: list[SentMessage]) -> SentMessage | str:
    live = [m for m in changed if not m.deleted]
    if len(live) != 1 or len(changed) != 1:
        return f"{len(changed)} changes instead of one: {[m.plain_text[:60] for m in changed]}"
    return live[0]


def same_as(expected: Reply) -> Check:
    def check(_chat_id: int, changed: list[SentMessage]) -> str | None:
        got = one_reply(changed)
        if isinstance(got, str):
            return got
        if got.plain_text != expected.plain or got.reply_markup != expected.markup:
            return f"not the expected reply: {got.plain_text[:120]!r}"
        return None

    return check


def profile_check(roster: dict[int, Volunteer], expected: Reply) -> Check:
    def check(chat_id: int, changed: list[SentMessage]) -> str | None:
        got = one_reply(changed)
        if isinstance(got, str):
            return got
        volunteer = roster[chat_id]
        if volunteer.name not in got.plain_text or volunteer.shown_phone not in got.plain_text:
            return f"not the profile card of {volunteer.name}: {got.plain_text[:200]!r}"
        if got.reply_markup != expected.markup:
            return "the profile card without its keyboard"
        return None

    return check


def activities_check(_chat_id: int, changed: list[SentMessage]) -> str | None:
    got = one_reply(changed)
    if isinstance(got, str):
        return got
    if ACTIVITY_MARK not in got.plain_text or not got.buttons():
        return f"not a list of activities: {got.plain_text[:200]!r}"
    return None


def dialog_check(screens: tuple[Reply, Reply], side: Side) -> Check:
    def check(chat_id: int, changed: list[SentMessage]) -> str | None:
        got = one_reply(changed)
        if isinstance(got, str):
            return got
        if got.message_id != side.dialog_message[chat_id] or got.edits == 0:
            return "the dialog's message was not edited in place"
        if not any(got.plain_text == s.plain and got.reply_markup == s.markup for s in screens):
            return f"not a screen of the station walk: {got.plain_text[:120]!r}"
        return None

    return check


# Our bot's data


async def register_volunteers(maker: SessionMaker, count: int) -> list[Volunteer]:
    """Load the example tree, register ``count`` volunteers through the services, and
    publish activities at every community and at the city for /activities."""
    async with maker() as session:
        await stations.import_tree(session, load_tree(EXAMPLE_TREE))
        every = await stations.all_stations(session)
    communities = [s.id for s in every if s.level == StationLevel.COMMUNITY and s.id is not None]
    city = next((s.id for s in every if s.level == StationLevel.CITY and s.id is not None), None)
    if not communities or city is None:
        raise BenchmarkError(f"{EXAMPLE_TREE} has no city or no community station")
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
    now = datetime.now(UTC)
    for n, station_id in enumerate([city, *communities]):
        start = (now + timedelta(days=2 + n % 5)).replace(minute=0, second=0, microsecond=0)
        activity = activity_admin.ActivityDraft(
            kind=ActivityKind.ELDER_CARE if n % 2 else ActivityKind.CLEANUP,
            title=f"{ACTIVITY_MARK}{n + 1}：社区敬老服务",
            description="陪伴老人聊天、读报、整理房间。",
            place="社区活动中心二楼",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            capacity=20,
            target_group=TargetGroup.ELDERLY,
            repeat_weeks=3,
        )
        async with maker() as session:
            await activity_admin.publish(
                session,
                actor=Actor(ADMIN_ID, is_admin=True),
                station_id=station_id,
                draft=activity,
                now=now,
            )
    return roster


# The throughput run


def make_commands() -> list[Command]:
    return [
        Command("profile", "/profile", GOALS["profile"], text="/profile"),
        Command("fallback", "fallback text", GOALS["fallback"], text=FALLBACK_TEXT),
        Command("activities", "/activities", None, text="/activities"),
        Command("dialog", "dialog button", GOALS["dialog"]),
    ]


async def capture(side: Side, chat_id: int, send: Callable[[], Any]) -> SentMessage:
    """Send one update from ``chat_id`` and return the bot's one change."""
    mark = side.standin.mark(chat_id)
    target = side.changes_count() + 1
    send()
    await wait_for(side, target, asyncio.get_running_loop().time())
    await drain(side.dispatcher)
    got = one_reply(side.standin.changes(chat_id, mark))
    if isinstance(got, str):
        raise BenchmarkError(f"capturing bot {side.name}'s reply: {got}")
    return got


async def open_dialogs(ours: Side, chats: Sequence[int]) -> tuple[Reply, Reply]:
    """Open the station walk of "edit station" from each volunteer's profile card with
    our bot (untimed); return its top screen and the screen its first button opens,
    checking that the opened screen's last button goes back to the top."""
    first = chats[0]
    top: Reply | None = None
    for chat_id in chats:
        card = next(
            (
                m
                for m in reversed(ours.standin.messages(chat_id))
                if any(str(b.get("callback_data", "")).endswith(":station") for b in m.buttons())
            ),
            None,
        )
        if card is None:
            raise BenchmarkError(f"chat {chat_id}: no profile card with an edit-station button")
        data = next(
            str(b["callback_data"])
            for b in card.buttons()
            if str(b.get("callback_data", "")).endswith(":station")
        )
        walk = await capture(
            ours, chat_id, lambda c=chat_id, m=card, d=data: ours.standin.press(c, m.message_id, d)
        )
        ours.dialog_message[chat_id] = walk.message_id
        if top is None:
            top = Reply.of(walk)
    if top is None or not top.buttons():
        raise BenchmarkError("the station walk has no buttons")
    first_button = top.buttons()[0]["callback_data"]
    opened = Reply.of(
        await capture(
            ours,
            first,
            lambda: ours.standin.press(first, ours.dialog_message[first], first_button),
        )
    )
    last_button = opened.buttons()[-1]["callback_data"] if opened.buttons() else ""
    back = await capture(
        ours, first, lambda: ours.standin.press(first, ours.dialog_message[first], last_button)
    )
    if back.plain_text != top.plain or back.reply_markup != top.markup:
        raise BenchmarkError("the station walk's last button does not go back to its top")
    return top, opened


async def open_echo_dialogs(echo: Side, chats: Sequence[int]) -> None:
    """The echo sends each volunteer the walk's top screen (untimed)."""
    for chat_id in chats:
        message = await capture(echo, chat_id, lambda c=chat_id: echo.standin.send_text(c, WALK))
        echo.dialog_message[chat_id] = message.message_id


async def measure_command(
    command: Command,
    echo: Side,
    ours: Side,
    echo_replies: EchoReplies,
    roster: dict[int, Volunteer],
    chats: Sequence[int],
    rounds: int,
    server: ServerCpu,
    profile: Path | None = None,
) -> list[Round]:
    first = chats[0]
    if command.text is not None:
        text = command.text
        reply = Reply.of(await capture(ours, first, lambda: ours.standin.send_text(first, text)))
        command.reply = reply
        echo_replies.by_text[text] = (reply, reply.keyboard())
        if command.key == "profile":
            ours_check: Check = profile_check(roster, reply)
        elif command.key == "activities":
            ours_check = activities_check
        else:
            ours_check = same_as(reply)
        echo_check = same_as(reply)
    else:
        top, opened = await open_dialogs(ours, chats)
        command.screens = (top, opened)
        echo_replies.by_text[WALK] = (top, top.keyboard())
        echo_replies.by_data[top.buttons()[0]["callback_data"]] = (opened, opened.keyboard())
        echo_replies.by_data[opened.buttons()[-1]["callback_data"]] = (top, top.keyboard())
        await open_echo_dialogs(echo, chats)
        ours_check = dialog_check(command.screens, ours)
        echo_check = dialog_check(command.screens, echo)
    # Warm-up: every volunteer sends the command once to each bot.
    await run_round(ours, command, chats, server, ours_check)
    await run_round(echo, command, chats, server, echo_check)
    gc.collect()
    found: list[Round] = []
    profiles = {side.name: cProfile.Profile() for side in (echo, ours)}
    for _ in range(rounds):
        for side, check in ((echo, echo_check), (ours, ours_check)):
            if profile is not None:
                profiles[side.name].enable()
            try:
                found.append(await run_round(side, command, chats, server, check))
            finally:
                if profile is not None:
                    profiles[side.name].disable()
    if profile is not None:
        for name, profiler in profiles.items():
            profiler.dump_stats(profile / f"{command.key}-{name}.prof")
    return found


def summarise(command: Command, found: list[Round]) -> dict[str, Any]:
    a = [r for r in found if r.side == "A"]
    b = [r for r in found if r.side == "B"]
    ratios = [rb.rate / ra.rate for ra, rb in zip(a, b, strict=True)]

    def side(rounds: list[Round]) -> dict[str, Any]:
        updates = sum(r.updates for r in rounds)
        server = [r.server_cpu_s for r in rounds]
        return {
            "median_updates_per_s": round(statistics.median(r.rate for r in rounds), 1),
            "cpu_ms_per_update": round(1000 * sum(r.cpu_s for r in rounds) / updates, 3),
            "server_cpu_ms_per_update": (
                None
                if any(s is None for s in server)
                else round(1000 * sum(s or 0.0 for s in server) / updates, 3)
            ),
            "updates": updates,
        }

    echo, ours = side(a), side(b)
    ratio = statistics.median(ratios)

    def cpu(figures: dict[str, Any]) -> float:
        return float(figures["cpu_ms_per_update"] + (figures["server_cpu_ms_per_update"] or 0))

    return {
        "command": command.label,
        "sent": command.text if command.text is not None else "a station-walk button",
        "ratio_median": round(ratio, 3),
        "ratio_min": round(min(ratios), 3),
        "ratio_max": round(max(ratios), 3),
        "goal": command.goal,
        "goal_met": None if command.goal is None else ratio >= command.goal,
        "echo": echo,
        "ours": ours,
        "own_cpu_ms_per_update": round(ours["cpu_ms_per_update"] - echo["cpu_ms_per_update"], 3),
        # CPU per update of A over B's, the server's included: what the ratio would
        # be on a machine the two bots had to themselves, if CPU were all that counted.
        "cpu_ratio": round(cpu(echo) / cpu(ours), 3),
    }


async def benchmark(
    *,
    rounds: int,
    volunteers_count: int,
    url: str | None,
    only: Sequence[str],
    profile: Path | None = None,
) -> dict[str, Any]:
    load_before = load_average()
    server = ServerCpu(url)
    async with (
        BotAPIStandin() as echo_standin,
        BotAPIStandin() as our_standin,
        empty_database(url) as db_url,
    ):
        settings = settings_for(db_url)
        engine = make_app_engine(settings)
        await server.start()
        try:
            maker = make_sessionmaker(engine)
            roster = await register_volunteers(maker, volunteers_count)
            for volunteer in roster:
                for standin in (echo_standin, our_standin):
                    standin.add_user(volunteer.user_id, volunteer.name, language_code="zh-hans")
            chats = [v.user_id for v in roster]
            echo_replies = EchoReplies()
            echo = Side("A", echo_standin, build_echo(echo_replies))
            ours = Side("B", our_standin, build_dispatcher(settings=settings, sessionmaker=maker))
            results = []
            async with (
                polling(echo.dispatcher, bare_bot(echo_standin.base_url), None) as echo_poller,
                polling(
                    ours.dispatcher, build_bot(TOKEN, our_standin.base_url), settings
                ) as our_poller,
            ):
                echo.poller, ours.poller = echo_poller, our_poller
                await settle()
                commands = make_commands()
                if "dialog" in only and "profile" not in only:
                    only = ["profile", *only]  # the dialog opens from the profile card
                for command in commands:
                    if command.key not in only:
                        continue
                    found = await measure_command(
                        command,
                        echo,
                        ours,
                        echo_replies,
                        {v.user_id: v for v in roster},
                        chats,
                        rounds,
                        server,
                        profile,
                    )
                    results.append(summarise(command, found))
            rss_after = rss_mib()
        finally:
            await server.close()
            await engine.dispose()
    return {
        "commands": results,
        "rounds": rounds,
        "volunteers": volunteers_count,
        "rss_mib_after": rss_after,
        "peak_rss_mib": peak_rss_mib(),
        "database": backend_name(url),
        "database_url": safe_url(url) if url else None,
        "server_cpu": server.available,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "polling_timeout": POLLING_TIMEOUT,
        "update_concurrency": settings_for("sqlite://").update_concurrency,
        "python": platform.python_version(),
        "aiogram": aiogram.__version__,
        "cpus": psutil.cpu_count(),
        "note": NOTE,
    }


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def report(result: dict[str, Any]) -> str:
    lines = [
        f"interleaved rounds: {result['rounds']} A (echo, same reply) and "
        f"{result['rounds']} B (our bot), A/B/A/B..., {result['volunteers']} updates a "
        "round (each volunteer once), after one untimed round each",
        "",
    ]
    for c in result["commands"]:
        goal = (
            "no goal set" if c["goal"] is None else f"goal >= {c['goal']}: {verdict(c['goal_met'])}"
        )
        lines += [
            f"{c['command']}  ({c['sent']})",
            f"  ratio B/A median {c['ratio_median']:.3f} "
            f"(min {c['ratio_min']:.3f}, max {c['ratio_max']:.3f})  {goal}",
            f"  A echo     {c['echo']['median_updates_per_s']:>8.1f} updates/s  "
            f"CPU {c['echo']['cpu_ms_per_update']:.2f} ms/update this process, "
            f"{_ms(c['echo']['server_cpu_ms_per_update'])} ms PostgreSQL",
            f"  B our bot  {c['ours']['median_updates_per_s']:>8.1f} updates/s  "
            f"CPU {c['ours']['cpu_ms_per_update']:.2f} ms/update this process, "
            f"{_ms(c['ours']['server_cpu_ms_per_update'])} ms PostgreSQL",
            f"  our own work (B - A, this process): {c['own_cpu_ms_per_update']:.2f} ms/update;"
            f" CPU ratio A/B (PostgreSQL's included) {c['cpu_ratio']:.3f}",
            "",
        ]
    database = result["database"] + (f" {result['database_url']}" if result["database_url"] else "")
    lines += [
        f"database               {database}, {result['volunteers']} volunteers"
        + (
            ""
            if result["database"].startswith("sqlite") or result["server_cpu"]
            else " (server CPU not readable here)"
        ),
        f"resident memory        {result['rss_mib_after']:.1f} MiB after, "
        f"peak {result['peak_rss_mib']:.1f} MiB",
        f"load average           {result['load_average_before']} before, "
        f"{result['load_average_after']} after",
        f"setup                  polling_timeout={result['polling_timeout']}, our bot "
        f"UPDATE_CONCURRENCY={result['update_concurrency']}, echo aiogram defaults, "
        f"Python {result['python']}, aiogram {result['aiogram']}",
        f"note                   {result['note']}",
    ]
    return "\n".join(lines)


# The head-of-line run


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[rank]


async def latencies(standin: BotAPIStandin, others: Sequence[int], gap: float) -> list[float]:
    """Each of ``others`` sends /profile, ``gap`` seconds apart; the seconds until
    each one's reply."""
    loop = asyncio.get_running_loop()

    async def one(chat_id: int, delay: float) -> float:
        await asyncio.sleep(delay)
        mark = standin.mark(chat_id)
        started = loop.time()
        standin.send_text(chat_id, "/profile")
        await standin.wait_for_message(chat_id, after=mark, timeout=ROUND_TIMEOUT)
        return loop.time() - started

    return list(await asyncio.gather(*(one(c, i * gap) for i, c in enumerate(others))))


def spread(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50_s": round(statistics.median(values), 3),
        "p99_s": round(percentile(values, 99), 3),
        "max_s": round(max(values), 3),
    }


async def head_of_line(
    *, burst: int, others_count: int, gap: float, delay: float, url: str | None
) -> dict[str, Any]:
    load_before = load_average()
    async with BotAPIStandin() as standin, empty_database(url) as db_url:
        settings = settings_for(db_url)
        engine = make_app_engine(settings)
        try:
            maker = make_sessionmaker(engine)
            roster = await register_volunteers(maker, others_count + 1)
            for volunteer in roster:
                standin.add_user(volunteer.user_id, volunteer.name, language_code="zh-hans")
            busy, others = roster[0].user_id, [v.user_id for v in roster[1:]]
            dispatcher = build_dispatcher(settings=settings, sessionmaker=maker)
            async with polling(dispatcher, build_bot(TOKEN, standin.base_url), settings):
                await settle()
                # Warm-up: every sender once, without the delay.
                for chat_id in [busy, *others]:
                    standin.send_text(chat_id, "/profile")
                target = len(others) + 1
                deadline = time.monotonic() + ROUND_TIMEOUT
                while standin.stats.messages_sent < target:
                    if time.monotonic() > deadline:
                        raise BenchmarkError("the warm-up did not finish")
                    await asyncio.sleep(0.01)
                await drain(dispatcher)
                standin.call_delay = delay
                alone = await latencies(standin, others, gap)
                await drain(dispatcher)
                sent_before = standin.stats.messages_sent
                loop = asyncio.get_running_loop()
                burst_started = loop.time()
                for _ in range(burst):
                    standin.send_text(busy, "/profile")
                with_burst = await latencies(standin, others, gap)
                while standin.stats.messages_sent < sent_before + burst + len(others):
                    if loop.time() - burst_started > ROUND_TIMEOUT:
                        raise BenchmarkError("the burst was not answered")
                    await asyncio.sleep(0.01)
                burst_seconds = loop.time() - burst_started
                await drain(dispatcher)
                standin.call_delay = 0
        finally:
            await engine.dispose()
    worst = spread(with_burst)
    return {
        "burst": burst,
        "others": len(others),
        "gap_s": gap,
        "call_delay_s": delay,
        "alone": spread(alone),
        "with_burst": worst,
        "burst_answered_s": round(burst_seconds, 2),
        "goal_p99_s": HEAD_OF_LINE_GOAL_S,
        "goal_met": worst["p99_s"] < HEAD_OF_LINE_GOAL_S,
        "database": backend_name(url),
        "database_url": safe_url(url) if url else None,
        "update_concurrency": settings_for("sqlite://").update_concurrency,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "python": platform.python_version(),
        "aiogram": aiogram.__version__,
    }


def report_head_of_line(result: dict[str, Any]) -> str:
    a, b = result["alone"], result["with_burst"]
    database = result["database"] + (f" {result['database_url']}" if result["database_url"] else "")
    return "\n".join(
        [
            f"head of line: {result['others']} other volunteers send /profile "
            f"{result['gap_s'] * 1000:.0f} ms apart; every Bot API call but getUpdates "
            f"takes {result['call_delay_s'] * 1000:.0f} ms",
            f"others alone           p50 {a['p50_s']:.3f} s  p99 {a['p99_s']:.3f} s  "
            f"max {a['max_s']:.3f} s",
            f"others, one chat sends {result['burst']} at once: p50 {b['p50_s']:.3f} s  "
            f"p99 {b['p99_s']:.3f} s  max {b['max_s']:.3f} s  "
            f"(goal p99 < {result['goal_p99_s']} s: {verdict(result['goal_met'])})",
            f"the burst              all {result['burst']} answered after "
            f"{result['burst_answered_s']:.2f} s",
            f"database               {database}",
            f"load average           {result['load_average_before']} before, "
            f"{result['load_average_after']} after",
            f"setup                  UPDATE_CONCURRENCY={result['update_concurrency']}, "
            f"Python {result['python']}, aiogram {result['aiogram']}",
        ]
    )


# Command line


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.updates",
        description="Our bot against a same-reply echo in interleaved rounds; head-of-line.",
    )
    parser.add_argument("--rounds", type=int, default=8, help="timed rounds per bot (8)")
    parser.add_argument(
        "--volunteers", type=int, default=100, help="registered volunteers = updates a round"
    )
    parser.add_argument(
        "--commands",
        default="profile,fallback,activities,dialog",
        help="which commands, comma-separated (default: all four)",
    )
    parser.add_argument(
        "--head-of-line", action="store_true", help="measure head-of-line latency instead"
    )
    parser.add_argument("--burst", type=int, default=100, help="head of line: the burst (100)")
    parser.add_argument("--others", type=int, default=60, help="head of line: other senders")
    parser.add_argument(
        "--gap", type=float, default=0.05, help="head of line: seconds between others (0.05)"
    )
    parser.add_argument(
        "--call-delay", type=float, default=0.1, help="head of line: seconds per Bot API call"
    )
    parser.add_argument(
        "--database-url",
        help="an empty database for our bot (default: SQLite in a temporary directory)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--profile",
        type=Path,
        help="also profile the timed rounds (cProfile, slower): DIR/<command>-A.prof, -B.prof",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.volunteers < 1 or args.burst < 1 or args.others < 1:
        parser.error("--rounds, --volunteers, --burst and --others must be at least 1")
    if max(args.volunteers, args.others + 1) > len(_SURNAMES) * len(_GIVEN) ** 2:
        parser.error(f"at most {len(_SURNAMES) * len(_GIVEN) ** 2} volunteers")
    known = {c.key for c in make_commands()}
    args.commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    if not args.commands or set(args.commands) - known:
        parser.error(f"--commands: choose from {', '.join(sorted(known))}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.head_of_line:
            result = asyncio.run(
                head_of_line(
                    burst=args.burst,
                    others_count=args.others,
                    gap=args.gap,
                    delay=args.call_delay,
                    url=args.database_url,
                )
            )
            text = report_head_of_line(result)
        else:
            result = asyncio.run(
                benchmark(
                    rounds=args.rounds,
                    volunteers_count=args.volunteers,
                    url=args.database_url,
                    only=args.commands,
                    profile=args.profile,
                )
            )
            text = report(result)
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False) if args.json else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
