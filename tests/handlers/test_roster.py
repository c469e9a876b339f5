"""Staff run a roster through the real Dispatcher: pick an activity, open check-in
(code and QR image), mark and correct, record beneficiaries, close; replayed buttons
of others; 300 volunteers; redelivered updates; the records-due reminder."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram import Dispatcher
from aiogram.types import CallbackQuery, Message, Update
from babel.dates import format_date
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader
from sqlmodel import col, select

from handlers.attendance.codes import qr_png
from handlers.attendance.notices import (
    render_checkout_missing,
    render_records_due,
    render_records_overdue,
)
from reports import certificate_pdf
from services import activities, closing, marks, records_followup, roles, stations
from services.access import Actor
from storage.db import SessionMaker, write_transaction
from storage.models import (
    Activity,
    Attendance,
    AttendanceMark,
    AuditLog,
    Beneficiaries,
    Signup,
    SignupStatus,
    TargetGroup,
    Volunteer,
)
from storage.types import utcnow
from tests.conftest import load_example_tree
from tests.delivery_helpers import delivered
from tests.factories import make_activity, make_volunteers
from tests.mocked_bot import BOT_USER, Conversation, MockedBot
from ui.callbacks import (
    RosterBenCb,
    RosterCb,
    RosterCloseCb,
    RosterCodeCb,
    RosterMarkCb,
    RosterSheetCb,
)
from ui.i18n import make_i18n

SHANGHAI = ZoneInfo("Asia/Shanghai")
STAFF = 9101
STATION = "hf-ss-xy-xyxc"
NO_PERMISSION = "You do not have permission for this."


async def station_id(maker: SessionMaker, code: str = STATION) -> int:
    async with maker() as session:
        found = {s.code: s.id for s in await stations.all_stations(session)}[code]
    assert found is not None
    return found


async def grant(maker: SessionMaker, user_id: int, code: str = STATION) -> None:
    async with maker() as session:
        await roles.grant(session, user_id=user_id, role="staff", station_code=code, actor_id=None)


async def seated_activity(
    maker: SessionMaker,
    seats: list[int],
    *,
    starts_in: timedelta = -timedelta(minutes=10),
    title: str = "Elder tea party",
) -> int:
    station = await station_id(maker)
    await make_volunteers(maker, station, seats)
    now = utcnow()
    activity_id = await make_activity(
        maker, station, now=now, capacity=500, starts_in=starts_in, title=title
    )
    async with maker() as session:
        for user_id in seats:
            await activities.join(
                session,
                user_id=user_id,
                activity_id=activity_id,
                now=now + starts_in - timedelta(days=1),
            )
    return activity_id


async def by_user(maker: SessionMaker, activity_id: int) -> dict[int, Attendance]:
    async with maker() as session:
        found = (
            await session.exec(
                select(Volunteer.user_id, Attendance)
                .join(Attendance, col(Attendance.volunteer_id) == col(Volunteer.id))
                .where(Attendance.activity_id == activity_id)
            )
        ).all()
    return {uid: row for uid, row in found if uid is not None}


def activity_closed(rows: dict[int, Attendance]) -> object:
    """The one credit time all rows share (None if they differ)."""
    times = {r.credited_at for r in rows.values()}
    return times.pop() if len(times) == 1 and None not in times else "differs"


async def volunteer_id(maker: SessionMaker, user_id: int) -> int:
    async with maker() as session:
        vid = (await session.exec(select(Volunteer.id).where(Volunteer.user_id == user_id))).one()
    assert vid is not None
    return vid


@pytest.fixture
async def staff(dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker) -> Conversation:
    await grant(sqlite_sessionmaker, STAFF)
    return Conversation(dp, bot, user_id=STAFF, language_code="en")


async def test_a_roster_from_check_in_to_closing(
    staff: Conversation, dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    # 2101 checks in and out, 2102 checks in only, 2103 never comes, 2104 comes late
    # without checking in; 2105 walks in.
    activity_id = await seated_activity(maker, [2101, 2102, 2103, 2104])
    await make_volunteers(maker, await station_id(maker), [2105])
    people = {u: Conversation(dp, bot, user_id=u, language_code="en") for u in range(2101, 2106)}

    out = await staff.send("/roster")
    assert "<b>Rosters</b> (page 1 of 1)" in out[-1].text
    assert "Elder tea party" in out[-1].text and "under way · 4 with a seat" in out[-1].text
    out = await staff.press("Elder tea party")
    roster = staff.last()
    assert "<b>Roster: Elder tea party</b>" in roster.text
    assert "Check-in is not open" in roster.text
    assert "4 with a seat · 0 walk-ins · 0 checked in" in roster.text
    assert "1. <b>志愿者乙</b>" in roster.text and "not recorded" in roster.text

    before = len(staff.inbox())
    await staff.press("Check-in code")
    photos = [m for m in staff.inbox()[before:] if m.photo]
    assert len(photos) == 1
    match = re.search(r"Code: <code>(\d{6})</code>", photos[0].text)
    assert match, photos[0].text
    code = match.group(1)
    assert f"/checkin {code}" in photos[0].text and "@station_test_bot" in photos[0].text
    link = f"https://t.me/{BOT_USER.username}?start=ci_{code}"
    assert photos[0].photo == qr_png(link)
    assert Image.open(io.BytesIO(photos[0].photo)).size[0] > 200
    assert f"Check-in code: <code>{code}</code>" in staff.last_with_buttons().text

    await people[2101].send(f"/checkin {code}")
    await people[2101].send("/checkout")
    await people[2102].send(f"/checkin {code}")
    out = await people[2105].send(f"/checkin {code}")
    assert "walk-in" in out[-1].text
    await people[2105].send("/checkout")

    await staff.press("Refresh")
    text = staff.last_with_buttons().text
    # Under way: 2102, checked in, is simply there; nothing is flagged yet.
    assert "4 with a seat · 1 walk-ins · 3 checked in · 0 absent" in text
    assert "5. <b>志愿者己</b> (walk-in)" in text  # 2105
    assert "⚠️" not in text

    # 2103: absent.
    await staff.press("3. 志愿者丁")
    out = await staff.press("Absent")
    assert "Mark: absent" in staff.last_with_buttons().text
    await staff.press("Back to the roster")
    # 2104: late, nothing to go by: the minutes are typed.
    await staff.press("4. 志愿者戊")
    out = await staff.press("Late")
    assert "Type the time served" in out[-1].text and "from 0 to 2 h" in out[-1].text
    out = await staff.send("three hours")
    assert "I could not read that" in out[-1].text
    out = await staff.send("3")
    assert "more than the activity's length" in out[-1].text
    out = await staff.send("45分钟")
    assert out[-1].text.startswith("Saved.")
    assert "Mark: late" in out[-1].text and "Time: 45 min, confirmed" in out[-1].text

    # Closing is refused while 2102 has no check-out.
    await staff.press("Back to the roster")
    out = await staff.press("Close the records")
    refusal = staff.last_with_buttons().text
    assert "cannot be closed yet" in refusal
    assert "志愿者丙" in refusal and "志愿者己" not in refusal
    await staff.press("Back to the roster")
    await staff.press("2. 志愿者丙")
    assert "still under way. To close the records early" in staff.last_with_buttons().text
    await staff.press("Confirm")
    assert "confirmed" in staff.last_with_buttons().text
    # 2101's time corrected by hand: 1.5 hours.
    await staff.press("Back to the roster")
    await staff.press("1. 志愿者乙")
    await staff.press("Correct the time")
    out = await staff.send("1.5")
    assert "Time: 1 h 30 min, confirmed" in out[-1].text

    # Beneficiaries.
    await staff.press("Back to the roster")
    await staff.press("Beneficiaries")
    await staff.press("the elderly")
    out = await staff.send("lots")
    assert "Please type a number of people" in out[-1].text
    out = await staff.send("35人")
    assert "Saved: the elderly: 35." in out[-1].text and "Total: 35" in out[-1].text

    await staff.press("Back to the roster")
    await staff.press("Close the records")
    preview = staff.last_with_buttons().text
    assert "Close the records of <b>Elder tea party</b>?" in preview
    await staff.press("Yes, close the records")
    assert "🔒 The records of <b>Elder tea party</b> are closed." in staff.last().text

    rows = await by_user(maker, activity_id)
    assert {u: (r.mark, r.minutes, r.confirmed) for u, r in rows.items()} == {
        2101: (AttendanceMark.PRESENT, 90, True),
        2102: (AttendanceMark.PRESENT, rows[2102].minutes, True),
        2103: (AttendanceMark.ABSENT, 0, True),
        2104: (AttendanceMark.LATE, 45, True),
        2105: (AttendanceMark.PRESENT, 0, True),
    }
    assert rows[2102].minutes is not None and 100 <= rows[2102].minutes <= 120
    assert all(r.credited_at == activity_closed(rows) for r in rows.values())
    async with maker() as session:
        audits = (await session.exec(select(AuditLog.action, AuditLog.actor_id))).all()
        activity = await session.get(Activity, activity_id)
    assert activity is not None and activity.closed_by == STAFF
    corrections = [a for a in audits if a[0] == "attendance.corrected"]
    assert len(corrections) == 4 and {a[1] for a in corrections} == {STAFF}


async def test_other_staff_and_volunteers_cannot_replay_buttons(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    activity_id = await seated_activity(maker, [2201])
    vid = await volunteer_id(maker, 2201)
    await grant(maker, 9102, "hf-ss-xy-hyd")  # staff of the community next door
    outsider = Conversation(dp, bot, user_id=9102, language_code="en")
    volunteer = Conversation(dp, bot, user_id=2201, language_code="en")
    out = await outsider.send("/roster")
    assert "no activity to take attendance for" in out[-1].text
    out = await volunteer.send("/roster")
    assert out[-1].text == NO_PERMISSION
    await outsider.send("/help")  # a message to press buttons under
    target = outsider.last()
    target.reply_markup = None
    datas = [
        RosterCb(activity=activity_id).pack(),
        RosterCodeCb(activity=activity_id).pack(),
        RosterMarkCb(activity=activity_id, volunteer=vid, action="absent").pack(),
        RosterBenCb(activity=activity_id, group="elderly").pack(),
        RosterCloseCb(activity=activity_id, confirm=True).pack(),
        RosterSheetCb(activity=activity_id, fmt="p").pack(),
        RosterSheetCb(activity=activity_id, fmt="x").pack(),
    ]
    for who in (outsider, volunteer):
        for data in datas:
            await who.press_data(data, message=target)
            assert who.answers()[-1].text == NO_PERMISSION
    async with maker() as session:
        activity = await session.get(Activity, activity_id)
        assert activity is not None
        assert activity.checkin_code is None and activity.closed_at is None
    assert await by_user(maker, activity_id) == {}


async def test_three_hundred_volunteers_page_under_the_limit(
    staff: Conversation, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    station = await station_id(maker)
    now = utcnow()
    # Ended an hour ago: the missing check-outs are flagged.
    activity_id = await make_activity(
        maker, station, now=now, capacity=300, starts_in=-timedelta(hours=3)
    )
    long_name = "<李&王>" + "长" * 58  # 64 characters, with HTML to escape
    async with maker() as session, write_transaction(session):
        volunteers = [
            Volunteer(user_id=None, station_id=station, real_name=f"{n:03d}{long_name}"[:64])
            for n in range(300)
        ]
        session.add_all(volunteers)
        await session.flush()
        session.add_all(
            Signup(activity_id=activity_id, volunteer_id=v.id or 0, status=SignupStatus.CONFIRMED)
            for v in volunteers
        )
        for v in volunteers[::3]:
            session.add(
                Attendance(
                    activity_id=activity_id,
                    volunteer_id=v.id or 0,
                    checked_in_at=now - timedelta(hours=3),
                    mark=AttendanceMark.PRESENT,
                )
            )
    await staff.send("/roster")
    await staff.press("垃圾分类督导")
    first = staff.last_with_buttons()
    assert "Page 1 of 30" in first.text and "300 with a seat" in first.text
    assert "&lt;李&amp;王&gt;" in first.text
    assert "100 ⚠️ without check-out" in first.text
    assert len([b for b, _ in first.buttons() if b[:1].isdigit() or b.startswith("⚠️")]) == 10
    for page in range(1, 30):
        await staff.press_data(RosterCb(activity=activity_id, page=page).pack())
    last = staff.last_with_buttons()
    assert "Page 30 of 30" in last.text and "300. <b>299" in last.text
    # The close refusal names them, in a message under Telegram's limit.
    await staff.press("Close the records")
    assert "and 70 more" in staff.last_with_buttons().text


async def test_redelivered_close_and_count_change_nothing_twice(
    staff: Conversation, dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    activity_id = await seated_activity(maker, [2301, 2302])
    async with maker() as session:
        for user_id in (2301, 2302):
            await marks.correct(
                session,
                actor=Actor(STAFF),
                activity_id=activity_id,
                volunteer_id=await volunteer_id(maker, user_id),
                action="present",
            )
    await staff.send("/roster")
    await staff.press("Elder tea party")
    await staff.press("Beneficiaries")
    await staff.press("children")
    count = Update(update_id=5001, message=staff._message(text="12"))
    for _ in range(3):
        await dp.feed_update(bot, count)
    await staff.press("Back to the roster")
    await staff.press("Close the records")
    pressed = staff.last_with_buttons()
    [yes] = [data for label, data in pressed.buttons() if "Yes, close" in label]
    query = CallbackQuery(
        id="77",
        from_user=staff.user,
        chat_instance="ci",
        data=yes,
        message=Message(
            message_id=pressed.message_id,
            date=utcnow(),
            chat=staff.chat,
            from_user=BOT_USER,
            text=pressed.text,
        ),
    )
    close = Update(update_id=5002, callback_query=query)
    for _ in range(3):
        await dp.feed_update(bot, close)

    async with maker() as session:
        counts = (
            await session.exec(
                select(Beneficiaries).where(Beneficiaries.activity_id == activity_id)
            )
        ).all()
        closings = (
            await session.exec(select(AuditLog).where(AuditLog.action == "activity.closed"))
        ).all()
        recorded = (
            await session.exec(select(AuditLog).where(AuditLog.action == "beneficiaries.recorded"))
        ).all()
    assert [(b.target_group, b.count) for b in counts] == [(TargetGroup.CHILDREN, 12)]
    assert len(recorded) == 1
    assert len(closings) == 1 and closings[0].details["credited_volunteers"] == 2
    rows = await by_user(maker, activity_id)
    assert len({r.credited_at for r in rows.values()}) == 1 and None not in {
        r.credited_at for r in rows.values()
    }
    # The pressed message shows the last answer; the repeated count met no question.
    assert "were already closed" in staff.session.messages[pressed.message_id].text
    assert staff.last().text == "Send /help to see what I can do."


async def test_records_due_reminder_renders_and_lapses(sqlite_sessionmaker: SessionMaker) -> None:
    maker = sqlite_sessionmaker
    await load_example_tree(maker)
    activity_id = await make_activity(
        maker,
        await station_id(maker),
        now=utcnow(),
        capacity=5,
        starts_in=-timedelta(days=3),
        title="Sorting <duty>",
    )
    i18n = make_i18n("zh_CN")
    today = utcnow().astimezone(SHANGHAI).date()
    due = {
        "activity": activity_id,
        "due": (today + timedelta(days=7)).isoformat(),
        "zone": "Asia/Shanghai",
    }
    async with maker() as session:
        with i18n.context(), i18n.use_locale("en"):
            rendered = await render_records_due(session, due)
            overdue = await render_records_due(
                session, {**due, "due": (today - timedelta(days=1)).isoformat()}
            )
    assert rendered is not None and overdue is not None
    text, markup = rendered
    assert "Records due" in text and "Sorting &lt;duty&gt;" in text
    day = format_date(today + timedelta(days=7), format="medium", locale="en")
    assert f"close them by {day}." in text
    assert markup is not None
    assert markup.inline_keyboard[0][0].callback_data == RosterCb(activity=activity_id).pack()
    assert "Records overdue" in overdue[0]
    async with maker() as session:
        await closing.close(session, actor=Actor(STAFF, is_admin=True), activity_id=activity_id)
        with i18n.context(), i18n.use_locale("zh_CN"):
            assert await render_records_due(session, due) is None


# --- forgotten check-outs and records long overdue --------------------------------


async def checked_in_only(maker: SessionMaker, activity_id: int, user_ids: list[int]) -> None:
    """Checked in ten minutes after the start, never out."""
    async with maker() as session, write_transaction(session):
        activity = await session.get(Activity, activity_id)
        assert activity is not None
        for user_id in user_ids:
            session.add(
                Attendance(
                    activity_id=activity_id,
                    volunteer_id=await volunteer_id(maker, user_id),
                    checked_in_at=activity.starts_at + timedelta(minutes=10),
                    mark=AttendanceMark.PRESENT,
                    created_at=activity.starts_at,
                )
            )


async def test_staff_get_the_names_of_forgotten_check_outs(
    dp: Dispatcher, bot: MockedBot, staff: Conversation, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    # Ended five hours ago (2 hours long): check-out closed three hours ago.
    activity_id = await seated_activity(
        maker, [9201, 9202, 9203], starts_in=-timedelta(hours=7), title="Sorting <duty>"
    )
    await checked_in_only(maker, activity_id, [9201, 9203])
    assert (
        await records_followup.tell_missing_checkouts(sessionmaker=maker, settings=dp["settings"])
        == 1
    )
    out = await delivered(dp, bot)
    [notice] = [m for m in out if m.chat_id == STAFF]
    # In the staff member's language: unknown yet, so the default, Chinese.
    assert "忘记签退" in notice.text and "「<b>Sorting &lt;duty&gt;</b>」" in notice.text
    assert "2 人" in notice.text
    assert "志愿者乙" in notice.text and "志愿者丁" in notice.text  # 9201 and 9203
    assert "志愿者丙" not in notice.text
    assert notice.buttons()[0][1] == RosterCb(activity=activity_id).pack()
    # The daily records reminder names them too.
    i18n = make_i18n("zh_CN")
    payload = {"activity": activity_id, "due": "2099-01-01", "zone": "Asia/Shanghai"}
    async with maker() as session:
        with i18n.context(), i18n.use_locale("zh_CN"):
            reminder = await render_records_due(session, payload)
        with i18n.context(), i18n.use_locale("en"):
            missing = await render_checkout_missing(session, payload)
    assert missing is not None and "Check-outs forgotten" in missing[0]
    assert "2 people checked in" in missing[0]
    assert reminder is not None and "志愿者乙" in reminder[0] and "志愿者丁" in reminder[0]
    assert missing is not None and "志愿者乙" in missing[0]
    # Once staff have confirmed both, a notice still queued says nothing.
    for user_id in (9201, 9203):
        async with maker() as session:
            await marks.correct(
                session,
                actor=Actor(STAFF),
                activity_id=activity_id,
                volunteer_id=await volunteer_id(maker, user_id),
                action="confirm",
            )
    async with maker() as session:
        with i18n.context(), i18n.use_locale("en"):
            assert await render_checkout_missing(session, payload) is None


async def test_coordinators_above_hear_of_records_long_overdue(
    dp: Dispatcher, bot: MockedBot, staff: Conversation, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    async with maker() as session:
        await roles.grant(
            session, user_id=9301, role="coordinator", station_code="hf-ss-xy", actor_id=None
        )
    activity_id = await seated_activity(maker, [9204], starts_in=-timedelta(days=60))
    assert await records_followup.escalate_overdue(sessionmaker=maker, settings=dp["settings"]) == 1
    out = await delivered(dp, bot)
    [notice] = [m for m in out if m.chat_id == 9301]
    # In the coordinator's language: unknown yet, so the default, Chinese.
    assert "西园新村社区结项严重逾期" in notice.text and "「<b>Elder tea party</b>」" in notice.text
    coordinator = Conversation(dp, bot, user_id=9301, language_code="zh-hans")
    await coordinator.press_data(notice.buttons()[0][1], message=notice)
    assert "Elder tea party" in coordinator.session.messages[notice.message_id].text
    async with maker() as session:
        await closing.close(session, actor=Actor(STAFF), activity_id=activity_id)
        payload = {"activity": activity_id, "due": "2026-01-01", "zone": "Asia/Shanghai"}
        i18n = make_i18n("zh_CN")
        with i18n.context(), i18n.use_locale("en"):
            assert await render_records_overdue(session, payload) is None


# --- the sign-in sheet ----------------------------------------------------------------


@pytest.mark.skipif(
    certificate_pdf.find_cjk_font() is None, reason="no CJK font installed (fonts-noto-cjk)"
)
async def test_staff_print_the_sign_in_sheet_from_the_roster(
    staff: Conversation, dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    activity_id = await seated_activity(maker, [2301, 2302, 2303], title="Sorting <duty>")
    await checked_in_only(maker, activity_id, [2302])
    await staff.send("/roster")
    await staff.press("Sorting <duty>")
    roster = staff.last()
    before = len(staff.inbox())
    await staff.press("Sign-in sheet (PDF)", message=roster)
    await staff.press("Sign-in sheet (Excel)", message=roster)
    pdf_sent, xlsx_sent = [m for m in staff.inbox()[before:] if m.document]
    assert pdf_sent.file_name == f"signin-sheet-{activity_id}.pdf"
    assert "Sorting &lt;duty&gt;" in pdf_sent.text and "3 people on the roster" in pdf_sent.text
    assert pdf_sent.document is not None and xlsx_sent.document is not None
    reader = PdfReader(io.BytesIO(pdf_sent.document))
    text = "".join(reader.pages[0].extract_text().replace("\x00", "").split())
    assert "Sign-insheet" in text and "Sorting<duty>" in text
    assert "志愿者乙" in text and "****0000" in text and "13800000000" not in text
    assert xlsx_sent.file_name == f"signin-sheet-{activity_id}.xlsx"
    book = load_workbook(io.BytesIO(xlsx_sent.document))
    assert book.active is not None
    values = [row for row in book.active.iter_rows(values_only=True)]
    head = next(i for i, row in enumerate(values) if row[0] == "No.")
    body = values[head + 1 :]
    assert [row[1] for row in body] == ["志愿者乙", "志愿者丙", "志愿者丁"]
    assert {row[2] for row in body} == {"****0000"}
    assert body[1][3] and not body[0][3]  # 2302 checked in


async def _checked_in(maker: SessionMaker, activity_id: int, user_id: int, at: object) -> None:
    vid = await volunteer_id(maker, user_id)
    async with maker() as session, write_transaction(session):
        session.add(Attendance(activity_id=activity_id, volunteer_id=vid, checked_in_at=at))


async def test_roster_order_and_no_flag_while_under_way_in_chinese(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    """Seen in Chinese: /roster put tomorrow's activity above the one under way, and
    flagged 未签退 for a volunteer still at an activity that had not ended."""
    maker = sqlite_sessionmaker
    await grant(maker, 9201)
    staff = Conversation(dp, bot, user_id=9201, language_code="zh-hans")
    now = utcnow()
    running = await seated_activity(maker, [2601], starts_in=-timedelta(minutes=30), title="进行中")
    ended = await seated_activity(maker, [2602], starts_in=-timedelta(hours=3), title="刚结束")
    station = await station_id(maker)
    for title, starts_in in [
        ("两天前", -timedelta(days=2)),
        ("三小时后", timedelta(hours=3)),
        ("二十小时后", timedelta(hours=20)),
    ]:
        await make_activity(maker, station, now=now, capacity=10, starts_in=starts_in, title=title)
    await _checked_in(maker, running, 2601, now - timedelta(minutes=25))
    await _checked_in(maker, ended, 2602, now - timedelta(hours=2, minutes=55))

    listing = (await staff.send("/roster"))[-1].text
    titles = re.findall(r"\d+\. <b>(.+?)</b>", listing)
    assert titles == ["进行中", "三小时后", "二十小时后", "刚结束", "两天前"]

    await staff.press("进行中")
    roster = staff.last_with_buttons()
    assert "已签到 1" in roster.text
    assert "未签退" not in roster.text and "⚠️" not in roster.text
    assert not [label for label, _ in roster.buttons() if label.startswith("⚠️")]

    await staff.send("/roster")
    await staff.press("刚结束")
    roster = staff.last_with_buttons()
    assert "⚠️ 未签退 1" in roster.text
    assert [label for label, _ in roster.buttons() if label.startswith("⚠️")] == ["⚠️ 1. 志愿者丙"]


async def test_beneficiaries_in_chinese_punctuation(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    """Seen in Chinese: the beneficiaries screen read "老年人: —" (an ASCII colon)."""
    maker = sqlite_sessionmaker
    await grant(maker, 9202)
    staff = Conversation(dp, bot, user_id=9202, language_code="zh-hans")
    await seated_activity(maker, [2701], title="敬老茶话会")
    await staff.send("/roster")
    await staff.press("敬老茶话会")
    await staff.press("受益人次")
    screen = staff.last_with_buttons().text
    assert "• 老年人：未登记" in screen and ":" not in screen
    await staff.press("老年人")
    await staff.send("35人")
    await staff.press("返回活动名单")
    await staff.press("受益人次")
    screen = staff.last_with_buttons().text
    assert "• 老年人：35 人次" in screen and ":" not in screen
