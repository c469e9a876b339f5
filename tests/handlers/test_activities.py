"""Volunteers browse, join, wait, get offered seats and cancel, through the Dispatcher."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Dispatcher
from sqlmodel import select

from bot.scheduler import sweep_offers
from services import roles, stations
from storage.db import SessionMaker
from storage.models import Signup, SignupStatus
from storage.types import utcnow
from tests.delivery_helpers import deliver
from tests.factories import make_activity, make_volunteers
from tests.mocked_bot import Conversation, MockedBot
from ui.settings import Settings


async def station_ids(maker: SessionMaker) -> dict[str, int]:
    async with maker() as session:
        return {s.code: s.id for s in await stations.all_stations(session) if s.id}


async def people(
    dp: Dispatcher, bot: MockedBot, maker: SessionMaker, station: int, ids: list[int]
) -> list[Conversation]:
    await make_volunteers(maker, station, ids)
    return [Conversation(dp, bot, user_id=i, language_code="en") for i in ids]


async def test_browse_join_wait_offer_and_accept(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    ids = await station_ids(sqlite_sessionmaker)
    first, second = await people(dp, bot, sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], [11, 12])
    now = utcnow()
    # One seat at the volunteers' community; another activity at the city, above it.
    await make_activity(
        sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], now=now, capacity=1, title="Garbage sorting duty"
    )
    await make_activity(
        sqlite_sessionmaker,
        ids["hf"],
        now=now,
        capacity=30,
        starts_in=timedelta(days=5),
        title="City policy day",
    )
    await make_activity(
        sqlite_sessionmaker, ids["hf-bh"], now=now, capacity=30, title="Elsewhere"
    )  # another district: not shown

    out = await first.send("/activities")
    listing = out[-1].text
    assert "Upcoming activities" in listing
    assert "Garbage sorting duty" in listing and "City policy day" in listing
    assert "Elsewhere" not in listing
    assert "1 seat left" in listing
    await first.press("Garbage sorting duty")
    assert "1 of 1 seat left" in first.last().text
    out = await first.press("Join")
    assert "You have a seat" in out[-1].text

    await second.send("/activities")
    await second.press("Garbage sorting duty")
    assert "Full · 0 on the waitlist" in second.last().text
    out = await second.press("Join")
    assert "number 1 on the waitlist" in out[-1].text

    out = await first.send("/my")
    assert "Garbage sorting duty" in out[-1].text and "seat" in out[-1].text
    await first.press("Garbage sorting duty")
    await first.press("Cancel my place")
    await first.press("Yes, cancel my place")
    await deliver(dp, bot)
    offer = second.last()
    assert "A seat opened at <b>Garbage sorting duty</b>" in offer.text
    assert "held for you until" in offer.text
    out = await second.press("Yes, I'll come")
    assert "The seat is yours" in out[-1].text
    async with sqlite_sessionmaker() as session:
        rows = (await session.exec(select(Signup.status).order_by(Signup.id))).all()
    assert rows == [SignupStatus.CANCELLED, SignupStatus.CONFIRMED]


async def test_overlap_asks_and_late_cancel_tells_staff(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    ids = await station_ids(sqlite_sessionmaker)
    async with sqlite_sessionmaker() as session:
        await roles.grant(
            session, user_id=900, role="staff", station_code="hf-ss-xy-xyxc", actor_id=None
        )
    [volunteer] = await people(dp, bot, sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], [21])
    staff = Conversation(dp, bot, user_id=900, language_code="en")
    await staff.send("/help")  # the staff member has written to the bot before
    now = utcnow()
    await make_activity(
        sqlite_sessionmaker,
        ids["hf-ss-xy-xyxc"],
        now=now,
        capacity=5,
        starts_in=timedelta(hours=20),
        title="Home visits",
    )
    await make_activity(
        sqlite_sessionmaker,
        ids["hf-ss-xy-xyxc"],
        now=now,
        capacity=5,
        starts_in=timedelta(hours=21),
        title="Elder tea party",
    )
    await volunteer.send("/activities")
    await volunteer.press("Home visits")
    await volunteer.press("Join")
    await volunteer.send("/activities")
    await volunteer.press("Elder tea party")
    out = await volunteer.press("Join")
    assert "overlaps with an activity you have joined" in out[-1].text
    assert "Home visits" in out[-1].text
    out = await volunteer.press("Join anyway")
    assert "You have a seat" in out[-1].text

    await volunteer.send("/my")
    await volunteer.press("Home visits")
    await volunteer.press("Cancel my place")
    await volunteer.press("Yes, cancel my place")
    await deliver(dp, bot)
    assert "Late cancellation" in staff.last().text and "Home visits" in staff.last().text


async def test_unanswered_offer_lapses_to_the_next(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    ids = await station_ids(sqlite_sessionmaker)
    a, b, c = await people(dp, bot, sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], [31, 32, 33])
    activity = await make_activity(
        sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], now=utcnow(), capacity=1, title="Clean-up"
    )
    for chat in (a, b, c):
        await chat.send("/activities")
        await chat.press("Clean-up")
        await chat.press("Join")
    await a.send("/my")
    await a.press("Clean-up")
    await a.press("Cancel my place")
    await a.press("Yes, cancel my place")
    await deliver(dp, bot)
    assert "A seat opened" in b.last().text
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    later = utcnow() + timedelta(hours=13)
    await sweep_offers(sqlite_sessionmaker, settings, now=later)
    await deliver(dp, bot)
    assert "has gone to the next person" in b.last().text
    assert "A seat opened" in c.last().text
    async with sqlite_sessionmaker() as session:
        rows = (
            await session.exec(
                select(Signup.status).where(Signup.activity_id == activity).order_by(Signup.id)
            )
        ).all()
    assert rows == [SignupStatus.CANCELLED, SignupStatus.EXPIRED, SignupStatus.OFFERED]


async def test_unregistered_and_pending_people_are_told(chat: Conversation) -> None:
    out = await chat.send("/activities")
    assert "/start" in out[-1].text and "注册" in out[-1].text


async def test_chinese_sentences_quote_the_title(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    """Seen in Chinese: a title ran into the sentence around it (您已经报名了垃圾分类督导。)."""
    ids = await station_ids(sqlite_sessionmaker)
    await make_volunteers(sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], [3301])
    await make_activity(
        sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], now=utcnow(), capacity=5, title="垃圾分类督导"
    )
    chat = Conversation(dp, bot, user_id=3301, language_code="zh-hans")
    await chat.send("/activities")
    await chat.press("垃圾分类督导")
    out = await chat.press("报名")
    assert "您已成功报名「<b>垃圾分类督导</b>」。" in out[-1].text
    await chat.send("/activities")
    await chat.press("垃圾分类督导")
    assert "取消报名" in [label for label, _ in chat.last().buttons()]
