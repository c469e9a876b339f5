"""Closed weeks' tallies come from the roll-ups, and stay equal to the independent SQL
of ``test_tallies`` after a late change made through every way of writing: the unit
of work (services and plain ORM), ORM bulk statements, a Core statement on the
connection, text(), a station moved in the tree."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import backfill, marks, personal_data, stations, tallies, tally_rollups
from services.access import Actor
from storage.db import SessionMaker, write_transaction
from storage.models import (
    Activity,
    ActivityStatus,
    Attendance,
    Beneficiaries,
    Pledge,
    PledgeStatus,
    Station,
    TallyRollup,
    TallyWeek,
    TargetGroup,
    User,
    Volunteer,
)
from tests.conftest import load_example_tree
from tests.storage.test_tallies import NOW, ZONE, _actual, _expected, _populate

WEEK = tallies.iso_week(2026, 46)  # closed at NOW; week 45 before it
ADMIN = Actor(1, is_admin=True)


async def _scalar(session: AsyncSession, sql: str, **params: Any) -> Any:
    return (await (await session.connection()).execute(text(sql), params)).scalar()


def _ts(session: AsyncSession, moment: Any) -> Any:
    sqlite = session.get_bind().dialect.name == "sqlite"
    return moment.replace(tzinfo=None) if sqlite else moment


async def _week_state(session: AsyncSession, period: tallies.Period) -> tuple[int, int | None]:
    start, end = period.bounds(ZONE)
    row = (
        await session.exec(
            select(TallyWeek.version, TallyWeek.built_version).where(
                col(TallyWeek.week_start) == start, col(TallyWeek.week_end) == end
            )
        )
    ).one()
    return int(row[0]), row[1]


async def _check(maker: SessionMaker, ids: dict[str, int]) -> dict[str, Any]:
    """The city's and a district's week 46 (and week 45 beside it) equal the SQL, each
    line too; returns the figures seen."""
    seen: dict[str, Any] = {}
    async with maker() as session:
        tree = await stations.tree(session)
        for code in ("hf", "hf-ss"):
            result = await tallies.tally(
                session, station_id=ids[code], period=WEEK, zone=ZONE, now=NOW
            )
            subtree = tree.subtree(ids[code])
            assert _actual(result.figures) == await _expected(
                session, subtree, WEEK.first, WEEK.last
            ), code
            before = WEEK.previous()
            assert _actual(result.previous) == await _expected(
                session, subtree, before.first, before.last
            ), code
            for line in result.lines:
                assert line.station.id is not None
                members = [line.station.id] if line.own else tree.subtree(line.station.id)
                assert _actual(line.figures) == await _expected(
                    session, members, WEEK.first, WEEK.last
                ), (code, line.station.code)
            seen[code] = (
                _actual(result.figures),
                _actual(result.previous),
                [(line.station.id, line.own, _actual(line.figures)) for line in result.lines],
            )
        # Both weeks were read from kept rows that count every change.
        for period in (WEEK, WEEK.previous()):
            version, built = await _week_state(session, period)
            assert built == version
    return seen


async def _one_id(session: AsyncSession, sql: str, **params: Any) -> int:
    value = await _scalar(session, sql, **params)
    assert value is not None, sql
    return int(value)


def _in_week(period: tallies.Period) -> str:
    return "a.status <> 'cancelled' AND a.starts_at >= :start AND a.starts_at < :end"


async def _counted_attendance(session: AsyncSession, period: tallies.Period = WEEK) -> int:
    start, end = period.bounds(ZONE)
    return await _one_id(
        session,
        "SELECT MIN(t.id) FROM attendance t JOIN activity a ON a.id = t.activity_id "
        f"WHERE {_in_week(period)} AND t.confirmed AND (t.mark IS NULL OR t.mark <> 'absent') "
        "AND t.minutes > 10",
        start=_ts(session, start),
        end=_ts(session, end),
    )


async def _held_activity(session: AsyncSession, period: tallies.Period = WEEK) -> int:
    start, end = period.bounds(ZONE)
    return await _one_id(
        session,
        "SELECT MIN(a.id) FROM activity a WHERE "
        f"{_in_week(period)} AND EXISTS (SELECT 1 FROM attendance t WHERE t.activity_id = a.id "
        "AND t.confirmed AND (t.mark IS NULL OR t.mark <> 'absent'))",
        start=_ts(session, start),
        end=_ts(session, end),
    )


async def _pledge(session: AsyncSession) -> int:
    start, end = WEEK.bounds(ZONE)
    return await _one_id(
        session,
        "SELECT MIN(id) FROM pledge WHERE status = 'open' AND created_at >= :start "
        "AND created_at < :end",
        start=_ts(session, start),
        end=_ts(session, end),
    )


# --- the changes, each through one way of writing -----------------------------------

Change = Callable[[AsyncSession, dict[str, int]], Awaitable[None]]


async def orm_minutes(session: AsyncSession, ids: dict[str, int]) -> None:
    row = await session.get(Attendance, await _counted_attendance(session))
    assert row is not None and row.minutes is not None
    async with write_transaction(session):
        row.minutes -= 7
        session.add(row)


async def orm_unconfirm(session: AsyncSession, ids: dict[str, int]) -> None:
    row = await session.get(Attendance, await _counted_attendance(session))
    assert row is not None
    async with write_transaction(session):
        row.confirmed = False
        session.add(row)


async def service_mark_absent(session: AsyncSession, ids: dict[str, int]) -> None:
    row = await session.get(Attendance, await _counted_attendance(session))
    assert row is not None
    await marks.correct(
        session,
        actor=ADMIN,
        activity_id=row.activity_id,
        volunteer_id=row.volunteer_id,
        action=marks.StaffAction.ABSENT,
        now=NOW,
    )


async def service_beneficiaries(session: AsyncSession, ids: dict[str, int]) -> None:
    activity = await _held_activity(session)
    await marks.set_beneficiaries(
        session,
        actor=ADMIN,
        activity_id=activity,
        group=TargetGroup.DISABLED,
        count=1 + int(await _scalar(session, "SELECT COALESCE(SUM(count), 0) FROM beneficiaries")),
        now=NOW,
    )


async def orm_new_attendance(session: AsyncSession, ids: dict[str, int]) -> None:
    activity = await _held_activity(session)
    volunteer = await _one_id(
        session,
        "SELECT MIN(id) FROM volunteer WHERE id NOT IN "
        "(SELECT volunteer_id FROM attendance WHERE activity_id = :a)",
        a=activity,
    )
    async with write_transaction(session):
        session.add(
            Attendance(activity_id=activity, volunteer_id=volunteer, minutes=45, confirmed=True)
        )


async def orm_delete_attendance(session: AsyncSession, ids: dict[str, int]) -> None:
    row = await session.get(Attendance, await _counted_attendance(session))
    async with write_transaction(session):
        await session.delete(row)


async def orm_pledge_cancelled(session: AsyncSession, ids: dict[str, int]) -> None:
    pledge = await session.get(Pledge, await _pledge(session))
    assert pledge is not None
    async with write_transaction(session):
        pledge.status = PledgeStatus.CANCELLED
        session.add(pledge)


async def orm_activity_moved_out(session: AsyncSession, ids: dict[str, int]) -> None:
    activity = await session.get(Activity, await _held_activity(session))
    assert activity is not None
    async with write_transaction(session):
        activity.starts_at += timedelta(days=7)  # into week 47, still running
        session.add(activity)


async def orm_activity_moved_in(session: AsyncSession, ids: dict[str, int]) -> None:
    """From week 45 (the previous week beside 46) into week 46: both change."""
    activity = await session.get(Activity, await _held_activity(session, WEEK.previous()))
    assert activity is not None
    async with write_transaction(session):
        activity.starts_at += timedelta(days=7)
        session.add(activity)


async def orm_activity_other_station(session: AsyncSession, ids: dict[str, int]) -> None:
    activity = await session.get(Activity, await _held_activity(session))
    assert activity is not None
    other = next(i for c, i in sorted(ids.items()) if i != activity.station_id and c != "hf")
    async with write_transaction(session):
        activity.station_id = other
        session.add(activity)


async def orm_activity_cancelled(session: AsyncSession, ids: dict[str, int]) -> None:
    activity = await session.get(Activity, await _held_activity(session))
    assert activity is not None
    async with write_transaction(session):
        activity.status = ActivityStatus.CANCELLED
        session.add(activity)


async def orm_volunteer_moved(session: AsyncSession, ids: dict[str, int]) -> None:
    start, end = WEEK.bounds(ZONE)
    volunteer = await session.get(
        Volunteer,
        await _one_id(
            session,
            "SELECT MIN(id) FROM volunteer WHERE created_at >= :start AND created_at < :end "
            "AND station_id <> :hf",
            start=_ts(session, start),
            end=_ts(session, end),
            hf=ids["hf"],
        ),
    )
    assert volunteer is not None
    async with write_transaction(session):
        volunteer.station_id = ids["hf"]
        session.add(volunteer)


async def bulk_update(session: AsyncSession, ids: dict[str, int]) -> None:
    activity = await _held_activity(session)
    async with write_transaction(session):
        await session.exec(
            update(Attendance)
            .where(col(Attendance.activity_id) == activity)
            .values(minutes=col(Attendance.minutes) + 3)
        )


async def bulk_delete(session: AsyncSession, ids: dict[str, int]) -> None:
    start, end = WEEK.bounds(ZONE)
    activity = await _one_id(
        session,
        "SELECT MIN(b.activity_id) FROM beneficiaries b JOIN activity a ON a.id = b.activity_id "
        f"WHERE {_in_week(WEEK)} AND b.count > 0",
        start=_ts(session, start),
        end=_ts(session, end),
    )
    async with write_transaction(session):
        await session.exec(delete(Beneficiaries).where(col(Beneficiaries.activity_id) == activity))


async def core_on_connection(session: AsyncSession, ids: dict[str, int]) -> None:
    row = await _counted_attendance(session)
    table = Attendance.__table__  # type: ignore[attr-defined]
    async with write_transaction(session):
        conn = await session.connection()
        await conn.execute(update(table).where(table.c.id == row).values(minutes=1))


async def text_statement(session: AsyncSession, ids: dict[str, int]) -> None:
    pledge = await _pledge(session)
    async with write_transaction(session):
        conn = await session.connection()
        await conn.execute(
            text("UPDATE pledge SET amount_fen = amount_fen + 100 WHERE id = :id"), {"id": pledge}
        )


async def station_moved(session: AsyncSession, ids: dict[str, int]) -> None:
    """A street moved under another district: the district's subtree changes."""
    tree = await stations.tree(session)
    district = ids["hf-ss"]
    street = sorted(tree.children[district])[0]
    other = next(
        d for d in sorted(tree.children[ids["hf"]]) if d != district and tree.children.get(d)
    )
    row = await session.get(Station, street)
    assert row is not None
    async with write_transaction(session):
        row.parent_id = other
        session.add(row)
    stations.forget_tree()


CHANGES: list[tuple[Change, bool]] = [  # (change, whether week 45 changes too)
    (orm_minutes, False),
    (orm_unconfirm, False),
    (service_mark_absent, False),
    (service_beneficiaries, False),
    (orm_new_attendance, False),
    (orm_delete_attendance, False),
    (orm_pledge_cancelled, False),
    (orm_activity_moved_out, False),
    (orm_activity_moved_in, True),
    (orm_activity_other_station, False),
    (orm_activity_cancelled, False),
    (orm_volunteer_moved, False),
    (bulk_update, False),
    (bulk_delete, False),
    (core_on_connection, False),
    (text_statement, False),
    (station_moved, False),
]


async def test_a_late_change_through_every_write_path_shows(sessionmaker: SessionMaker) -> None:
    ids = await load_example_tree(sessionmaker)
    await _populate(sessionmaker, ids)
    seen = await _check(sessionmaker, ids)
    for change, previous_too in CHANGES:
        async with sessionmaker() as session:
            await change(session, ids)
            # The change marked the kept week stale in its own transaction.
            version, built = await _week_state(session, WEEK)
            assert built != version, change.__name__
        now = await _check(sessionmaker, ids)
        assert now != seen, change.__name__
        if previous_too:
            assert now["hf"][1] != seen["hf"][1], change.__name__
        seen = now


async def test_kept_rows_are_read_and_other_weeks_stay_current(
    sqlite_sessionmaker: SessionMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    maker = sqlite_sessionmaker
    ids = await load_example_tree(maker)
    await _populate(maker, ids)
    earlier = tallies.iso_week(2026, 44)
    async with maker() as session:
        for period in (WEEK, earlier):
            await tallies.tally(session, station_id=ids["hf"], period=period, zone=ZONE, now=NOW)
        rows = (await session.exec(select(TallyRollup))).all()
        assert rows and {r.station_id for r in rows} >= {ids["hf"], ids["hf-ss"]}
        # Read from the kept rows: nothing is counted again.
        kept = await tallies.tally(session, station_id=ids["hf"], period=WEEK, zone=ZONE, now=NOW)

    async def no_counting(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a current week was counted again")

    monkeypatch.setattr(tally_rollups, "compute_week", no_counting)
    async with maker() as session:
        again = await tallies.tally(session, station_id=ids["hf"], period=WEEK, zone=ZONE, now=NOW)
        assert again == kept
        # A change in week 46 leaves week 44 current; one in this week marks none.
        await orm_minutes(session, ids)
        assert (await _week_state(session, earlier))[1] == (await _week_state(session, earlier))[0]
        versions = {p: await _week_state(session, p) for p in (WEEK, WEEK.previous(), earlier)}
        row = await session.get(Attendance, await _counted_attendance(session, WEEK.next()))
        assert row is not None
        async with write_transaction(session):
            row.minutes = 1
            session.add(row)
        assert {p: await _week_state(session, p) for p in versions} == versions
    monkeypatch.undo()
    await _check(maker, ids)


async def test_erasure_keeps_the_figures(sessionmaker: SessionMaker) -> None:
    ids = await load_example_tree(sessionmaker)
    await _populate(sessionmaker, ids)
    seen = await _check(sessionmaker, ids)
    async with sessionmaker() as session:
        attendance = await session.get(Attendance, await _counted_attendance(session))
        assert attendance is not None
        volunteer = await session.get(Volunteer, attendance.volunteer_id)
        assert volunteer is not None
        async with write_transaction(session):
            session.add(User(id=777_000_001))
            await session.flush()
            volunteer.user_id = 777_000_001
            session.add(volunteer)
        assert await personal_data.erase(session, 777_000_001, now=NOW)
    assert await _check(sessionmaker, ids) == seen


async def test_the_weekly_job_keeps_last_week_and_rebuilds_stale_ones(
    sessionmaker: SessionMaker,
) -> None:
    ids = await load_example_tree(sessionmaker)
    await _populate(sessionmaker, ids)
    assert await tally_rollups.refresh(sessionmaker=sessionmaker, zones=[ZONE], now=NOW) == 1
    async with sessionmaker() as session:
        version, built = await _week_state(session, WEEK)  # the week before NOW's
        assert built == version
        await orm_minutes(session, ids)
        version, built = await _week_state(session, WEEK)
        assert built != version
    assert await tally_rollups.refresh(sessionmaker=sessionmaker, zones=[ZONE], now=NOW) == 1
    assert await tally_rollups.refresh(sessionmaker=sessionmaker, zones=[ZONE], now=NOW) == 0
    async with sessionmaker() as session:
        version, built = await _week_state(session, WEEK)
        assert built == version
    await _check(sessionmaker, ids)


async def test_hours_recorded_late_or_imported_into_a_closed_week_show(
    sessionmaker: SessionMaker,
) -> None:
    """Staff's late records and the spreadsheet import write closed weeks too: the kept
    figures are rebuilt and still equal the independent SQL."""
    from datetime import date

    from tests.storage.test_backfill import sheet

    ids = await load_example_tree(sessionmaker)
    await _populate(sessionmaker, ids)
    seen = await _check(sessionmaker, ids)
    day = WEEK.first + timedelta(days=2)
    assert isinstance(day, date)
    content = sheet([["补录甲", "13911112222", day, "补录的敬老院探访", 3]])
    async with sessionmaker() as session:
        result = await backfill.import_hours(
            session,
            actor=ADMIN,
            station_id=ids["hf-ss-xy-xyxc"],
            content=content,
            default_zone=ZONE,
            now=NOW,
        )
        assert result.added == 1
    imported = await _check(sessionmaker, ids)
    assert imported != seen
    async with sessionmaker() as session:
        activity_id = (
            await session.exec(
                select(Attendance.activity_id).where(
                    col(Attendance.id) == await _counted_attendance(session)
                )
            )
        ).one()
        await backfill.record_on_behalf(
            session,
            actor=ADMIN,
            activity_id=activity_id,
            name="补录乙",
            phone=None,
            minutes=30,
            now=NOW,
        )
    assert await _check(sessionmaker, ids) != imported
