"""Attendance against a real database on each backend: codes, check-in and check-out,
walk-ins, staff's marks and corrections with their audit trail, beneficiaries,
closing, and the records-due reminder; and the parsers and the wrong-code limiter."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, func, select

from services import (
    activities,
    attendance_codes,
    attendance_values,
    checkin,
    closing,
    marks,
    records_followup,
    roles,
    roster,
)
from services.access import Actor
from services.checkin import AttemptLimiter, CheckOutcome
from services.errors import InvalidInput, NotAllowed, NotFound
from services.marks import StaffAction
from storage.db import SessionMaker, write_transaction
from storage.models import (
    Activity,
    ActivityStatus,
    Attendance,
    AttendanceMark,
    AuditLog,
    Beneficiaries,
    Outbox,
    OutboxState,
    Signup,
    SignupStatus,
    TargetGroup,
    Volunteer,
)
from tests import factories
from tests.conftest import settings_for
from tests.factories import make_volunteers

# Saturday 21 November 2026, 09:00 in Hefei.
NOW = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
STAFF = 7001
STATION = "hf-ss-xy-xyxc"


async def setup(
    maker: SessionMaker,
    tree: dict[str, int],
    *,
    seats: list[int],
    others: Sequence[int] = (),
    starts_in: timedelta = timedelta(hours=1),
    hours: float = 2,
    capacity: int = 50,
) -> int:
    """Staff, volunteers with seats (and registered others without), one activity."""
    station = tree[STATION]
    async with maker() as session:
        await roles.grant(session, user_id=STAFF, role="staff", station_code=STATION, actor_id=None)
    await make_volunteers(maker, station, [*seats, *others])
    activity_id = await factories.make_activity(
        maker, station, now=NOW, capacity=capacity, starts_in=starts_in, hours=hours
    )
    for user_id in seats:
        async with maker() as session:
            await activities.join(
                session, user_id=user_id, activity_id=activity_id, now=NOW - timedelta(days=2)
            )
    return activity_id


async def open_code(maker: SessionMaker, activity_id: int) -> str:
    async with maker() as session:
        activity = await attendance_codes.open_checkin(
            session, actor=Actor(STAFF), activity_id=activity_id, now=NOW
        )
    assert activity.checkin_code is not None
    return activity.checkin_code


async def get_activity(maker: SessionMaker, activity_id: int) -> Activity:
    async with maker() as session:
        activity = await session.get(Activity, activity_id)
    assert activity is not None
    return activity


async def check_in(maker: SessionMaker, user_id: int, code: str, at: datetime) -> Any:
    async with maker() as session:
        return await checkin.check_in(session, user_id=user_id, code=code, now=at)


async def check_out(maker: SessionMaker, user_id: int, at: datetime, **kw: Any) -> Any:
    async with maker() as session:
        return await checkin.check_out(session, user_id=user_id, now=at, **kw)


async def correct(
    maker: SessionMaker, activity_id: int, user_id: int, action: StaffAction, **kw: Any
) -> Attendance:
    async with maker() as session:
        volunteer = (
            await session.exec(select(Volunteer).where(Volunteer.user_id == user_id))
        ).one()
        assert volunteer.id is not None
        return await marks.correct(
            session,
            actor=Actor(kw.pop("actor_id", STAFF)),
            activity_id=activity_id,
            volunteer_id=volunteer.id,
            action=action,
            now=kw.pop("now", NOW + timedelta(hours=4)),
            **kw,
        )


async def rows(maker: SessionMaker, activity_id: int) -> dict[int, Attendance]:
    """Attendance by Telegram user id."""
    async with maker() as session:
        found = (
            await session.exec(
                select(Volunteer.user_id, Attendance)
                .join(Attendance, col(Attendance.volunteer_id) == col(Volunteer.id))
                .where(Attendance.activity_id == activity_id)
            )
        ).all()
    return {uid: row for uid, row in found if uid is not None}


async def audits(maker: SessionMaker, action: str) -> list[AuditLog]:
    async with maker() as session:
        query = select(AuditLog).where(AuditLog.action == action).order_by(col(AuditLog.id))
        return list((await session.exec(query)).all())


# --- codes --------------------------------------------------------------------------


async def test_open_checkin_gives_one_code_unique_among_live_ones(
    sessionmaker: SessionMaker, tree: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await setup(sessionmaker, tree, seats=[101])
    code = await open_code(sessionmaker, first)
    assert len(code) == 6 and code.isdigit()
    assert await open_code(sessionmaker, first) == code  # opening again: the same code
    assert len(await audits(sessionmaker, "attendance.checkin_opened")) == 1

    # The random source gives the live code first: the second activity gets another.
    second = await factories.make_activity(
        sessionmaker, tree[STATION], now=NOW, capacity=5, starts_in=timedelta(hours=3)
    )
    picks = iter([code, code, "000042"])
    monkeypatch.setattr(attendance_codes, "_random_code", lambda: next(picks))
    assert await open_code(sessionmaker, second) == "000042"

    # Someone without the permission, and an activity that is over.
    async with sessionmaker() as session:
        with pytest.raises(NotAllowed):
            await attendance_codes.open_checkin(
                session, actor=Actor(999), activity_id=second, now=NOW
            )
    over = await factories.make_activity(
        sessionmaker, tree[STATION], now=NOW, capacity=5, starts_in=-timedelta(hours=5)
    )
    async with sessionmaker() as session:
        with pytest.raises(InvalidInput) as caught:
            await attendance_codes.open_checkin(
                session, actor=Actor(STAFF), activity_id=over, now=NOW
            )
    assert caught.value.code == "activity_over"


async def test_window_minutes_and_codes(sessionmaker: SessionMaker, tree: dict[str, int]) -> None:
    activity_id = await setup(sessionmaker, tree, seats=[201, 202, 203, 204, 205])
    code = await open_code(sessionmaker, activity_id)
    activity = await get_activity(sessionmaker, activity_id)
    start, end = activity.starts_at, activity.ends_at

    with pytest.raises(InvalidInput) as caught:
        await check_in(sessionmaker, 201, code, start - timedelta(minutes=31))
    assert caught.value.code == "checkin_not_open"
    assert caught.value.params["at"] == start - timedelta(minutes=30)

    result = await check_in(sessionmaker, 201, code, start - timedelta(minutes=30))
    assert result.outcome is CheckOutcome.CHECKED_IN and not result.walk_in
    again = await check_in(sessionmaker, 201, " ci_" + code, start)
    assert again.outcome is CheckOutcome.ALREADY_IN
    assert again.attendance.checked_in_at == start - timedelta(minutes=30)

    # 3½ hours between check-in and check-out: capped at the 2-hour activity.
    out = await check_out(sessionmaker, 201, end + timedelta(hours=1), code=code)
    assert out.outcome is CheckOutcome.CHECKED_OUT
    assert out.attendance.minutes == 120 and out.attendance.confirmed
    assert (await check_out(sessionmaker, 201, end + timedelta(hours=1))).outcome is (
        CheckOutcome.ALREADY_OUT
    )

    # Actual time: 30 minutes; check-out from a button (activity id).
    await check_in(sessionmaker, 202, code, start + timedelta(minutes=30))
    out = await check_out(
        sessionmaker, 202, start + timedelta(minutes=60, seconds=59), activity_id=activity_id
    )
    assert out.attendance.minutes == 30

    # /checkout alone: of the activity one is checked in to.
    await check_in(sessionmaker, 203, code, start)
    out = await check_out(sessionmaker, 203, end)
    assert out.activity.id == activity_id and out.attendance.minutes == 120

    with pytest.raises(InvalidInput) as caught:
        await check_in(sessionmaker, 204, code, end + timedelta(minutes=1))
    assert caught.value.code == "checkin_closed"

    await check_in(sessionmaker, 205, code, end - timedelta(minutes=1))
    with pytest.raises(InvalidInput) as caught:
        await check_out(
            sessionmaker, 205, end + attendance_values.CHECKOUT_GRACE + timedelta(seconds=1)
        )
    assert caught.value.code == "checkout_closed"

    with pytest.raises(NotFound) as missing:
        await check_out(sessionmaker, 204, end)
    assert missing.value.code == "not_checked_in"

    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(NotFound) as unknown:
        await check_in(sessionmaker, 204, wrong, start)
    assert unknown.value.code == "code_unknown"
    with pytest.raises(InvalidInput) as malformed:
        await check_in(sessionmaker, 204, "12345", start)
    assert malformed.value.code == "code_malformed"
    # Long after: the code is known to have expired.
    with pytest.raises(InvalidInput) as expired:
        await check_in(sessionmaker, 204, code, end + timedelta(days=1))
    assert expired.value.code == "code_expired"

    found = await rows(sessionmaker, activity_id)
    assert sorted(found) == [201, 202, 203, 205]
    assert found[205].checked_out_at is None and not found[205].confirmed


async def test_redelivered_and_concurrent_check_ins_make_one_row_each(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    people = list(range(301, 321))
    activity_id = await setup(sessionmaker, tree, seats=people)
    code = await open_code(sessionmaker, activity_id)
    at = NOW + timedelta(minutes=50)

    same = await asyncio.gather(*(check_in(sessionmaker, 301, code, at) for _ in range(5)))
    outcomes = sorted(r.outcome.value for r in same)
    assert outcomes == ["already_in"] * 4 + ["checked_in"]
    everyone = await asyncio.gather(*(check_in(sessionmaker, u, code, at) for u in people[1:]))
    assert all(r.outcome is CheckOutcome.CHECKED_IN for r in everyone)

    async with sessionmaker() as session:
        count = (
            await session.exec(select(func.count()).where(Attendance.activity_id == activity_id))
        ).one()
    assert count == 20


async def test_walk_ins_check_in_without_touching_capacity(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    activity_id = await setup(sessionmaker, tree, seats=[401], others=[402], capacity=1)
    code = await open_code(sessionmaker, activity_id)
    result = await check_in(sessionmaker, 402, code, NOW + timedelta(hours=1))
    assert result.outcome is CheckOutcome.CHECKED_IN and result.walk_in
    async with sessionmaker() as session:
        signups = (
            await session.exec(select(Signup.status).where(Signup.activity_id == activity_id))
        ).all()
    assert list(signups) == [SignupStatus.CONFIRMED]  # the walk-in took no seat

    async with sessionmaker() as session:
        found = await roster.roster(session, actor=Actor(STAFF), activity_id=activity_id, now=NOW)
    assert [(r.name, r.walk_in) for r in found.rows] == [("志愿者乙", False), ("志愿者丙", True)]

    # Not registered; waiting for approval (a station that requires it).
    with pytest.raises(NotAllowed) as caught:
        await check_in(sessionmaker, 499, code, NOW + timedelta(hours=1))
    assert caught.value.code == "not_registered"
    await make_volunteers(sessionmaker, tree["hf-ss-hp-hpmd"], [403])
    with pytest.raises(NotAllowed) as caught:
        await check_in(sessionmaker, 403, code, NOW + timedelta(hours=1))
    assert caught.value.code == "volunteer_pending"


# --- staff ---------------------------------------------------------------------------


async def test_marks_corrections_and_their_audit(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    activity_id = await setup(sessionmaker, tree, seats=[501, 502, 503, 504], others=[505])
    code = await open_code(sessionmaker, activity_id)
    activity = await get_activity(sessionmaker, activity_id)
    start = activity.starts_at

    present = await correct(sessionmaker, activity_id, 501, StaffAction.PRESENT)
    assert (present.mark, present.minutes, present.confirmed) == (AttendanceMark.PRESENT, 120, True)
    absent = await correct(sessionmaker, activity_id, 502, StaffAction.ABSENT)
    assert (absent.mark, absent.minutes, absent.confirmed) == (AttendanceMark.ABSENT, 0, True)

    await check_in(sessionmaker, 503, code, start + timedelta(minutes=25))
    await check_out(sessionmaker, 503, start + timedelta(minutes=100))
    late = await correct(sessionmaker, activity_id, 503, StaffAction.LATE)
    assert (late.mark, late.minutes) == (AttendanceMark.LATE, 75)

    with pytest.raises(InvalidInput) as caught:
        await correct(sessionmaker, activity_id, 504, StaffAction.LATE)
    assert caught.value.code == "minutes_needed"
    late = await correct(sessionmaker, activity_id, 504, StaffAction.LATE, minutes=45)
    assert (late.mark, late.minutes, late.confirmed) == (AttendanceMark.LATE, 45, True)
    with pytest.raises(InvalidInput) as caught:
        await correct(sessionmaker, activity_id, 504, StaffAction.MINUTES, minutes=121)
    assert caught.value.code == "minutes_out_of_range" and caught.value.params["max"] == 120

    # The same mark again changes nothing and logs nothing.
    await correct(sessionmaker, activity_id, 501, StaffAction.PRESENT)
    entries = await audits(sessionmaker, "attendance.corrected")
    assert len(entries) == 4
    assert all(e.actor_id == STAFF for e in entries)
    assert entries[0].details["old"] == {"mark": None, "minutes": None, "confirmed": False}
    assert entries[0].details["new"] == {"mark": "present", "minutes": 120, "confirmed": True}
    assert entries[2].details["old"]["mark"] == "present"  # 503 checked in and out
    assert entries[2].details["new"] == {"mark": "late", "minutes": 75, "confirmed": True}

    # Nobody may mark a person who is not on the roster, nor staff of another station.
    with pytest.raises(NotFound):
        await correct(sessionmaker, activity_id, 505, StaffAction.PRESENT)
    async with sessionmaker() as session:
        await roles.grant(
            session, user_id=7002, role="staff", station_code="hf-ss-xy-hyd", actor_id=None
        )
    with pytest.raises(NotAllowed):
        await correct(sessionmaker, activity_id, 501, StaffAction.ABSENT, actor_id=7002)
    # Nor before check-in could open.
    with pytest.raises(InvalidInput) as caught:
        await correct(
            sessionmaker, activity_id, 501, StaffAction.ABSENT, now=start - timedelta(hours=1)
        )
    assert caught.value.code == "activity_not_started"

    # The no-show counts on the roster; this year only.
    async with sessionmaker() as session:
        found = await roster.roster(session, actor=Actor(STAFF), activity_id=activity_id, now=NOW)
        next_year = await roster.roster(
            session,
            actor=Actor(STAFF),
            activity_id=activity_id,
            now=NOW + timedelta(days=60),
        )
    assert [r.no_shows for r in found.rows] == [0, 1, 0, 0]
    assert [r.no_shows for r in next_year.rows] == [0, 0, 0, 0]


async def test_closing_is_refused_while_a_check_out_is_missing_and_credits_once(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    activity_id = await setup(sessionmaker, tree, seats=[601, 602, 603, 604])
    code = await open_code(sessionmaker, activity_id)
    activity = await get_activity(sessionmaker, activity_id)
    start, end = activity.starts_at, activity.ends_at
    await check_in(sessionmaker, 601, code, start)
    await check_out(sessionmaker, 601, start + timedelta(minutes=90))
    await check_in(sessionmaker, 602, code, start + timedelta(minutes=20))
    await correct(sessionmaker, activity_id, 603, StaffAction.ABSENT)
    after = end + timedelta(hours=3)

    async def close(at: datetime = after) -> Any:
        async with sessionmaker() as session:
            return await closing.close(session, actor=Actor(STAFF), activity_id=activity_id, now=at)

    with pytest.raises(InvalidInput) as caught:
        await close()
    assert caught.value.code == "checkout_missing"
    assert caught.value.params["names"] == ["志愿者丙"]
    assert (await get_activity(sessionmaker, activity_id)).closed_at is None
    assert all(r.credited_at is None for r in (await rows(sessionmaker, activity_id)).values())

    async with sessionmaker() as session:
        preview = await closing.close_preview(
            session, actor=Actor(STAFF), activity_id=activity_id, now=after
        )
    assert preview.unresolved == ["志愿者丙"] and preview.unmarked == ["志愿者戊"]

    confirmed = await correct(sessionmaker, activity_id, 602, StaffAction.CONFIRM)
    assert confirmed.minutes == 100 and confirmed.confirmed  # check-in to the end

    result = await close()
    assert not result.already and (result.volunteers, result.minutes) == (2, 190)
    closed = await get_activity(sessionmaker, activity_id)
    assert closed.closed_at == after and closed.closed_by == STAFF
    credited = await rows(sessionmaker, activity_id)
    assert {u: r.credited_at for u, r in credited.items()} == {601: after, 602: after, 603: after}

    again = await close(after + timedelta(hours=1))
    assert again.already and again.volunteers == 0
    assert all(r.credited_at == after for r in (await rows(sessionmaker, activity_id)).values())
    assert len(await audits(sessionmaker, "activity.closed")) == 1

    # After closing: corrections are audited, credited rows keep their credit time,
    # a person recorded now counts from now; check-in is over.
    later = after + timedelta(days=1)
    fixed = await correct(
        sessionmaker, activity_id, 601, StaffAction.MINUTES, minutes=60, now=later
    )
    assert fixed.minutes == 60 and fixed.credited_at == after
    added = await correct(sessionmaker, activity_id, 604, StaffAction.PRESENT, now=later)
    assert added.minutes == 120 and added.credited_at == later
    assert len(await audits(sessionmaker, "attendance.corrected")) == 4
    with pytest.raises(InvalidInput) as caught:
        await check_in(sessionmaker, 604, code, start)
    assert caught.value.code == "records_closed"


async def test_beneficiaries_are_set_not_added(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    activity_id = await setup(sessionmaker, tree, seats=[701])

    async def record(group: str, count: int) -> Beneficiaries:
        async with sessionmaker() as session:
            return await marks.set_beneficiaries(
                session,
                actor=Actor(STAFF),
                activity_id=activity_id,
                group=group,
                count=count,
                now=NOW + timedelta(hours=2),
            )

    await asyncio.gather(*(record("elderly", 35) for _ in range(3)))
    await record("children", 4)
    await record("elderly", 40)
    async with sessionmaker() as session:
        found = (
            await session.exec(
                select(Beneficiaries).where(Beneficiaries.activity_id == activity_id)
            )
        ).all()
    assert {(b.target_group, b.count) for b in found} == {
        (TargetGroup.ELDERLY, 40),
        (TargetGroup.CHILDREN, 4),
    }
    entries = await audits(sessionmaker, "beneficiaries.recorded")
    assert [(e.details["old"], e.details["new"]) for e in entries] == [
        (None, 35),
        (None, 4),
        (35, 40),
    ]
    with pytest.raises(InvalidInput) as caught:
        await record("elderly", 100_001)
    assert caught.value.code == "count_out_of_range"
    with pytest.raises(InvalidInput):
        await record("aliens", 1)


# --- the records-due reminder --------------------------------------------------------


async def test_records_due_reminders_daily_until_closed(
    sessionmaker: SessionMaker, tree: dict[str, int], db_url: str
) -> None:
    settings = settings_for(db_url)
    # Ended Friday 20 November, 11:00 Hefei time.
    activity_id = await setup(sessionmaker, tree, seats=[801], starts_in=-timedelta(hours=24))
    async with sessionmaker() as session:
        await roles.grant(session, user_id=7003, role="staff", station_code=STATION, actor_id=None)
    elsewhere = await factories.make_activity(
        sessionmaker,
        tree["hf-ss-nq-nq"],  # no staff there: its author hears of it
        now=NOW,
        capacity=5,
        starts_in=-timedelta(hours=30),
        created_by=7004,
    )
    today = await factories.make_activity(
        sessionmaker, tree[STATION], now=NOW, capacity=5, starts_in=-timedelta(hours=3)
    )  # ended this morning: not yet
    cancelled = await factories.make_activity(
        sessionmaker, tree[STATION], now=NOW, capacity=5, starts_in=-timedelta(hours=30)
    )
    async with sessionmaker() as session, write_transaction(session):
        row = await session.get(Activity, cancelled)
        assert row is not None
        row.status = ActivityStatus.CANCELLED
        session.add(row)

    async def queued() -> list[Outbox]:
        async with sessionmaker() as session:
            query = select(Outbox).where(Outbox.kind == "records_due").order_by(col(Outbox.id))
            return list((await session.exec(query)).all())

    run_at = NOW + timedelta(minutes=5)  # Saturday 09:05
    assert (
        await records_followup.remind_unclosed(
            sessionmaker=sessionmaker, settings=settings, now=run_at
        )
        == 3
    )
    assert (
        await records_followup.remind_unclosed(
            sessionmaker=sessionmaker, settings=settings, now=run_at
        )
        == 0
    )
    found = await queued()
    assert sorted((o.user_id, o.payload["activity"]) for o in found) == [
        (STAFF, activity_id),
        (7003, activity_id),
        (7004, elsewhere),
    ]
    # Ten working days after Friday 20 November: Friday 4 December.
    assert {o.payload["due"] for o in found} == {"2026-12-04"}
    assert all(o.key.endswith(f":2026-11-21:{o.user_id}") for o in found)
    assert today not in {o.payload["activity"] for o in found}

    # Run at 02:00 local the next day: queued (this morning's activity too), due at
    # 09:00 local.
    night = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
    assert (
        await records_followup.remind_unclosed(
            sessionmaker=sessionmaker, settings=settings, now=night
        )
        == 5
    )
    sunday = [o for o in await queued() if ":2026-11-22:" in o.key]
    assert len(sunday) == 5
    assert {o.due_at for o in sunday} == {datetime(2026, 11, 22, 1, 0, tzinfo=UTC)}

    async with sessionmaker() as session:
        await closing.close(session, actor=Actor(STAFF), activity_id=activity_id, now=night)
    states = {(o.payload["activity"], o.state) for o in await queued()}
    assert (activity_id, OutboxState.PENDING) not in states
    assert (elsewhere, OutboxState.PENDING) in states
    monday = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert (
        await records_followup.remind_unclosed(
            sessionmaker=sessionmaker, settings=settings, now=monday
        )
        == 3
    )


# --- pure functions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("2.5", 150),
        ("2.5小时", 150),
        ("２小时", 120),
        ("150分钟", 150),
        ("90 min", 90),
        ("1小时30分", 90),
        ("1h30m", 90),
        ("1:30", 90),
        ("两个半小时", 150),
        ("半小时", 30),
        ("0", 0),
        ("三小时", 180),
    ],
)
def test_parse_minutes(text: str, minutes: int) -> None:
    assert attendance_values.parse_minutes(text, maximum=180) == minutes


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("4", "minutes_out_of_range"),
        ("abc", "minutes_unreadable"),
        ("-1", "minutes_unreadable"),
        ("", "minutes_unreadable"),
    ],
)
def test_parse_minutes_refuses(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        attendance_values.parse_minutes(text, maximum=180)
    assert caught.value.code == code


def test_counts_codes_and_working_days() -> None:
    assert attendance_values.parse_count("35") == 35
    assert attendance_values.parse_count("３５人") == 35
    assert attendance_values.parse_count("三十五人次") == 35
    for bad in ("many", "-3", "3.5"):
        with pytest.raises(InvalidInput):
            attendance_values.parse_count(bad)
    with pytest.raises(InvalidInput):
        attendance_values.parse_count("100001")
    assert attendance_codes.clean_code("１２３ ４５６") == "123456"
    assert attendance_codes.clean_code("ci_123456") == "123456"
    for bad in ("12345", "1234567", "abcdef", ""):
        with pytest.raises(InvalidInput):
            attendance_codes.clean_code(bad)
    friday = date(2026, 11, 20)
    assert attendance_values.add_working_days(friday, 1) == date(2026, 11, 23)
    assert attendance_values.add_working_days(friday, 10) == date(2026, 12, 4)
    assert attendance_values.add_working_days(date(2026, 11, 21), 1) == date(2026, 11, 23)


async def test_limiter_blocks_after_the_limit_until_the_window_passes() -> None:
    limiter = AttemptLimiter()
    at = NOW
    assert [await limiter.fail(1, at, limit=3) for _ in range(2)] == [2, 1]
    assert await limiter.blocked_for(1, at, limit=3) is None
    assert await limiter.fail(1, at + timedelta(minutes=2), limit=3) == 0
    assert await limiter.blocked_for(1, at + timedelta(minutes=3), limit=3) == timedelta(minutes=7)
    assert await limiter.blocked_for(2, at, limit=3) is None  # per person
    # The first two age out after ten minutes: one more try.
    assert await limiter.blocked_for(1, at + timedelta(minutes=10), limit=3) is None
    assert await limiter.fail(1, at + timedelta(minutes=10), limit=3) == 1
