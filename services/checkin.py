"""Volunteers check in and out of an activity.

- Any registered, active volunteer with the code may check in, also without a seat
  (a walk-in): the attendance is recorded, capacity is not touched.
- A check-out gives the minutes of service (``attendance_values.served_minutes``)
  unless staff have set them already.
- Wrong codes are counted per person (``WrongCodeLimiter``).

Every write locks the activity row first (PostgreSQL: FOR UPDATE; SQLite: BEGIN
IMMEDIATE serialises writers), so concurrent check-ins of one activity queue, and
the one row per volunteer and activity is never made twice."""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from services.attendance_codes import EXPIRED_KNOWN_FOR, clean_code, find_by_code
from services.attendance_values import served_minutes, window
from services.errors import InvalidInput, NotAllowed, NotFound
from services.roster import locked
from storage import queries
from storage.db import write_transaction
from storage.models import (
    HOLDS_SEAT,
    Activity,
    ActivityStatus,
    Attendance,
    AttendanceMark,
    Volunteer,
    VolunteerStatus,
)
from storage.queries import attendance as attendance_queries
from storage.types import utcnow

# Wrong codes a person may type (settings.checkin_attempts) within this window.
ATTEMPT_WINDOW = timedelta(minutes=10)


class WrongCodeLimiter(Protocol):
    """Counts wrong check-in codes per person: after ``limit`` wrong codes within
    ``ATTEMPT_WINDOW`` every code is refused until the oldest of them ages out."""

    async def blocked_for(self, user_id: int, now: datetime, *, limit: int) -> timedelta | None:
        """How long the person must wait before trying again, or None."""
        ...

    async def fail(self, user_id: int, now: datetime, *, limit: int) -> int:
        """Count a wrong code; returns how many tries are left."""
        ...


class AttemptLimiter:
    """Wrong check-in codes per person, in memory (a ``WrongCodeLimiter``). One per
    dispatcher when no Redis is shared (bot.app); a restart forgets, which is
    harmless: a code is valid for a few hours only and guessing one takes ~10^5
    tries. Several workers share one in Redis instead (bot.redis_shared)."""

    def __init__(self, window: timedelta = ATTEMPT_WINDOW) -> None:
        self.window = window
        self._failures: dict[int, deque[datetime]] = {}

    def _recent(self, user_id: int, now: datetime) -> deque[datetime]:
        failures = self._failures.get(user_id)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[user_id]
        return failures

    async def blocked_for(self, user_id: int, now: datetime, *, limit: int) -> timedelta | None:
        """How long the person must wait before trying again, or None."""
        failures = self._recent(user_id, now)
        if len(failures) < limit:
            return None
        return failures[len(failures) - limit] + self.window - now

    async def fail(self, user_id: int, now: datetime, *, limit: int) -> int:
        """Count a wrong code; returns how many tries are left."""
        failures = self._recent(user_id, now)
        failures.append(now)
        self._failures[user_id] = failures
        return max(0, limit - len(failures))


async def _active_volunteer(session: AsyncSession, user_id: int) -> Volunteer:
    volunteer = await queries.get_volunteer_by_user(session, user_id)
    if volunteer is None or volunteer.id is None or volunteer.erased_at is not None:
        raise NotAllowed("not_registered")
    if volunteer.status is VolunteerStatus.PENDING:
        raise NotAllowed("volunteer_pending")
    if volunteer.status is not VolunteerStatus.ACTIVE:
        raise NotAllowed("volunteer_not_active")
    return volunteer


class CheckOutcome(enum.StrEnum):
    CHECKED_IN = "checked_in"
    ALREADY_IN = "already_in"
    CHECKED_OUT = "checked_out"
    ALREADY_OUT = "already_out"


@dataclass(frozen=True)
class CheckResult:
    outcome: CheckOutcome
    activity: Activity
    attendance: Attendance
    walk_in: bool = False  # checked in without a seat


def _may_attend(activity: Activity) -> None:
    if activity.status is ActivityStatus.CANCELLED:
        raise InvalidInput("activity_cancelled", title=activity.title)
    if activity.closed_at is not None:
        raise InvalidInput("records_closed", title=activity.title)


async def check_in(
    session: AsyncSession, *, user_id: int, code: str, now: datetime | None = None
) -> CheckResult:
    """Check in with a code. Checking in again changes nothing (ALREADY_IN)."""
    now = now or utcnow()
    volunteer = await _active_volunteer(session, user_id)
    assert volunteer.id is not None
    activity = await find_by_code(session, clean_code(code), now)
    assert activity.id is not None
    return await _check_in(session, activity.id, volunteer.id, now)


async def _check_in(
    session: AsyncSession, activity_id: int, volunteer_id: int, now: datetime
) -> CheckResult:
    async with write_transaction(session):
        activity = await locked(session, activity_id)
        if activity.status is ActivityStatus.CANCELLED:
            raise InvalidInput("activity_cancelled", title=activity.title)
        row = await attendance_queries.attendance_of(session, activity_id, volunteer_id)
        signup = await queries.find_signup(session, activity_id, volunteer_id)
        walk_in = signup is None or signup.status not in HOLDS_SEAT
        if row is not None and row.checked_in_at is not None:
            return CheckResult(CheckOutcome.ALREADY_IN, activity, row, walk_in)
        _may_attend(activity)
        opens, closes, _ = window(activity)
        if now < opens:
            raise InvalidInput(
                "checkin_not_open", title=activity.title, at=opens, station=activity.station_id
            )
        if now > closes:
            raise InvalidInput(
                "checkin_closed", title=activity.title, at=closes, station=activity.station_id
            )
        if row is None:
            row = Attendance(activity_id=activity_id, volunteer_id=volunteer_id, created_at=now)
        row.checked_in_at = now
        if row.updated_by is None:  # staff's own mark stands
            row.mark = AttendanceMark.PRESENT
        row.updated_at = now
        session.add(row)
        await session.flush()
    return CheckResult(CheckOutcome.CHECKED_IN, activity, row, walk_in)


async def _current(session: AsyncSession, volunteer_id: int, now: datetime) -> Activity | None:
    """The activity /checkout alone means: one still open for check-out that the
    volunteer is checked in to; else the one they checked out of last (so /checkout
    sent twice says "already"); else a check-in whose check-out time has passed (to
    say so)."""
    found = await attendance_queries.checked_in_activities(
        session, volunteer_id, now - EXPIRED_KNOWN_FOR
    )

    def rank(pair: tuple[Activity, Attendance]) -> tuple[bool, bool, float]:
        activity, row = pair
        checked_in = row.checked_in_at or now
        return (now > window(activity)[2], row.checked_out_at is not None, -checked_in.timestamp())

    return min(found, key=rank)[0] if found else None


async def check_out(
    session: AsyncSession,
    *,
    user_id: int,
    code: str | None = None,
    activity_id: int | None = None,
    now: datetime | None = None,
) -> CheckResult:
    """Check out with the code, from a button (``activity_id``), or, with neither, of
    the activity one is checked in to. Checking out again changes nothing."""
    now = now or utcnow()
    volunteer = await _active_volunteer(session, user_id)
    assert volunteer.id is not None
    if code is not None:
        found = await find_by_code(session, clean_code(code), now)
        activity_id = found.id
    elif activity_id is None:
        current = await _current(session, volunteer.id, now)
        if current is None:
            raise NotFound("not_checked_in")
        activity_id = current.id
    assert activity_id is not None
    async with write_transaction(session):
        activity = await queries.lock_activity(session, activity_id)
        row = (
            await attendance_queries.attendance_of(session, activity_id, volunteer.id)
            if activity
            else None
        )
        if activity is None or row is None or row.checked_in_at is None:
            raise NotFound("not_checked_in")  # the same whether the activity exists
        signup = await queries.find_signup(session, activity_id, volunteer.id)
        walk_in = signup is None or signup.status not in HOLDS_SEAT
        if row.checked_out_at is not None:
            return CheckResult(CheckOutcome.ALREADY_OUT, activity, row, walk_in)
        _may_attend(activity)
        last = window(activity)[2]
        if now > last:
            raise InvalidInput(
                "checkout_closed", title=activity.title, at=last, station=activity.station_id
            )
        row.checked_out_at = max(now, row.checked_in_at)
        if row.updated_by is None:  # staff's own minutes stand
            row.minutes = served_minutes(activity, row.checked_in_at, row.checked_out_at)
            row.confirmed = True
        row.updated_at = now
        session.add(row)
    return CheckResult(CheckOutcome.CHECKED_OUT, activity, row, walk_in)


@dataclass(frozen=True)
class CardState:
    """What the volunteer's activity card offers: check in (with the code) or out."""

    can_check_in: bool = False
    can_check_out: bool = False
    checked_in_at: datetime | None = None
    checked_out_at: datetime | None = None
    station_id: int | None = None


async def card_state(
    session: AsyncSession, *, user_id: int, activity_id: int, now: datetime | None = None
) -> CardState:
    now = now or utcnow()
    activity = await queries.get_activity(session, activity_id)
    volunteer = await queries.get_volunteer_by_user(session, user_id)
    if activity is None or volunteer is None or volunteer.id is None:
        return CardState()
    row = await attendance_queries.attendance_of(session, activity_id, volunteer.id)
    usable = activity.status is ActivityStatus.PUBLISHED and activity.closed_at is None
    opens, closes, last = window(activity)
    checked_in = row is not None and row.checked_in_at is not None
    return CardState(
        can_check_in=usable
        and not checked_in
        and activity.checkin_code is not None
        and opens <= now <= closes,
        can_check_out=usable
        and checked_in
        and row is not None
        and row.checked_out_at is None
        and now <= last,
        checked_in_at=row.checked_in_at if row else None,
        checked_out_at=row.checked_out_at if row else None,
        station_id=activity.station_id,
    )
