"""Service hours: what counts as credited, totals by year in the station's zone, star
levels, the latest activities and no-shows, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from services import hours, stations, volunteers
from services.errors import NotFound
from storage.db import SessionMaker, write_transaction
from storage.models import Activity, ActivityStatus, Attendance, AttendanceMark, Station
from tests.factories import make_activity, make_volunteers

HOME = "hf-ss-xy-xyxc"  # 西园新村社区, no zone of its own: Asia/Shanghai
THRESHOLDS = (100, 300, 600, 1000, 1500)
NOW = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)


async def volunteer_id(maker: SessionMaker, user_id: int) -> int:
    async with maker() as session:
        volunteer = await volunteers.get(session, user_id)
    assert volunteer is not None and volunteer.id is not None
    return volunteer.id


async def activity_at(
    maker: SessionMaker,
    station_id: int,
    start: datetime,
    title: str = "垃圾分类督导",
    *,
    status: ActivityStatus = ActivityStatus.PUBLISHED,
) -> int:
    activity_id = await make_activity(
        maker, station_id, now=start, capacity=20, starts_in=timedelta(0), title=title
    )
    if status is not ActivityStatus.PUBLISHED:
        async with maker() as session, write_transaction(session):
            activity = await session.get(Activity, activity_id)
            assert activity is not None
            activity.status = status
            session.add(activity)
    return activity_id


async def attend(
    maker: SessionMaker,
    activity_id: int,
    vid: int,
    minutes: int | None,
    *,
    mark: AttendanceMark | None = AttendanceMark.PRESENT,
    confirmed: bool = True,
    closed: bool = True,
) -> None:
    """An attendance row as the attendance service leaves it; ``closed`` closes the
    activity, which credits confirmed rows."""
    async with maker() as session, write_transaction(session):
        activity = await session.get(Activity, activity_id)
        assert activity is not None
        if closed:
            activity.closed_at = activity.ends_at
            session.add(activity)
        session.add(
            Attendance(
                activity_id=activity_id,
                volunteer_id=vid,
                mark=mark,
                minutes=minutes,
                confirmed=confirmed,
                credited_at=activity.ends_at if closed and confirmed else None,
            )
        )


async def credited(
    maker: SessionMaker, station_id: int, vid: int, start: datetime, minutes: int, title: str
) -> int:
    activity_id = await activity_at(maker, station_id, start, title)
    await attend(maker, activity_id, vid, minutes)
    return activity_id


async def summary_for(maker: SessionMaker, user_id: int) -> hours.HoursSummary:
    async with maker() as session:
        return await hours.summary(
            session=session,
            user_id=user_id,
            thresholds=THRESHOLDS,
            default_zone="Asia/Shanghai",
            now=NOW,
        )


def test_hours_are_rounded_to_one_decimal() -> None:
    assert hours.hours_of(15270) == Decimal("254.5")
    assert hours.hours_of(95) == Decimal("1.6")
    assert hours.hours_of(3) == Decimal("0.1")  # 0.05 rounds half up
    assert hours.hours_of(2) == Decimal("0.0")
    assert hours.hours_of(120) == Decimal("2.0")


@pytest.mark.parametrize(
    ("minutes", "stars", "next_hours", "missing"),
    [
        (0, 0, 100, 6000),
        (99 * 60 + 30, 0, 100, 30),
        (100 * 60, 1, 300, 200 * 60),
        (254 * 60 + 30, 1, 300, 45 * 60 + 30),
        (1499 * 60, 4, 1500, 60),
        (1500 * 60, 5, None, None),
        (5000 * 60, 5, None, None),
    ],
)
def test_star_levels(minutes: int, stars: int, next_hours: int | None, missing: int | None) -> None:
    level = hours.star_level(minutes, THRESHOLDS)
    assert (level.stars, level.of, level.next_hours, level.minutes_to_next) == (
        stars,
        5,
        next_hours,
        missing,
    )


def test_star_levels_follow_configured_thresholds() -> None:
    level = hours.star_level(60 * 60, (50, 80))
    assert (level.stars, level.of, level.next_hours, level.minutes_to_next) == (1, 2, 80, 1200)


async def test_summary_counts_only_credited_hours(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [501, 502])
    vid, other = await volunteer_id(sessionmaker, 501), await volunteer_id(sessionmaker, 502)
    home = tree[HOME]
    # Counted: last year (a long one) and this year.
    await credited(sessionmaker, home, vid, datetime(2025, 5, 1, 1, tzinfo=UTC), 250 * 60, "去年")
    await credited(sessionmaker, home, vid, datetime(2026, 3, 5, 1, tzinfo=UTC), 150, "政策宣传")
    await credited(sessionmaker, home, vid, datetime(2026, 4, 2, 1, tzinfo=UTC), 95, "走访慰问")
    # Not counted: unconfirmed, not closed yet, cancelled activity, absent, zero minutes.
    pending = await activity_at(sessionmaker, home, datetime(2026, 5, 1, 1, tzinfo=UTC), "未确认")
    await attend(sessionmaker, pending, vid, 120, confirmed=False)
    still_open = await activity_at(
        sessionmaker, home, datetime(2026, 5, 2, 1, tzinfo=UTC), "未关闭"
    )
    await attend(sessionmaker, still_open, vid, 120, closed=False)
    cancelled = await activity_at(
        sessionmaker,
        home,
        datetime(2026, 5, 3, 1, tzinfo=UTC),
        "已取消",
        status=ActivityStatus.CANCELLED,
    )
    await attend(sessionmaker, cancelled, vid, 120)
    absent = await activity_at(sessionmaker, home, datetime(2026, 5, 4, 1, tzinfo=UTC), "缺席")
    await attend(sessionmaker, absent, vid, 60, mark=AttendanceMark.ABSENT)
    empty = await activity_at(sessionmaker, home, datetime(2026, 5, 5, 1, tzinfo=UTC), "零分钟")
    await attend(sessionmaker, empty, vid, 0)
    # Someone else's hours are theirs.
    await credited(sessionmaker, home, other, datetime(2026, 3, 5, 1, tzinfo=UTC), 600, "别人")

    summary = await summary_for(sessionmaker, 501)
    assert summary.year == 2026
    assert summary.total_minutes == 250 * 60 + 150 + 95
    assert summary.year_minutes == 150 + 95
    assert (summary.level.stars, summary.level.next_hours) == (1, 300)
    assert summary.level.minutes_to_next == 300 * 60 - summary.total_minutes
    assert [a.title for a in summary.latest] == ["走访慰问", "政策宣传", "去年"]
    assert [a.minutes for a in summary.latest] == [95, 150, 250 * 60]
    assert summary.latest[0].station_name == "西园新村社区"
    assert summary.no_shows_this_year == 1
    assert summary.station.id == home


async def test_latest_are_the_five_newest(sessionmaker: SessionMaker, tree: dict[str, int]) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [511])
    vid = await volunteer_id(sessionmaker, 511)
    for day in range(1, 8):
        start = datetime(2026, 2, day, 1, tzinfo=UTC)
        await credited(sessionmaker, tree[HOME], vid, start, 60, f"活动{day}")
    summary = await summary_for(sessionmaker, 511)
    assert [a.title for a in summary.latest] == ["活动7", "活动6", "活动5", "活动4", "活动3"]
    assert summary.total_minutes == 7 * 60


async def test_the_year_is_the_stations_calendar_year(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [521])
    vid = await volunteer_id(sessionmaker, 521)
    # 2025-12-31 23:30 in Shanghai: last year; 2026-01-01 00:30 in Shanghai: this year.
    await credited(
        sessionmaker, tree[HOME], vid, datetime(2025, 12, 31, 15, 30, tzinfo=UTC), 60, "a"
    )
    await credited(
        sessionmaker, tree[HOME], vid, datetime(2025, 12, 31, 16, 30, tzinfo=UTC), 45, "b"
    )
    summary = await summary_for(sessionmaker, 521)
    assert (summary.total_minutes, summary.year_minutes) == (105, 45)

    # A station in New York: both are still 2025 there.
    async with sessionmaker() as session, write_transaction(session):
        station = await session.get(Station, tree[HOME])
        assert station is not None
        station.timezone = "America/New_York"
        session.add(station)
    stations.forget_tree()  # written behind the services' back: drop the cached tree
    summary = await summary_for(sessionmaker, 521)
    assert (summary.total_minutes, summary.year_minutes) == (105, 0)


async def test_no_show_counts_per_volunteer_and_year(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [531, 532, 533])
    a, b, c = [await volunteer_id(sessionmaker, u) for u in (531, 532, 533)]
    home = tree[HOME]
    absent = AttendanceMark.ABSENT
    this_year = [datetime(2026, m, 10, 1, tzinfo=UTC) for m in (1, 2, 3)]
    for start in this_year:
        activity = await activity_at(sessionmaker, home, start)
        await attend(sessionmaker, activity, a, 0, mark=absent, confirmed=False, closed=False)
    activity = await activity_at(sessionmaker, home, datetime(2026, 4, 1, 1, tzinfo=UTC))
    await attend(sessionmaker, activity, b, 0, mark=absent)
    await attend(sessionmaker, activity, c, 120)  # present: not a no-show
    last_year = await activity_at(sessionmaker, home, datetime(2025, 6, 1, 1, tzinfo=UTC))
    await attend(sessionmaker, last_year, b, 0, mark=absent)
    cancelled = await activity_at(
        sessionmaker, home, datetime(2026, 5, 1, 1, tzinfo=UTC), status=ActivityStatus.CANCELLED
    )
    await attend(sessionmaker, cancelled, c, 0, mark=absent)

    start, end = hours.year_bounds(2026, ZoneInfo("Asia/Shanghai"))
    async with sessionmaker() as session:
        counts = await hours.no_show_counts(
            session=session, volunteer_ids=[a, b, c], year_start=start, year_end=end
        )
        assert counts == {a: 3, b: 1, c: 0}
        assert (
            await hours.no_show_counts(
                session=session, volunteer_ids=[], year_start=start, year_end=end
            )
            == {}
        )
        start, end = hours.year_bounds(2025, ZoneInfo("Asia/Shanghai"))
        counts = await hours.no_show_counts(
            session=session, volunteer_ids=[a, b], year_start=start, year_end=end
        )
        assert counts == {a: 0, b: 1}


async def test_someone_not_registered_has_no_summary(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    with pytest.raises(NotFound) as raised:
        await summary_for(sessionmaker, 599)
    assert raised.value.code == "not_registered"
