"""/volunteers (the register) through the real Dispatcher: coordinators see their
subtree, staff their station, others nothing; filters, a typed search answered in
one message, 300+ volunteers a page at a time, the spreadsheet; replayed and forged
buttons; and the tally's export button for the national system."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from aiogram import Dispatcher
from openpyxl import load_workbook
from sqlalchemy import delete, insert
from sqlmodel import col

from bot.app import build_dispatcher
from services import roles
from services.periods import Period
from storage.db import SessionMaker, write_transaction
from storage.models import Role, Volunteer, VolunteerStatus
from tests.mocked_bot import Conversation, MockedBot
from tests.storage.test_register import ZONE, World, seed_register
from ui.callbacks import RegisterCb, RegisterStationCb, TallyViewCb
from ui.settings import Settings

COORD = 7101  # coordinator of Shushan District (hf-ss)
STAFF = 7102  # staff of Xiyuan Street (hf-ss-xy)
LEAF = 7103  # staff of Xiyuan Xincun only (no stations under it)
NOBODY = 7104


async def grant(maker: SessionMaker, user_id: int, role: str, code: str) -> None:
    async with maker() as session:
        await roles.grant(session, user_id=user_id, role=role, station_code=code, actor_id=None)


@pytest.fixture
async def world(sqlite_sessionmaker: SessionMaker) -> World:
    found = await seed_register(sqlite_sessionmaker)
    await grant(sqlite_sessionmaker, COORD, "coordinator", "hf-ss")
    await grant(sqlite_sessionmaker, STAFF, "staff", "hf-ss-xy")
    await grant(sqlite_sessionmaker, LEAF, "staff", "hf-ss-xy-xyxc")
    return found


@pytest.fixture
def register_dp(world: World, sqlite_url: str, sqlite_sessionmaker: SessionMaker) -> Dispatcher:
    settings = Settings(_env_file=None, database_url=sqlite_url, bot_token=None, quiet_hours="off")
    return build_dispatcher(settings=settings, sessionmaker=sqlite_sessionmaker)


async def test_coordinator_lists_filters_and_searches(
    register_dp: Dispatcher, bot: MockedBot, world: World
) -> None:
    chat = Conversation(register_dp, bot, user_id=COORD, language_code="en")
    out = await chat.send("/volunteers")  # their only top station, straight away
    text = out[-1].text
    assert "Volunteers of Hefei City Social Work Guidance Centre › Shushan District" in text
    assert "5 volunteers; 1–5:" in text
    assert "1. <b>张三</b> · +86 139 0001 0001 · Xiyuan Xincun Community" in text
    assert "1★ · 102 h in all, 2 h in" in text  # 6120 and 120 minutes
    assert "赵六" not in text and "周九" not in text  # Baohe's; declined
    assert "李四" in text and "inactive (no activity in 6 months)" in text
    assert "pending approval" in text and "no activity yet" in text
    await chat.press("Pending")
    text = chat.last().text
    assert "Showing: Pending" in text and "1 volunteers; 1–1:" in text and "王五" in text
    await chat.press("Inactive")
    text = chat.last().text
    assert "李四" in text and "钱七" in text and "张三" not in text
    # a typed search is answered in one message
    await chat.press("All")
    await chat.press("Search")
    assert "Type what to look for" in chat.last().text
    before = len(chat.inbox())
    out = await chat.send("0001 急救")
    assert len(chat.inbox()) == before + 1
    text = out[-1].text
    assert "Search: phone ending 0001 and First aid" in text
    assert "1 volunteers; 1–1:" in text and "张三" in text
    # the search stays with the list's buttons, until cleared
    await chat.press("Approved")
    assert "张三" in chat.last().text and "李四" not in chat.last().text
    await chat.press("Clear the search")
    assert "Search:" not in chat.last().text and "李四" in chat.last().text
    # bad searches are explained, and the dialog waits for another
    await chat.press("Search")
    assert "from 0 to 5" in (await chat.send("9★"))[-1].text
    assert "at least 3 of the phone's last digits" in (await chat.send("12"))[-1].text
    assert "张三" in (await chat.send("1★"))[-1].text


async def test_search_with_the_command_and_straight_to_a_single_station(
    register_dp: Dispatcher, bot: MockedBot, world: World
) -> None:
    chat = Conversation(register_dp, bot, user_id=LEAF, language_code="zh-hans")
    out = await chat.send("/volunteers 钱")
    text = out[-1].text
    assert "西园新村社区" in text and "钱七" in text and "张三" not in text
    staff = Conversation(register_dp, bot, user_id=STAFF, language_code="en")
    text = (await staff.send("/volunteers"))[-1].text  # their only station, straight away
    assert "4 volunteers" in text and "李四" not in text  # Hupo Street is not theirs


async def test_strangers_and_replayed_buttons_are_refused(
    register_dp: Dispatcher, bot: MockedBot, world: World, sqlite_sessionmaker: SessionMaker
) -> None:
    refusal = "You do not have permission for this."
    stranger = Conversation(register_dp, bot, user_id=NOBODY, language_code="en")
    assert (await stranger.send("/volunteers"))[-1].text == refusal
    chat = Conversation(register_dp, bot, user_id=STAFF, language_code="en")
    await chat.send("/volunteers")
    district = RegisterCb(action="x", station=world.ids["hf-ss"])
    await chat.press_data(district.pack())
    assert chat.answers()[-1].text == refusal and chat.answers()[-1].show_alert
    await chat.press_data(RegisterStationCb(action="p", id=world.ids["hf-bh"]).pack())
    assert chat.answers()[-1].text == refusal
    await stranger.press_data(district.pack(), message=chat.last())
    assert stranger.answers()[-1].text == refusal
    await stranger.press_data(
        RegisterCb(action="l", station=10**6).pack(), message=chat.last()
    )  # a station that does not exist: the same refusal
    assert stranger.answers()[-1].text == refusal
    await chat.press_data(RegisterCb(action="l", station=world.ids["hf-ss-xy"], show=9).pack())
    assert chat.answers()[-1].text == "This button is no longer active."
    assert all(m.document is None for m in chat.inbox())
    async with sqlite_sessionmaker() as session, write_transaction(session):
        await session.exec(delete(Role).where(col(Role.user_id) == STAFF))
    await chat.press_data(RegisterCb(action="l", station=world.ids["hf-ss-xy"]).pack())
    assert chat.answers()[-1].text == refusal


async def test_the_spreadsheet(register_dp: Dispatcher, bot: MockedBot, world: World) -> None:
    chat = Conversation(register_dp, bot, user_id=COORD, language_code="en")
    await chat.send("/volunteers")
    await chat.press("Inactive")
    await chat.press("Spreadsheet")
    sent = chat.last()
    assert sent.document is not None and sent.file_name is not None
    assert sent.file_name.startswith("volunteers-hf-ss-") and sent.file_name.endswith(".xlsx")
    rows = list(load_workbook(io.BytesIO(sent.document)).active.iter_rows(values_only=True))
    assert rows[0][0] == "Volunteers of Shushan District Guidance Centre: Inactive"
    assert rows[1][:3] == ("No.", "Name", "Phone")
    body = {r[1]: r for r in rows[2:]}
    assert set(body) == {"李四", "钱七"}
    assert body["李四"][5] == "Tutoring" and body["李四"][7] == 1.5 and body["李四"][8] == 0


async def test_three_hundred_volunteers_are_paged(
    register_dp: Dispatcher, bot: MockedBot, world: World, sqlite_sessionmaker: SessionMaker
) -> None:
    surnames = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许"
    given = "一二三四五六七八九十明亮红华强伟芳敏静丽"
    async with sqlite_sessionmaker() as session, write_transaction(session):
        conn = await session.connection()
        await conn.execute(
            insert(Volunteer),
            [
                {
                    "id": 100 + n,
                    "station_id": world.ids["hf-ss-nq-nq"],
                    "status": VolunteerStatus.ACTIVE,
                    "real_name": "队员" + surnames[n // 20] + given[n % 20],
                    "phone": f"+86137{n:08d}",
                    "skills": [],
                    "created_at": world.now - timedelta(days=1),
                    "updated_at": world.now,
                    "weekly_digest": True,
                }
                for n in range(320)
            ],
        )
    chat = Conversation(register_dp, bot, user_id=COORD, language_code="en")
    await chat.send("/volunteers")
    await chat.press("Another station")
    assert "The volunteers of which station?" in chat.last().text
    await chat.press("Nanqi")
    await chat.press("Choose Nanqi")
    screen = chat.last()
    assert "320 volunteers; 1–10:" in screen.text and "10. <b>队员赵十</b>" in screen.text
    await chat.press("Next", message=screen)
    assert "11–20:" in screen.text and "11. <b>队员赵明</b>" in screen.text
    page_31 = RegisterCb(action="l", station=world.ids["hf-ss-nq"], page=31)
    await chat.press_data(page_31.pack(), message=screen)
    assert "311–320:" in screen.text and "Next ›" not in [t for t, _ in screen.buttons()]
    await chat.press_data(
        RegisterCb(action="l", station=world.ids["hf-ss-nq"], page=99).pack(), message=screen
    )  # past the end (the list shrank): the last page
    assert "311–320:" in screen.text
    before = len(chat.inbox())
    out = await chat.send("/volunteers 00000317")
    assert len(chat.inbox()) == before + 1  # Shushan's register, searched
    assert "Search: phone ending 00000317" in out[-1].text
    await chat.press("Another station", message=out[-1])
    await chat.press("Nanqi")
    await chat.press("Choose Nanqi")
    assert "1 volunteers; 1–1:" in chat.last().text and "+86 137 0000 0317" in chat.last().text


async def test_tally_export_buttons_send_the_national_file(
    register_dp: Dispatcher, bot: MockedBot, world: World
) -> None:
    chat = Conversation(register_dp, bot, user_id=COORD, language_code="en")
    today = world.now.astimezone(ZONE).date()
    period = Period(world.this_year.astimezone(ZONE).date(), today)
    menu = (await chat.send("/tally"))[-1]
    await chat.press_data(
        TallyViewCb(
            action="v",
            station=world.ids["hf-ss"],
            first=period.first.toordinal(),
            last=period.last.toordinal(),
        ).pack(),
        message=menu,
    )
    sent = chat.last()
    assert sent.document is not None and sent.file_name == (
        f"hours-hf-ss-{period.first.isoformat()}_{period.last.isoformat()}.csv"
    )
    assert "1 rows" in sent.text and "no ID numbers are collected" in sent.text
    table = list(csv.reader(io.StringIO(sent.document.decode("utf-8-sig"))))
    assert table[0] == [
        "姓名", "手机号码", "活动名称", "服务类别", "服务日期", "开始时间", "结束时间",
        "服务时长（小时）", "服务站点",
    ]  # fmt: skip
    local = world.this_year.astimezone(ZONE)
    assert table[1] == [
        "张三", "13900010001", "活动A", "助老", local.date().isoformat(),
        local.strftime("%H:%M"), (local + timedelta(hours=2)).strftime("%H:%M"), "2.00",
        "西园新村社区",
    ]  # fmt: skip
    await chat.press_data(
        TallyViewCb(
            action="n",
            station=world.ids["hf-ss"],
            first=period.first.toordinal(),
            last=period.last.toordinal(),
        ).pack(),
        message=menu,
    )
    sent = chat.last()
    assert sent.document is not None and sent.file_name is not None
    assert sent.file_name.endswith(".xlsx")
    rows = list(load_workbook(io.BytesIO(sent.document)).active.iter_rows(values_only=True))
    assert rows[1][0] == "张三" and rows[1][7] == 2
    # staff of Xiyuan Street may not export the district's
    staff = Conversation(register_dp, bot, user_id=STAFF, language_code="en")
    await staff.press_data(
        TallyViewCb(
            action="n",
            station=world.ids["hf-ss"],
            first=period.first.toordinal(),
            last=period.last.toordinal(),
        ).pack(),
        message=menu,
    )
    assert staff.answers()[-1].text == "You do not have permission for this."
    assert all(m.document is None for m in staff.inbox())
