"""The operators' web server (bot.health): liveness, readiness against a working and
an unreachable database, and the metrics of updates, sends and the outbox."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram import Dispatcher, F
from aiogram.exceptions import TelegramForbiddenError, TelegramServerError
from aiogram.methods import TelegramMethod
from aiogram.types import CallbackQuery, Chat, ChatJoinRequest, Message, Update, User
from prometheus_client.parser import text_string_to_metric_families

from bot.app import build_dispatcher
from bot.database import UsageError
from bot.deliverer import deliver_due
from bot.health import HealthServer, serving
from bot.metrics import Metrics
from services import outbox
from storage.db import SessionMaker, make_engine, make_sessionmaker, write_transaction
from storage.models import Outbox, OutboxState
from tests.conftest import settings_for
from tests.mocked_bot import MockedBot
from ui.outbox import text_payload

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[SessionMaker, Metrics], Any]]:
    """Start a health server on a free port; all are stopped after the test."""
    servers: list[HealthServer] = []

    async def start(maker: SessionMaker, metrics: Metrics) -> str:
        server = HealthServer(sessionmaker=maker, metrics=metrics, port=0, ready_timeout=5)
        await server.start()
        servers.append(server)
        assert server.port != 0
        return f"http://127.0.0.1:{server.port}"

    yield start
    for server in servers:
        await server.stop()


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text(), response.headers["Content-Type"]


async def scrape(base: str) -> Samples:
    status, body, content_type = await get(base + "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def test_healthz_and_readyz_with_a_working_database(
    serve: Any, sqlite_sessionmaker: SessionMaker
) -> None:
    base = await serve(sqlite_sessionmaker, Metrics())
    assert (await get(base + "/healthz"))[:2] == (200, "ok")
    assert (await get(base + "/readyz"))[:2] == (200, "ok")


async def test_readyz_is_503_when_the_database_cannot_be_reached(
    serve: Any, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'volume' / 'bot.db'}")
    (tmp_path / "volume").rmdir()  # the volume holding the database went away
    try:
        base = await serve(make_sessionmaker(engine), Metrics())
        status, body, _ = await get(base + "/readyz")
        assert status == 503
        assert body.startswith("database: ") and "unable to open database file" in body
        # The process itself still lives, and the metrics say the outbox is not counted.
        assert (await get(base + "/healthz"))[0] == 200
        samples = await scrape(base)
        assert value(samples, "volunteer_bot_outbox_query_ok") == 0
        assert value(samples, "volunteer_bot_outbox_rows", state="pending") is None
    finally:
        await engine.dispose()
        # aiosqlite stops a connection that failed to open without waiting for its
        # thread, which then calls back into this loop: let it finish first.
        for thread in threading.enumerate():
            if "_connection_worker_thread" in thread.name:
                await asyncio.to_thread(thread.join, 5)


async def test_readyz_is_503_when_the_database_does_not_answer_in_time(serve: Any) -> None:
    """A PostgreSQL server that takes the connection and never answers."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up
        writer.close()

    listener = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    engine = make_engine(f"postgresql://bot@127.0.0.1:{port}/bot")
    try:
        server = HealthServer(
            sessionmaker=make_sessionmaker(engine), metrics=Metrics(), ready_timeout=0.3
        )
        await server.start()
        try:
            status, body, _ = await get(f"http://127.0.0.1:{server.port}/readyz")
        finally:
            await server.stop()
        assert (status, body) == (503, "database: no answer within 0.3 s")
    finally:
        await engine.dispose()
        listener.close()


async def test_the_outbox_by_state_and_the_age_of_the_oldest_due_row(
    serve: Any, sessionmaker: SessionMaker
) -> None:
    now = datetime.now(UTC)
    rows = [
        # pending: two due (the older one 90 s ago), one not due for an hour
        ("p1", OutboxState.PENDING, now - timedelta(seconds=90)),
        ("p2", OutboxState.PENDING, now - timedelta(seconds=10)),
        ("p3", OutboxState.PENDING, now + timedelta(hours=1)),
        ("s1", OutboxState.SENDING, now - timedelta(hours=5)),
        ("d1", OutboxState.SENT, now - timedelta(hours=9)),
        ("d2", OutboxState.SENT, now - timedelta(hours=9)),
        ("f1", OutboxState.FAILED, now - timedelta(hours=9)),
    ]
    async with sessionmaker() as session, write_transaction(session):
        for n, (key, state, due) in enumerate(rows):
            session.add(Outbox(key=key, user_id=100 + n, kind="text", state=state, due_at=due))
    base = await serve(sessionmaker, Metrics())
    samples = await scrape(base)
    assert value(samples, "volunteer_bot_outbox_query_ok") == 1
    by_state = {
        state.value: value(samples, "volunteer_bot_outbox_rows", state=state.value)
        for state in OutboxState
    }
    assert by_state == {
        "pending": 3,
        "sending": 1,
        "sent": 2,
        "failed": 1,
        "skipped": 0,
        "withdrawn": 0,
    }
    age = value(samples, "volunteer_bot_outbox_oldest_due_seconds")
    assert age is not None and 90 <= age < 120


async def test_nothing_due_is_an_age_of_zero(serve: Any, sessionmaker: SessionMaker) -> None:
    async with sessionmaker() as session, write_transaction(session):
        later = datetime.now(UTC) + timedelta(minutes=5)
        session.add(Outbox(key="later", user_id=1, kind="text", due_at=later))
    samples = await scrape(await serve(sessionmaker, Metrics()))
    assert value(samples, "volunteer_bot_outbox_rows", state="pending") == 1
    assert value(samples, "volunteer_bot_outbox_oldest_due_seconds") == 0


PERSON = User(id=1001, is_bot=False, first_name="Li", language_code="en")
CHAT = Chat(id=1001, type="private")


def message(message_id: int, text: str) -> Message:
    return Message(
        message_id=message_id, date=datetime.now(UTC), chat=CHAT, from_user=PERSON, text=text
    )


async def test_updates_by_type_and_outcome(dp: Dispatcher, bot: MockedBot, serve: Any) -> None:
    async def boom(event: Message) -> None:
        raise RuntimeError("a handler broke")

    # The dispatcher's own handlers run before its routers'.
    dp.message.register(boom, F.text == "boom")
    updates = [
        Update(update_id=1, message=message(1, "/start")),
        Update(update_id=2, message=message(2, "hello")),
        Update(update_id=3, message=message(3, "boom")),
        Update(
            update_id=4,
            callback_query=CallbackQuery(
                id="q1", from_user=PERSON, chat_instance="c", data="stale", message=message(4, "x")
            ),
        ),
        # No router takes join requests.
        Update(
            update_id=5,
            chat_join_request=ChatJoinRequest(
                chat=Chat(id=-100, type="supergroup"),
                from_user=PERSON,
                user_chat_id=PERSON.id,
                date=datetime.now(UTC),
            ),
        ),
    ]
    for update in updates:
        await dp.feed_update(bot, update)
    # The failing update was answered by the error handler all the same.
    assert any("something went wrong" in m.text for m in bot.session.sent_to(CHAT.id))

    samples = await scrape(await serve(dp["sessionmaker"], dp["metrics"]))
    counted = {
        (dict(labels)["type"], dict(labels)["outcome"]): n
        for (name, labels), n in samples.items()
        if name == "volunteer_bot_updates_total"
    }
    assert counted == {
        ("message", "handled"): 2,
        ("message", "error"): 1,
        ("callback_query", "handled"): 1,
        ("chat_join_request", "unhandled"): 1,
    }
    assert value(samples, "volunteer_bot_update_seconds_count", type="message") == 3
    assert value(samples, "volunteer_bot_update_seconds_count", type="callback_query") == 1
    assert value(samples, "volunteer_bot_outbox_query_ok") == 1


def forbidden(method: TelegramMethod[Any]) -> Exception:
    return TelegramForbiddenError(method, "Forbidden: bot was blocked by the user")


def bad_gateway(method: TelegramMethod[Any]) -> Exception:
    return TelegramServerError(method, "Bad Gateway")


async def test_sends_by_result(dp: Dispatcher, bot: MockedBot, serve: Any) -> None:
    """The dispatcher's deliverer counts each answer Telegram gave it."""
    maker: SessionMaker = dp["sessionmaker"]
    due = datetime.now(UTC) - timedelta(minutes=1)
    async with maker() as session, write_transaction(session):
        await outbox.enqueue(
            session,
            [
                outbox.Message(
                    user_id=chat,
                    kind="text",
                    key=f"m{chat}",
                    payload=text_payload("hi"),
                    due_at=due,
                )
                for chat in (2001, 2002, 2003, 2004)
            ],
        )
    bot.session.fail_next(2003, forbidden)
    bot.session.fail_next(2004, bad_gateway)
    deliverer = dp["deliverer"]
    deliverer.bot = bot
    stats = await deliver_due(deliverer, passes=1)
    assert (stats.sent, stats.skipped, stats.retried) == (2, 1, 1)

    samples = await scrape(await serve(maker, dp["metrics"]))
    sends = {
        result: value(samples, "volunteer_bot_sends_total", result=result)
        for result in ("ok", "403", "429", "5xx", "other")
    }
    assert sends == {"ok": 2, "403": 1, "429": 0, "5xx": 1, "other": 0}
    # Sent, skipped, and waiting to be tried again.
    assert value(samples, "volunteer_bot_outbox_rows", state="sent") == 2
    assert value(samples, "volunteer_bot_outbox_rows", state="skipped") == 1
    assert value(samples, "volunteer_bot_outbox_rows", state="pending") == 1


async def test_served_only_when_a_port_is_set(dp: Dispatcher) -> None:
    settings = dp["settings"]
    async with serving(dp, settings) as server:
        assert server is None
    on = settings.model_copy(update={"health_port": 0})
    async with serving(dp, on) as server:
        assert server is not None
        status, body, _ = await get(f"http://127.0.0.1:{server.port}/readyz")
        assert (status, body) == (200, "ok")
        port = server.port
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(f"http://127.0.0.1:{port}/healthz")


async def test_a_port_in_use_is_told_plainly(dp: Dispatcher) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        on = dp["settings"].model_copy(update={"health_port": port})
        with pytest.raises(UsageError, match=f"cannot serve health checks on 127.0.0.1:{port}"):
            async with serving(dp, on):
                pass


async def test_two_dispatchers_keep_their_own_metrics(sqlite_url: str) -> None:
    settings = settings_for(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        first = build_dispatcher(settings=settings, sessionmaker=make_sessionmaker(engine))
        second = build_dispatcher(settings=settings, sessionmaker=make_sessionmaker(engine))
        first["metrics"].observe_update("message", "handled", 0.01)
        labels = {"type": "message", "outcome": "handled"}
        name = "volunteer_bot_updates_total"
        assert first["metrics"].registry.get_sample_value(name, labels) == 1
        assert second["metrics"].registry.get_sample_value(name, labels) is None
    finally:
        await engine.dispose()
