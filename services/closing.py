"""Closing an activity's records: what closing would do, and closing, which credits the
confirmed hours (``credited_at``) in one transaction. Refused while a check-in lacks
both a check-out and staff's confirmation. Closing again credits nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit, outbox, when
from services.access import Actor
from services.attendance_values import is_flagged
from services.errors import InvalidInput
from services.records_followup import RECORDS_DUE
from services.roster import managed_locked, roster
from storage.db import write_transaction
from storage.models import Activity, ActivityStatus, Attendance
from storage.queries import attendance as attendance_queries
from storage.types import utcnow


@dataclass(frozen=True)
class ClosePreview:
    activity: Activity
    unresolved: list[str]  # names: checked in, no check-out, not confirmed
    unmarked: list[str]  # names: a seat and no attendance record (get no hours)
    volunteers: int  # to be credited with more than 0 minutes
    minutes: int


@dataclass(frozen=True)
class CloseResult:
    activity: Activity
    already: bool
    volunteers: int = 0
    minutes: int = 0


def _credit_totals(rows: Sequence[Attendance]) -> tuple[int, int]:
    due = [r for r in rows if r.confirmed and r.credited_at is None and (r.minutes or 0) > 0]
    return len(due), sum(r.minutes or 0 for r in due)


async def close_preview(
    session: AsyncSession,
    *,
    actor: Actor,
    activity_id: int,
    now: datetime | None = None,
    default_timezone: str = when.DEFAULT_ZONE,
) -> ClosePreview:
    """What closing would do, or what stands in its way."""
    found = await roster(
        session,
        actor=actor,
        activity_id=activity_id,
        now=now,
        default_timezone=default_timezone,
    )
    rows = [r.attendance for r in found.rows if r.attendance is not None]
    volunteers, minutes = _credit_totals(rows)
    return ClosePreview(
        activity=found.activity,
        unresolved=[r.name or "—" for r in found.rows if r.unresolved],
        unmarked=[r.name or "—" for r in found.rows if r.attendance is None],
        volunteers=volunteers,
        minutes=minutes,
    )


async def close(
    session: AsyncSession, *, actor: Actor, activity_id: int, now: datetime | None = None
) -> CloseResult:
    """Close the records and credit the confirmed hours, in one transaction. Refused
    (``InvalidInput('checkout_missing', names=...)``) while a check-in lacks both a
    check-out and staff's confirmation. Closing again credits nothing."""
    now = now or utcnow()
    async with write_transaction(session):
        activity = await managed_locked(session, actor=actor, activity_id=activity_id)
        if activity.status is ActivityStatus.CANCELLED:
            raise InvalidInput("activity_cancelled", title=activity.title)
        if activity.closed_at is not None:
            return CloseResult(activity, already=True)
        if now < activity.starts_at:
            raise InvalidInput(
                "activity_not_started",
                title=activity.title,
                at=activity.starts_at,
                station=activity.station_id,
            )
        rows = await attendance_queries.attendances_of(session, activity_id)
        flagged = [r.volunteer_id for r in rows if is_flagged(r)]
        if flagged:
            names = await attendance_queries.volunteer_names(session, flagged)
            raise InvalidInput(
                "checkout_missing",
                names=[names.get(v) or "—" for v in flagged],
                count=len(flagged),
            )
        volunteers, minutes = _credit_totals(rows)
        for row in rows:
            if row.confirmed and row.credited_at is None:
                row.credited_at = now
                session.add(row)
        activity.closed_at = now
        activity.closed_by = actor.id
        activity.updated_at = now
        session.add(activity)
        audit.record(
            session,
            actor_id=actor.id,
            action="activity.closed",
            station_id=activity.station_id,
            subject_type="activity",
            subject_id=activity_id,
            credited_volunteers=volunteers,
            credited_minutes=minutes,
        )
        await outbox.withdraw_prefix(session, f"{RECORDS_DUE}:{activity_id}:")
    return CloseResult(activity, already=False, volunteers=volunteers, minutes=minutes)
