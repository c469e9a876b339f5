"""No filter of the bot runs in a worker thread: aiogram hands every synchronous
filter to ``asyncio.to_thread``, and an update passed 26 to 30 of them (the
private-chat check of each router, bare dialog States, ``F.text``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiogram.dispatcher.event import handler as aiogram_handler

from bot.app import build_dispatcher
from bot.filters import threaded_filters
from storage.db import SessionMaker
from tests.conftest import load_example_tree
from tests.mocked_bot import Conversation, MockedBot
from ui.settings import Settings


@pytest.fixture
def thread_hops(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Each call aiogram makes to asyncio.to_thread while handling updates."""
    hops: list[str] = []
    real = aiogram_handler.asyncio.to_thread

    async def counting(func: Any, /, *args: Any, **kwargs: Any) -> Any:
        hops.append(repr(func)[:80])
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(aiogram_handler.asyncio, "to_thread", counting)
    yield hops


async def test_no_filter_runs_in_a_thread(
    sqlite_url: str, sqlite_sessionmaker: SessionMaker, bot: MockedBot, thread_hops: list[str]
) -> None:
    await load_example_tree(sqlite_sessionmaker)
    settings = Settings(_env_file=None, database_url=sqlite_url, bot_token=None)  # type: ignore[call-arg]
    dispatcher = build_dispatcher(settings=settings, sessionmaker=sqlite_sessionmaker)
    assert threaded_filters(dispatcher) == []
    chat = Conversation(dispatcher, bot, user_id=8801, language_code="en")
    for text in ("/help", "hello there", "/activities", "/start"):
        await chat.send(text)
    assert thread_hops == []
