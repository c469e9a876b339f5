"""Staff's marks and corrections of attendance, and the beneficiaries by target group.

Marks: present (without check-in: the activity's length), late (actual time, else
typed minutes), absent (0 minutes, a no-show). Every staff change is audited with the
old and new values; a change that changes nothing records nothing, so a redelivered
update leaves no trace twice. Corrections stay possible after closing, are audited,
and count from then on."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.access import Actor
from services.attendance_values import (
    check_count,
    check_group,
    check_minutes,
    length_minutes,
    proposed_minutes,
    served_minutes,
    window,
)
from services.errors import InvalidInput, NotFound
from services.roster import managed_locked
from storage import queries
from storage.db import write_transaction
from storage.models import (
    HOLDS_SEAT,
    Activity,
    ActivityStatus,
    Attendance,
    AttendanceMark,
    Beneficiaries,
    TargetGroup,
)
from storage.queries import attendance as attendance_queries
from storage.types import utcnow


class StaffAction(enum.StrEnum):
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"
    CONFIRM = "confirm"  # a check-in without check-out: the proposed minutes
    MINUTES = "minutes"  # typed minutes


def _snapshot(row: Attendance) -> dict[str, Any]:
    return {
        "mark": row.mark.value if row.mark is not None else None,
        "minutes": row.minutes,
        "confirmed": row.confirmed,
    }


def _may_record(activity: Activity, now: datetime) -> None:
    if activity.status is ActivityStatus.CANCELLED:
        raise InvalidInput("activity_cancelled", title=activity.title)
    opens = window(activity)[0]
    if now < opens:
        raise InvalidInput(
            "activity_not_started", title=activity.title, at=opens, station=activity.station_id
        )


def _apply(
    activity: Activity, row: Attendance, action: StaffAction, minutes: int | None
) -> tuple[AttendanceMark | None, int | None] | None:
    """The mark and minutes an action gives; None when there is nothing to confirm."""
    length = length_minutes(activity)
    checked_in, checked_out = row.checked_in_at, row.checked_out_at
    mark = row.mark
    if action is StaffAction.PRESENT:
        mark = AttendanceMark.PRESENT
        if checked_in is not None and checked_out is not None:
            minutes = served_minutes(activity, checked_in, checked_out)
        elif checked_in is not None:
            minutes = served_minutes(activity, checked_in, activity.ends_at)
        else:
            minutes = length
    elif action is StaffAction.LATE:
        mark = AttendanceMark.LATE
        if minutes is None:
            if checked_in is None or checked_out is None:
                raise InvalidInput("minutes_needed", max=length)
            minutes = served_minutes(activity, checked_in, checked_out)
    elif action is StaffAction.ABSENT:
        mark, minutes = AttendanceMark.ABSENT, 0
    elif action is StaffAction.CONFIRM:
        if row.confirmed:
            return None  # nothing to confirm (already, or redelivered)
        if checked_in is None:
            raise InvalidInput("nothing_to_confirm")
        minutes = proposed_minutes(activity, row)
        mark = mark or AttendanceMark.PRESENT
    else:
        if minutes is None:
            raise InvalidInput("minutes_needed", max=length)
        if mark is None:
            absent = minutes == 0 and checked_in is None
            mark = AttendanceMark.ABSENT if absent else AttendanceMark.PRESENT
    return mark, minutes


async def correct(
    session: AsyncSession,
    *,
    actor: Actor,
    activity_id: int,
    volunteer_id: int,
    action: StaffAction | str,
    minutes: int | None = None,
    now: datetime | None = None,
) -> Attendance:
    """Staff mark someone present, late or absent, confirm a check-in without a
    check-out, or set their minutes. Raises ``InvalidInput('minutes_needed')`` for
    late without both check-in and check-out and no minutes given."""
    now = now or utcnow()
    try:
        action = StaffAction(action)
    except ValueError:
        raise InvalidInput("action_unknown") from None
    async with write_transaction(session):
        activity = await managed_locked(session, actor=actor, activity_id=activity_id)
        _may_record(activity, now)
        row = await attendance_queries.attendance_of(session, activity_id, volunteer_id)
        if row is None:
            signup = await queries.find_signup(session, activity_id, volunteer_id)
            if signup is None or signup.status not in HOLDS_SEAT:
                raise NotFound("not_on_roster")
            row = Attendance(activity_id=activity_id, volunteer_id=volunteer_id, created_at=now)
        before = _snapshot(row)
        applied = _apply(activity, row, action, minutes)
        if applied is None:
            return row
        mark, minutes = applied
        assert minutes is not None
        row.minutes = check_minutes(minutes, maximum=length_minutes(activity))
        row.mark = mark
        row.confirmed = True
        after = _snapshot(row)
        if after == before:
            return row
        row.updated_by = actor.id
        row.updated_at = now
        if activity.closed_at is not None and row.credited_at is None:
            row.credited_at = now  # confirmed after closing: it counts from now
        session.add(row)
        await session.flush()
        audit.record(
            session,
            actor_id=actor.id,
            action="attendance.corrected",
            station_id=activity.station_id,
            subject_type="attendance",
            subject_id=row.id,
            activity_id=activity_id,
            volunteer_id=volunteer_id,
            change=action.value,
            old=before,
            new=after,
        )
    return row


async def set_beneficiaries(
    session: AsyncSession,
    *,
    actor: Actor,
    activity_id: int,
    group: TargetGroup | str,
    count: int,
    now: datetime | None = None,
) -> Beneficiaries:
    """Set (not add to) the people served of one target group: a redelivered update
    cannot double it."""
    now = now or utcnow()
    target = check_group(group)
    count = check_count(count)
    async with write_transaction(session):
        activity = await managed_locked(session, actor=actor, activity_id=activity_id)
        _may_record(activity, now)
        row = await attendance_queries.beneficiaries_row(session, activity_id, target)
        old = row.count if row is not None else None
        if row is not None and row.count == count:
            return row
        if row is None:
            row = Beneficiaries(activity_id=activity_id, target_group=target)
        row.count = count
        row.recorded_by = actor.id
        row.updated_at = now
        session.add(row)
        await session.flush()
        audit.record(
            session,
            actor_id=actor.id,
            action="beneficiaries.recorded",
            station_id=activity.station_id,
            subject_type="activity",
            subject_id=activity_id,
            target_group=target.value,
            old=old,
            new=count,
        )
    return row
