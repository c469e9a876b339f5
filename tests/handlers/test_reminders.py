"""Reminders and the weekly digest as their recipients read them, and the "I'll come" /
"I can't come" buttons through the real Dispatcher."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiogram import Dispatcher
from aiogram.types import InlineKeyboardMarkup
from sqlmodel import col, select

from handlers.reminders import render_reminder
from services import activities, reminders, roles, stations, volunteers
from storage.db import SessionMaker
from storage.models import Outbox, OutboxState, Signup, SignupStatus
from storage.types import utcnow
from tests.factories import make_activity, make_volunteers
from tests.mocked_bot import Conversation, MockedBot, Sent
from ui.callbacks import ComingCb
from ui.i18n import make_i18n
from ui.outbox import RENDERERS
from ui.settings import Settings

SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]
I18N = make_i18n("zh_CN")


async def station_ids(maker: SessionMaker) -> dict[str, int]:
    async with maker() as session:
        return {s.code: s.id for s in await stations.all_stations(session) if s.id}


async def signup_of(maker: SessionMaker, user_id: int, activity_id: int) -> Signup:
    async with maker() as session:
        volunteer = await volunteers.get(session, user_id)
        assert volunteer is not None
        query = select(Signup).where(
            Signup.activity_id == activity_id, Signup.volunteer_id == volunteer.id
        )
        return (await session.exec(query)).one()


async def render(
    maker: SessionMaker, kind: str, payload: dict[str, Any], locale: str = "en"
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    function = RENDERERS[kind]
    async with maker() as session:
        with I18N.context(), I18N.use_locale(locale):
            return await function(session, payload)


async def deliver(bot: MockedBot, maker: SessionMaker, row: Outbox) -> Sent:
    """What the deliverer does: render in the recipient's language, send, mark sent."""
    rendered = await render(maker, row.kind, row.payload)
    assert rendered is not None
    sent = await bot.send_message(row.user_id, rendered[0], reply_markup=rendered[1])
    async with maker() as session:
        stored = await session.get(Outbox, row.id)
        assert stored is not None
        stored.state = OutboxState.SENT
        session.add(stored)
        await session.commit()
    return bot.session.messages[sent.message_id]


async def queued(maker: SessionMaker, **where: Any) -> list[Outbox]:
    async with maker() as session:
        query = select(Outbox).order_by(col(Outbox.id))
        for name, value in where.items():
            query = query.where(getattr(Outbox, name) == value)
        return list((await session.exec(query)).all())


async def test_ill_come_and_i_cant_come(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    ids = await station_ids(maker)
    home = ids["hf-ss-xy-xyxc"]
    await make_volunteers(maker, home, [11, 12, 13])
    async with maker() as session:
        await roles.grant(
            session, user_id=900, role="staff", station_code="hf-ss-xy-xyxc", actor_id=None
        )
    staff = Conversation(dp, bot, user_id=900, language_code="en")
    await staff.send("/help")  # the staff member has written to the bot before
    activity = await make_activity(
        maker,
        home,
        now=utcnow(),
        capacity=2,
        starts_in=timedelta(hours=5, minutes=10),
        title="Home <visits>",
    )
    async with maker() as session:
        for user_id in (11, 12, 13):
            await activities.join(session, user_id=user_id, activity_id=activity, now=utcnow())

    assert await reminders.plan_reminders(sessionmaker=maker, settings=SETTINGS) == 2
    first = await signup_of(maker, 11, activity)
    second = await signup_of(maker, 12, activity)
    (row,) = await queued(maker, key=f"remind:{first.id}:2h")
    message = await deliver(bot, maker, row)
    assert "⏰ Reminder: <b>Home &lt;visits&gt;</b> starts in about 5 hours." in message.text
    assert "📍 西园新村东门" in message.text
    assert [t for t, _ in message.buttons()] == ["✅ I'll come", "❌ I can't come"]
    async with maker() as session:
        with I18N.context(), I18N.use_locale("zh_CN"):
            chinese = await render_reminder(session, row.payload)
    assert chinese is not None and "周" in chinese[0]  # the date in Chinese

    volunteer = Conversation(dp, bot, user_id=11, language_code="en")
    await volunteer.press("I'll come", message=message)
    assert volunteer.answers()[-1].text == "Thank you! See you there."
    assert [t for t, _ in message.buttons()] == ["❌ I can't come"]
    assert (await signup_of(maker, 11, activity)).coming_confirmed_at is not None
    again = await render(maker, reminders.REMINDER, row.payload)
    assert again is not None and "You said you will come" in again[0]

    # Someone else pressing 11's button (replayed data) is told what a missing seat
    # would tell them, and nothing changes.
    other = Conversation(dp, bot, user_id=13, language_code="en")
    await other.press_data(ComingCb(signup=first.id or 0, action="drop").pack(), message=message)
    assert other.answers()[-1].text == "You no longer have a seat at this activity."
    assert (await signup_of(maker, 11, activity)).status is SignupStatus.CONFIRMED

    # 12 cannot come: asked first, then the seat goes to 13, first on the waitlist.
    (row,) = await queued(maker, key=f"remind:{second.id}:2h")
    message = await deliver(bot, maker, row)
    leaver = Conversation(dp, bot, user_id=12, language_code="en")
    out = await leaver.press("I can't come", message=message)
    assert "Give up your seat at <b>Home &lt;visits&gt;</b>?" in out[-1].text
    assert (await signup_of(maker, 12, activity)).status is SignupStatus.CONFIRMED
    question = out[-1]
    drop = question.buttons()[0][1]
    out = await leaver.press("Yes, give up my seat", message=question)
    assert "Your place at <b>Home &lt;visits&gt;</b> is cancelled" in out[-1].text
    assert (await signup_of(maker, 12, activity)).status is SignupStatus.CANCELLED
    assert (await signup_of(maker, 13, activity)).status is SignupStatus.OFFERED
    offers = [r for r in await queued(maker, user_id=13) if r.kind == activities.SEAT_OFFERED]
    assert len(offers) == 1
    offer = await render(maker, offers[0].kind, offers[0].payload)
    assert offer is not None and "A seat opened at <b>Home &lt;visits&gt;</b>" in offer[0]
    late = [r for r in await queued(maker, user_id=900) if r.kind == activities.LATE_CANCEL]
    assert len(late) == 1
    told = await render(maker, late[0].kind, late[0].payload)
    assert told is not None and "Late cancellation" in told[0]
    # 12's reminder was sent already; had the job queued another, it would be gone.
    assert await render(maker, reminders.REMINDER, row.payload) is None
    # The same button again: told the seat is gone, nothing else happens.
    await leaver.press_data(drop, message=question)
    assert leaver.answers()[-1].text == "You no longer have a seat at this activity."
    assert (
        len([r for r in await queued(maker, user_id=13) if r.kind == activities.SEAT_OFFERED]) == 1
    )


async def test_cant_come_withdraws_the_reminders_not_sent_yet(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    ids = await station_ids(maker)
    await make_volunteers(maker, ids["hf-ss-xy-xyxc"], [21])
    activity = await make_activity(
        maker, ids["hf-ss-xy-xyxc"], now=utcnow(), capacity=2, starts_in=timedelta(hours=25)
    )
    async with maker() as session:
        await activities.join(session, user_id=21, activity_id=activity, now=utcnow())
    assert await reminders.plan_reminders(sessionmaker=maker, settings=SETTINGS) == 2
    seat = await signup_of(maker, 21, activity)
    (day_before,) = await queued(maker, key=f"remind:{seat.id}:24h")
    message = await deliver(bot, maker, day_before)
    assert "starts in about 25 hours" in message.text
    chat = Conversation(dp, bot, user_id=21, language_code="en")
    await chat.press("I can't come", message=message)
    await chat.press("Yes, give up my seat")
    (two_hours,) = await queued(maker, key=f"remind:{seat.id}:2h")
    assert two_hours.state is OutboxState.WITHDRAWN
    assert (await queued(maker, key=f"remind:{seat.id}:24h"))[0].state is OutboxState.SENT


async def test_keep_the_seat_after_all(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    ids = await station_ids(maker)
    await make_volunteers(maker, ids["hf-ss-xy-xyxc"], [31])
    activity = await make_activity(
        maker, ids["hf-ss-xy-xyxc"], now=utcnow(), capacity=2, starts_in=timedelta(hours=3)
    )
    async with maker() as session:
        await activities.join(session, user_id=31, activity_id=activity, now=utcnow())
    await reminders.plan_reminders(sessionmaker=maker, settings=SETTINGS)
    (row,) = await queued(maker, kind=reminders.REMINDER)
    assert row.urgent
    message = await deliver(bot, maker, row)
    chat = Conversation(dp, bot, user_id=31, language_code="en")
    await chat.press("I can't come", message=message)
    await chat.press("No, I'll come after all")
    assert "Good: you keep your seat at" in chat.last().text
    assert chat.answers()[-1].text == "Thank you! See you there."
    seat = await signup_of(maker, 31, activity)
    assert seat.status is SignupStatus.CONFIRMED and seat.coming_confirmed_at is not None


async def test_digest_reads_as_a_list_and_stops_when_turned_off(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    ids = await station_ids(maker)
    await make_volunteers(maker, ids["hf-ss-xy-xyxc"], [41])
    now = utcnow()
    for number in range(12):
        await make_activity(
            maker,
            ids["hf-ss-xy"],
            now=now,
            capacity=3,
            starts_in=timedelta(days=2, hours=number),
            title=f"Duty <{number}>",
        )
    assert await reminders.plan_digest(sessionmaker=maker, settings=SETTINGS) == 1
    (row,) = await queued(maker, kind=reminders.DIGEST)
    rendered = await render(maker, reminders.DIGEST, row.payload)
    assert rendered is not None
    text, markup = rendered
    assert text.startswith("<b>New activities this week</b>")
    assert "<b>Duty &lt;0&gt;</b>" in text and "<b>Duty &lt;9&gt;</b>" in text
    assert "Duty &lt;10&gt;" not in text and "… and 2 more." in text
    assert "3 seats left" in text and "/settings" in text
    assert markup is not None

    chat = Conversation(dp, bot, user_id=41, language_code="en")
    await chat.send("/settings")
    await chat.press("Turn the weekly digest off")
    assert await render(maker, reminders.DIGEST, row.payload) is None
