"""Two deliverers on one database at once, each with its own engine as two processes
would have, against one Bot API stand-in: every recipient gets exactly one message.
On PostgreSQL the claim's row locks (FOR UPDATE SKIP LOCKED) keep them apart; on
SQLite the write lock does."""

from __future__ import annotations

import asyncio

from bot.app import build_bot
from bot.deliverer import Deliverer
from standin.server import BotAPIStandin
from storage.db import SessionMaker, make_engine, make_sessionmaker
from storage.models import OutboxState
from tests.e2e.delivery_world import chats, queue_broadcast, received, wait_states
from ui.i18n import make_i18n
from ui.settings import Settings

N = 1200


async def test_two_deliverers_at_once_send_each_row_once(
    db_url: str, sessionmaker: SessionMaker
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=db_url,
        send_rate=400,
        quiet_hours="off",
    )
    i18n = make_i18n("zh_CN")
    async with BotAPIStandin() as standin:
        await queue_broadcast(sessionmaker, standin, N)
        engines = [make_engine(db_url, concurrency=16) for _ in range(2)]
        bots = [build_bot("123456:TWO-DELIVERERS", standin.base_url) for _ in range(2)]
        deliverers = [
            Deliverer(
                bot=bot,
                sessionmaker=make_sessionmaker(engine),
                i18n=i18n,
                settings=settings,
                batch_size=50,  # small batches: many claims, racing each other
            )
            for bot, engine in zip(bots, engines, strict=True)
        ]
        try:
            for deliverer in deliverers:
                deliverer.start()
            await wait_states(
                sessionmaker,
                lambda c: c[OutboxState.PENDING] + c[OutboxState.SENDING] == 0,
                timeout=120,
                what="two deliverers",
            )
        finally:
            await asyncio.gather(*(d.stop() for d in deliverers))
            for bot in bots:
                await bot.session.close()
            for engine in engines:
                await engine.dispose()
        copies = received(standin, chats(N))
        twice = {chat: n for chat, n in copies.items() if n != 1}
        assert twice == {}
        assert standin.stats.messages_sent == N
        first, second = (d.stats.sent for d in deliverers)
        assert first + second == N
        # Both really worked the same broadcast at the same time.
        assert min(first, second) >= N // 10, (first, second)
        assert standin.internal_errors == []
