"""What staff and coordinators are told about an activity's records:

- the daily reminder of records still open: one per staff member, activity and
  station-local day, from the day after the end, sent from ``REMIND_AT`` local time
  on (outbox kind ``records_due``);
- a forgotten check-out: once check-out has closed (``CHECKOUT_GRACE`` after the
  end), the station's staff get the names of those who checked in and did not check
  out (kind ``checkout_missing``, once per activity and person);
- records long overdue: an activity still not closed ``ESCALATE_AFTER`` working days
  after its due date is brought, once, to the coordinators of the nearest station
  above it that has any, else to the admins (kind ``records_overdue``).

All are periodic planners: they only queue outbox rows with deterministic keys, so a
re-run queues nothing twice; the rows are rendered when sent, and lapse if the matter
was settled in between (closing withdraws the reminders)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services import outbox, stations
from services.attendance_values import CHECKOUT_GRACE
from services.rules import RecordsRules
from services.workdays import add_working_days
from storage import queries
from storage.db import SessionMaker, write_transaction
from storage.models import Activity, RoleKind
from storage.queries import attendance as attendance_queries
from storage.types import utcnow

RECORDS_DUE = "records_due"
CHECKOUT_MISSING = "checkout_missing"
RECORDS_OVERDUE = "records_overdue"
REMIND_AT = time(9, 0)
# Working days after the due date before the coordinators above hear of it.
ESCALATE_AFTER = 5
# Forgotten check-outs are looked for in activities that ended this recently.
CHECKOUT_LOOKBACK = timedelta(days=7)


def records_due_on(activity: Activity, zone: ZoneInfo, working_days: int) -> date:
    """The day the records are due: ``working_days`` working days after the end."""
    return add_working_days(activity.ends_at.astimezone(zone).date(), working_days)


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


async def _enqueue(session: AsyncSession, messages: list[outbox.Message]) -> int:
    if not messages:
        return 0
    async with write_transaction(session):
        return await outbox.enqueue(session, messages)


async def remind_unclosed(
    *, sessionmaker: SessionMaker, settings: RecordsRules, now: datetime | None = None
) -> int:
    """Periodic: queue, once per station-local day from the day after the end, a
    reminder (kind ``records_due``) to each staff member of the station (else to the
    activity's author) for every activity that ended, is not cancelled and is not
    closed. Keys carry the local date, so running again the same day queues nothing.
    Returns how many reminders were queued."""
    now = now or utcnow()
    cache = _Cache()
    messages: list[outbox.Message] = []
    async with sessionmaker() as session:
        for activity in await attendance_queries.ended_open_activities(session, now):
            sid = activity.station_id
            zone = await _zone(session, cache, sid, settings.timezone)
            today = now.astimezone(zone).date()
            if today <= activity.ends_at.astimezone(zone).date():
                continue
            due = records_due_on(activity, zone, settings.records_due_working_days)
            send_at = max(now, datetime.combine(today, REMIND_AT, tzinfo=zone).astimezone(UTC))
            for user_id in await _staff(session, cache, activity):
                messages.append(
                    outbox.Message(
                        user_id=user_id,
                        kind=RECORDS_DUE,
                        key=f"{RECORDS_DUE}:{activity.id}:{today.isoformat()}:{user_id}",
                        payload={"activity": activity.id, "due": due.isoformat(), "zone": zone.key},
                        due_at=send_at,
                        priority=outbox.REMINDER,
                        station_id=sid,
                    )
                )
        return await _enqueue(session, messages)


async def missing_checkouts(session: AsyncSession, activity_id: int) -> list[str]:
    """Names of those checked in to the activity without a check-out that staff have
    not confirmed yet, in check-in order."""
    names = await attendance_queries.missing_checkout_names(session, activity_id)
    return [name or "—" for name in names]


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
        found = await attendance_queries.open_activities_missing_checkouts(
            session,
            ended_after=now - CHECKOUT_GRACE - CHECKOUT_LOOKBACK,
            ended_by=now - CHECKOUT_GRACE,
        )
        for activity in found:
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
        return await _enqueue(session, messages)


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
        for activity in await attendance_queries.ended_open_activities(session, now):
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
        return await _enqueue(session, messages)
