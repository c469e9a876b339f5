"""A broadcast queued for many people, and ways to watch it go out: shared by the
delivery tests that run the bot against the Bot API stand-in."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from sqlalchemy import func
from sqlmodel import col, select

from services import outbox
from services.outbox import Message
from standin.server import BotAPIStandin
from storage.db import SessionMaker, write_transaction
from storage.models import Broadcast, Outbox, OutboxState, Station, StationLevel, User
from ui.outbox import TEXT, text_payload

FIRST_CHAT = 800_001


def chats(n: int) -> list[int]:
    return list(range(FIRST_CHAT, FIRST_CHAT + n))


async def queue_broadcast(
    maker: SessionMaker, standin: BotAPIStandin | None, n: int, *, text: str = "通知"
) -> int:
    """``n`` volunteers known to the bot (and to the stand-in), and one broadcast to
    all of them in the outbox. Returns the broadcast's id."""
    recipients = chats(n)
    if standin is not None:
        for chat_id in recipients:
            standin.add_user(chat_id, f"V{chat_id}", language_code="zh-hans")
    async with maker() as session, write_transaction(session):
        station = Station(code="delivery-test", name="测试社区", level=StationLevel.COMMUNITY)
        session.add(station)
        session.add_all(User(id=chat_id, locale="zh_CN") for chat_id in recipients)
        await session.flush()
        assert station.id is not None
        broadcast = Broadcast(station_id=station.id, text=text, created_by=1, total=n)
        session.add(broadcast)
        await session.flush()
        assert broadcast.id is not None
        await outbox.enqueue(
            session,
            (
                Message(
                    user_id=chat_id,
                    kind=TEXT,
                    key=f"broadcast:{broadcast.id}:{chat_id}",
                    payload=text_payload(f"{text} <b>{index}</b>"),
                    priority=outbox.BULK,
                    urgent=False,
                    station_id=station.id,
                    broadcast_id=broadcast.id,
                )
                for index, chat_id in enumerate(recipients)
            ),
        )
        return broadcast.id


async def states(maker: SessionMaker) -> Counter[OutboxState]:
    async with maker() as session:
        rows = await session.exec(
            select(col(Outbox.state), func.count()).group_by(col(Outbox.state))
        )
        return Counter({OutboxState(state): int(n) for state, n in rows.all()})


async def wait_states(
    maker: SessionMaker,
    done: object,
    *,
    timeout: float,  # noqa: ASYNC109
    what: str,
) -> Counter[OutboxState]:
    """Poll the outbox until ``done(counts)`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        counts = await states(maker)
        if done(counts):  # type: ignore[operator]
            return counts
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: outbox stayed at {dict(counts)}")
        await asyncio.sleep(0.1)


def received(standin: BotAPIStandin, recipients: list[int]) -> Counter[int]:
    """How many messages each recipient's chat holds."""
    return Counter({chat_id: len(standin.messages(chat_id)) for chat_id in recipients})
