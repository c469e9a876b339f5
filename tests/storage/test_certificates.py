"""Certificates: verification codes, periods, issuing with a snapshot, and verifying,
on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from services import certificate_key, certificates
from services.certificates import Period, StatedActivity, Statement, StationNames
from services.errors import InvalidInput, NotFound
from storage.db import SessionMaker, write_transaction
from storage.models import Activity, AuditLog, Certificate
from tests.factories import make_volunteers
from tests.storage.test_hours import HOME, activity_at, attend, credited, volunteer_id

KEY = b"test certificate key"
ISSUED = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
TODAY = date(2026, 7, 1)


# --- codes ------------------------------------------------------------------------


def test_new_codes_are_twelve_crockford_characters_that_check() -> None:
    codes = {certificates.new_code(KEY) for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 12
        assert set(code) <= set(certificates.ALPHABET)
        assert certificates.well_formed(code, KEY)
    # Under another key the check characters are (almost always) wrong.
    assert sum(certificates.well_formed(code, b"another key") for code in codes) < 10


def test_display_groups_the_code() -> None:
    assert certificates.display_code("ABCD1234EFGH") == "VS-ABCD-1234-EFGH"


@pytest.mark.parametrize(
    "typed",
    [
        "VS-7K3M-Q9P2-XR40",
        "vs-7k3m-q9p2-xr40",
        "7K3MQ9P2XR40",
        "  7k3m q9p2 xr40 ",
        "VS 7K3M—Q9P2—XR4O",  # O for zero, dashes of any length
        "ＶＳ－７Ｋ３Ｍ－Ｑ９Ｐ２－ＸＲ４０",  # full width, as a Chinese keyboard types it
        "https://t.me/station_bot?start=verify_7K3MQ9P2XR40",
        "verify_7K3MQ9P2XR40",
    ],
)
def test_normalise_accepts_what_people_type(typed: str) -> None:
    assert certificates.normalise(typed) == "7K3MQ9P2XR40"


def test_normalise_maps_confusable_letters() -> None:
    assert certificates.normalise("VS-ILO0-LIOO-1234") == "110011001234"


@pytest.mark.parametrize(
    "typed", ["", "VS", "hello", "7K3MQ9P2XR4", "7K3MQ9P2XR400", "7K3MQ9P2XR4U", "<b>x</b>"]
)
def test_normalise_rejects_what_cannot_be_a_code(typed: str) -> None:
    assert certificates.normalise(typed) is None


def test_an_altered_code_fails_its_check() -> None:
    code = "7K3MQ9P2XR" + certificates._check("7K3MQ9P2XR", KEY)
    assert certificates.well_formed(code, KEY)
    altered = [
        code[:i] + other + code[i + 1 :]
        for i in range(12)
        for other in certificates.ALPHABET
        if other != code[i]
    ]
    passing = [c for c in altered if certificates.well_formed(c, KEY)]
    # Ten check bits: about one change in a thousand passes the check (and then still
    # finds no certificate); every change to the check characters fails.
    assert len(passing) <= len(altered) // 200
    assert all(c[:10] != code[:10] for c in passing)
    swapped = code[1] + code[0] + code[2:]
    assert not certificates.well_formed(swapped, KEY)


# --- periods ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "first", "last"),
    [
        ("2026-01-01 2026-06-30", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026-01-01 至 2026-06-30", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026-01-01至2026-06-30", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026/1/1 - 2026/6/30", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026.1.1 to 2026.6.30", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026年1月1日到2026年6月30日", date(2026, 1, 1), date(2026, 6, 30)),
        ("２０２６－０１－０１ ～ ２０２６－０６－３０", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026-03-05 2026-03-05", date(2026, 3, 5), date(2026, 3, 5)),
        # An end after today becomes today: a certificate states no future.
        ("2026-01-01 2026-12-31", date(2026, 1, 1), TODAY),
    ],
)
def test_parse_period(typed: str, first: date, last: date) -> None:
    assert certificates.parse_period(typed, TODAY) == Period(first, last)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("2026-01-01", "period_format"),
        ("last year", "period_format"),
        ("2026-01-01 2026-02-01 2026-03-01", "period_format"),
        ("from 2026-01-01 2026-06-30", "period_format"),
        ("2026-01-01 and 2026-06-30", "period_format"),
        ("2026-02-30 2026-06-30", "period_date"),
        ("2026-13-01 2026-12-31", "period_date"),
        ("2026-06-30 2026-01-01", "period_order"),
        ("2026-08-01 2026-09-01", "period_future"),
    ],
)
def test_parse_period_refuses(typed: str, code: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        certificates.parse_period(typed, TODAY)
    assert raised.value.code == code


def test_preset_periods_end_today_at_the_latest() -> None:
    assert certificates.year_period(2026, TODAY) == Period(date(2026, 1, 1), TODAY)
    assert certificates.year_period(2025, TODAY) == Period(date(2025, 1, 1), date(2025, 12, 31))
    assert certificates.all_time(TODAY) == Period(None, TODAY)


# --- issuing and verifying --------------------------------------------------------


async def _issue(maker: SessionMaker, user_id: int, period: Period) -> Certificate:
    async with maker() as session:
        return await certificates.issue(
            session=session,
            user_id=user_id,
            period=period,
            key=KEY,
            default_zone="Asia/Shanghai",
            locale="zh_CN",
            now=ISSUED,
        )


async def _verify(
    maker: SessionMaker, text: str, key: bytes = KEY
) -> certificates.Statement | certificates.Withdrawn | None:
    async with maker() as session:
        return await certificates.verify(session=session, text=text, key=key)


async def test_issue_states_the_period_and_verifies(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [601])
    vid = await volunteer_id(sessionmaker, 601)
    home, city = tree[HOME], tree["hf"]
    await credited(sessionmaker, home, vid, datetime(2025, 11, 3, 1, tzinfo=UTC), 600, "去年的")
    # 2026-01-01 07:00 in Shanghai is 2025-12-31 23:00 UTC: inside 2026 there.
    await credited(sessionmaker, home, vid, datetime(2025, 12, 31, 23, tzinfo=UTC), 90, "元旦值守")
    await credited(sessionmaker, city, vid, datetime(2026, 3, 5, 1, tzinfo=UTC), 150, "政策宣传日")
    await credited(sessionmaker, home, vid, datetime(2026, 6, 30, 16, 30, tzinfo=UTC), 60, "七月的")
    not_closed = await activity_at(sessionmaker, home, datetime(2026, 4, 1, 1, tzinfo=UTC), "未关")
    await attend(sessionmaker, not_closed, vid, 120, closed=False)

    issued = await _issue(sessionmaker, 601, Period(date(2026, 1, 1), date(2026, 6, 30)))
    async with sessionmaker() as session:
        row = (await session.exec(select(Certificate))).one()
        audit = (
            await session.exec(select(AuditLog).where(AuditLog.action == "certificate_issued"))
        ).one()
    assert row.code == issued.code and certificates.well_formed(row.code, KEY)
    assert row.volunteer_id == vid and row.station_id == home
    assert row.holder_name == "志愿者" + "甲乙丙丁戊己庚辛壬癸"[601 % 10]
    assert (row.period_minutes, row.activity_count) == (240, 2)
    assert row.total_minutes == 600 + 90 + 150 + 60
    assert row.period_from == datetime(2025, 12, 31, 16, tzinfo=UTC)  # 1 Jan, Shanghai
    assert row.period_to == datetime(2026, 6, 30, 16, tzinfo=UTC)  # the day after the end
    assert row.issued_at == ISSUED and row.locale == "zh_CN" and row.revoked_at is None
    assert [a["title"] for a in row.details["activities"]] == ["元旦值守", "政策宣传日"]
    assert row.details["activities"][0]["day"] == "2026-01-01"
    assert row.details["activities"][1]["station"] == "合肥市社会工作服务指导中心"
    assert audit.subject_id == row.id and audit.actor_id == 601

    statement = await _verify(sessionmaker, certificates.display_code(issued.code).lower())
    assert statement is not None
    assert statement.holder_name == row.holder_name
    assert statement.station.name == "西园新村社区"
    assert statement.station.name_en == "Xiyuan Xincun Community"
    assert (statement.first_day, statement.last_day) == (date(2026, 1, 1), date(2026, 6, 30))
    assert (statement.period_minutes, statement.total_minutes) == (240, 900)
    assert statement.activity_count == 2
    assert [(a.day, a.title, a.minutes) for a in statement.activities] == [
        (date(2026, 1, 1), "元旦值守", 90),
        (date(2026, 3, 5), "政策宣传日", 150),
    ]
    assert statement.issued_at == ISSUED


async def test_the_statement_is_a_snapshot(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [611])
    vid = await volunteer_id(sessionmaker, 611)
    activity = await credited(
        sessionmaker, tree[HOME], vid, datetime(2026, 3, 5, 1, tzinfo=UTC), 120, "原来的标题"
    )
    issued = await _issue(sessionmaker, 611, certificates.all_time(TODAY))
    async with sessionmaker() as session, write_transaction(session):
        row = await session.get(Activity, activity)
        assert row is not None
        row.title = "后来改的标题"
        session.add(row)
    statement = await _verify(sessionmaker, issued.code)
    assert statement is not None
    assert [a.title for a in statement.activities] == ["原来的标题"]
    assert statement.first_day == date(2026, 3, 5)  # all time: from the first activity
    assert statement.last_day == TODAY


async def test_no_hours_in_the_period_issues_nothing(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [621])
    vid = await volunteer_id(sessionmaker, 621)
    await credited(sessionmaker, tree[HOME], vid, datetime(2026, 3, 5, 1, tzinfo=UTC), 120, "x")
    with pytest.raises(InvalidInput) as raised:
        await _issue(sessionmaker, 621, certificates.year_period(2025, TODAY))
    assert raised.value.code == "no_hours"
    with pytest.raises(NotFound):
        await _issue(sessionmaker, 629, certificates.all_time(TODAY))
    async with sessionmaker() as session:
        assert (await session.exec(select(Certificate))).all() == []


async def test_only_a_genuine_code_verifies(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [631])
    vid = await volunteer_id(sessionmaker, 631)
    await credited(sessionmaker, tree[HOME], vid, datetime(2026, 3, 5, 1, tzinfo=UTC), 120, "x")
    issued = await _issue(sessionmaker, 631, certificates.all_time(TODAY))
    code = issued.code
    assert await _verify(sessionmaker, code) is not None

    # Altered: each character in turn; the check fails or, rarely, no such certificate.
    for i in range(12):
        other = "0" if code[i] != "0" else "1"
        assert await _verify(sessionmaker, code[:i] + other + code[i + 1 :]) is None
    # Well formed, but never issued.
    body = "0000000000"
    assert await _verify(sessionmaker, body + certificates._check(body, KEY)) is None
    # Checked under another key: not ours.
    assert await _verify(sessionmaker, code, key=b"another key") is None
    assert await _verify(sessionmaker, "not a code") is None

    async with sessionmaker() as session, write_transaction(session):
        row = await session.get(Certificate, issued.id)
        assert row is not None
        row.revoked_at = ISSUED + timedelta(days=1)
        session.add(row)
    # Revoked: issued, then withdrawn; never "unknown".
    withdrawn = await _verify(sessionmaker, code)
    assert isinstance(withdrawn, certificates.Withdrawn)
    assert (withdrawn.issued_at, withdrawn.withdrawn_at) == (ISSUED, ISSUED + timedelta(days=1))
    assert not withdrawn.erased


async def test_erasure_revokes_certificates_and_drops_queued_messages(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    from services import outbox, personal_data
    from storage.models import Outbox

    await make_volunteers(sessionmaker, tree[HOME], [602])
    vid = await volunteer_id(sessionmaker, 602)
    await credited(sessionmaker, tree[HOME], vid, datetime(2026, 3, 5, 1, tzinfo=UTC), 120, "巡河")
    issued = await _issue(sessionmaker, 602, Period(date(2026, 1, 1), date(2026, 6, 30)))
    assert await _verify(sessionmaker, issued.code) is not None
    async with sessionmaker() as session, write_transaction(session):
        await outbox.enqueue(
            session,
            [
                outbox.Message(user_id=602, kind="text", key="k602", payload={"text": "hi"}),
                outbox.Message(user_id=603, kind="text", key="k603", payload={"text": "hi"}),
            ],
        )

    async with sessionmaker() as session:
        assert await personal_data.erase(session, 602) is True
    withdrawn = await _verify(sessionmaker, issued.code)
    assert isinstance(withdrawn, certificates.Withdrawn) and withdrawn.erased
    assert withdrawn.station.name == "西园新村社区"
    async with sessionmaker() as session:
        row = (await session.exec(select(Certificate))).one()
        left = (await session.exec(select(Outbox.user_id))).all()
    assert row.revoked_at is not None and row.holder_name == "" and row.details == {}
    assert list(left) == [603]


# --- the key ------------------------------------------------------------------------


async def _key(maker: SessionMaker, *, configured: bytes | None = None) -> bytes:
    async with maker() as session:
        return await certificate_key.key(session, configured=configured, legacy=b"derived")


async def test_a_new_database_makes_a_random_key_once(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    first = await _key(sessionmaker)
    assert len(first) == certificate_key.KEY_BYTES and first != b"derived"
    assert await _key(sessionmaker) == first  # kept, not made again
    assert await _key(sessionmaker, configured=b"mine") == b"mine"  # CERTIFICATE_SECRET wins
    assert await _key(sessionmaker) == first  # and does not replace the stored key


async def test_certificates_issued_before_keep_the_derived_key(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [641])
    vid = await volunteer_id(sessionmaker, 641)
    await credited(sessionmaker, tree[HOME], vid, datetime(2026, 3, 5, 1, tzinfo=UTC), 60, "x")
    issued = await _issue(sessionmaker, 641, certificates.all_time(TODAY))  # under KEY
    async with sessionmaker() as session:
        kept = await certificate_key.key(session, configured=None, legacy=KEY)
    assert kept == KEY
    assert await _verify(sessionmaker, issued.code, key=await _key(sessionmaker)) is not None


def test_the_issuers_are_the_stations_that_ran_the_activities() -> None:
    def item(station: str, minutes: int, name_en: str | None = None) -> StatedActivity:
        return StatedActivity(date(2026, 3, 1), "活动", station, name_en, minutes)

    home = StationNames("西园新村社区", "Xiyuan Xincun Community")
    stated = Statement(
        code="7K3MQ9P2XR40",
        holder_name="欧阳春花",
        station=home,
        first_day=date(2026, 1, 1),
        last_day=date(2026, 6, 30),
        total_minutes=600,
        period_minutes=600,
        activity_count=4,
        activities=[
            item("南七社区", 60, "Nanqi Community"),
            item("琥珀街道社工站", 200),
            item("南七社区", 180, "Nanqi Community"),
            item("西园新村社区", 160, "Xiyuan Xincun Community"),
        ],
        issued_at=datetime(2026, 7, 1, tzinfo=UTC),
        zone=ZoneInfo("Asia/Shanghai"),
        locale="zh_CN",
    )
    # The station with the most service first; ties in the order they first served.
    assert certificates.issuers(stated) == [
        StationNames("南七社区", "Nanqi Community"),
        StationNames("琥珀街道社工站", None),
        StationNames("西园新村社区", "Xiyuan Xincun Community"),
    ]
    # A statement without its activities (issued before they were kept): the home station.
    assert certificates.issuers(replace(stated, activities=[])) == [home]
