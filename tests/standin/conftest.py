"""Fixtures: a running stand-in and an aiogram Bot talking to it over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from standin import BotAPIStandin

ALICE = 1001
BOB = 1002
GROUP = -1001234567890


@pytest.fixture
async def standin() -> AsyncIterator[BotAPIStandin]:
    async with BotAPIStandin() as server:
        server.add_user(ALICE, "Alice", username="alice")
        server.add_user(BOB, "Bob", last_name="Builder", language_code="en")
        server.add_group(GROUP, "Volunteers")
        yield server
        assert server.internal_errors == []


@pytest.fixture
async def bot(standin: BotAPIStandin) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(standin.base_url))
    bot = Bot(token="123456:TEST", session=session)
    yield bot
    await bot.session.close()


RunRouter = Callable[[Router], Awaitable[None]]


@pytest.fixture
async def run_router(bot: Bot) -> AsyncIterator[RunRouter]:
    """Start polling the stand-in with a router; polling stops at teardown."""
    tasks: list[tuple[Dispatcher, asyncio.Task[None]]] = []

    async def start(router: Router) -> None:
        dispatcher = Dispatcher()
        dispatcher.include_router(router)
        task = asyncio.create_task(
            dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
        )
        tasks.append((dispatcher, task))
        await asyncio.sleep(0)

    yield start
    for dispatcher, task in tasks:
        await dispatcher.stop_polling()
        await asyncio.wait_for(task, 5)
