"""Volunteers check in and out through the real Dispatcher: /checkin, the QR code's
deep link, the activity card, /checkout; wrong codes; a redelivered update."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from aiogram import Dispatcher
from aiogram.types import MessageEntity, Update
from sqlmodel import col, func, select

from services import activities, attendance_codes, roles, stations
from services.access import Actor
from storage.db import SessionMaker
from storage.models import Attendance, Signup, SignupStatus
from storage.types import utcnow
from tests.factories import make_activity, make_volunteers
from tests.mocked_bot import Conversation, MockedBot
from ui.callbacks import LeaveCb
from ui.format import format_moment

SHANGHAI = ZoneInfo("Asia/Shanghai")
STAFF = 8001
STATION = "hf-ss-xy-xyxc"


async def prepare(
    dp: Dispatcher,
    bot: MockedBot,
    maker: SessionMaker,
    *,
    seats: list[int],
    others: list[int] | None = None,
    starts_in: timedelta = -timedelta(minutes=10),
    title: str = "Garbage sorting duty",
    open_checkin: bool = True,
) -> tuple[int, str | None, list[Conversation]]:
    """An activity of the community with a code (under way by default), volunteers
    holding seats and others without; their conversations in English."""
    async with maker() as session:
        station = {s.code: s.id for s in await stations.all_stations(session)}[STATION]
        await roles.grant(session, user_id=STAFF, role="staff", station_code=STATION, actor_id=None)
    assert station is not None
    people = [*seats, *(others or [])]
    await make_volunteers(maker, station, people)
    now = utcnow()
    activity_id = await make_activity(
        maker, station, now=now, capacity=50, starts_in=starts_in, title=title
    )
    # Seats are taken before the start: joining is closed once it has begun.
    async with maker() as session:
        for user_id in seats:
            await activities.join(
                session,
                user_id=user_id,
                activity_id=activity_id,
                now=now + starts_in - timedelta(days=1),
            )
    code = None
    if open_checkin:
        async with maker() as session:
            activity = await attendance_codes.open_checkin(
                session, actor=Actor(STAFF), activity_id=activity_id, now=now
            )
            code = activity.checkin_code
    return activity_id, code, [Conversation(dp, bot, user_id=u, language_code="en") for u in people]


async def attendance_rows(maker: SessionMaker, activity_id: int) -> list[Attendance]:
    async with maker() as session:
        query = select(Attendance).where(Attendance.activity_id == activity_id)
        return list((await session.exec(query.order_by(col(Attendance.id)))).all())


async def test_check_in_and_out_with_the_command(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    activity_id, code, (volunteer,) = await prepare(dp, bot, sqlite_sessionmaker, seats=[1101])
    out = await volunteer.send(f"/checkin {code}")
    text = out[-1].text
    assert "Checked in to <b>Garbage sorting duty</b> at " in text
    assert "walk-in" not in text
    assert [label for label, _ in out[-1].buttons()] == ["🏁 Check out"]
    [row] = await attendance_rows(sqlite_sessionmaker, activity_id)
    assert row.checked_in_at is not None
    local = row.checked_in_at.astimezone(SHANGHAI).strftime("%H:%M")
    assert f"at {local}." in text

    out = await volunteer.send(f"/checkin {code}")
    assert f"You already checked in to <b>Garbage sorting duty</b> at {local}." in out[-1].text

    out = await volunteer.press("Check out")
    assert "Checked out of <b>Garbage sorting duty</b>" in out[-1].text
    assert "Time counted: 0 min." in out[-1].text
    out = await volunteer.send("/checkout")
    assert "You already checked out of <b>Garbage sorting duty</b>" in out[-1].text
    [row] = await attendance_rows(sqlite_sessionmaker, activity_id)
    assert row.checked_out_at is not None and row.minutes == 0 and row.confirmed


async def test_a_walk_in_is_told_and_takes_no_seat(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    activity_id, code, (walk_in,) = await prepare(
        dp, bot, sqlite_sessionmaker, seats=[], others=[1201]
    )
    out = await walk_in.send(f"/checkin {code}")
    assert "Checked in to" in out[-1].text and "recorded as a walk-in" in out[-1].text
    async with sqlite_sessionmaker() as session:
        seats = (
            await session.exec(select(func.count()).where(Signup.activity_id == activity_id))
        ).one()
    assert seats == 0
    assert len(await attendance_rows(sqlite_sessionmaker, activity_id)) == 1


async def test_wrong_codes_are_slowed_down(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    activity_id, code, (guesser, other) = await prepare(
        dp, bot, sqlite_sessionmaker, seats=[1301, 1302]
    )
    assert code is not None
    wrong = "000000" if code != "000000" else "111111"
    out = await guesser.send(f"/checkin {wrong}")
    assert "That code is not right" in out[-1].text and "(4 tries left)" in out[-1].text
    # Asked to type it again: a typed answer counts as well.
    out = await guesser.send("12 34 5")
    assert "(3 tries left)" in out[-1].text
    for left in ("2 tries", "1 try"):
        out = await guesser.send(wrong)
        assert f"({left} left)" in out[-1].text
    out = await guesser.send(wrong)
    assert "Too many wrong codes. Please try again in 10 minutes." in out[-1].text
    # Blocked: the right code is refused too, and nothing is recorded.
    out = await guesser.send(f"/checkin {code}")
    assert "Too many wrong codes" in out[-1].text
    assert await attendance_rows(sqlite_sessionmaker, activity_id) == []
    # Someone else is not slowed down; /checkin alone asks for the code.
    out = await other.send("/checkin")
    assert "Type the 6-digit check-in code" in out[-1].text
    out = await other.send(code)
    assert "Checked in to" in out[-1].text
    # The dialog is over: the next text is not taken as a code.
    out = await other.send(code)
    assert "Checked in" not in out[-1].text


async def test_qr_deep_link_checks_in_and_strangers_are_sent_to_register(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    activity_id, code, (volunteer,) = await prepare(dp, bot, sqlite_sessionmaker, seats=[1401])
    out = await volunteer.send(f"/start ci_{code}")
    assert len(out) == 1 and "Checked in to <b>Garbage sorting duty</b>" in out[0].text
    stranger = Conversation(dp, bot, user_id=1499, language_code="en")
    out = await stranger.send(f"/start ci_{code}")
    assert out[-1].text == "Please register first: send /start."
    assert len(await attendance_rows(sqlite_sessionmaker, activity_id)) == 1


async def test_too_early_closed_and_unknown_activity_states(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    activity_id, code, (volunteer,) = await prepare(
        dp, bot, sqlite_sessionmaker, seats=[1501], starts_in=timedelta(hours=2)
    )
    async with sqlite_sessionmaker() as session:
        activity = await activities.details(session, actor=Actor(1501), activity_id=activity_id)
    start = activity[0].activity.starts_at
    opens = format_moment(start - timedelta(minutes=30), SHANGHAI, "en")
    out = await volunteer.send(f"/checkin {code}")
    assert out[-1].text == (
        f"Check-in for <b>Garbage sorting duty</b> opens at {opens}, 30 minutes before the start."
    )
    out = await volunteer.send("/checkout")
    assert "You are not checked in to any activity right now." in out[-1].text
    assert await attendance_rows(sqlite_sessionmaker, activity_id) == []


async def test_the_activity_card_checks_in_with_the_code_and_out(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    activity_id, code, (volunteer,) = await prepare(dp, bot, sqlite_sessionmaker, seats=[1601])
    await volunteer.send("/my")
    out = await volunteer.press("Garbage sorting duty")
    labels = [label for label, _ in volunteer.last().buttons()]
    assert "📍 Check in" in labels and "🏁 Check out" not in labels
    out = await volunteer.press("Check in")
    assert "Type the 6-digit check-in code" in out[-1].text
    out = await volunteer.send(str(code))
    assert "Checked in to" in out[-1].text

    await volunteer.send("/my")
    await volunteer.press("Garbage sorting duty")
    card = volunteer.last()
    assert "📍 You checked in at" in card.text
    labels = [label for label, _ in card.buttons()]
    assert "🏁 Check out" in labels and "📍 Check in" not in labels
    out = await volunteer.press("Check out")
    assert "Checked out of" in out[-1].text
    [row] = await attendance_rows(sqlite_sessionmaker, activity_id)
    assert row.checked_out_at is not None and row.confirmed


async def test_no_check_in_button_before_staff_open_it(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    activity_id, _, (volunteer,) = await prepare(
        dp, bot, sqlite_sessionmaker, seats=[1701], open_checkin=False
    )
    await volunteer.send("/my")
    await volunteer.press("Garbage sorting duty")
    labels = [label for label, _ in volunteer.last().buttons()]
    assert "📍 Check in" not in labels and "Cancel my place" in labels
    # A replayed button is checked again.
    out = await volunteer.press_data(f"cki:{activity_id}")
    assert out == []
    assert volunteer.answers()[-1].text == "Check-in is not open for this activity now."


async def test_a_check_in_delivered_three_times_records_one(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    activity_id, code, (volunteer,) = await prepare(dp, bot, sqlite_sessionmaker, seats=[1801])
    text = f"/checkin {code}"
    message = volunteer._message(
        text=text, entities=[MessageEntity(type="bot_command", offset=0, length=8)]
    )
    update = Update(update_id=424242, message=message)
    for _ in range(3):
        await dp.feed_update(bot, update)
    rows = await attendance_rows(sqlite_sessionmaker, activity_id)
    assert len(rows) == 1 and rows[0].checked_in_at is not None
    replies = [m.text for m in volunteer.inbox()]
    assert len(replies) == 3
    assert "Checked in to" in replies[0]
    assert all("You already checked in to" in r for r in replies[1:])


async def test_after_check_in_my_list_and_card_say_so_in_chinese(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    """Seen in Chinese: after checking in, /my still said 已报名 and the card still
    offered 取消报名. They say 已签到, and cancelling is refused even when replayed."""
    activity_id, code, _ = await prepare(dp, bot, sqlite_sessionmaker, seats=[1901, 1902])
    volunteer = Conversation(dp, bot, user_id=1901, language_code="zh-hans")
    other = Conversation(dp, bot, user_id=1902, language_code="zh-hans")
    await volunteer.send(f"/checkin {code}")

    mine = (await volunteer.send("/my"))[-1].text
    assert "已签到" in mine and "已报名" not in mine
    assert "已报名" in (await other.send("/my"))[-1].text  # not checked in: still a seat

    await volunteer.press("Garbage sorting duty")
    card = volunteer.last()
    assert "已签到" in card.text and "您已报名成功" not in card.text
    labels = [label for label, _ in card.buttons()]
    assert "取消报名" not in labels and "🏁 签退" in labels

    # The old button, replayed: refused, the seat kept.
    for data in (LeaveCb(activity=activity_id), LeaveCb(activity=activity_id, confirm=True)):
        await volunteer.press_data(data.pack(), message=card)
        assert "已签到" in volunteer.answers()[-1].text
    async with sqlite_sessionmaker() as session:
        statuses = (
            await session.exec(select(Signup.status).where(Signup.activity_id == activity_id))
        ).all()
    assert statuses == [SignupStatus.CONFIRMED, SignupStatus.CONFIRMED]
