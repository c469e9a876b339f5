"""/settings through the real Dispatcher: the weekly digest on and off, the language."""

from __future__ import annotations

from aiogram import Dispatcher
from sqlmodel import select

from services import stations
from storage.db import SessionMaker
from storage.models import Volunteer
from tests.factories import make_volunteers
from tests.mocked_bot import Conversation, MockedBot
from ui.callbacks import SettingsCb


async def digest_of(maker: SessionMaker, user_id: int) -> bool:
    async with maker() as session:
        query = select(Volunteer.weekly_digest).where(Volunteer.user_id == user_id)
        return (await session.exec(query)).one()


async def register(maker: SessionMaker, user_id: int) -> None:
    async with maker() as session:
        ids = {s.code: s.id for s in await stations.all_stations(session) if s.id}
    await make_volunteers(maker, ids["hf-ss-xy-xyxc"], [user_id])


async def test_digest_toggle_persists(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    await register(sqlite_sessionmaker, 11)
    chat = Conversation(dp, bot, user_id=11, language_code="en")
    out = await chat.send("/settings")
    assert "Weekly digest of new activities: on" in out[-1].text
    assert "Language: English. Send /language to change it." in out[-1].text
    screen = out[-1]
    off = screen.buttons()[0][1]
    assert [t for t, _ in screen.buttons()] == ["🔕 Turn the weekly digest off"]

    await chat.press("Turn the weekly digest off")
    assert chat.answers()[-1].text == "The weekly digest is off."
    assert "Weekly digest of new activities: off" in screen.text  # edited in place
    assert [t for t, _ in screen.buttons()] == ["🔔 Turn the weekly digest on"]
    assert await digest_of(sqlite_sessionmaker, 11) is False
    # The old "off" button pressed again does what it said, not the opposite.
    await chat.press_data(off, message=screen)
    assert await digest_of(sqlite_sessionmaker, 11) is False

    await chat.press("Turn the weekly digest on")
    assert await digest_of(sqlite_sessionmaker, 11) is True
    out = await chat.send("/settings")
    assert "Weekly digest of new activities: on" in out[-1].text


async def test_chinese_language_and_unregistered_people(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    await register(sqlite_sessionmaker, 12)
    chat = Conversation(dp, bot, user_id=12, language_code="zh-hans")
    out = await chat.send("/settings")
    assert "中文" in out[-1].text and "/language" in out[-1].text

    stranger = Conversation(dp, bot, user_id=13, language_code="en")
    out = await stranger.send("/settings")
    assert out[-1].text == "You are not registered yet. Send /start to register."
    await stranger.press_data(SettingsCb(digest=False).pack(), message=out[-1])
    assert stranger.answers()[-1].text == "You are not registered yet. Send /start to register."
