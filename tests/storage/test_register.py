"""The volunteer register and the hours export on both backends: every figure equals
what the hours code counts (services.hours) and an independent SQL query over the raw
tables; the filters, the searches and the subtree; the rows for the national system."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from services import hours, hours_export, register
from services.access import Actor
from services.errors import NotAllowed, NotFound
from services.periods import Period
from services.register import Search, Show, Standing
from storage.db import SessionMaker, write_transaction
from storage.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Attendance,
    AttendanceMark,
    TargetGroup,
    Volunteer,
    VolunteerStatus,
)
from storage.types import utcnow
from tests.conftest import load_example_tree

ZONE = ZoneInfo("Asia/Shanghai")
THRESHOLDS = (100, 300, 600, 1000, 1500)
ADMIN = Actor(id=1, is_admin=True, locale="en")


@dataclass(frozen=True)
class World:
    ids: dict[str, int]
    now: datetime
    this_year: datetime  # the start of activity A (this year, recent)
    long_ago: datetime  # 400 days before now: an earlier year


async def seed_register(maker: SessionMaker, now: datetime | None = None) -> World:
    """The example tree and, around Shushan District (hf-ss):

    1 张三  Xiyuan Xincun, approved, first aid and driving: A (this year, 120 min),
            B (400 days ago, 6000 min: one star); C not closed (300), D cancelled (600)
    2 李四  Hupo Street, approved, tutoring: E 400 days ago (90 min): inactive
    3 王五  Xiyuan Xincun, pending
    4 赵六  Wanghu Street (Baohe, outside Shushan): F this year (50 min)
    5 erased, Xiyuan Xincun: A (60 min)
    6 钱七  Xiyuan Xincun, registered a year ago: absent at A (30 min): inactive
    7 孙八  Xiyuan Xincun, registered 10 days ago: unconfirmed at A (45): approved
    8 周九  Xiyuan Xincun, declined"""
    ids = await load_example_tree(maker)
    now = now or utcnow()
    year_start = hours.year_bounds(now.astimezone(ZONE).year, ZONE)[0]
    this_year = year_start + (now - year_start) * 0.9
    long_ago = now - timedelta(days=400)
    two_years = now - timedelta(days=730)

    def person(vid: int, code: str, name: str | None, **extra: Any) -> dict[str, Any]:
        return {
            "id": vid,
            "station_id": ids[code],
            "status": VolunteerStatus.ACTIVE,
            "real_name": name,
            "phone": f"+86139{vid:04d}{vid:04d}" if name else None,
            "skills": [],
            "created_at": two_years,
            "updated_at": two_years,
            "weekly_digest": True,
            "erased_at": None,
            **extra,
        }

    def activity(aid: int, code: str, at: datetime, **extra: Any) -> dict[str, Any]:
        return {
            "id": aid,
            "station_id": ids[code],
            "kind": ActivityKind.ELDER_CARE,
            "title": f"活动{'ABCDEF'[aid - 1]}",
            "description": "",
            "place": "社区活动室",
            "starts_at": at,
            "ends_at": at + timedelta(hours=2),
            "capacity": 10,
            "target_group": TargetGroup.ELDERLY,
            "status": ActivityStatus.PUBLISHED,
            "created_at": at - timedelta(days=3),
            "updated_at": at,
            "closed_at": at + timedelta(hours=3),
            **extra,
        }

    def seat(aid: int, vid: int, minutes: int, **extra: Any) -> dict[str, Any]:
        return {
            "activity_id": aid,
            "volunteer_id": vid,
            "minutes": minutes,
            "confirmed": True,
            "mark": AttendanceMark.PRESENT,
            "credited_at": now,
            "created_at": now,
            "updated_at": now,
            **extra,
        }

    async with maker() as session, write_transaction(session):
        conn = await session.connection()
        await conn.execute(
            insert(Volunteer),
            [
                person(1, "hf-ss-xy-xyxc", "张三", skills=["first_aid", "driving"]),
                person(2, "hf-ss-hp", "李四", skills=["tutoring"]),
                person(3, "hf-ss-xy-xyxc", "王五", status=VolunteerStatus.PENDING, created_at=now),
                person(4, "hf-bh-wh", "赵六"),
                person(5, "hf-ss-xy-xyxc", None, erased_at=now),
                person(6, "hf-ss-xy-xyxc", "钱七", created_at=now - timedelta(days=365)),
                person(7, "hf-ss-xy-xyxc", "孙八", created_at=now - timedelta(days=10)),
                person(8, "hf-ss-xy-xyxc", "周九", status=VolunteerStatus.DECLINED),
            ],
        )
        await conn.execute(
            insert(Activity),
            [
                activity(1, "hf-ss-xy-xyxc", this_year),
                activity(2, "hf-ss-xy-xyxc", long_ago, kind=ActivityKind.CLEANUP),
                activity(3, "hf-ss-xy-xyxc", this_year - timedelta(hours=3), closed_at=None),
                activity(4, "hf-ss-xy", this_year, status=ActivityStatus.CANCELLED),
                activity(5, "hf-ss-hp", long_ago),
                activity(6, "hf-bh-wh", this_year),
            ],
        )
        await conn.execute(
            insert(Attendance),
            [
                seat(1, 1, 120),
                seat(1, 5, 60),
                seat(1, 6, 30, mark=AttendanceMark.ABSENT),
                seat(1, 7, 45, confirmed=False),
                seat(2, 1, 6000),
                seat(3, 1, 300, credited_at=None),
                seat(4, 1, 600),
                seat(5, 2, 90),
                seat(6, 4, 50),
            ],
        )
    return World(ids, now, this_year, long_ago)


# An independent count over the raw tables, written out by hand.
INDEPENDENT = text(
    """
    SELECT a.volunteer_id, SUM(a.minutes),
           SUM(CASE WHEN t.starts_at >= :year_start AND t.starts_at < :year_end
                    THEN a.minutes ELSE 0 END)
    FROM attendance a JOIN activity t ON t.id = a.activity_id
    WHERE a.confirmed = :yes AND a.credited_at IS NOT NULL AND a.minutes > 0
      AND (a.mark IS NULL OR a.mark <> 'absent') AND t.status <> 'cancelled'
    GROUP BY a.volunteer_id
    """
)


async def _listed(
    maker: SessionMaker,
    world: World,
    code: str,
    show: Show = Show.ALL,
    search: Search | None = None,
) -> list[register.Entry]:
    async with maker() as session:
        where = await register.scope(
            session, actor=ADMIN, station_id=world.ids[code], default_zone="Asia/Shanghai",
            now=world.now,
        )  # fmt: skip
        found = await register.entries(
            session,
            where=where,
            show=show,
            search=search or register.NO_SEARCH,
            thresholds=THRESHOLDS,
        )
        counted = await register.count(
            session, where=where, show=show, search=search or register.NO_SEARCH,
            thresholds=THRESHOLDS,
        )  # fmt: skip
    assert counted == len(found)
    return found


async def test_hours_equal_the_hours_code_and_independent_sql(sessionmaker: SessionMaker) -> None:
    world = await seed_register(sessionmaker)
    entries = await _listed(sessionmaker, world, "hf")
    assert [e.volunteer_id for e in entries] == [1, 2, 3, 4, 6, 7]
    start, end = hours.year_bounds(world.now.astimezone(ZONE).year, ZONE)
    async with sessionmaker() as session:
        conn = await session.connection()
        raw = await conn.execute(
            INDEPENDENT,
            {"year_start": start.astimezone(UTC), "year_end": end.astimezone(UTC), "yes": True},
        )
        independent = {int(v): (int(t), int(y)) for v, t, y in raw.all()}
        for entry in entries:
            total = await hours.credited_minutes(session=session, volunteer_id=entry.volunteer_id)
            year = await hours.credited_minutes(
                session=session, volunteer_id=entry.volunteer_id, since=start, until=end
            )
            assert (entry.total_minutes, entry.year_minutes) == (total, year)
            assert (total, year) == independent.get(entry.volunteer_id, (0, 0))
            latest = await hours.credited_activities(
                session=session, volunteer_id=entry.volunteer_id, newest_first=True, limit=1
            )
            assert entry.last_activity == (latest[0].starts_at if latest else None)
    # a page at a time (only the page's hours summed) gives the same entries
    async with sessionmaker() as session:
        where = await register.scope(
            session, actor=ADMIN, station_id=world.ids["hf"], default_zone="Asia/Shanghai",
            now=world.now,
        )  # fmt: skip
        paged = []
        for offset in range(0, 6, 4):
            paged += await register.entries(
                session, where=where, show=Show.ALL, search=register.NO_SEARCH,
                thresholds=THRESHOLDS, offset=offset, limit=4,
            )  # fmt: skip
    assert paged == entries
    by_id = {e.volunteer_id: e for e in entries}
    assert (by_id[1].total_minutes, by_id[1].year_minutes, by_id[1].stars) == (6120, 120, 1)
    assert by_id[1].last_activity == world.this_year
    assert (by_id[2].total_minutes, by_id[2].year_minutes) == (90, 0)
    assert by_id[6].total_minutes == 0 and by_id[7].total_minutes == 0
    assert by_id[1].phone == "+8613900010001" and by_id[1].skills == ["first_aid", "driving"]


async def test_statuses_and_the_subtree(sessionmaker: SessionMaker) -> None:
    world = await seed_register(sessionmaker)

    async def ids(code: str, show: Show = Show.ALL) -> list[int]:
        return [e.volunteer_id for e in await _listed(sessionmaker, world, code, show)]

    # Baohe's volunteer, the erased and the declined one are not Shushan's register
    assert await ids("hf-ss") == [1, 2, 3, 6, 7]
    assert await ids("hf-ss", Show.APPROVED) == [1, 2, 6, 7]
    assert await ids("hf-ss", Show.PENDING) == [3]
    assert await ids("hf-ss", Show.INACTIVE) == [2, 6]
    assert await ids("hf-ss-xy") == [1, 3, 6, 7]
    assert await ids("hf-bh") == [4]
    standing = {e.volunteer_id: e.standing for e in await _listed(sessionmaker, world, "hf-ss")}
    assert standing == {
        1: Standing.APPROVED,
        2: Standing.INACTIVE,
        3: Standing.PENDING,
        6: Standing.INACTIVE,
        7: Standing.APPROVED,
    }


async def test_searches(sessionmaker: SessionMaker) -> None:
    world = await seed_register(sessionmaker)
    words = register.skill_codes() | {"急救": "first_aid"}

    async def ids(typed: str, show: Show = Show.ALL) -> list[int]:
        search = register.parse_search(typed, words, len(THRESHOLDS))
        return [e.volunteer_id for e in await _listed(sessionmaker, world, "hf", show, search)]

    assert await ids("张") == [1]
    assert await ids("0002") == [2]  # the phone's last digits
    assert await ids("00020002") == [2]
    assert await ids("急救") == [1]
    assert await ids("tutoring") == [2]
    assert await ids("driving 张") == [1]
    assert await ids("driving 李") == []
    assert await ids("1星") == [1]
    assert await ids("★") == [1]
    assert await ids("0★") == [2, 3, 4, 6, 7]
    assert await ids("0★", Show.INACTIVE) == [2, 6]
    assert await ids("2 stars") == []
    assert await ids("%") == []  # a wildcard is a character like any other
    assert await ids("_") == []


async def test_permission_is_checked(sessionmaker: SessionMaker) -> None:
    world = await seed_register(sessionmaker)
    stranger = Actor(id=999, locale="en")
    async with sessionmaker() as session:
        for station in (world.ids["hf-ss"], 10**6):
            try:
                await register.scope(
                    session, actor=stranger, station_id=station, default_zone="Asia/Shanghai",
                    now=world.now,
                )  # fmt: skip
            except NotAllowed:
                pass
            else:
                raise AssertionError("a stranger saw a register")
        try:
            await register.scope(
                session, actor=ADMIN, station_id=10**6, default_zone="Asia/Shanghai", now=world.now
            )
        except NotFound:
            pass
        else:
            raise AssertionError("a missing station was found")


EXPORT_SQL = text(
    """
    SELECT v.real_name, t.title, a.minutes, s.code
    FROM attendance a JOIN activity t ON t.id = a.activity_id
    JOIN volunteer v ON v.id = a.volunteer_id JOIN station s ON s.id = t.station_id
    WHERE a.confirmed = :yes AND a.credited_at IS NOT NULL AND a.minutes > 0
      AND (a.mark IS NULL OR a.mark <> 'absent') AND t.status <> 'cancelled'
      AND t.starts_at >= :start AND t.starts_at < :end AND v.erased_at IS NULL
      AND s.code LIKE :prefix
    ORDER BY t.starts_at, t.id, a.id
    """
)


async def test_export_rows_equal_independent_sql(sessionmaker: SessionMaker) -> None:
    world = await seed_register(sessionmaker)
    today = world.now.astimezone(ZONE).date()
    period = Period(today - timedelta(days=500), today)
    async with sessionmaker() as session:
        rows = await hours_export.rows(
            session, station_id=world.ids["hf-ss"], period=period, zone=ZONE, now=world.now
        )
        start, end = period.bounds(ZONE)
        conn = await session.connection()
        raw = await conn.execute(
            EXPORT_SQL, {"yes": True, "start": start, "end": end, "prefix": "hf-ss%"}
        )
        expected = [tuple(r) for r in raw.all()]
        # this year only: B and E (400 days ago) are left out
        recent = await hours_export.rows(
            session,
            station_id=world.ids["hf-ss"],
            period=Period(world.this_year.astimezone(ZONE).date(), today),
            zone=ZONE,
            now=world.now,
        )
    assert [(r.name, r.title, r.minutes, r.station_code) for r in rows] == expected
    expected_minutes = [("张三", 120), ("张三", 6000), ("李四", 90)]
    assert sorted((r.name, r.minutes) for r in rows) == expected_minutes
    assert [(r.name, r.title, r.minutes) for r in recent] == [("张三", "活动A", 120)]
    first = recent[0]
    assert first.phone == "13900010001" and first.kind is ActivityKind.ELDER_CARE
    assert first.starts_at == world.this_year.astimezone(ZONE)
    assert (first.station, first.station_code) == ("西园新村社区", "hf-ss-xy-xyxc")
