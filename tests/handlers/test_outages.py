"""Replies survive a Telegram outage: retried while it is brief, kept in the outbox
when it lasts, and every person gets each answer exactly once."""

from __future__ import annotations

import logging

import pytest
from aiogram import Dispatcher
from aiogram.exceptions import TelegramNetworkError
from sqlmodel import col, select

from bot.app import build_dispatcher
from storage.db import SessionMaker
from storage.models import Outbox, OutboxState
from tests.conftest import load_example_tree
from tests.delivery_helpers import deliver
from tests.mocked_bot import Conversation, MockedBot
from ui.settings import Settings

HELP = "What you can do"
SORRY = "Sorry, something went wrong"
ADMIN = 9000


async def _dispatcher(url: str, maker: SessionMaker, retry_seconds: float) -> Dispatcher:
    await load_example_tree(maker)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        bot_token=None,
        quiet_hours="off",
        admin_ids=frozenset({ADMIN}),
        reply_retry_seconds=retry_seconds,
    )
    return build_dispatcher(settings=settings, sessionmaker=maker)


@pytest.fixture
async def patient_dp(sqlite_url: str, sqlite_sessionmaker: SessionMaker) -> Dispatcher:
    """Replies are tried again for 5 seconds."""
    return await _dispatcher(sqlite_url, sqlite_sessionmaker, 5.0)


@pytest.fixture
async def hasty_dp(sqlite_url: str, sqlite_sessionmaker: SessionMaker) -> Dispatcher:
    """Replies are tried again for a moment only, then wait in the outbox."""
    return await _dispatcher(sqlite_url, sqlite_sessionmaker, 0.2)


def texts(chat: Conversation) -> list[str]:
    return [m.text for m in chat.inbox()]


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]


async def test_a_brief_outage_is_retried_and_answered_once(
    patient_dp: Dispatcher, bot: MockedBot, caplog: pytest.LogCaptureFixture
) -> None:
    chat = Conversation(patient_dp, bot, user_id=5101, language_code="en")
    await chat.send("/language")
    bot.session.outage(1.2)
    await chat.send("/help")
    await chat.press("English")
    assert bot.session.outage_refused > 0  # Telegram did refuse at first
    assert sum(HELP in t for t in texts(chat)) == 1
    assert texts(chat).count("Choose your language:") == 0  # edited in place
    assert sum(t.startswith("Language set: English") for t in texts(chat)) == 1
    assert not any(SORRY in t for t in texts(chat))
    assert len(chat.answers()) == 1
    assert tracebacks(caplog) == []


async def test_a_long_outage_keeps_replies_in_the_outbox_until_telegram_is_back(
    hasty_dp: Dispatcher,
    bot: MockedBot,
    sqlite_sessionmaker: SessionMaker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    chats = [Conversation(hasty_dp, bot, user_id=5200 + i, language_code="en") for i in range(3)]
    for chat in chats:
        await chat.send("/language")
    bot.session.outage(3600)
    for chat in chats:
        await chat.send("/help")
        await chat.press("English")
    # Nothing reached anyone, and nobody was told "sorry" instead.
    assert all(texts(c) == ["Choose your language:"] for c in chats)
    async with sqlite_sessionmaker() as session:
        rows = (await session.exec(select(Outbox).order_by(col(Outbox.id)))).all()
    assert [r.user_id for r in rows] == [5200, 5200, 5201, 5201, 5202, 5202]
    assert all(r.urgent and r.state is OutboxState.PENDING for r in rows)
    stats = await deliver(hasty_dp, bot)  # still down: tried, and kept for later
    assert stats.sent == 0 and stats.retried == 6
    bot.session.outage(0)
    async with sqlite_sessionmaker() as session:  # their backoff has passed
        for row in (await session.exec(select(Outbox))).all():
            row.due_at = row.created_at
            session.add(row)
        await session.commit()
    await deliver(hasty_dp, bot)
    await deliver(hasty_dp, bot)  # a second pass sends nothing twice
    for chat in chats:
        got = texts(chat)
        assert got[0] == "Choose your language:"
        assert sum(HELP in t for t in got) == 1
        assert got.count("Language set: English") == 1
        assert not any(SORRY in t for t in got)
        assert len(got) == 3
    assert tracebacks(caplog) == []


async def test_a_button_alert_during_an_outage_arrives_as_a_message(
    hasty_dp: Dispatcher, bot: MockedBot
) -> None:
    chat = Conversation(hasty_dp, bot, user_id=5301, language_code="en")
    await chat.send("/language")
    bot.session.outage(3600, lambda m: TelegramNetworkError(m, "ServerDisconnectedError"))
    await chat.press_data("rol:0")  # a roster button, pressed by someone without a role
    bot.session.outage(0)
    await deliver(hasty_dp, bot)
    assert texts(chat)[-1] == "You do not have permission for this."
    assert len(texts(chat)) == 2
