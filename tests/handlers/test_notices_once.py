"""A notice to someone else is queued with the change it tells of: a Telegram call that
fails after the change is committed loses nothing, and an update fed again (Telegram
redelivers it when the bot did not confirm it) queues nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from aiogram.types import CallbackQuery, Message, Update

from services import roles, stations
from storage.db import SessionMaker
from storage.types import utcnow
from tests.delivery_helpers import deliver
from tests.factories import make_activity, make_volunteers
from tests.mocked_bot import BOT_USER, Conversation, MockedBot

HOME = "hf-ss-xy-xyxc"
STAFF = 900


async def _station(maker: SessionMaker, code: str) -> int:
    async with maker() as session:
        found = {s.code: s.id for s in await stations.all_stations(session) if s.id}
    return found[code]


def fail_once(bot: MockedBot, monkeypatch: pytest.MonkeyPatch, method: type[Any]) -> list[str]:
    """The next request of type ``method`` fails as a lost connection would; returns
    the list the failures are noted in."""
    failed: list[str] = []
    real = bot.session.make_request

    async def flaky(
        bot_: Bot,
        call: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram signature)
    ) -> Any:
        if isinstance(call, method) and not failed:
            failed.append(type(call).__name__)
            raise TelegramNetworkError(call, "connection reset")
        return await real(bot_, call, timeout)

    monkeypatch.setattr(bot.session, "make_request", flaky)
    return failed


async def _full_activity(
    dp: Dispatcher, bot: MockedBot, maker: SessionMaker, *, starts_in: timedelta
) -> tuple[Conversation, Conversation]:
    """One seat: volunteer 11 has it, volunteer 12 waits for it."""
    station = await _station(maker, HOME)
    await make_volunteers(maker, station, [11, 12])
    first = Conversation(dp, bot, user_id=11, language_code="en")
    second = Conversation(dp, bot, user_id=12, language_code="en")
    await make_activity(
        maker, station, now=utcnow(), capacity=1, starts_in=starts_in, title="River patrol"
    )
    for person in (first, second):
        await person.send("/activities")
        await person.press("River patrol")
        await person.press("Join")
    await first.send("/my")
    await first.press("River patrol")
    await first.press("Cancel my place")
    return first, second


def offers(person: Conversation) -> list[str]:
    return [m.text for m in person.inbox() if "A seat opened" in m.text]


async def test_promotion_is_told_although_telegram_fails_after_the_commit(
    dp: Dispatcher,
    bot: MockedBot,
    sqlite_sessionmaker: SessionMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = await _full_activity(dp, bot, sqlite_sessionmaker, starts_in=timedelta(days=3))
    failed = fail_once(bot, monkeypatch, AnswerCallbackQuery)
    await first.press("Yes, cancel my place")
    assert failed == ["AnswerCallbackQuery"]  # the call right after the commit failed
    await deliver(dp, bot)
    await deliver(dp, bot)
    assert len(offers(second)) == 1
    assert "River patrol" in offers(second)[0]


async def test_the_same_update_three_times_tells_once(
    dp: Dispatcher,
    bot: MockedBot,
    sqlite_sessionmaker: SessionMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with sqlite_sessionmaker() as session:
        await roles.grant(session, user_id=STAFF, role="staff", station_code=HOME, actor_id=None)
    staff = Conversation(dp, bot, user_id=STAFF, language_code="en")
    await staff.send("/help")
    # Inside the late-cancellation window: staff hear of it too.
    first, second = await _full_activity(
        dp, bot, sqlite_sessionmaker, starts_in=timedelta(hours=20)
    )
    confirm = first.last_with_buttons()
    [data] = [d for text, d in confirm.buttons() if "Yes, cancel my place" in text]
    update = Update(
        update_id=777,
        callback_query=CallbackQuery(
            id="q777",
            from_user=first.user,
            chat_instance="ci",
            data=data,
            message=Message(
                message_id=confirm.message_id,
                date=datetime.now(UTC),
                chat=first.chat,
                from_user=BOT_USER,
                text=confirm.text,
            ),
        ),
    )
    # The first time, Telegram fails right after the cancellation is committed, so the
    # update is not confirmed and comes again; then once more for good measure.
    fail_once(bot, monkeypatch, AnswerCallbackQuery)
    for _ in range(3):
        await dp.feed_update(bot, update)
    await deliver(dp, bot)
    assert len(offers(second)) == 1
    late = [m.text for m in staff.inbox() if "Late cancellation" in m.text]
    assert len(late) == 1 and "River patrol" in late[0]


async def test_an_offer_answered_before_it_is_sent_is_withdrawn(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    """The notice is written when it is sent: one already answered in /my goes nowhere."""
    first, second = await _full_activity(dp, bot, sqlite_sessionmaker, starts_in=timedelta(days=3))
    await first.press("Yes, cancel my place")
    await second.send("/my")
    await second.press("River patrol")
    out = await second.press("Yes, I'll come")
    assert "The seat is yours" in out[-1].text
    stats = await deliver(dp, bot)
    assert offers(second) == [] and stats.withdrawn == 1
