"""Staff publish, edit and cancel activities through the real Dispatcher."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram import Dispatcher
from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods import SendMessage, TelegramMethod
from sqlmodel import col, select

from services import activities, roles, stations, users, when
from storage.db import SessionMaker
from storage.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Outbox,
    OutboxState,
    Signup,
    SignupStatus,
    TargetGroup,
    User,
)
from storage.types import utcnow
from tests.delivery_helpers import delivered
from tests.factories import make_activity, make_volunteers
from tests.mocked_bot import Conversation, MockedBot
from ui.callbacks import (
    ActCancelCb,
    ActEditCb,
    ActKindCb,
    ActManageCb,
    ActPreviewCb,
    ActQuickCb,
    ActStationCb,
    ActTargetCb,
)
from ui.format import format_when

SHANGHAI = ZoneInfo("Asia/Shanghai")
CJK = re.compile("[\u3400-\u9fff]")
NO_PERMISSION = "You do not have permission for this."


async def station_ids(maker: SessionMaker) -> dict[str, int]:
    async with maker() as session:
        return {s.code: s.id for s in await stations.all_stations(session) if s.id}


async def grant(maker: SessionMaker, user_id: int, role: str, code: str) -> None:
    async with maker() as session:
        await roles.grant(session, user_id=user_id, role=role, station_code=code, actor_id=None)


async def stored(maker: SessionMaker) -> list[Activity]:
    async with maker() as session:
        return list((await session.exec(select(Activity).order_by(col(Activity.id)))).all())


@pytest.fixture
async def staff(dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker) -> Conversation:
    """Staff of one community, in English: no station to pick."""
    await grant(sqlite_sessionmaker, 2101, "staff", "hf-ss-xy-xyxc")
    return Conversation(dp, bot, user_id=2101, language_code="en-US")


async def test_publish_in_english_with_chinese_typed_dates(
    staff: Conversation, sqlite_sessionmaker: SessionMaker
) -> None:
    out = await staff.send("/new_activity")
    assert "New activity" in out[0].text and "Xiyuan Xincun Community" in out[0].text
    assert out[-1].text == "What kind of activity is it?"
    kinds = [text for text, _ in out[-1].buttons()]
    assert len(kinds) == 8 and "Home visits" in kinds and "Environment clean-up" in kinds
    out = await staff.press("Garbage sorting")
    assert "The title" in out[-1].text
    assert "Kind: Garbage sorting" in staff.session.messages[out[-1].message_id - 1].text

    assert "at most 80 characters" in (await staff.send("x" * 81))[-1].text
    out = await staff.send("Sorting duty <b>&")
    assert "A description" in out[-1].text
    out = await staff.press("Skip")
    assert "Where does it take place" in out[-1].text
    out = await staff.send("East gate")
    prompt = out[-1].text
    assert "When does it start?" in prompt and "Times are in Beijing time." in prompt
    assert "tomorrow 9:00" in prompt and "Sat 3pm" in prompt
    assert "Asia/Shanghai" not in prompt and not CJK.search(prompt)
    picks = [text for text, _ in out[-1].buttons()]
    assert "Tomorrow 09:00" in picks and "Tomorrow 14:00" in picks

    assert "could not read" in (await staff.send("hello"))[-1].text
    assert "add a time" in (await staff.send("明天"))[-1].text
    assert "already passed" in (await staff.send("2020-01-01 09:00"))[-1].text
    out = await staff.send("明天 上午9点")
    assert "When does it end?" in out[-1].text
    assert "2h" in out[-1].text and not CJK.search(out[-1].text.split("It starts")[0])
    assert "end must come after" in (await staff.send("8:00"))[-1].text
    assert "at most 24 hours" in (await staff.send("30小时"))[-1].text
    out = await staff.send("2小时")
    assert "How many volunteers" in out[-1].text
    assert "from 1 to 1000" in (await staff.send("0"))[-1].text
    assert "number of places" in (await staff.send("many"))[-1].text
    out = await staff.press("20")
    assert out[-1].text == "Whom does it serve?"
    out = await staff.press("the elderly")
    assert "repeat every week" in out[-1].text
    assert "from 1 to 12" in (await staff.send("13"))[-1].text
    out = await staff.press("4 weeks")
    preview = out[-1].text
    start = when.local_at(utcnow(), SHANGHAI, days=1, hour=9)
    expected = format_when(start, start + timedelta(hours=2), SHANGHAI, "en")
    assert "Please check the activity" in preview
    assert f"When: {expected}" in preview
    assert start.astimezone(SHANGHAI).strftime("%b") in expected and "09:00–11:00" in expected
    for line in (
        "Kind: Garbage sorting",
        "Title: Sorting duty &lt;b&gt;&amp;",
        "Place: East gate",
        "Places: 20",
        "For: the elderly",
        "Description: —",
        "Repeats: every week, 4 times in all",
    ):
        assert line in preview
    assert await stored(sqlite_sessionmaker) == []  # nothing before publishing

    out = await staff.press("Publish")
    assert "Published 4 activities" in out[-1].text
    rows = await stored(sqlite_sessionmaker)
    assert len(rows) == 4
    assert [r.starts_at for r in rows] == [start + timedelta(weeks=i) for i in range(4)]
    assert rows[0].title == "Sorting duty <b>&" and rows[0].description == ""
    assert (rows[0].capacity, rows[0].kind, rows[0].target_group) == (
        20,
        ActivityKind.GARBAGE_SORTING,
        TargetGroup.ELDERLY,
    )
    # The preview's buttons are gone; pressing an old copy of Publish does nothing.
    out = await staff.press_data(ActPreviewCb(action="publish").pack())
    assert staff.answers()[-1].text == "This button is no longer active."
    assert len(await stored(sqlite_sessionmaker)) == 4


async def test_chinese_staff_pick_a_station_and_type_chinese_dates(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    """A coordinator of a street (four stations) with a Chinese client. Buttons are
    pressed by their data, so the test holds whatever the catalog says."""
    ids = await station_ids(sqlite_sessionmaker)
    await grant(sqlite_sessionmaker, 2102, "coordinator", "hf-ss-xy")
    chat = Conversation(dp, bot, user_id=2102, language_code="zh-hans")
    out = await chat.send("/new_activity")
    names = [text for text, _ in out[-1].buttons()]
    assert names == ["西园街道社工站", "西园新村社区", "荷叶地社区", "青西村社区"]
    await chat.press("荷叶地社区")
    assert "荷叶地社区" in chat.inbox()[-2].text
    await chat.press_data(ActKindCb(kind="home_visit").pack())
    await chat.send("走访慰问独居老人")
    await chat.send("带上慰问品。\n\n\n\n在社区门口集合。")
    await chat.send("荷叶地社区活动室")
    await chat.send("后天 下午３点半")
    await chat.send("17点")
    await chat.send("１５人")
    await chat.press_data(ActTargetCb(group="elderly").pack())
    out = await chat.send("不重复")
    preview = out[-1].text
    start = when.local_at(utcnow(), SHANGHAI, days=2, hour=15, minute=30)
    day = start.astimezone(SHANGHAI)
    expected = format_when(start, start + timedelta(minutes=90), SHANGHAI, "zh_CN")
    assert expected.startswith(f"{day.year}年{day.month}月{day.day}日 周")
    assert expected.endswith(" 15:30–17:00")
    assert expected in preview
    assert "带上慰问品。\n\n在社区门口集合。" in preview
    await chat.press_data(ActPreviewCb(action="publish").pack())
    (row,) = await stored(sqlite_sessionmaker)
    assert row.station_id == ids["hf-ss-xy-hyd"] and row.capacity == 15
    assert (row.starts_at, row.ends_at) == (start, start + timedelta(minutes=90))
    assert row.series_id is None and row.created_by == 2102


async def test_chinese_prompts_give_chinese_examples_and_say_beijing_time(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    """Seen in Chinese: the prompts showed the zone's key (Asia/Shanghai), and 明晚8点
    and 到10点 were not understood."""
    await grant(sqlite_sessionmaker, 2103, "staff", "hf-ss-xy-xyxc")
    chat = Conversation(dp, bot, user_id=2103, language_code="zh-hans")
    await chat.send("/new_activity")
    await chat.press_data(ActKindCb(kind="elder_care").pack())
    await chat.send("敬老院联欢会")
    out = await chat.send("跳过")
    out = await chat.send("西园新村敬老院")
    prompt = out[-1].text
    assert "北京时间" in prompt and "Asia/Shanghai" not in prompt
    assert "明天 9:00" in prompt and "今晚8点" in prompt and "tomorrow" not in prompt
    out = await chat.send("明晚8点")
    prompt = out[-1].text
    assert "到11:30" in prompt and "2小时" in prompt and "2h" not in prompt
    await chat.send("到10点")  # after an evening start: 22:00
    await chat.send("20")
    await chat.press_data(ActTargetCb(group="elderly").pack())
    out = await chat.send("不重复")
    start = when.local_at(utcnow(), SHANGHAI, days=1, hour=20)
    assert format_when(start, start + timedelta(hours=2), SHANGHAI, "zh_CN") in out[-1].text
    await chat.press_data(ActPreviewCb(action="publish").pack())
    (row,) = await stored(sqlite_sessionmaker)
    assert (row.starts_at, row.ends_at) == (start, start + timedelta(hours=2))


async def test_station_list_pages_and_is_rechecked(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    ids = await station_ids(sqlite_sessionmaker)
    await grant(sqlite_sessionmaker, 2103, "coordinator", "hf")
    chat = Conversation(dp, bot, user_id=2103, language_code="en")
    out = await chat.send("/new_activity")
    first_page = [text for text, _ in out[-1].buttons()]
    assert len(first_page) == 9 and first_page[-1] == "Next ›"
    await chat.press("Next")
    assert "‹ Previous" in [text for text, _ in chat.last_with_buttons().buttons()]
    out = await chat.press_data(ActStationCb(id=ids["hf-bh-wh"]).pack())
    assert out[-1].text == "What kind of activity is it?"  # anywhere under the city
    # A station outside the street's tree, pressed with forged data, is refused.
    await grant(sqlite_sessionmaker, 2104, "staff", "hf-ss-xy")
    other = Conversation(dp, bot, user_id=2104, language_code="en")
    out = await other.send("/new_activity")
    assert len(out[-1].buttons()) == 4
    out = await other.press_data(ActStationCb(id=ids["hf-bh-wh"]).pack())
    assert out == [] and other.answers()[-1].text == NO_PERMISSION
    out = await other.press("Qingxi Community")
    assert out[-1].text == "What kind of activity is it?"


async def test_preview_edits_a_field_and_cancel_publishes_nothing(
    staff: Conversation, sqlite_sessionmaker: SessionMaker
) -> None:
    await staff.send("/new_activity")
    await staff.press("Child care")
    await staff.send("Homework club")
    await staff.send("Maths and reading.")
    await staff.send("Library")
    await staff.press("Tomorrow 14:00")
    await staff.press("+3 h")
    await staff.press("10")
    await staff.press("children")
    out = await staff.press("Once only")
    assert "Repeats: once only" in out[-1].text and "14:00–17:00" in out[-1].text
    await staff.press("Edit a field")
    out = await staff.press("Start")
    assert "When does it start?" in out[-1].text
    out = await staff.send("后天 15:00")
    # Back at the preview, the length kept: the end moved with the start.
    assert "Please check the activity" in out[-1].text and "15:00–18:00" in out[-1].text
    await staff.press("Edit a field")
    await staff.press("Title")
    out = await staff.send("Homework club for grade 3")
    assert "Title: Homework club for grade 3" in out[-1].text
    out = await staff.press("Cancel")
    assert "Nothing was published" in out[-1].text
    assert await stored(sqlite_sessionmaker) == []
    out = await staff.send("hello")
    assert "Send /help" in out[-1].text  # the dialog is over


async def test_cancel_command_leaves_the_dialog(staff: Conversation) -> None:
    await staff.send("/new_activity")
    await staff.press("Other")
    out = await staff.send("/cancel")
    assert "Cancelled" in out[-1].text
    await staff.press_data(ActQuickCb(step="d", value=0).pack(), message=staff.last())
    assert staff.answers()[-1].text == "This button is no longer active."


async def test_a_volunteer_without_a_role_is_refused(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    ids = await station_ids(sqlite_sessionmaker)
    await make_volunteers(sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], [2201])
    activity_id = await make_activity(
        sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], now=utcnow(), capacity=5
    )
    volunteer = Conversation(dp, bot, user_id=2201, language_code="en")
    out = await volunteer.send("/new_activity")
    assert out[-1].text == NO_PERMISSION
    out = await volunteer.send("/manage")
    assert out[-1].text == NO_PERMISSION
    # Buttons replayed from someone else's chat are refused, not obeyed.
    for data in (
        ActPreviewCb(action="publish").pack(),
        ActEditCb(id=activity_id).pack(),
        ActEditCb(id=activity_id, field="title").pack(),
        ActCancelCb(id=activity_id, action="yes").pack(),
    ):
        await volunteer.press_data(data, message=volunteer.last())
        answer = volunteer.answers()[-1]
        assert answer.text == NO_PERMISSION and answer.show_alert
    (row,) = await stored(sqlite_sessionmaker)
    assert row.status is ActivityStatus.PUBLISHED and row.title == "垃圾分类督导"


async def test_a_revoked_role_stops_a_publish_in_progress(
    staff: Conversation, sqlite_sessionmaker: SessionMaker
) -> None:
    await staff.send("/new_activity")
    await staff.press("Other")
    for text in ("Meeting", "-", "Hall", "明天 9:00", "1h", "5"):
        await staff.send(text)
    await staff.press("the general public")
    out = await staff.send("1")
    assert "Please check the activity" in out[-1].text
    async with sqlite_sessionmaker() as session:
        from sqlalchemy import delete

        from storage.models import Role

        await session.exec(delete(Role))
        await session.commit()
    await staff.press("Publish")
    assert staff.answers()[-1].text == NO_PERMISSION
    assert await stored(sqlite_sessionmaker) == []


async def signed_up(maker: SessionMaker, station: int, people: list[int], capacity: int = 5) -> int:
    await make_volunteers(maker, station, people)
    activity_id = await make_activity(
        maker, station, now=utcnow(), capacity=capacity, title="Garbage duty"
    )
    async with maker() as session:
        for user_id in people:
            await activities.join(session, user_id=user_id, activity_id=activity_id, now=utcnow())
    return activity_id


async def test_manage_edit_tells_volunteers_in_their_language(
    staff: Conversation, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    ids = await station_ids(sqlite_sessionmaker)
    activity_id = await signed_up(sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], [2301, 2302, 2303])
    async with sqlite_sessionmaker() as session:
        for user_id, locale in ((2301, "en"), (2302, "zh_CN")):
            user = await users.ensure_user(session, user_id)
            await users.set_locale(session, user, locale)
    blocked = 2303
    real_request = bot.session.make_request

    async def blocking(
        the_bot: Any,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram signature)
    ) -> Any:
        if isinstance(method, SendMessage) and method.chat_id == blocked:
            raise TelegramForbiddenError(method, "Forbidden: bot was blocked by the user")
        return await real_request(the_bot, method, timeout)

    bot.session.make_request = blocking  # type: ignore[method-assign]

    out = await staff.send("/manage")
    listing = out[-1].text
    assert "Upcoming activities you manage" in listing and "Garbage duty" in listing
    assert "3 of 5 places taken" in listing
    out = await staff.press("Edit 1")
    assert "What do you want to change in <b>Garbage duty</b>" in out[-1].text
    out = await staff.press("Place")
    assert "Where does it take place" in out[-1].text
    assert "at most 120" in (await staff.send("p" * 121))[-1].text
    out = await staff.send("North gate")
    # Notices are queued: the blocked volunteer is found out when the deliverer
    # sends, after this answer, so the count is of notices queued.
    assert "Saved. 3 signed-up volunteers will be told." in out[-1].text
    out = await delivered(staff.dp, bot)
    english = [m for m in out if m.chat_id == 2301]
    chinese = [m for m in out if m.chat_id == 2302]
    assert len(english) == 1 and "Place: North gate" in english[0].text
    assert "Garbage duty" in english[0].text
    assert len(chinese) == 1 and "North gate" in chinese[0].text
    assert not [m for m in out if m.chat_id == blocked]
    async with sqlite_sessionmaker() as session:
        activity = await session.get(Activity, activity_id)
        gone = await session.get(User, blocked)
        skipped = (await session.exec(select(Outbox.state).where(Outbox.user_id == blocked))).all()
    assert activity is not None and activity.place == "North gate"
    assert gone is not None and gone.unreachable_at is not None
    assert skipped == [OutboxState.SKIPPED]

    # A time change names the new time, each in the reader's own format.
    await staff.send("/manage")
    await staff.press("Edit 1")
    await staff.press("Start")
    out = await staff.send("后天 10:00")
    assert "Saved." in out[-1].text
    out = await delivered(staff.dp, bot)
    start = when.local_at(utcnow(), SHANGHAI, days=2, hour=10)
    end = start + timedelta(hours=2)
    to = {m.chat_id: m.text for m in out}
    assert format_when(start, end, SHANGHAI, "en") in to[2301]
    assert format_when(start, end, SHANGHAI, "zh_CN") in to[2302]

    # Fewer places than seats taken is refused, and the question asked again.
    await staff.send("/manage")
    await staff.press("Edit 1")
    await staff.press("Places")
    out = await staff.send("2")
    assert "3 volunteers already hold a seat" in out[0].text
    assert "How many volunteers" in out[-1].text
    out = await staff.press("10")
    assert "Saved." in out[-1].text


async def test_more_places_offer_seats_to_the_waitlist(
    staff: Conversation, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    ids = await station_ids(sqlite_sessionmaker)
    activity_id = await signed_up(
        sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], [2401, 2402, 2403], capacity=1
    )
    await staff.send("/manage")
    await staff.press("Edit 1")
    await staff.press("Places")
    await staff.press("5")
    out = await delivered(staff.dp, bot)
    offers = [m for m in out if m.chat_id in (2402, 2403) and "空出了一个名额" in m.text]
    assert len(offers) == 2
    async with sqlite_sessionmaker() as session:
        query = select(Signup.status).where(Signup.activity_id == activity_id)
        found = (await session.exec(query)).all()
    assert SignupStatus.WAITLISTED not in found


async def test_manage_cancel_asks_then_tells_volunteers(
    staff: Conversation, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    ids = await station_ids(sqlite_sessionmaker)
    activity_id = await signed_up(sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], [2501, 2502])
    await staff.send("/manage")
    out = await staff.press("Cancel 1")
    assert "Cancel <b>Garbage duty</b>" in out[-1].text
    out = await staff.press("Don't cancel")
    assert out[-1].text == "Nothing was changed."
    await staff.send("/manage")
    await staff.press("Cancel 1")
    confirm = staff.last_with_buttons()
    out = await staff.press("Yes, cancel it")
    assert "Cancelled: <b>Garbage duty</b>" in out[-1].text
    assert "2 signed-up volunteers will be told." in out[-1].text
    out = await delivered(staff.dp, bot)
    told = [m.chat_id for m in out if "已被站点取消" in m.text]
    assert sorted(told) == [2501, 2502]
    async with sqlite_sessionmaker() as session:
        activity = await session.get(Activity, activity_id)
        statuses = (
            await session.exec(select(Signup.status).where(Signup.activity_id == activity_id))
        ).all()
    assert activity is not None and activity.status is ActivityStatus.CANCELLED
    assert set(statuses) == {SignupStatus.WITHDRAWN}
    # The same confirmation pressed again: already cancelled, nobody told twice.
    out = await staff.press_data(ActCancelCb(id=activity_id, action="yes").pack(), message=confirm)
    assert staff.answers()[-1].text == "This activity has been cancelled already."
    assert out == []
    assert await delivered(staff.dp, bot) == []
    out = await staff.send("/manage")
    assert "There are no upcoming activities" in out[-1].text


async def test_manage_lists_the_soonest_first(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    """Seen in Chinese: /manage put next month's activity above today's. Soonest first:
    one under way, then today's, then the days after, over the pages."""
    ids = await station_ids(sqlite_sessionmaker)
    await grant(sqlite_sessionmaker, 2401, "staff", "hf-ss-xy-xyxc")
    now = utcnow()
    for title, starts_in in [
        ("下个月的活动", timedelta(days=30)),
        ("后天的活动", timedelta(days=2)),
        ("进行中的活动", -timedelta(minutes=30)),
        ("一小时后的活动", timedelta(hours=1)),
        ("下周的活动", timedelta(days=7)),
        ("明天的活动", timedelta(days=1)),
        ("已结束的活动", -timedelta(hours=5)),
    ]:
        await make_activity(
            sqlite_sessionmaker,
            ids["hf-ss-xy-xyxc"],
            now=now,
            capacity=10,
            starts_in=starts_in,
            title=title,
        )
    chat = Conversation(dp, bot, user_id=2401, language_code="zh-hans")
    first = (await chat.send("/manage"))[-1]
    titles = re.findall(r"\d+\. <b>(.+?)</b>", first.text)
    assert titles == ["进行中的活动", "一小时后的活动", "明天的活动", "后天的活动", "下周的活动"]
    await chat.press_data(ActManageCb(page=1).pack())
    titles = re.findall(r"\d+\. <b>(.+?)</b>", chat.last().text)
    assert titles == ["下个月的活动"]
