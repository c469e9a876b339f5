"""Telegram goes down for a few seconds while people write and press buttons: over
real HTTP, every one of them gets each answer after, exactly once."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bot.app import build_bot, build_dispatcher, poll
from standin.models import SentMessage
from standin.server import BotAPIStandin
from storage.db import SessionMaker
from tests.conftest import load_example_tree, settings_for
from tests.e2e.conftest import Live

HELP = "What you can do"
LANGUAGE_SET = "Language set: English"
SORRY = "Sorry, something went wrong"
PEOPLE = range(5401, 5407)


def _count(messages: list[SentMessage], text: str) -> int:
    return sum(text in m.plain_text for m in messages if not m.deleted)


async def _people_with_a_language_picker(standin: BotAPIStandin) -> dict[int, SentMessage]:
    pickers = {}
    for user_id in PEOPLE:
        standin.add_user(user_id, f"User{user_id}", language_code="en")
        standin.send_text(user_id, "/language")
        pickers[user_id] = await standin.wait_for_message(user_id, timeout=10)
    return pickers


async def _write_and_press_during_outage(
    standin: BotAPIStandin, pickers: dict[int, SentMessage]
) -> None:
    for user_id, picker in pickers.items():
        standin.send_text(user_id, "/help")
        english = next(b for b in picker.buttons() if "English" in b["text"])
        standin.press(user_id, picker.message_id, english["callback_data"])


async def _everyone_answered_once(standin: BotAPIStandin, within: float) -> None:
    async def answered(user_id: int) -> None:
        await standin.wait_for_message(
            user_id, predicate=lambda m: HELP in m.plain_text, timeout=within
        )
        await standin.wait_for_message(
            user_id, predicate=lambda m: LANGUAGE_SET in m.plain_text, timeout=within
        )

    await asyncio.gather(*(answered(u) for u in PEOPLE))
    await asyncio.sleep(1.5)  # time for a duplicate to show up, if one were coming
    for user_id in PEOPLE:
        messages = standin.messages(user_id)
        assert _count(messages, HELP) == 1, user_id
        assert _count(messages, LANGUAGE_SET) == 1, user_id
        assert _count(messages, SORRY) == 0, user_id


@pytest.mark.parametrize("drop", [False, True], ids=["502", "dropped-connections"])
async def test_five_seconds_of_502_or_dropped_connections(live: Live, drop: bool) -> None:
    standin = live.standin
    pickers = await _people_with_a_language_picker(standin)
    standin.outage(5.0, drop=drop)
    await _write_and_press_during_outage(standin, pickers)
    await _everyone_answered_once(standin, within=30)
    assert standin.stats.outage > 0
    # Retried in place: the picker itself became the answer.
    for user_id, picker in pickers.items():
        assert picker.plain_text == LANGUAGE_SET, user_id


async def test_an_outage_longer_than_the_retries_is_bridged_by_the_outbox(
    db_url: str, sessionmaker: SessionMaker
) -> None:
    await load_example_tree(sessionmaker)
    settings = settings_for(db_url).model_copy(update={"reply_retry_seconds": 1.0})
    async with BotAPIStandin() as standin:
        bot = build_bot("123456:OUTAGE-TEST", standin.base_url)
        dispatcher = build_dispatcher(settings=settings, sessionmaker=sessionmaker)
        polling = asyncio.create_task(
            poll(dispatcher, bot, settings, handle_signals=False, polling_timeout=1)
        )
        try:
            pickers = await _people_with_a_language_picker(standin)
            standin.outage(4.0)
            await _write_and_press_during_outage(standin, pickers)
            await _everyone_answered_once(standin, within=40)
        finally:
            with contextlib.suppress(RuntimeError):
                await dispatcher.stop_polling()
            await asyncio.wait_for(polling, timeout=30)
        assert standin.internal_errors == []
