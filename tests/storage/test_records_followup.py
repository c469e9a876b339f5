"""What staff and coordinators are told about records, on every backend: forgotten
check-outs once check-out has closed (with the names), and records still open five
working days after their due date, escalated once to the coordinators above."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from services import attendance_values, closing, records_followup, roles
from services.access import Actor
from services.marks import StaffAction
from storage.db import SessionMaker
from storage.models import Outbox
from tests.conftest import settings_for
from tests.storage.test_attendance import (
    NOW,
    STAFF,
    STATION,
    check_in,
    check_out,
    correct,
    get_activity,
    open_code,
    setup,
)

STREET_COORDINATOR, DISTRICT_COORDINATOR, OWN_COORDINATOR = 7101, 7102, 7103


async def queued(maker: SessionMaker, kind: str) -> list[Outbox]:
    async with maker() as session:
        query = select(Outbox).where(Outbox.kind == kind).order_by(col(Outbox.id))
        return list((await session.exec(query)).all())


async def test_forgotten_check_outs_are_told_to_staff_once_check_out_closes(
    sessionmaker: SessionMaker, tree: dict[str, int], db_url: str
) -> None:
    settings = settings_for(db_url)
    activity_id = await setup(sessionmaker, tree, seats=[801, 802, 803])  # 10:00 to 12:00
    code = await open_code(sessionmaker, activity_id)
    start = NOW + timedelta(hours=1)
    for user_id in (801, 802, 803):
        await check_in(sessionmaker, user_id, code, start + timedelta(minutes=5))
    await check_out(sessionmaker, 801, start + timedelta(hours=2), code=code)
    activity = await get_activity(sessionmaker, activity_id)

    async def run(at: datetime) -> int:
        return await records_followup.tell_missing_checkouts(
            sessionmaker=sessionmaker, settings=settings, now=at
        )

    # Check-out is still open until two hours after the end: nothing yet.
    assert await run(activity.ends_at + timedelta(hours=1)) == 0
    after = activity.ends_at + attendance_values.CHECKOUT_GRACE + timedelta(minutes=5)
    assert await run(after) == 1
    assert await run(after + timedelta(hours=3)) == 0  # once
    [row] = await queued(sessionmaker, records_followup.CHECKOUT_MISSING)
    assert row.user_id == STAFF and row.key == f"checkout_missing:{activity_id}:{STAFF}"
    async with sessionmaker() as session:
        names = await records_followup.missing_checkouts(session, activity_id)
    assert names == ["志愿者丙", "志愿者丁"]  # 802 and 803, in check-in order
    await correct(sessionmaker, activity_id, 802, StaffAction.CONFIRM, now=after)
    async with sessionmaker() as session:
        assert await records_followup.missing_checkouts(session, activity_id) == ["志愿者丁"]


async def test_records_still_open_after_their_due_date_are_escalated_once_above(
    sessionmaker: SessionMaker, tree: dict[str, int], db_url: str
) -> None:
    settings = settings_for(db_url)
    # Ended Friday 20 November 2026, 11:00 Hefei time: due Friday 4 December; five
    # working days later is Friday 11 December.
    activity_id = await setup(sessionmaker, tree, seats=[801], starts_in=-timedelta(hours=24))
    async with sessionmaker() as session:
        for user_id, code in [
            (STREET_COORDINATOR, "hf-ss-xy"),
            (DISTRICT_COORDINATOR, "hf-ss"),
            (OWN_COORDINATOR, STATION),
        ]:
            await roles.grant(
                session, user_id=user_id, role="coordinator", station_code=code, actor_id=None
            )

    async def run(at: datetime) -> int:
        return await records_followup.escalate_overdue(
            sessionmaker=sessionmaker, settings=settings, now=at
        )

    thursday = datetime(2026, 12, 10, 1, 5, tzinfo=UTC)  # 09:05 in Hefei
    assert await run(thursday) == 0
    friday = datetime(2026, 12, 10, 16, 30, tzinfo=UTC)  # 00:30 on Friday in Hefei
    assert await run(friday) == 1
    assert await run(friday + timedelta(days=3)) == 0  # once
    [row] = await queued(sessionmaker, records_followup.RECORDS_OVERDUE)
    # The coordinators of the nearest station above that has any, not those beside or
    # on the station itself; from 09:00 local.
    assert row.user_id == STREET_COORDINATOR
    assert row.key == f"records_overdue:{activity_id}:{STREET_COORDINATOR}"
    assert row.payload["due"] == "2026-12-04"
    assert row.due_at == datetime(2026, 12, 11, 1, 0, tzinfo=UTC)

    # Closed in time elsewhere: nothing to escalate.
    other = await setup(sessionmaker, tree, seats=[], starts_in=-timedelta(hours=24))
    async with sessionmaker() as session:
        await closing.close(session, actor=Actor(STAFF), activity_id=other, now=NOW)
    assert await run(friday + timedelta(days=4)) == 0


async def test_without_coordinators_above_the_admins_hear_of_overdue_records(
    sessionmaker: SessionMaker, tree: dict[str, int], db_url: str
) -> None:
    settings = settings_for(db_url).model_copy(update={"admin_ids": frozenset({9000})})
    await setup(sessionmaker, tree, seats=[], starts_in=-timedelta(hours=24))
    late = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)
    assert (
        await records_followup.escalate_overdue(
            sessionmaker=sessionmaker, settings=settings, now=late
        )
        == 1
    )
    [row] = await queued(sessionmaker, records_followup.RECORDS_OVERDUE)
    assert row.user_id == 9000
