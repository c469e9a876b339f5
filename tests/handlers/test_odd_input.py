"""Odd things people type, through the real Dispatcher: each gets its reason, never a
crash, and nothing invisible is stored."""

from __future__ import annotations

import logging

import pytest
from aiogram import Dispatcher

from bot.app import build_dispatcher
from services import volunteers
from storage.db import SessionMaker
from tests.conftest import load_example_tree
from tests.handlers.test_registration import register_in_english
from tests.mocked_bot import Conversation, MockedBot
from ui.settings import Settings

ADMIN = 9000


@pytest.fixture
async def admin_dp(sqlite_url: str, sqlite_sessionmaker: SessionMaker) -> Dispatcher:
    await load_example_tree(sqlite_sessionmaker)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=sqlite_url,
        bot_token=None,
        quiet_hours="off",
        admin_ids=frozenset({ADMIN}),
    )
    return build_dispatcher(settings=settings, sessionmaker=sqlite_sessionmaker)


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def at_the_start(admin: Conversation) -> None:
    await admin.send("/new_activity")
    await admin.press("Hefei City")
    await admin.press("Garbage sorting")
    await admin.send("Sorting\u200b duty\u202e")
    await admin.press("Skip")
    out = await admin.send("East\u2060 gate")
    assert "When does it start?" in out[-1].text


async def test_huge_durations_say_at_most_24_hours(
    admin_dp: Dispatcher, bot: MockedBot, caplog: pytest.LogCaptureFixture
) -> None:
    admin = Conversation(admin_dp, bot, user_id=ADMIN, language_code="en")
    await at_the_start(admin)
    out = await admin.send("明天 9:00")
    assert "When does it end?" in out[-1].text
    for text in ("9999999999小时", "99999999999分钟", "99999999999999999999小时"):
        out = await admin.send(text)
        assert [m.text for m in out] == ["An activity can last at most 24 hours."]
    out = await admin.send("2小时")
    assert "How many volunteers" in out[-1].text
    assert errors(caplog) == []


async def test_a_morning_hour_after_noon_is_refused_as_a_contradiction(
    admin_dp: Dispatcher, bot: MockedBot, caplog: pytest.LogCaptureFixture
) -> None:
    admin = Conversation(admin_dp, bot, user_id=ADMIN, language_code="en")
    await at_the_start(admin)
    out = await admin.send("明天 上午13点")
    assert [m.text for m in out] == [
        "That hour does not fit the time of day (上午 is before noon). Please check it, "
        "for example 上午9点 or 下午1点."
    ]
    out = await admin.send("明天 下午1点")
    assert "When does it end?" in out[-1].text
    await admin.send("2小时")
    await admin.press("20")
    await admin.press("general public")
    out = await admin.press("Once only")
    preview = out[-1].text
    assert "Title: Sorting duty\n" in preview and "Place: East gate\n" in preview
    assert "13:00–15:00" in preview
    assert errors(caplog) == []


async def test_a_name_with_a_right_to_left_override_is_stored_without_it(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    chat = Conversation(dp, bot, user_id=8801, language_code="en")
    await chat.send("/start")
    await chat.press("English")
    out = await chat.send("\u200b\u202e\u200d")  # nothing visible at all
    assert out[-1].text == "Please type your full real name (at least 2 characters)."
    await register_in_english(chat, name="\u202eLi\u200b Lei\u2066", start=False)
    out = await chat.press("Confirm")
    async with sqlite_sessionmaker() as session:
        volunteer = await volunteers.get(session, 8801)
    assert volunteer is not None and volunteer.real_name == "Li Lei"
