"""The deliverer against a scripted bot: pacing, Telegram's errors, quiet hours,
renderers, stopping. Times are measured on the mocked session's send log."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import TelegramMethod
from aiogram.utils.i18n import I18n
from sqlmodel import col, select

from bot.deliverer import Deliverer, deliver_due
from bot.scheduler import build_scheduler, wake_deliverer
from services import outbox, users
from services.outbox import Message
from storage.db import SessionMaker, write_transaction
from storage.models import Outbox, OutboxState, User
from tests.mocked_bot import MockedBot
from ui.i18n import make_i18n
from ui.outbox import RENDERERS, Rendered, text_payload
from ui.settings import Settings

I18N = make_i18n("zh_CN")
# 10:00 in Shanghai.
MORNING = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


class Clock:
    """An injectable ``now`` for the deliverer."""

    def __init__(self, now: datetime = MORNING) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def settings(**kw: Any) -> Settings:
    kw.setdefault("send_rate", 1000)
    kw.setdefault("send_chat_interval", 0)
    kw.setdefault("quiet_hours", "off")
    return Settings(_env_file=None, **kw)  # type: ignore[call-arg]


def deliverer(
    bot: MockedBot, maker: SessionMaker, clock: Clock | None = None, **kw: Any
) -> Deliverer:
    return Deliverer(
        bot=bot, sessionmaker=maker, i18n=I18N, settings=settings(**kw), now=clock or Clock()
    )


async def queue(maker: SessionMaker, *messages: Message) -> None:
    async with maker() as session, write_transaction(session):
        await outbox.enqueue(session, messages)


def text(user_id: int, key: str, **kw: Any) -> Message:
    kw.setdefault("due_at", MORNING - timedelta(minutes=1))
    return Message(user_id=user_id, kind="text", key=key, payload=text_payload(key), **kw)


async def stored(maker: SessionMaker) -> dict[str, Outbox]:
    async with maker() as session:
        rows = (await session.exec(select(Outbox).order_by(col(Outbox.id)))).all()
    return {r.key: r for r in rows}


def texts(bot: MockedBot, chat_id: int) -> list[str]:
    return [m.text for m in bot.session.sent_to(chat_id)]


async def until(condition: Callable[[], bool], timeout: float = 10) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    for _ in itertools.count():
        if condition() or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.01)


@pytest.fixture
def bot() -> MockedBot:
    return MockedBot()


@pytest.fixture
def kinds() -> Iterator[dict[str, Any]]:
    """Renderers registered for one test only."""
    added: dict[str, Any] = {}
    yield added
    for kind in added:
        RENDERERS.pop(kind, None)


async def test_renders_in_the_recipients_language(
    bot: MockedBot, sqlite_sessionmaker: SessionMaker, kinds: dict[str, Any]
) -> None:
    async def greeting(session: Any, payload: dict[str, Any]) -> Rendered | None:
        return f"{payload['name']} in {I18n.get_current().current_locale}", None

    kinds["test_greeting"] = RENDERERS["test_greeting"] = greeting
    async with sqlite_sessionmaker() as session:
        await users.set_locale(session, await users.ensure_user(session, 1), "en")
    await queue(
        sqlite_sessionmaker,
        Message(user_id=1, kind="test_greeting", key="g1", payload={"name": "Ann"}),
        Message(user_id=2, kind="test_greeting", key="g2", payload={"name": "Bo"}),
    )
    stats = await deliver_due(deliverer(bot, sqlite_sessionmaker, Clock(datetime.now(UTC))))
    assert texts(bot, 1) == ["Ann in en"] and texts(bot, 2) == ["Bo in zh_CN"]
    assert stats.sent == 2
    rows = await stored(sqlite_sessionmaker)
    assert {r.state for r in rows.values()} == {OutboxState.SENT}
    assert all(r.message_id and r.sent_at for r in rows.values())


async def test_429_pauses_everyone_and_the_row_is_sent_once(
    bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    await queue(sqlite_sessionmaker, *(text(chat, f"m{chat}") for chat in range(1, 31)))

    def flood(method: TelegramMethod[Any]) -> Exception:
        return TelegramRetryAfter(method, "Too Many Requests: retry after 1", 1)

    bot.session.fail_next(3, flood)
    the = deliverer(bot, sqlite_sessionmaker, send_rate=200, send_concurrency=4)
    stats = await deliver_due(the)
    log = bot.session.send_log
    [(flooded_at, _, _)] = [entry for entry in log if entry[2] == "TelegramRetryAfter"]
    after = [t for t, _, error in log if t > flooded_at]
    # Requests already on the way may land just after; then nothing for a second.
    resumed = [t for t in after if t > flooded_at + 0.1]
    assert len(after) - len(resumed) <= 4
    assert resumed and min(resumed) >= flooded_at + 1.0
    assert texts(bot, 3) == ["m3"]
    assert stats.rate_limited == 1 and stats.sent == 30 and stats.failed == 0
    rows = await stored(sqlite_sessionmaker)
    assert {r.state for r in rows.values()} == {OutboxState.SENT}
    assert rows["m3"].attempts == 1  # the 429 did not count


async def test_403_marks_unreachable_until_they_write(
    bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    await queue(
        sqlite_sessionmaker,
        text(5, "first", priority=outbox.NOTICE),
        text(5, "second", priority=outbox.BULK),
        text(6, "other"),
    )
    bot.session.fail_next(
        5, lambda m: TelegramForbiddenError(m, "Forbidden: bot was blocked by the user")
    )
    the = deliverer(bot, sqlite_sessionmaker, send_concurrency=1)
    stats = await deliver_due(the)
    assert texts(bot, 5) == [] and texts(bot, 6) == ["other"]
    assert [chat for _, chat, _ in bot.session.send_log].count(5) == 1  # not tried again
    rows = await stored(sqlite_sessionmaker)
    assert rows["first"].state is OutboxState.SKIPPED
    assert rows["first"].last_error == "Forbidden: bot was blocked by the user"
    assert rows["second"].state is OutboxState.SKIPPED
    assert stats.skipped == 2
    await queue(sqlite_sessionmaker, text(5, "while blocked"))
    await deliver_due(the)
    assert texts(bot, 5) == []
    assert (await stored(sqlite_sessionmaker))["while blocked"].state is OutboxState.SKIPPED
    async with sqlite_sessionmaker() as session:
        user = await session.get(User, 5)
        assert user is not None and user.unreachable_at is not None
        await users.visit(session, 5, "zh_CN")  # they write to the bot again
    await queue(sqlite_sessionmaker, text(5, "welcome back"))
    await deliver_due(the)
    assert texts(bot, 5) == ["welcome back"]


async def test_400_fails_the_row_with_its_reason(
    bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    await queue(sqlite_sessionmaker, text(7, "bad"), text(8, "good"))
    bot.session.fail_next(7, lambda m: TelegramBadRequest(m, "Bad Request: chat not found"))
    stats = await deliver_due(deliverer(bot, sqlite_sessionmaker))
    rows = await stored(sqlite_sessionmaker)
    assert (rows["bad"].state, rows["bad"].last_error) == (
        OutboxState.FAILED,
        "Bad Request: chat not found",
    )
    assert rows["good"].state is OutboxState.SENT and stats.failed == 1
    assert [chat for _, chat, _ in bot.session.send_log].count(7) == 1


async def test_5xx_and_network_errors_retry_with_backoff_then_fail(
    bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    await queue(sqlite_sessionmaker, text(9, "flaky"), text(10, "doomed"))
    bot.session.fail_next(
        9,
        lambda m: TelegramServerError(m, "Internal Server Error"),
        lambda m: TelegramNetworkError(m, "HTTP Client says - ClientConnectorError"),
    )
    bot.session.fail_next(10, *[lambda m: TelegramServerError(m, "Bad Gateway")] * 5)
    clock = Clock()
    the = deliverer(bot, sqlite_sessionmaker, clock, delivery_max_attempts=3)
    await deliver_due(the)
    rows = await stored(sqlite_sessionmaker)
    for key in ("flaky", "doomed"):
        assert rows[key].state is OutboxState.PENDING and rows[key].attempts == 1
        assert rows[key].due_at == clock.now + timedelta(seconds=5)
    assert rows["doomed"].last_error == "Bad Gateway"
    clock.now += timedelta(seconds=4)
    assert await the.run_pass() == 0  # not yet
    clock.now += timedelta(seconds=1)
    await deliver_due(the)
    rows = await stored(sqlite_sessionmaker)
    assert rows["flaky"].due_at == clock.now + timedelta(seconds=10)
    assert "ClientConnectorError" in (rows["flaky"].last_error or "")
    clock.now += timedelta(seconds=10)
    await deliver_due(the)
    rows = await stored(sqlite_sessionmaker)
    assert rows["flaky"].state is OutboxState.SENT and rows["flaky"].attempts == 3
    assert texts(bot, 9) == ["flaky"]
    assert rows["doomed"].state is OutboxState.FAILED
    assert rows["doomed"].last_error == "Bad Gateway (after 3 attempts)"
    assert [chat for _, chat, _ in bot.session.send_log].count(10) == 3
    assert texts(bot, 10) == []


async def test_one_chat_waits_its_interval_without_holding_up_others(
    bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    await queue(
        sqlite_sessionmaker,
        *(text(1, f"busy{i}", priority=outbox.NOTICE) for i in range(3)),
        *(text(chat, f"other{chat}", priority=outbox.BULK) for chat in range(2, 8)),
    )
    the = deliverer(bot, sqlite_sessionmaker, send_chat_interval=0.3, send_concurrency=2)
    await deliver_due(the)
    busy = [t for t, chat, _ in bot.session.send_log if chat == 1]
    others = [t for t, chat, _ in bot.session.send_log if chat != 1]
    assert texts(bot, 1) == ["busy0", "busy1", "busy2"]
    assert len(busy) == 3 and len(others) == 6
    assert all(b - a >= 0.3 for a, b in itertools.pairwise(busy))
    assert max(others) < busy[1]  # the others did not wait behind the busy chat


async def test_global_rate_has_no_bursts(bot: MockedBot, sqlite_sessionmaker: SessionMaker) -> None:
    await queue(sqlite_sessionmaker, *(text(chat, f"b{chat}") for chat in range(1, 31)))
    the = deliverer(bot, sqlite_sessionmaker, send_rate=20, send_concurrency=8)
    started = time.monotonic()
    await deliver_due(the)
    elapsed = time.monotonic() - started
    times = sorted(t for t, _, _ in bot.session.send_log)
    assert len(times) == 30
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.05 * 0.7  # evenly spaced (0.9/rate, give or take), no burst
    # No window of one second holds more than the rate (20) messages.
    assert max(sum(1 for t in times if s <= t < s + 1) for s in times) <= 20
    assert 1.0 <= elapsed < 29 / 20 + 1.0


async def test_quiet_hours_hold_non_urgent_rows_until_morning(
    bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    night = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    await queue(
        sqlite_sessionmaker,
        text(1, "digest", due_at=night, urgent=False),
        text(2, "seat offered", due_at=night, urgent=True),
    )
    clock = Clock(night)
    the = deliverer(bot, sqlite_sessionmaker, clock, quiet_hours="22:00-07:00")
    stats = await deliver_due(the)
    assert texts(bot, 2) == ["seat offered"] and texts(bot, 1) == []
    assert stats.held == 1
    seven = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)  # 07:00 in Shanghai
    assert (await stored(sqlite_sessionmaker))["digest"].due_at == seven
    clock.now = seven - timedelta(seconds=1)
    await deliver_due(the)
    assert texts(bot, 1) == []
    clock.now = seven
    await deliver_due(the)
    assert texts(bot, 1) == ["digest"]


async def test_renderer_none_withdraws_and_raising_fails_without_stopping(
    bot: MockedBot, sqlite_sessionmaker: SessionMaker, kinds: dict[str, Any]
) -> None:
    async def gone(session: Any, payload: dict[str, Any]) -> Rendered | None:
        return None

    async def broken(session: Any, payload: dict[str, Any]) -> Rendered | None:
        raise KeyError("activity")

    kinds["test_gone"] = RENDERERS["test_gone"] = gone
    kinds["test_broken"] = RENDERERS["test_broken"] = broken
    due = MORNING - timedelta(minutes=1)
    await queue(
        sqlite_sessionmaker,
        Message(user_id=1, kind="test_gone", key="gone", due_at=due),
        Message(user_id=2, kind="test_broken", key="broken", due_at=due),
        Message(user_id=3, kind="test_unknown", key="unknown", due_at=due),
        text(4, "fine"),
    )
    stats = await deliver_due(deliverer(bot, sqlite_sessionmaker))
    rows = await stored(sqlite_sessionmaker)
    assert rows["gone"].state is OutboxState.WITHDRAWN
    assert rows["broken"].state is OutboxState.FAILED
    assert rows["broken"].last_error == "render: KeyError('activity')"
    assert rows["unknown"].state is OutboxState.FAILED
    assert "no renderer" in (rows["unknown"].last_error or "")
    assert rows["fine"].state is OutboxState.SENT and texts(bot, 4) == ["fine"]
    assert (stats.withdrawn, stats.failed, stats.sent) == (1, 2, 1)
    assert [chat for _, chat, _ in bot.session.send_log] == [4]


@pytest.fixture
async def running(
    bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> AsyncIterator[list[Deliverer]]:
    started: list[Deliverer] = []
    yield started
    for the in started:
        await the.stop()


async def test_stop_finishes_sends_in_flight_and_gives_back_the_rest(
    bot: MockedBot, sqlite_sessionmaker: SessionMaker, running: list[Deliverer]
) -> None:
    await queue(sqlite_sessionmaker, *(text(chat, f"s{chat}") for chat in range(1, 41)))
    bot.session.latency = 0.3
    the = deliverer(
        bot, sqlite_sessionmaker, Clock(datetime.now(UTC)), send_rate=100, send_concurrency=4
    )
    the.start()
    running.append(the)
    await until(lambda: len(bot.session.send_log) >= 6)
    await the.stop()
    assert not the.running
    rows = await stored(sqlite_sessionmaker)
    sent = {k for k, r in rows.items() if r.state is OutboxState.SENT}
    pending = {k for k, r in rows.items() if r.state is OutboxState.PENDING}
    # Every request that was made was answered and recorded; nothing is left claimed.
    assert len(sent) == len(bot.session.send_log) >= 6
    assert sent | pending == set(rows) and pending
    assert all(rows[k].attempts == 0 and rows[k].claimed_at is None for k in pending)
    again = deliverer(bot, sqlite_sessionmaker, Clock(datetime.now(UTC)))
    bot.session.latency = 0
    await deliver_due(again)
    assert sorted(m.chat_id for m in bot.session.messages.values()) == list(range(1, 41))


async def test_started_deliverer_sends_when_woken(
    bot: MockedBot, sqlite_sessionmaker: SessionMaker, running: list[Deliverer]
) -> None:
    the = Deliverer(bot=bot, sessionmaker=sqlite_sessionmaker, i18n=I18N, settings=settings())
    the.start()
    running.append(the)
    await asyncio.sleep(0.2)  # first pass: nothing due
    await queue(sqlite_sessionmaker, text(3, "hello", due_at=datetime.now(UTC)))
    await wake_deliverer(the)  # long before the idle fallback (10 s)
    await until(lambda: bool(texts(bot, 3)), timeout=2)
    assert texts(bot, 3) == ["hello"]


def test_scheduler_jobs_have_ids_and_tolerate_misfires(
    bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    config = settings()
    the = Deliverer(sessionmaker=sqlite_sessionmaker, i18n=I18N, settings=config)
    scheduler = build_scheduler(
        bot=bot, sessionmaker=sqlite_sessionmaker, i18n=I18N, settings=config, deliverer=the
    )
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {"wake_deliverer", "sweep_offers"} <= set(jobs)
    assert {"remind_unclosed", "tell_missing_checkouts", "escalate_overdue"} <= set(jobs)
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time >= 300
    assert jobs["wake_deliverer"].trigger.interval == timedelta(seconds=2)
    assert jobs["wake_deliverer"].kwargs == {"deliverer": the}
