"""REDIS_URL (bot.redis_shared): the setting, the wrong-code count kept in Redis with
the in-process limiter's window, /readyz asking Redis too, and no redis package
loaded by a bot without it."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from pydantic import ValidationError

from bot.app import build_dispatcher
from bot.health import serving
from services.checkin import AttemptLimiter, WrongCodeLimiter
from storage.db import SessionMaker
from tests.conftest import ROOT, delete_redis_keys, settings_for
from tests.dbtools import REDIS_SKIP, REDIS_URL
from ui.settings import Settings

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_redis_url_takes_redis_addresses_only() -> None:
    for url in ("redis://127.0.0.1:6379/0", "rediss://user:pw@cache:6380", "unix:///run/r.sock"):
        assert Settings(_env_file=None, redis_url=url).redis_url == url  # type: ignore[call-arg]
    assert Settings(_env_file=None, redis_url=" ").redis_url is None  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="redis://, rediss:// or unix://"):
        Settings(_env_file=None, redis_url="http://cache:6379")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Settings(_env_file=None, redis_prefix="two words")  # type: ignore[call-arg]


@pytest.fixture(params=["memory", "redis"])
async def limiters(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[WrongCodeLimiter, WrongCodeLimiter]]:
    """Two limiters of two workers: the same one in memory (one process), two clients
    of one Redis under this test's own prefix."""
    if request.param == "memory":
        limiter = AttemptLimiter()
        yield limiter, limiter
        return
    if not REDIS_URL:
        pytest.skip(REDIS_SKIP)
    from bot.redis_shared import SharedAttemptLimiter, connect

    prefix = f"test-{uuid.uuid4().hex}"
    clients = [connect(REDIS_URL), connect(REDIS_URL)]
    try:
        yield SharedAttemptLimiter(clients[0], prefix), SharedAttemptLimiter(clients[1], prefix)
    finally:
        for client in clients:
            await client.aclose()
        await delete_redis_keys(prefix)


async def test_the_window_and_limit_are_the_same_in_memory_and_in_redis(
    limiters: tuple[WrongCodeLimiter, WrongCodeLimiter],
) -> None:
    one, other = limiters
    at = NOW
    assert [await one.fail(1, at, limit=3), await other.fail(1, at, limit=3)] == [2, 1]
    assert await one.blocked_for(1, at, limit=3) is None
    assert await other.fail(1, at + timedelta(minutes=2), limit=3) == 0
    for limiter in (one, other):
        wait = await limiter.blocked_for(1, at + timedelta(minutes=3), limit=3)
        assert wait == timedelta(minutes=7)
    assert await one.blocked_for(2, at, limit=3) is None  # per person
    # The first two age out after ten minutes: one more try.
    assert await other.blocked_for(1, at + timedelta(minutes=10), limit=3) is None
    assert await one.fail(1, at + timedelta(minutes=10), limit=3) == 1


async def test_wrong_codes_counted_at_once_by_two_workers_are_all_counted(
    limiters: tuple[WrongCodeLimiter, WrongCodeLimiter],
) -> None:
    one, other = limiters
    left = await asyncio.gather(
        *(limiter.fail(7, NOW, limit=100) for _ in range(20) for limiter in (one, other))
    )
    assert sorted(left) == list(range(60, 100))
    assert await one.blocked_for(7, NOW, limit=40) == timedelta(minutes=10)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _ready(settings: Settings, maker: SessionMaker) -> tuple[int, str]:
    dispatcher = build_dispatcher(settings=settings, sessionmaker=maker)
    try:
        async with serving(dispatcher, settings) as server:
            assert server is not None
            url = f"http://127.0.0.1:{server.port}/readyz"
            async with aiohttp.ClientSession() as http, http.get(url) as response:
                return response.status, await response.text()
    finally:
        if dispatcher["redis"] is not None:
            await dispatcher["redis"].aclose()


async def test_readyz_is_503_while_redis_does_not_answer(
    sqlite_url: str, sqlite_sessionmaker: SessionMaker
) -> None:
    settings = settings_for(sqlite_url).model_copy(
        update={"health_port": 0, "redis_url": f"redis://127.0.0.1:{_closed_port()}/0"}
    )
    status, reason = await _ready(settings, sqlite_sessionmaker)
    assert status == 503
    assert reason.startswith("redis: ") and "\n" not in reason
    assert "database" not in reason  # the database answered


async def test_readyz_is_200_when_the_database_and_redis_answer(
    sqlite_url: str, sqlite_sessionmaker: SessionMaker, redis_prefix: str
) -> None:
    settings = settings_for(sqlite_url).model_copy(
        update={"health_port": 0, "redis_url": REDIS_URL, "redis_prefix": redis_prefix}
    )
    assert await _ready(settings, sqlite_sessionmaker) == (200, "ok")


# Builds the dispatcher as `run` and `serve` do, then tells which isolation it took and
# whether the redis package was loaded.
_BUILD = """
import json, sys
from bot.app import build_dispatcher
from storage.db import make_engine, make_sessionmaker
from ui.settings import Settings
settings = Settings(_env_file=None, database_url=sys.argv[1], redis_url=sys.argv[2] or None)
engine = make_engine(settings.database_url, concurrency=4)
dispatcher = build_dispatcher(settings=settings, sessionmaker=make_sessionmaker(engine))
print(json.dumps([type(dispatcher.fsm.events_isolation).__name__, "redis" in sys.modules]))
"""


@pytest.mark.parametrize(
    ("redis_url", "expected"),
    [
        ("", ["IdleDroppingIsolation", False]),
        ("redis://127.0.0.1:1/0", ["RedisEventIsolation", True]),
    ],
)
def test_redis_is_imported_only_with_redis_url(
    tmp_path: Path, redis_url: str, expected: list[object]
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    done = subprocess.run(
        [sys.executable, "-c", _BUILD, f"sqlite:///{tmp_path}/bot.db", redis_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == expected


async def test_an_update_that_outlives_its_lock_still_finishes(redis_prefix: str) -> None:
    """The lock of a person expires after LOCK_SECONDS; the update holding it is not
    failed for it when it ends (Telegram would post it again)."""
    from aiogram.fsm.storage.base import StorageKey

    from bot import redis_shared

    assert REDIS_URL
    client = redis_shared.connect(REDIS_URL)
    try:
        isolation = redis_shared.event_isolation(client, redis_prefix)
        key = StorageKey(bot_id=42, chat_id=5, user_id=5)
        async with isolation.lock(key):
            # As if LOCK_SECONDS had passed: the lock is gone, another may take it.
            assert await client.delete(f"{redis_prefix}:fsm:5:5:lock") == 1
        async with asyncio.timeout(2), isolation.lock(key):
            pass
    finally:
        await client.aclose()
