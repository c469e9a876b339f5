"""/hours, /certificate and /verify through the Dispatcher."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiogram import Dispatcher
from pypdf import PdfReader
from sqlmodel import select

from handlers.hours import certificate_key
from reports import certificate_pdf
from services import certificates, hours
from storage.db import SessionMaker
from storage.models import AttendanceMark, Certificate
from storage.types import utcnow
from tests.factories import make_volunteers
from tests.handlers.test_activities import station_ids
from tests.mocked_bot import Conversation, MockedBot, Sent
from tests.storage.test_hours import HOME, activity_at, attend, credited, volunteer_id
from ui.callbacks import CertPeriodCb

SHANGHAI = ZoneInfo("Asia/Shanghai")
needs_font = pytest.mark.skipif(
    certificate_pdf.find_cjk_font() is None,
    reason="no CJK font installed (Debian/Ubuntu: apt-get install fonts-noto-cjk)",
)
ALL_TIME = CertPeriodCb(kind="a").pack()


def year_start(offset: int = 0) -> datetime:
    """1 January 00:00 in Shanghai of this year (offset -1: last year)."""
    year = utcnow().astimezone(SHANGHAI).year + offset
    return hours.year_bounds(year, SHANGHAI)[0]


async def volunteer(
    dp: Dispatcher, bot: MockedBot, maker: SessionMaker, user_id: int, language: str = "en"
) -> tuple[Conversation, int]:
    ids = await station_ids(maker)
    await make_volunteers(maker, ids[HOME], [user_id])
    return Conversation(dp, bot, user_id=user_id, language_code=language), await volunteer_id(
        maker, user_id
    )


async def stored_certificates(maker: SessionMaker) -> list[Certificate]:
    async with maker() as session:
        return list((await session.exec(select(Certificate))).all())


def pdf_text(sent: Sent) -> str:
    assert sent.document is not None
    reader = PdfReader(io.BytesIO(sent.document))
    text = "".join(page.extract_text() for page in reader.pages).replace("\x00", "")
    return "".join(text.split())


# --- /hours -----------------------------------------------------------------------


async def test_hours_asks_someone_unregistered_to_register(dp: Dispatcher, bot: MockedBot) -> None:
    stranger = Conversation(dp, bot, user_id=700, language_code="en")
    out = await stranger.send("/hours")
    assert "not registered yet" in out[-1].text and "/start" in out[-1].text


async def test_hours_shows_totals_stars_latest_and_no_shows(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    person, vid = await volunteer(dp, bot, maker, 701)
    home = (await station_ids(maker))[HOME]
    await credited(maker, home, vid, year_start(-1) + timedelta(hours=3), 101 * 60, "去年的活动")
    for number, minutes in enumerate([60, 90, 30, 45, 120, 75], start=1):
        start = year_start() + timedelta(hours=number)
        await credited(maker, home, vid, start, minutes, f"活动{number}")
    missed = await activity_at(maker, home, year_start() + timedelta(hours=8), "没来的")
    await attend(maker, missed, vid, 0, mark=AttendanceMark.ABSENT)
    missed_last_year = await activity_at(maker, home, year_start(-1) + timedelta(hours=5))
    await attend(maker, missed_last_year, vid, 0, mark=AttendanceMark.ABSENT)
    unconfirmed = await activity_at(maker, home, year_start() + timedelta(hours=9), "未确认的")
    await attend(maker, unconfirmed, vid, 120, confirmed=False)

    text = (await person.send("/hours"))[-1].text
    year = year_start().year
    assert "Your service hours" in text
    assert "Total: 108 h" in text  # 101 + 7
    assert f"This year ({year}): 7 h" in text
    assert "★☆☆☆☆ (1 star)" in text
    assert "192 h more to the next star (at 300 h)" in text
    assert "No-shows this year: 1 activity" in text
    latest = [line for line in text.splitlines() if line.startswith("•")]
    assert [line.split(" · ")[1] for line in latest] == [
        "活动6",
        "活动5",
        "活动4",
        "活动3",
        "活动2",
    ]
    assert latest[0].endswith("1 h 15 min")  # 75 minutes
    assert latest[3].endswith("30 min")
    assert "未确认的" not in text and "没来的" not in text
    assert "/certificate" in text


async def test_hours_before_any_hours_and_at_the_top(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    newcomer, _vid = await volunteer(dp, bot, maker, 702)
    text = (await newcomer.send("/hours"))[-1].text
    assert "Total: 0 min" in text
    assert "☆☆☆☆☆ (0 stars)" in text
    assert "Your first star comes at 100 h of service." in text
    assert "No confirmed hours yet" in text
    assert "No-shows" not in text

    veteran, vid = await volunteer(dp, bot, maker, 703)
    home = (await station_ids(maker))[HOME]
    await credited(maker, home, vid, year_start(-1) + timedelta(hours=1), 1500 * 60 + 30, "长期")
    text = (await veteran.send("/hours"))[-1].text
    assert "Total: 1,500 h 30 min" in text
    assert "★★★★★ (5 stars)" in text
    assert "highest star level" in text


async def test_hours_add_up_to_the_minute_in_chinese(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    """Seen in Chinese: 15 minutes showed as 0.3小时, and the total plus the time to the
    next star did not make the threshold; the threshold was said twice for a newcomer."""
    maker = sqlite_sessionmaker
    home = (await station_ids(maker))[HOME]
    person, vid = await volunteer(dp, bot, maker, 704, language="zh-hans")
    await credited(maker, home, vid, year_start() + timedelta(hours=1), 15, "敬老院陪护")
    text = (await person.send("/hours"))[-1].text
    assert "累计：15分钟" in text and "小时" not in text.split("累计：")[1].splitlines()[0]
    assert "0.3" not in text and "0.25" not in text
    assert "敬老院陪护 · 服务15分钟" in text
    # 15 minutes + 99 h 45 min = the first threshold, 100 hours.
    assert "还差99小时45分钟" in text and "满100小时" in text

    near, vid = await volunteer(dp, bot, maker, 705, language="zh-hans")
    await credited(maker, home, vid, year_start() + timedelta(hours=2), 99 * 60 + 45, "长期服务")
    text = (await near.send("/hours"))[-1].text
    assert "累计：99小时45分钟" in text and "还差15分钟" in text

    newcomer, _vid = await volunteer(dp, bot, maker, 706, language="zh-hans")
    text = (await newcomer.send("/hours"))[-1].text
    line = next(line for line in text.splitlines() if "星" in line and "100小时" in line)
    assert line.count("100") == 1, line


# --- /certificate -----------------------------------------------------------------


@needs_font
async def test_certificate_for_all_time_then_verified_by_anyone(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    person, vid = await volunteer(dp, bot, maker, 711, language="zh-hans")
    home = (await station_ids(maker))[HOME]
    await credited(maker, home, vid, year_start(-1) + timedelta(hours=2), 150, "垃圾分类督导")
    await credited(maker, home, vid, year_start() + timedelta(hours=2), 90, "走访慰问独居老人")

    out = await person.send("/certificate")
    ask = out[-1]
    assert [data for _text, data in ask.buttons()] == [
        CertPeriodCb(kind="y", year=year_start().year).pack(),
        CertPeriodCb(kind="y", year=year_start().year - 1).pack(),
        ALL_TIME,
    ]
    out = await person.press_data(ALL_TIME)
    [sent] = [m for m in out if m.document is not None]
    assert ask.buttons() == []  # one press, one certificate
    [row] = await stored_certificates(maker)
    code = certificates.display_code(row.code)
    assert sent.file_name == f"certificate-{code}.pdf"
    assert code in sent.text
    assert (row.period_minutes, row.activity_count, row.total_minutes) == (240, 2, 240)
    assert row.locale == "zh_CN"
    text = pdf_text(sent)
    name = "志愿者" + "甲乙丙丁戊己庚辛壬癸"[711 % 10]
    for expected in [name, "西园新村社区", "垃圾分类督导", "走访慰问独居老人", code]:
        assert expected in text, expected
    assert f"{year_start().year}年1月1日" in text
    assert f"{year_start().year - 1}年1月1日" in text
    assert len(sent.document or b"") < 60_000

    # Anyone can check it, as typed or through the QR code's link.
    stranger = Conversation(dp, bot, user_id=799, language_code="en")
    typed = " ".join(code.lower().split("-"))
    answer = (await stranger.send(f"/verify {typed}"))[-1].text
    assert "genuine certificate" in answer and "not a genuine" not in answer
    assert f"Holder: {name}" in answer
    assert "Issued by: Xiyuan Xincun Community" in answer
    assert "4 h in 2 activities" in answer
    linked = (await stranger.send(f"/start verify_{row.code}"))[-1].text
    assert "genuine certificate" in linked and name in linked

    altered = code[:-1] + ("0" if code[-1] != "0" else "1")
    answer = (await stranger.send(f"/verify {altered}"))[-1].text
    assert "not a genuine certificate" in answer and name not in answer
    body = "ZZZZZZZZZZ"
    unknown = certificates.display_code(body + certificates._check(body, b"x"))
    assert "not a genuine" in (await stranger.send(f"/verify {unknown}"))[-1].text
    async with maker() as session:
        key = await certificate_key(session, dp["settings"])
    well_formed = certificates.display_code(body + certificates._check(body, key))
    assert "not a genuine" in (await stranger.send(f"/verify {well_formed}"))[-1].text


async def test_verify_without_a_code_asks_for_it(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    _person, vid = await volunteer(dp, bot, maker, 712)
    home = (await station_ids(maker))[HOME]
    await credited(maker, home, vid, year_start() + timedelta(hours=2), 90, "政策宣传")
    async with maker() as session:
        row = await certificates.issue(
            session=session,
            user_id=712,
            period=certificates.all_time(utcnow().astimezone(SHANGHAI).date()),
            key=await certificate_key(session, dp["settings"]),
            default_zone=SHANGHAI,
            locale="en",
            now=utcnow(),
        )
    stranger = Conversation(dp, bot, user_id=798, language_code="en")
    out = await stranger.send("/verify")
    assert "verification code" in out[-1].text
    out = await stranger.send(certificates.display_code(row.code))
    assert "genuine certificate" in out[-1].text and "1 h 30 min in 1 activity" in out[-1].text
    out = await stranger.send("hello")  # the question was answered: no longer a code
    assert "genuine" not in out[-1].text

    await stranger.send("/verify")
    out = await stranger.send("VS-1234")
    assert "not a verification code" in out[-1].text and "genuine" not in out[-1].text


@pytest.mark.parametrize(
    ("language", "typed", "expected"),
    [
        ("en", "/verify hello", "is not a verification code"),
        ("en", "/verify VS-1234", "is not a verification code"),
        ("en", "/verify 13812345678", "is not a verification code"),
        ("zh-hans", "/verify 你好", "不是证明核验码"),
        ("zh-hans", "/start verify_abc", "不是证明核验码"),
    ],
)
async def test_verify_of_something_not_shaped_like_a_code_says_so(
    dp: Dispatcher, bot: MockedBot, language: str, typed: str, expected: str
) -> None:
    stranger = Conversation(dp, bot, user_id=797, language_code=language)
    answer = (await stranger.send(typed))[-1].text
    assert expected in answer, answer
    assert "VS-" in answer  # what a code looks like
    assert "genuine" not in answer and "不是真实" not in answer and "伪造" not in answer


async def test_a_well_shaped_unknown_code_is_not_genuine_in_chinese(
    dp: Dispatcher, bot: MockedBot
) -> None:
    body = "ZZZZZZZZZZ"
    code = certificates.display_code(body + certificates._check(body, b"x"))
    stranger = Conversation(dp, bot, user_id=796, language_code="zh-hans")
    answer = (await stranger.send(f"/verify {code}"))[-1].text
    assert "不是证明核验码" not in answer
    assert "❌" in answer


@needs_font
async def test_certificate_for_a_typed_period(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    person, vid = await volunteer(dp, bot, maker, 713)
    home = (await station_ids(maker))[HOME]
    await credited(maker, home, vid, year_start(-1) + timedelta(hours=2), 150, "Last year's")
    await credited(maker, home, vid, year_start() + timedelta(hours=2), 90, "This year's")
    year = year_start().year

    await person.send("/certificate")
    out = await person.send("next month")
    assert "Please type two dates" in out[-1].text
    out = await person.send(f"{year}-02-30 {year}-03-01")
    assert f"{year}-02-30 is not a date" in out[-1].text
    out = await person.send(f"{year}-03-01 {year}-01-01")
    assert "comes before the first" in out[-1].text
    out = await person.send(f"{year + 1}-01-01 {year + 1}-12-31")
    assert "has not begun yet" in out[-1].text
    assert await stored_certificates(maker) == []

    out = await person.send(f"{year}-01-01 至 {year}-12-31")
    [sent] = [m for m in out if m.document is not None]
    [row] = await stored_certificates(maker)
    assert (row.period_minutes, row.activity_count, row.total_minutes) == (90, 1, 240)
    text = pdf_text(sent)
    assert "Thisyear's" in text and "Lastyear's" not in text
    assert "1 h 30 min in 1 activity," in sent.text
    # The dialog is over: a date now is just text.
    out = await person.send(f"{year}-01-01 {year}-12-31")
    assert out[-1].document is None and "/help" in out[-1].text


@needs_font
async def test_no_hours_in_the_period_issues_nothing(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    person, vid = await volunteer(dp, bot, maker, 714)
    home = (await station_ids(maker))[HOME]
    await credited(maker, home, vid, year_start() + timedelta(hours=2), 90, "This year's")
    await person.send("/certificate")
    out = await person.press_data(CertPeriodCb(kind="y", year=year_start().year - 1).pack())
    assert "no confirmed service hours in" in out[-1].text
    assert "No certificate was issued" in out[-1].text
    assert all(m.document is None for m in out)
    assert await stored_certificates(maker) == []

    newcomer, _vid = await volunteer(dp, bot, maker, 715)
    await newcomer.send("/certificate")
    out = await newcomer.press_data(ALL_TIME)
    assert "no confirmed service hours yet" in out[-1].text
    assert await stored_certificates(maker) == []


async def test_certificate_needs_registration_also_on_a_replayed_button(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    stranger = Conversation(dp, bot, user_id=716, language_code="en")
    out = await stranger.send("/certificate")
    assert "not registered yet" in out[-1].text
    await stranger.press_data(ALL_TIME, message=Sent(1, 716, "old"))
    [answer] = stranger.answers()
    assert answer.show_alert and "not registered yet" in (answer.text or "")
    assert await stored_certificates(sqlite_sessionmaker) == []


async def test_without_a_chinese_font_no_certificate_is_issued(
    dp: Dispatcher,
    bot: MockedBot,
    sqlite_sessionmaker: SessionMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    maker = sqlite_sessionmaker
    person, vid = await volunteer(dp, bot, maker, 717)
    home = (await station_ids(maker))[HOME]
    await credited(maker, home, vid, year_start() + timedelta(hours=2), 90, "x")
    monkeypatch.setattr(certificate_pdf, "find_cjk_font", lambda: None)
    out = await person.send("/certificate")
    assert "not available on this server yet" in out[-1].text
    assert "no Chinese font" in out[-1].text
    assert out[-1].buttons() == []
    out = await person.press_data(ALL_TIME, message=Sent(1, 717, "old"))
    assert "not available on this server yet" in out[-1].text
    assert await stored_certificates(maker) == []
