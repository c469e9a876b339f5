"""One person's burst does not hold up everyone else: the work slots are taken only
once the person's own turn has come (seen: a chat sending 100 updates filled all 16
slots, and another person's /help waited about ten seconds)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

from bot.app import build_bot, build_dispatcher, poll
from standin.server import BotAPIStandin
from storage.db import SessionMaker
from tests.conftest import load_example_tree
from ui.settings import Settings

BURST = 100
CALL_SECONDS = 0.1  # each Bot API call of the bot takes this long


class SlowTelegram(BaseRequestMiddleware):
    """Every sendMessage takes CALL_SECONDS, as over a slow link."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if method.__api_method__ == "sendMessage":
            await asyncio.sleep(CALL_SECONDS)
        return await make_request(bot, method)


async def test_another_person_is_answered_during_one_chats_burst(
    db_url: str, sessionmaker: SessionMaker
) -> None:
    await load_example_tree(sessionmaker)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=db_url,
        quiet_hours="off",
        update_concurrency=16,
    )
    async with BotAPIStandin() as standin:
        standin.add_user(7101, "Burst", language_code="en")
        standin.add_user(7102, "Other", language_code="en")
        bot = build_bot("123456:HEAD-OF-LINE", standin.base_url)
        bot.session.middleware(SlowTelegram())
        dispatcher = build_dispatcher(settings=settings, sessionmaker=sessionmaker)
        for _ in range(BURST):
            standin.send_text(7101, "/help")
        polling = asyncio.create_task(
            poll(dispatcher, bot, settings, handle_signals=False, polling_timeout=1)
        )
        waits: dict[str, Any] = {}
        try:
            await standin.wait_for_message(7101, timeout=30)  # the burst is under way
            asked = time.monotonic()
            standin.send_text(7102, "/help")
            await standin.wait_for_message(7102, timeout=30)
            waits["other"] = time.monotonic() - asked
            # Let the burst finish before stopping: a reply still under way when the
            # stand-in goes would hold its update's transaction open while retried.
            for _ in range(600):  # at most 120 s
                if len(standin.messages(7101)) >= BURST:
                    break
                await asyncio.sleep(0.2)
            waits["burst_answered"] = len(standin.messages(7101))
        finally:
            with contextlib.suppress(RuntimeError):
                await dispatcher.stop_polling()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(polling, timeout=60)
            await bot.session.close()
    print(f"\nanother person waited {waits['other']:.2f} s during a burst of {BURST}")
    # Behind the burst it would wait for most of BURST * CALL_SECONDS (10 s).
    assert waits["other"] < 2.0, waits
    assert waits["burst_answered"] == BURST, waits  # every one of the burst answered, once
    assert standin.internal_errors == []
