"""/report through the real Dispatcher: the period menu (months, quarters, years),
the report screen with 同比 and 环比, the period before and after, typed periods and
a period with the command, the spreadsheet and the chart, and refusals (a stranger,
staff on a station above theirs, a forged button)."""

from __future__ import annotations

import io
from datetime import UTC

import pytest
from aiogram import Dispatcher
from openpyxl import load_workbook
from sqlmodel import select

from bot.app import build_dispatcher
from reports import report_text, tally_chart
from services import coordinator_reports
from services.coordinator_reports import Report
from services.report_periods import ReportPeriod, month_of, quarter_of
from storage.db import SessionMaker
from storage.models import Activity
from storage.types import utcnow
from tests.handlers.test_tally import COORD, NOBODY, STAFF, Seeded, grant, seed_tally
from tests.mocked_bot import Conversation, MockedBot
from ui import period_picker
from ui.callbacks import ReportStationCb, ReportViewCb
from ui.i18n import make_i18n
from ui.settings import Settings

ZONE_NAME = "Asia/Shanghai"


@pytest.fixture
async def seeded(sqlite_sessionmaker: SessionMaker) -> Seeded:
    found = await seed_tally(sqlite_sessionmaker)
    await grant(sqlite_sessionmaker, COORD, "coordinator", "hf-ss")
    await grant(sqlite_sessionmaker, STAFF, "staff", "hf-ss-xy")
    return found


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=sqlite_url,
        bot_token=None,
        admin_ids=frozenset(),
    )


@pytest.fixture
def report_dp(seeded: Seeded, settings: Settings, sqlite_sessionmaker: SessionMaker) -> Dispatcher:
    return build_dispatcher(settings=settings, sessionmaker=sqlite_sessionmaker)


async def _held_month(maker: SessionMaker) -> ReportPeriod:
    """The month of the seeded records of this week (this month or the one before)."""
    from zoneinfo import ZoneInfo

    async with maker() as session:
        activity = (await session.exec(select(Activity).where(Activity.id == 1))).one()
    starts = activity.starts_at
    starts = starts if starts.tzinfo else starts.replace(tzinfo=UTC)
    return month_of(starts.astimezone(ZoneInfo(ZONE_NAME)).date())


async def _expected(maker: SessionMaker, station_id: int, chosen: ReportPeriod) -> Report:
    from zoneinfo import ZoneInfo

    async with maker() as session:
        return await coordinator_reports.report(
            session, station_id=station_id, period=chosen, zone=ZoneInfo(ZONE_NAME), now=utcnow()
        )


def _name(chosen: ReportPeriod, locale: str = "en") -> str:
    i18n = make_i18n("zh_CN")
    with i18n.context(), i18n.use_locale(locale):
        return period_picker.calendar_name(chosen, locale)


async def test_coordinator_gets_the_month_with_both_comparisons(
    report_dp: Dispatcher, bot: MockedBot, seeded: Seeded, sqlite_sessionmaker: SessionMaker
) -> None:
    chosen = await _held_month(sqlite_sessionmaker)
    chat = Conversation(report_dp, bot, user_id=COORD, language_code="en")
    out = await chat.send("/report")
    menu = out[-1]
    assert "The report of Hefei City Social Work Guidance Centre › Shushan District" in menu.text
    today = utcnow().astimezone().date()
    labels = [t for t, _ in menu.buttons()]
    assert labels[:2] == [_name(month_of(today).previous()), _name(month_of(today))]
    assert labels[2:4] == [_name(quarter_of(today).previous()), _name(quarter_of(today))]
    assert "⌨️ Another month, quarter or year" in labels and "🏢 Another station" in labels
    await chat.press(_name(chosen), message=menu)
    text = menu.text
    expected = await _expected(sqlite_sessionmaker, seeded.ids["hf-ss"], chosen)
    f = expected.figures
    assert f.activities >= 3
    assert "📋 Report: Shushan District Guidance Centre" in text
    assert (
        f"Compared with {_name(chosen.year_ago())} (year on year) and "
        f"{_name(chosen.previous())} (the period before)" in text
    )
    assert f"Activities: {f.activities} (year on year —, on the period before " in text
    assert f"Volunteer participations: {f.participations} (year on year —" in text
    assert f"This month, {f.activities} volunteer activities were held, year on year — " in text
    assert "<b>The most active stations</b>\n1. Xiyuan Xincun Community: " in text
    assert "<b>Records on time (closed within 10 working days)</b>" in text
    assert "(五社联动)</b>\nNo pledges to an activity in this period." in text
    assert len(text.encode("utf-16-le")) // 2 <= 4096
    buttons = [t for t, _ in menu.buttons()]
    assert buttons[:3] == ["📊 Chart", "📄 Spreadsheet", "‹ " + _name(chosen.previous())]
    await chat.press("‹ " + _name(chosen.previous()), message=menu)
    assert _name(chosen.previous()) in menu.text.splitlines()[1]
    assert _name(chosen) + " ›" in [t for t, _ in menu.buttons()]


async def test_spreadsheet_matches_the_report(
    report_dp: Dispatcher, bot: MockedBot, seeded: Seeded, sqlite_sessionmaker: SessionMaker
) -> None:
    chosen = await _held_month(sqlite_sessionmaker)
    chat = Conversation(report_dp, bot, user_id=COORD, language_code="en")
    await chat.send("/report")
    await chat.press(_name(chosen))
    out = await chat.press("Spreadsheet")
    sent = out[-1]
    assert sent.document is not None
    assert sent.file_name == f"report-hf-ss-{chosen.code}.xlsx"
    book = load_workbook(io.BytesIO(sent.document))
    assert book.sheetnames == [
        "Summary",
        "Most active stations",
        "Records on time",
        "Pledges at work",
    ]
    expected = await _expected(sqlite_sessionmaker, seeded.ids["hf-ss"], chosen)
    rows = {r[0]: r[1:] for r in book["Summary"].iter_rows(values_only=True) if r and r[0]}
    assert rows["Activities"][0] == expected.figures.activities
    assert rows["Activities"][2] == "—"  # nothing a year earlier
    assert rows["Service time (minutes)"][0] == expected.figures.minutes
    busiest = list(book["Most active stations"].iter_rows(values_only=True))[1:]
    assert [(r[2], r[3]) for r in busiest] == [
        (b.station.code, b.activities) for b in expected.busiest
    ]


async def test_typed_periods_and_the_command(
    report_dp: Dispatcher, bot: MockedBot, seeded: Seeded, sqlite_sessionmaker: SessionMaker
) -> None:
    chat = Conversation(report_dp, bot, user_id=COORD, language_code="en")
    await chat.send("/report")
    await chat.press("Another month, quarter or year")
    assert "Type the period: a month such as 2026-11" in chat.last().text
    assert "Please type a month such as 2026-11" in (await chat.send("next week"))[-1].text
    assert "Please type a month" in (await chat.send("2026-13"))[-1].text
    assert "has not begun yet" in (await chat.send("2999-01"))[-1].text
    quarter = quarter_of(utcnow().astimezone().date())
    await chat.send(quarter.code)
    assert f"📋 Report: Shushan District Guidance Centre</b>\n{_name(quarter)}" in chat.last().text
    assert "This quarter, " in chat.last().text
    # staff of one station: the command's period goes straight to the report
    staff = Conversation(report_dp, bot, user_id=STAFF, language_code="zh-hans")
    year = quarter.year
    out = await staff.send(f"/report {year}")
    assert "西园街道" in out[-1].text and f"{year}年度" in out[-1].text
    assert "本年度共开展志愿服务活动" in out[-1].text and "同比 —" in out[-1].text
    assert "环比" not in out[-1].text.split("本年度")[1]  # a year has 同比 only


async def test_refusals_and_forged_buttons(
    report_dp: Dispatcher, bot: MockedBot, seeded: Seeded
) -> None:
    stranger = Conversation(report_dp, bot, user_id=NOBODY, language_code="en")
    assert (await stranger.send("/report"))[-1].text == "You do not have permission for this."
    staff = Conversation(report_dp, bot, user_id=STAFF, language_code="en")
    await staff.send("/report")
    district = ReportViewCb(action="x", station=seeded.ids["hf-ss"], span="y", year=2026, number=1)
    await staff.press_data(district.pack())
    assert staff.answers()[-1].text == "You do not have permission for this."
    await staff.press_data(ReportStationCb(action="p", id=seeded.ids["hf-bh"]).pack())
    assert staff.answers()[-1].text == "You do not have permission for this."
    forged = ReportViewCb(
        action="t", station=seeded.ids["hf-ss-xy"], span="m", year=2026, number=13
    )
    await staff.press_data(forged.pack())
    assert staff.answers()[-1].text == "This button is no longer active."
    assert all(m.document is None for m in staff.inbox())


async def test_chart_is_a_png(
    report_dp: Dispatcher, bot: MockedBot, seeded: Seeded, sqlite_sessionmaker: SessionMaker
) -> None:
    if tally_chart.find_chart_font() is None:
        pytest.skip("no Chinese font on this machine")
    chosen = await _held_month(sqlite_sessionmaker)
    chat = Conversation(report_dp, bot, user_id=COORD, language_code="zh-hans")
    await chat.send("/report")
    await chat.press_data(
        ReportViewCb(
            action="c",
            station=seeded.ids["hf-ss"],
            span=chosen.span.value,
            year=chosen.year,
            number=chosen.number,
        ).pack()
    )
    sent = chat.last()
    assert sent.photo is not None and sent.photo.startswith(b"\x89PNG")
    assert "蜀山区社会工作服务指导中心" in sent.text


def test_percentages() -> None:
    assert report_text.percent(25.0, "en") == "+25.0%"
    assert report_text.percent(-3.04, "en") == "-3.0%"
    assert report_text.percent(0.01, "en") == "0.0%"
    assert report_text.percent(None, "en") == "—"
    assert report_text.percent(1234.5, "zh_CN", signed=False) == "1,234.5%"
