"""Replies are never delayed behind a broadcast: the deliverer paces only what it
sends itself, and a person writing to the bot is answered at once."""

from __future__ import annotations

import asyncio
import contextlib
import time

from bot.app import build_bot, build_dispatcher, poll
from standin.server import BotAPIStandin
from storage.db import SessionMaker
from storage.models import OutboxState
from tests.conftest import load_example_tree
from tests.e2e.delivery_world import queue_broadcast, states, wait_states
from ui.settings import Settings

N = 500
RATE = 5  # messages per second: the broadcast takes 100 s


async def test_a_reply_goes_out_while_a_large_broadcast_is_sending(
    db_url: str, sessionmaker: SessionMaker
) -> None:
    await load_example_tree(sessionmaker)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=db_url,
        send_rate=RATE,
        quiet_hours="off",
    )
    async with BotAPIStandin(strict_rate_limits=True) as standin:
        await queue_broadcast(sessionmaker, standin, N)
        standin.add_user(7001, "Li", language_code="en")
        bot = build_bot("123456:REPLY-TEST", standin.base_url)
        dispatcher = build_dispatcher(settings=settings, sessionmaker=sessionmaker)
        polling = asyncio.create_task(
            poll(dispatcher, bot, settings, handle_signals=False, polling_timeout=1)
        )
        try:
            # The broadcast is under way (the deliverer started with the bot).
            await wait_states(
                sessionmaker, lambda c: c[OutboxState.SENT] >= 3, timeout=30, what="broadcast"
            )
            asked = time.monotonic()
            standin.send_text(7001, "/help")
            reply = await standin.wait_for_message(7001, timeout=10)
            waited = time.monotonic() - asked
            during = await states(sessionmaker)
        finally:
            with contextlib.suppress(RuntimeError):
                await dispatcher.stop_polling()
            await asyncio.wait_for(polling, timeout=30)
        assert "/activities" in reply.plain_text  # the help text
        # Queued behind the broadcast it would wait well over a minute.
        assert waited < 2.0, waited
        assert during[OutboxState.PENDING] > N - 50, during
        assert standin.stats.too_many_requests == 0
        assert standin.internal_errors == []
        # Stopping gave back the rows it had claimed: none is left in sending.
        after = await states(sessionmaker)
        assert after[OutboxState.SENDING] == 0
        assert after[OutboxState.SENT] + after[OutboxState.PENDING] == N
