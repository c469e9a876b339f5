"""/tally through the real Dispatcher: coordinators see their subtree, staff their
station, others nothing; the text, the chart, the spreadsheet, previous and next
periods, typed periods; and the Monday message through the outbox."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram import Dispatcher
from openpyxl import load_workbook
from sqlalchemy import delete, insert, update
from sqlmodel import col, select

from bot.app import build_dispatcher
from handlers.tally.weekly import render_weekly_tally
from reports import tally_chart
from services import roles, stations, tallies, tally_weekly
from services.tallies import Period
from storage.db import SessionMaker, write_transaction
from storage.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Attendance,
    AttendanceMark,
    Beneficiaries,
    Outbox,
    Pledge,
    PledgeStatus,
    Role,
    Station,
    TargetGroup,
    Volunteer,
)
from storage.types import utcnow
from tests.conftest import load_example_tree
from tests.mocked_bot import Conversation, MockedBot
from ui.callbacks import TallyStationCb, TallyViewCb
from ui.i18n import make_i18n
from ui.settings import Settings

ZONE = ZoneInfo("Asia/Shanghai")
ADMIN = 9000
COORD = 7001  # coordinator of Shushan District (hf-ss)
STAFF = 7002  # staff of Xiyuan Street (hf-ss-xy)
TWO = 7003  # staff of Xiyuan Street and of Wanghu Street: two tops
NOBODY = 7004


@dataclass(frozen=True)
class Seeded:
    ids: dict[str, int]
    this_week: Period
    last_week: Period


def _week_start(now: datetime) -> datetime:
    local = now.astimezone(ZONE)
    monday = local.date() - timedelta(days=local.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=ZONE).astimezone(UTC)


async def seed_tally(maker: SessionMaker, now: datetime | None = None) -> Seeded:
    """The example tree and a week of records around Shushan District:

    this week  Xiyuan Xincun (under Xiyuan Street): a home visit (3 who count, one
               absent, one unconfirmed) and garbage sorting (2); Hupo Street: elder
               care (1); Wanghu Street (Baohe, outside Shushan): one activity;
               a cancelled activity at Xiyuan Street.
    last week  Xiyuan Xincun: one activity with one participation (60 minutes).

    Shushan this week: 3 activities, 6 participations by 5 people, 390 minutes
    (6.5 hours), 40 beneficiaries, 5 new volunteers, 2 pledges of ¥3,250.00 of
    which ¥2,250.00 received (a third, cancelled, does not count)."""
    ids = await load_example_tree(maker)
    now = now or utcnow()
    start = _week_start(now)
    held = start + (now - start) / 2  # inside this week, before now
    before = start - timedelta(days=3)
    this_week = tallies.week_of(now.astimezone(ZONE).date())

    def activity(code: str, kind: ActivityKind, at: datetime, **extra: Any) -> dict[str, Any]:
        return {
            "station_id": ids[code],
            "kind": kind,
            "title": f"{kind.value} <at> {code}",
            "description": "",
            "place": "西园新村东门",
            "starts_at": at,
            "ends_at": at + timedelta(hours=2),
            "capacity": 30,
            "target_group": TargetGroup.ELDERLY,
            "status": ActivityStatus.PUBLISHED,
            "created_at": at - timedelta(days=7),
            "updated_at": at,
            **extra,
        }

    async with maker() as session, write_transaction(session):
        volunteers = [
            ("hf-ss-xy-xyxc", held),
            ("hf-ss-xy-xyxc", held),
            ("hf-ss-xy-xyxc", held),
            ("hf-ss-hp", held),
            ("hf-ss-hp", held),
            ("hf-bh-wh", held),
            ("hf-ss-xy-xyxc", before),
        ]
        for n, (code, at) in enumerate(volunteers, start=1):
            session.add(
                Volunteer(id=n, station_id=ids[code], real_name=f"志愿者{n}", created_at=at)
            )
        await session.flush()
        conn = await session.connection()
        rows = [
            activity("hf-ss-xy-xyxc", ActivityKind.HOME_VISIT, held, id=1),
            activity("hf-ss-xy-xyxc", ActivityKind.GARBAGE_SORTING, held, id=2),
            activity("hf-ss-hp", ActivityKind.ELDER_CARE, held, id=3),
            activity("hf-bh-wh", ActivityKind.CLEANUP, held, id=4),
            activity("hf-ss-xy", ActivityKind.OTHER, held, id=5, status=ActivityStatus.CANCELLED),
            activity("hf-ss-xy-xyxc", ActivityKind.OTHER, before, id=6),
        ]
        await conn.execute(insert(Activity), rows)

        def seat(a: int, v: int, minutes: int, **extra: Any) -> dict[str, Any]:
            return {
                "activity_id": a,
                "volunteer_id": v,
                "minutes": minutes,
                "confirmed": True,
                "mark": AttendanceMark.PRESENT,
                "created_at": now,
                "updated_at": now,
                **extra,
            }

        await conn.execute(
            insert(Attendance),
            [
                seat(1, 1, 60),
                seat(1, 2, 90),
                seat(1, 3, 120, mark=None),
                seat(1, 4, 0, mark=AttendanceMark.ABSENT),
                seat(1, 5, 100, confirmed=False),
                seat(2, 1, 45, mark=AttendanceMark.LATE),
                seat(2, 4, 45),
                seat(3, 5, 30),
                seat(4, 6, 600),
                seat(5, 1, 600),
                seat(6, 1, 60),
            ],
        )
        await conn.execute(
            insert(Beneficiaries),
            [
                {"activity_id": 1, "target_group": TargetGroup.ELDERLY, "count": 10},
                {"activity_id": 2, "target_group": TargetGroup.GENERAL_PUBLIC, "count": 25},
                {"activity_id": 3, "target_group": TargetGroup.ELDERLY, "count": 5},
                {"activity_id": 4, "target_group": TargetGroup.ELDERLY, "count": 99},
            ],
        )
        await conn.execute(
            insert(Pledge),
            [
                {
                    "receipt": "P1",
                    "volunteer_id": 1,
                    "station_id": ids["hf-ss-xy"],
                    "amount_fen": 100_000,
                    "status": PledgeStatus.OPEN,
                    "created_at": held,
                },
                {
                    "receipt": "P2",
                    "volunteer_id": 2,
                    "station_id": ids["hf-ss-xy"],
                    "amount_fen": 225_000,
                    "status": PledgeStatus.RECEIVED,
                    "created_at": held,
                },
                {
                    "receipt": "P3",
                    "volunteer_id": 3,
                    "station_id": ids["hf-ss-xy"],
                    "amount_fen": 50_000,
                    "status": PledgeStatus.CANCELLED,
                    "created_at": held,
                },
            ],
        )
    return Seeded(ids, this_week, this_week.previous())


async def grant(maker: SessionMaker, user_id: int, role: str, code: str) -> None:
    async with maker() as session:
        await roles.grant(session, user_id=user_id, role=role, station_code=code, actor_id=None)


@pytest.fixture
async def seeded(sqlite_sessionmaker: SessionMaker) -> Seeded:
    found = await seed_tally(sqlite_sessionmaker)
    await grant(sqlite_sessionmaker, COORD, "coordinator", "hf-ss")
    await grant(sqlite_sessionmaker, STAFF, "staff", "hf-ss-xy")
    await grant(sqlite_sessionmaker, TWO, "staff", "hf-ss-xy")
    await grant(sqlite_sessionmaker, TWO, "staff", "hf-bh-wh")
    return found


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=sqlite_url,
        bot_token=None,
        admin_ids=frozenset({ADMIN}),
    )


@pytest.fixture
def tally_dp(seeded: Seeded, settings: Settings, sqlite_sessionmaker: SessionMaker) -> Dispatcher:
    return build_dispatcher(settings=settings, sessionmaker=sqlite_sessionmaker)


THIS_WEEK_SENTENCE = (
    "This week: 3 volunteer activities, 6 volunteer participations, 6 h 30 min of service, "
    "40 beneficiaries, CN¥3,250.00 in charitable pledges."
)


async def test_coordinator_sees_the_subtree_with_the_previous_week(
    tally_dp: Dispatcher, bot: MockedBot, seeded: Seeded
) -> None:
    chat = Conversation(tally_dp, bot, user_id=COORD, language_code="en")
    out = await chat.send("/tally")
    menu = out[-1]
    assert (
        "The tally of Hefei City Social Work Guidance Centre › Shushan District Guidance "
        "Centre. Which period?" in menu.text
    )
    labels = [t for t, _ in menu.buttons()]
    assert labels[0].startswith("This week (") and labels[1].startswith("Last week (")
    assert "🏢 Another station" in labels
    await chat.press("This week")
    text = menu.text  # shown in place of the menu
    assert "📊 Tally: Shushan District Guidance Centre" in text
    assert f"Week {seeded.this_week.iso_week[1]}, {seeded.this_week.first.year}" in text  # type: ignore[index]
    assert "Activities: 3 (previous: 1, +2)" in text
    assert "Home visits 1 · Garbage sorting 1 · Elder care 1" in text
    assert "Volunteer participations: 6 (previous: 1, +5)" in text
    assert "Volunteers (people): 5 (previous: 1, +4)" in text
    assert "Service time: 6 h 30 min (previous: 1 h, +5 h 30 min)" in text
    assert "Beneficiaries: 40 (previous: 0, +40)" in text
    assert "the elderly 15 · the general public 25" in text
    assert "New volunteers: 5 (previous: 1, +4)" in text
    assert "Pledges: 2 (previous: 0, +2)" in text
    assert "Amount pledged: CN¥3,250.00 (previous: CN¥0.00, +CN¥3,250.00)" in text
    assert "Amount received: CN¥2,250.00" in text
    assert (
        "• Xiyuan Street Station: activities 2 · participations 5 · service 6 h · "
        "beneficiaries 35 · pledged CN¥3,250.00" in text
    )
    assert "• Hupo Street Station: activities 1 · participations 1 · service 30 min" in text
    assert "• Nanqi Street Station: activities 0" in text
    assert "Wanghu" not in text and "Baohe" not in text
    assert text.rstrip().endswith(THIS_WEEK_SENTENCE)
    buttons = [t for t, _ in menu.buttons()]
    assert buttons == [
        "📊 Chart",
        "📄 Spreadsheet",
        "⬆️ National system (XLSX)",
        "⬆️ National system (CSV)",
        "‹ Previous period",
    ]  # no next: future
    await chat.press("Previous period", message=menu)
    assert "Activities: 1 (previous: 0, +1)" in menu.text
    assert "Last week: 1 volunteer activity, 1 volunteer participation, 1 h of service" in (
        menu.text
    )
    assert "Next period ›" in [t for t, _ in menu.buttons()]
    await chat.press("Next period", message=menu)
    assert menu.text.rstrip().endswith(THIS_WEEK_SENTENCE)


async def test_spreadsheet_adds_up(tally_dp: Dispatcher, bot: MockedBot, seeded: Seeded) -> None:
    chat = Conversation(tally_dp, bot, user_id=COORD, language_code="en")
    await chat.send("/tally")
    await chat.press("This week")
    out = await chat.press("Spreadsheet")
    sent = out[-1]
    assert sent.document is not None and sent.file_name is not None
    assert sent.file_name.startswith("tally-hf-ss-") and sent.file_name.endswith(".xlsx")
    assert "Tally: Shushan District Guidance Centre" in sent.text
    book = load_workbook(io.BytesIO(sent.document))
    assert book.sheetnames == ["Summary", "Per station", "Activities", "Attendance", "Pledges"]
    summary = {row[0]: row[1:] for row in book["Summary"].iter_rows(values_only=True) if row}
    assert summary["Activities"][:3] == (3, 1, 2)
    assert summary["Volunteer participations"][:2] == (6, 1)
    assert summary["Service hours"][:2] == (6.5, 1.0)
    assert summary["Service time (minutes)"][:2] == (390, 60)
    assert summary["Amount pledged"][:2] == (3250, 0)
    assert summary["Amount received"][0] == 2250
    activities = list(book["Activities"].iter_rows(values_only=True))[1:]
    assert [r[0] for r in activities] == [1, 2, 3]  # row numbers
    assert sorted(r[1] for r in activities) == [1, 2, 3]  # the activities' own numbers
    attendance = list(book["Attendance"].iter_rows(values_only=True))[1:]
    assert len(attendance) == 6 and sum(r[6] for r in attendance) == 390
    assert {r[4] for r in attendance} == {1, 2, 3, 4, 5}
    pledges = list(book["Pledges"].iter_rows(values_only=True))[1:]
    assert sorted(r[0] for r in pledges) == ["P1", "P2"]


async def test_chart_is_a_png(tally_dp: Dispatcher, bot: MockedBot, seeded: Seeded) -> None:
    if tally_chart.find_chart_font() is None:
        pytest.skip("no Chinese font on this machine")
    chat = Conversation(tally_dp, bot, user_id=COORD, language_code="zh-hans")
    await chat.send("/tally")
    await chat.press_data(
        TallyViewCb(
            action="c",
            station=seeded.ids["hf-ss"],
            first=seeded.this_week.first.toordinal(),
            last=seeded.this_week.last.toordinal(),
        ).pack()
    )
    sent = chat.last()
    assert sent.photo is not None and sent.photo.startswith(b"\x89PNG")
    assert sent.file_name is None and "蜀山区社会工作服务指导中心" in sent.text


async def test_no_chinese_font_means_a_clear_answer(
    tally_dp: Dispatcher, bot: MockedBot, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tally_chart, "find_chart_font", lambda: None)
    chat = Conversation(tally_dp, bot, user_id=COORD, language_code="en")
    await chat.send("/tally")
    await chat.press("This week")
    await chat.press("Chart")
    answer = chat.answers()[-1]
    assert answer.show_alert and answer.text is not None
    assert answer.text.startswith("The chart is not available: no Chinese font is installed")
    assert all(m.photo is None for m in chat.inbox())


async def test_staff_see_their_station_only_and_replayed_buttons_are_refused(
    tally_dp: Dispatcher, bot: MockedBot, seeded: Seeded
) -> None:
    chat = Conversation(tally_dp, bot, user_id=STAFF, language_code="en")
    out = await chat.send("/tally")
    assert "The tally of Hefei" in out[-1].text and "Xiyuan Street Station" in out[-1].text
    await chat.press("This week")
    text = chat.last().text
    assert "Tally: Xiyuan Street Station" in text
    assert "Activities: 2 (previous: 1, +1)" in text
    assert "• Xiyuan Xincun Community: activities 2" in text
    before = len(chat.inbox())
    district = TallyViewCb(
        action="x",
        station=seeded.ids["hf-ss"],
        first=seeded.this_week.first.toordinal(),
        last=seeded.this_week.last.toordinal(),
    )
    await chat.press_data(district.pack())
    assert chat.answers()[-1].text == "You do not have permission for this."
    assert chat.answers()[-1].show_alert
    await chat.press_data(
        TallyStationCb(action="p", id=seeded.ids["hf-bh"]).pack(), message=chat.last()
    )
    assert chat.answers()[-1].text == "You do not have permission for this."
    assert len(chat.inbox()) == before
    stranger = Conversation(tally_dp, bot, user_id=NOBODY, language_code="en")
    assert (await stranger.send("/tally"))[-1].text == "You do not have permission for this."
    await stranger.press_data(district.pack(), message=chat.last())
    assert stranger.answers()[-1].text == "You do not have permission for this."


async def test_a_revoked_role_stops_old_buttons(
    tally_dp: Dispatcher, bot: MockedBot, seeded: Seeded, sqlite_sessionmaker: SessionMaker
) -> None:
    chat = Conversation(tally_dp, bot, user_id=STAFF, language_code="en")
    await chat.send("/tally")
    await chat.press("This week")
    async with sqlite_sessionmaker() as session, write_transaction(session):
        await session.exec(delete(Role).where(col(Role.user_id) == STAFF))
    await chat.press("Spreadsheet")
    assert chat.answers()[-1].text == "You do not have permission for this."
    assert all(m.document is None for m in chat.inbox())


async def test_two_stations_are_offered_and_a_bad_button_is_stale(
    tally_dp: Dispatcher, bot: MockedBot, seeded: Seeded
) -> None:
    chat = Conversation(tally_dp, bot, user_id=TWO, language_code="en")
    out = await chat.send("/tally")
    names = [t for t, _ in out[-1].buttons()]
    assert names == ["Wanghu Street Station ›", "Xiyuan Street Station ›"]
    await chat.press("Wanghu")
    await chat.press("Choose Wanghu Street Station")
    await chat.press("This week")
    assert "Tally: Wanghu Street Station" in chat.last().text
    assert "Activities: 1 (previous: 0, +1)" in chat.last().text
    await chat.press_data(
        TallyViewCb(action="t", station=seeded.ids["hf-bh-wh"], first=5, last=2).pack()
    )
    assert chat.answers()[-1].text == "This button is no longer active."
    # a period typed with the command rides along the station walk
    year, week = seeded.last_week.iso_week  # type: ignore[misc]
    await chat.send(f"/tally {year}-W{week}")
    await chat.press("Xiyuan")
    await chat.press("Choose Xiyuan Street Station")
    assert "Tally: Xiyuan Street Station" in chat.last().text
    assert "Last week: 1 volunteer activity" in chat.last().text


async def test_typed_periods(tally_dp: Dispatcher, bot: MockedBot, seeded: Seeded) -> None:
    chat = Conversation(tally_dp, bot, user_id=COORD, language_code="en")
    await chat.send("/tally")
    await chat.press("Another week or dates")
    assert "Type the period: an ISO week such as 2026-W47" in chat.last().text
    assert "Please type an ISO week such as 2026-W47" in (await chat.send("next tuesday"))[-1].text
    assert "There is no such week" in (await chat.send("2026-W54"))[-1].text
    assert "comes before the first" in (await chat.send("2026-11-30 2026-11-01"))[-1].text
    assert "at most 366 days" in (await chat.send("2024-01-01 2026-01-01"))[-1].text
    future = seeded.this_week.first + timedelta(days=14)
    assert "has not begun yet" in (await chat.send(f"{future} {future}"))[-1].text
    year, week = seeded.last_week.iso_week  # type: ignore[misc]
    out = await chat.send(f"{year}-W{week}")
    assert "Activities: 1 (previous: 0, +1)" in out[-1].text
    assert "Last week: 1 volunteer activity" in out[-1].text
    # the dialog is over: text now goes elsewhere
    assert "Tally" not in " ".join(m.text for m in await chat.send("2026-W01"))
    first, last = seeded.last_week.first, seeded.this_week.last
    out = await chat.send(f"/tally {first} 至 {last}")
    assert "Activities: 4 (previous: 0, +4)" in out[-1].text
    assert f"{first.strftime('%b')} " in out[-1].text  # a date range, not a week
    assert "Please type an ISO week" in (await chat.send("/tally soon"))[-1].text


async def test_admin_walks_to_any_station(
    tally_dp: Dispatcher, bot: MockedBot, seeded: Seeded
) -> None:
    chat = Conversation(tally_dp, bot, user_id=ADMIN, language_code="en")
    out = await chat.send("/tally")
    assert "The tally of Hefei City Social Work Guidance Centre" in out[-1].text
    await chat.press("Another station")
    await chat.press("Baohe")
    await chat.press("Choose Baohe")
    await chat.press("Last week")
    assert "Tally: Baohe District Guidance Centre" in chat.last().text


# --- the Monday message ---------------------------------------------------------------


MONDAY = datetime(2026, 11, 23, tzinfo=ZONE)  # week 48 begins; week 47 is due at 09:00


async def queued(maker: SessionMaker) -> list[Outbox]:
    async with maker() as session:
        return list((await session.exec(select(Outbox).order_by(col(Outbox.id)))).all())


async def test_weekly_tallies_are_queued_once_from_monday_nine(
    sessionmaker: SessionMaker,
) -> None:
    ids = await load_example_tree(sessionmaker)
    await grant(sessionmaker, COORD, "coordinator", "hf-ss")
    await grant(sessionmaker, COORD, "coordinator", "hf-bh")
    await grant(sessionmaker, STAFF, "staff", "hf-ss-xy")  # staff get none
    await grant(sessionmaker, 7010, "coordinator", "hf-bh-wh")
    async with sessionmaker() as session, write_transaction(session):
        await session.exec(
            update(Station).where(col(Station.code) == "hf-bh-wh").values(timezone="Europe/London")
        )
    stations.forget_tree()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=None,
        admin_ids=frozenset({ADMIN}),
    )

    async def plan(at: datetime) -> int:
        return await tally_weekly.plan_weekly_tallies(
            sessionmaker=sessionmaker, settings=settings, now=at.astimezone(UTC)
        )

    assert await plan(MONDAY + timedelta(hours=8, minutes=59)) == 0
    assert await plan(MONDAY + timedelta(hours=9)) == 2
    assert await plan(MONDAY + timedelta(hours=9, minutes=15)) == 0
    rows = await queued(sessionmaker)
    assert [(r.key, r.kind, r.user_id, r.station_id, r.state) for r in rows] == [
        (f"tally:{COORD}:{ids['hf-ss']}:2026-W47", "weekly_tally", COORD, ids["hf-ss"], "pending"),
        (f"tally:{COORD}:{ids['hf-bh']}:2026-W47", "weekly_tally", COORD, ids["hf-bh"], "pending"),
    ]
    assert rows[0].payload["station_id"] == ids["hf-ss"]
    assert (rows[0].payload["year"], rows[0].payload["week"]) == (2026, 47)
    # London's Monday 09:00 is eight hours later.
    assert await plan(datetime(2026, 11, 23, 8, 59, tzinfo=UTC)) == 0
    assert await plan(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) == 1
    assert (await queued(sessionmaker))[-1].key == f"tally:7010:{ids['hf-bh-wh']}:2026-W47"
    # Later in the week nothing new; the next Monday, week 48 only (never older).
    assert await plan(MONDAY + timedelta(days=3)) == 0
    assert await plan(datetime(2026, 11, 30, 9, 0, tzinfo=UTC)) == 3
    keys = [r.key for r in await queued(sessionmaker)]
    assert sum(k.endswith("2026-W48") for k in keys) == 3 and len(keys) == 6


async def test_weekly_message_renders_at_send_time(
    sqlite_sessionmaker: SessionMaker, seeded: Seeded
) -> None:
    i18n = make_i18n("zh_CN")
    year, week = seeded.last_week.iso_week  # type: ignore[misc]
    payload = {"user_id": COORD, "station_id": seeded.ids["hf-ss"], "year": year, "week": week}
    async with sqlite_sessionmaker() as session:
        with i18n.context(), i18n.use_locale("en"):
            rendered = await render_weekly_tally(session, dict(payload))
    assert rendered is not None
    text, markup = rendered
    assert text.startswith("🗓 Your weekly tally")
    assert "Tally: Shushan District Guidance Centre" in text
    assert "Last week: 1 volunteer activity, 1 volunteer participation" in text
    assert markup is not None
    labels = [b.text for row in markup.inline_keyboard for b in row]
    assert labels[:2] == ["📊 Chart", "📄 Spreadsheet"]
    # in Chinese, station names are Chinese (the words follow once translated)
    async with sqlite_sessionmaker() as session:
        with i18n.context(), i18n.use_locale("zh_CN"):
            chinese = await render_weekly_tally(session, dict(payload))
    assert chinese is not None and "蜀山区社会工作服务指导中心" in chinese[0]
    assert "西园街道社工站" in chinese[0]
    # no longer a coordinator there: nothing to send
    async with sqlite_sessionmaker() as session, write_transaction(session):
        await session.exec(delete(Role).where(col(Role.user_id) == COORD))
    async with sqlite_sessionmaker() as session:
        with i18n.context(), i18n.use_locale("en"):
            assert await render_weekly_tally(session, dict(payload)) is None
