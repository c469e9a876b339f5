"""Shared fixtures: migrated databases, the example station tree, a dispatcher."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Dispatcher

from bot.app import build_dispatcher
from bot.database import load_tree
from services import stations
from storage import migrate
from storage.db import SessionMaker, make_engine, make_sessionmaker
from tests.dbtools import BACKENDS, REDIS_SKIP, REDIS_URL, url_for, wipe
from tests.mocked_bot import Conversation, MockedBot
from ui.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_TREE = ROOT / "bot" / "example_stations.yaml"


async def _migrated(backend: str, tmp_path: Path) -> str:
    url = url_for(backend, tmp_path)
    if backend == "postgresql":
        await wipe(url)
    await migrate.upgrade(url)
    return url


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database on each backend."""
    url = await _migrated(request.param, tmp_path)
    yield url
    if request.param == "postgresql":
        await wipe(url)


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    return await _migrated("sqlite", tmp_path)


@pytest.fixture
async def sessionmaker(db_url: str) -> AsyncIterator[SessionMaker]:
    engine = make_engine(db_url, concurrency=settings_for(db_url).update_concurrency)
    yield make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def sqlite_sessionmaker(sqlite_url: str) -> AsyncIterator[SessionMaker]:
    engine = make_engine(sqlite_url, concurrency=settings_for(sqlite_url).update_concurrency)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def load_example_tree(maker: SessionMaker) -> dict[str, int]:
    async with maker() as session:
        await stations.import_tree(session, load_tree(EXAMPLE_TREE))
        return {s.code: s.id for s in await stations.all_stations(session) if s.id}


@pytest.fixture
async def tree(sessionmaker: SessionMaker) -> dict[str, int]:
    return await load_example_tree(sessionmaker)


def settings_for(url: str, data_dir: Path | None = None) -> Settings:
    # Quiet hours off: tests run at any hour of the day, and a non-urgent message
    # must not wait for the morning in Shanghai; the tests of quiet hours set them.
    extra = {"data_dir": data_dir} if data_dir is not None else {}
    return Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=url, bot_token=None, quiet_hours="off", **extra
    )


@pytest.fixture
async def dp(sqlite_url: str, sqlite_sessionmaker: SessionMaker, tmp_path: Path) -> Dispatcher:
    """The real dispatcher on SQLite with the example tree loaded; files it keeps go
    to the test's own directory."""
    await load_example_tree(sqlite_sessionmaker)
    settings = settings_for(sqlite_url, data_dir=tmp_path / "data")
    return build_dispatcher(settings=settings, sessionmaker=sqlite_sessionmaker)


@pytest.fixture
def bot() -> MockedBot:
    return MockedBot()


@pytest.fixture
def chat(dp: Dispatcher, bot: MockedBot) -> Conversation:
    return Conversation(dp, bot)


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own on TEST_REDIS_URL (skipped without it); its
    keys are deleted afterwards."""
    if not REDIS_URL:
        pytest.skip(REDIS_SKIP)
    prefix = f"test-{uuid.uuid4().hex}"
    yield prefix
    await delete_redis_keys(prefix)


async def delete_redis_keys(prefix: str) -> None:
    """Delete the keys under ``prefix`` on TEST_REDIS_URL (never the whole database)."""
    from redis.asyncio import Redis

    assert REDIS_URL
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
