"""What staff and coordinators are told about an activity's records, besides the daily
reminder (``attendance.remind_unclosed``):

- a forgotten check-out: once check-out has closed (``attendance.CHECKOUT_GRACE``
  after the end), the station's staff get the names of those who checked in and did
  not check out (outbox kind ``checkout_missing``, once per activity and person);
- records long overdue: an activity still not closed ``ESCALATE_AFTER`` working days
  after its due date is brought, once, to the coordinators of the nearest station
  above it that has any, else to the admins (kind ``records_overdue``).

Both are periodic planners: they only queue outbox rows with deterministic keys, so a
re-run queues nothing twice; the rows are rendered when sent, and lapse if the matter
was settled in between."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import outbox, stations
from services.attendance import CHECKOUT_GRACE, REMIND_AT, records_due_on
from services.rules import RecordsRules
from services.workdays import add_working_days
from storage import queries
from storage.db import SessionMaker, write_transaction
from storage.models import Activity, ActivityStatus, Attendance, RoleKind, Volunteer
from storage.types import utcnow

CHECKOUT_MISSING = "checkout_missing"
RECORDS_OVERDUE = "records_overdue"
# Working days after the due date before the coordinators above hear of it.
ESCALATE_AFTER = 5
# Forgotten check-outs are looked for in activities that ended this recently.
CHECKOUT_LOOKBACK = timedelta(days=7)


@dataclass
class _Cache:
    zones: dict[int, ZoneInfo] = field(default_factory=dict)
    staff: dict[int, list[int]] = field(default_factory=dict)


async def _zone(session: AsyncSession, cache: _Cache, station_id: int, default: str) -> ZoneInfo:
    if station_id not in cache.zones:
        cache.zones[station_id] = await stations.zone(session, station_id, default)
    return cache.zones[station_id]


async def _staff(session: AsyncSession, cache: _Cache, activity: Activity) -> list[int]:
    """The station's staff, else the activity's author."""
    sid = activity.station_id
    if sid not in cache.staff:
        cache.staff[sid] = await queries.staff_ids(session, sid)
    author = [activity.created_by] if activity.created_by is not None else []
    return cache.staff[sid] or author


def _flagged() -> ColumnElement[bool]:
    """Checked in, not checked out, not confirmed by staff (``attendance.is_flagged``)."""
    return and_(
        col(Attendance.checked_in_at).is_not(None),
        col(Attendance.checked_out_at).is_(None),
        col(Attendance.confirmed).is_(False),
    )


async def missing_checkouts(session: AsyncSession, activity_id: int) -> list[str]:
    """Names of those checked in to the activity without a check-out that staff have
    not confirmed yet, in check-in order."""
    query = (
        select(Volunteer.real_name)
        .join(Attendance, col(Attendance.volunteer_id) == col(Volunteer.id))
        .where(Attendance.activity_id == activity_id, _flagged())
        .order_by(col(Attendance.checked_in_at), col(Attendance.id))
        .execution_options(populate_existing=True)
    )
    return [name or "—" for name in (await session.exec(query)).all()]


async def tell_missing_checkouts(
    *, sessionmaker: SessionMaker, settings: RecordsRules, now: datetime | None = None
) -> int:
    """Periodic: for each open activity whose check-out closed in the last week with
    someone checked in and not out, queue the notice to the station's staff (else
    the author), once. Returns how many were queued."""
    now = now or utcnow()
    cache = _Cache()
    messages: list[outbox.Message] = []
    async with sessionmaker() as session:
        query = (
            select(Activity)
            .where(
                Activity.status == ActivityStatus.PUBLISHED,
                col(Activity.closed_at).is_(None),
                col(Activity.ends_at) <= now - CHECKOUT_GRACE,
                col(Activity.ends_at) > now - CHECKOUT_GRACE - CHECKOUT_LOOKBACK,
                col(Activity.id).in_(select(Attendance.activity_id).where(_flagged())),
            )
            .order_by(col(Activity.ends_at), col(Activity.id))
        )
        for activity in (await session.exec(query)).all():
            zone = await _zone(session, cache, activity.station_id, settings.timezone)
            for user_id in await _staff(session, cache, activity):
                messages.append(
                    outbox.Message(
                        user_id=user_id,
                        kind=CHECKOUT_MISSING,
                        key=f"{CHECKOUT_MISSING}:{activity.id}:{user_id}",
                        payload={"activity": activity.id, "zone": zone.key},
                        priority=outbox.NOTICE,
                        station_id=activity.station_id,
                    )
                )
        if not messages:
            return 0
        async with write_transaction(session):
            return await outbox.enqueue(session, messages)


async def coordinators_above(
    session: AsyncSession, station_id: int, admin_ids: Collection[int] = ()
) -> list[int]:
    """The coordinators of the nearest station above ``station_id`` that has any; the
    admins when no station above has one."""
    above = (await stations.tree(session)).ancestors_and_self(station_id)[1:]
    holders = await queries.role_holders(session, above, [RoleKind.COORDINATOR])
    for member in above:
        if member in holders:
            return holders[member]
    return sorted(admin_ids)


async def escalate_overdue(
    *, sessionmaker: SessionMaker, settings: RecordsRules, now: datetime | None = None
) -> int:
    """Periodic: queue, once per activity and coordinator, the notice of an activity
    still not closed ``ESCALATE_AFTER`` working days after its records were due, to
    the coordinators above its station, from ``REMIND_AT`` local time on that day.
    Returns how many were queued."""
    now = now or utcnow()
    cache = _Cache()
    above: dict[int, list[int]] = {}
    messages: list[outbox.Message] = []
    async with sessionmaker() as session:
        query = (
            select(Activity)
            .where(
                Activity.status == ActivityStatus.PUBLISHED,
                col(Activity.closed_at).is_(None),
                col(Activity.ends_at) <= now,
            )
            .order_by(col(Activity.ends_at), col(Activity.id))
        )
        for activity in (await session.exec(query)).all():
            sid = activity.station_id
            zone = await _zone(session, cache, sid, settings.timezone)
            due = records_due_on(activity, zone, settings.records_due_working_days)
            day = add_working_days(due, ESCALATE_AFTER)
            if now.astimezone(zone).date() < day:
                continue
            if sid not in above:
                above[sid] = await coordinators_above(session, sid, settings.admin_ids)
            send_at = max(now, datetime.combine(day, REMIND_AT, tzinfo=zone).astimezone(UTC))
            for user_id in above[sid]:
                messages.append(
                    outbox.Message(
                        user_id=user_id,
                        kind=RECORDS_OVERDUE,
                        key=f"{RECORDS_OVERDUE}:{activity.id}:{user_id}",
                        payload={"activity": activity.id, "due": due.isoformat(), "zone": zone.key},
                        due_at=send_at,
                        priority=outbox.REMINDER,
                        station_id=sid,
                    )
                )
        if not messages:
            return 0
        async with write_transaction(session):
            return await outbox.enqueue(session, messages)
