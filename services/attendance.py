"""Attendance: check-in codes, check-in and check-out, staff's marks and hours
corrections, beneficiaries, and closing an activity's records, which credits the
confirmed hours; and the daily reminder of records still open.

Rules (see docs/PRODUCT.md):

- Staff open check-in and get a 6-digit code, unique among the activities whose code
  is still live. Check-in with it is accepted from ``OPENS_BEFORE`` before the start
  to the end; check-out until ``CHECKOUT_GRACE`` after the end.
- Minutes of service are the actual time between check-in and check-out, capped at
  the activity's length, never negative. A check-in with a check-out is confirmed on
  its own; one without a check-out is flagged and never credited until staff confirm
  (proposed: from the check-in to the end, capped) or correct it.
- Any registered, active volunteer with the code may check in, also without a seat
  (a walk-in): the attendance is recorded, capacity is not touched.
- Staff marks: present (without check-in: the activity's length), late (actual time,
  else typed minutes), absent (0 minutes, a no-show). Every staff change is audited
  with the old and new values; a change that changes nothing records nothing, so a
  redelivered update leaves no trace twice.
- Closing credits the confirmed rows (``credited_at``) in one transaction, and is
  refused while a check-in lacks both a check-out and staff's confirmation. Closing
  again credits nothing. Corrections stay possible afterwards and are audited.

Every write locks the activity row first (PostgreSQL: FOR UPDATE; SQLite: BEGIN
IMMEDIATE serialises writers), so concurrent check-ins and corrections of one
activity queue, and the one row per volunteer and activity is never made twice."""

from __future__ import annotations

import enum
import re
import secrets
import unicodedata
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, audit, outbox, when, workdays
from services.access import Permission
from services.activity_admin import station_zone
from services.errors import InvalidInput, NotAllowed, NotFound
from services.rules import RecordsRules
from storage import queries
from storage.db import SessionMaker, write_transaction
from storage.models import (
    HOLDS_SEAT,
    Activity,
    ActivityStatus,
    Attendance,
    AttendanceMark,
    Beneficiaries,
    Signup,
    SignupStatus,
    Station,
    TargetGroup,
    Volunteer,
    VolunteerStatus,
)
from storage.types import utcnow

# Check-in opens this long before the start and closes at the end.
OPENS_BEFORE = timedelta(minutes=30)
# Check-out (with the code, the button or /checkout) is accepted until this long after
# the end: people tidy up, and forget. Later, staff confirm or correct the hours.
CHECKOUT_GRACE = timedelta(hours=2)
CODE_DIGITS = 6
CODE_TRIES = 50
# The /start parameter of the check-in QR code: ci_<code>.
DEEP_LINK_PREFIX = "ci_"
# Wrong codes a person may type (settings.checkin_attempts) within this window.
ATTEMPT_WINDOW = timedelta(minutes=10)
# A code that has expired is recognised as such (not as a wrong code) for this long.
EXPIRED_KNOWN_FOR = timedelta(days=30)
BENEFICIARIES_MAX = 100_000
# /roster lists activities starting up to a day ahead, and those that ended in the
# last week or are still open (not closed), however old.
LIST_AHEAD = timedelta(days=1)
LIST_BACK = timedelta(days=7)
# Records-due reminders: one per staff member, activity and station-local day, from
# the day after the end, sent from this local time on.
RECORDS_DUE = "records_due"
REMIND_AT = time(9, 0)
NAMES_SHOWN = 30

_CODE_RE = re.compile(rf"[0-9]{{{CODE_DIGITS}}}")
_COUNT_RE = re.compile(r"^(\d+)(?:人次|人|名|位|个|people|persons?)?$")
_HOURS = r"(?:h|hr|hrs|hours?|小时|钟头|時)"
_MINUTES = r"(?:m|min|mins|minutes?|分钟|分鐘|分)"
_HOURS_RE = re.compile(r"^(\d+(?:\.\d+)?)" + _HOURS + "?$")
_MINUTES_RE = re.compile(r"^(\d+)" + _MINUTES + "$")
_BOTH_RE = re.compile(r"^(\d+)" + _HOURS + r"(\d+)" + _MINUTES + "?$")
_CLOCK_RE = re.compile(r"^(\d+):(\d{2})$")


# --- values -------------------------------------------------------------------------


def length_minutes(activity: Activity) -> int:
    """The activity's length in whole minutes: the most anyone is credited."""
    return max(0, int((activity.ends_at - activity.starts_at).total_seconds() // 60))


def served_minutes(activity: Activity, start: datetime, end: datetime) -> int:
    """Actual time from ``start`` to ``end``, capped at the activity's length, never
    negative."""
    actual = int((end - start).total_seconds() // 60)
    return max(0, min(actual, length_minutes(activity)))


def is_flagged(row: Attendance) -> bool:
    """Checked in, not checked out, not confirmed by staff: never credited as it is."""
    return row.checked_in_at is not None and row.checked_out_at is None and not row.confirmed


def proposed_minutes(activity: Activity, row: Attendance) -> int | None:
    """For a check-in without a check-out: from the check-in to the end, capped."""
    if row.checked_in_at is None:
        return None
    return served_minutes(activity, row.checked_in_at, activity.ends_at)


def window(activity: Activity) -> tuple[datetime, datetime, datetime]:
    """When check-in opens, when it closes, and when check-out closes."""
    return activity.starts_at - OPENS_BEFORE, activity.ends_at, activity.ends_at + CHECKOUT_GRACE


def clean_code(text: str) -> str:
    """``123456``, ``１２３ ４５６``, ``123-456`` or ``ci_123456`` -> ``123456``."""
    code = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text or ""))
    if code.lower().startswith(DEEP_LINK_PREFIX):
        code = code[len(DEEP_LINK_PREFIX) :]
    if not _CODE_RE.fullmatch(code):
        raise InvalidInput("code_malformed")
    return code


def parse_minutes(text: str, *, maximum: int) -> int:
    """Minutes of service as staff type them: ``2.5`` or ``2.5小时`` (hours), ``150分钟``,
    ``90 min``, ``1小时30分``, ``1h30m``, ``1:30``, ``两个半小时``, ``半小时``. From 0 to
    ``maximum`` (the activity's length)."""
    cleaned = when.plain_digits(text).replace(" ", "").replace(",", ".").replace("个", "")
    cleaned = cleaned.replace("。", ".")
    if cleaned.startswith("半"):
        cleaned = "0.5" + cleaned[1:]
    cleaned = re.sub(r"^(\d+)半(小时|钟头)$", r"\1.5\2", cleaned)
    cleaned = re.sub(r"^(\d+)(小时|钟头)半$", r"\1.5\2", cleaned)
    minutes: float
    if match := _HOURS_RE.match(cleaned):
        minutes = float(match.group(1)) * 60
    elif match := _MINUTES_RE.match(cleaned):
        minutes = int(match.group(1))
    elif (match := _BOTH_RE.match(cleaned)) or (match := _CLOCK_RE.match(cleaned)):
        minutes = int(match.group(1)) * 60 + int(match.group(2))
    else:
        raise InvalidInput("minutes_unreadable", max=maximum)
    result = round(minutes)
    if not 0 <= result <= maximum:
        raise InvalidInput("minutes_out_of_range", max=maximum)
    return result


def check_minutes(value: int, *, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise InvalidInput("minutes_out_of_range", max=maximum)
    return value


def parse_count(text: str) -> int:
    """People served as typed: ``35``, ``３５人``, ``三十五人次``; 0 to 100000."""
    match = _COUNT_RE.match(when.plain_digits(text).replace(" ", "").replace(",", ""))
    if match is None:
        raise InvalidInput("count_unreadable", max=BENEFICIARIES_MAX)
    return check_count(int(match.group(1)))


def check_count(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("count_unreadable", max=BENEFICIARIES_MAX)
    if not 0 <= value <= BENEFICIARIES_MAX:
        raise InvalidInput("count_out_of_range", max=BENEFICIARIES_MAX)
    return value


def check_group(value: str) -> TargetGroup:
    try:
        return TargetGroup(value)
    except ValueError:
        raise InvalidInput("target_unknown") from None


# ``days`` working days after a day, on China's official calendar (services.workdays).
add_working_days = workdays.add_working_days


# --- wrong codes --------------------------------------------------------------------


class AttemptLimiter:
    """Wrong check-in codes per person, in memory: after ``limit`` wrong codes within
    ``ATTEMPT_WINDOW`` every code is refused until the oldest of them ages out. One
    per process (made in the router factory); a restart forgets, which is harmless:
    a code is valid for a few hours only and guessing one takes ~10^5 tries."""

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

    def blocked_for(self, user_id: int, now: datetime, *, limit: int) -> timedelta | None:
        """How long the person must wait before trying again, or None."""
        failures = self._recent(user_id, now)
        if len(failures) < limit:
            return None
        return failures[len(failures) - limit] + self.window - now

    def fail(self, user_id: int, now: datetime, *, limit: int) -> int:
        """Count a wrong code; returns how many tries are left."""
        failures = self._recent(user_id, now)
        failures.append(now)
        self._failures[user_id] = failures
        return max(0, limit - len(failures))


# --- reading rows -------------------------------------------------------------------


async def _attendance(
    session: AsyncSession, activity_id: int, volunteer_id: int
) -> Attendance | None:
    query = select(Attendance).where(
        Attendance.activity_id == activity_id, Attendance.volunteer_id == volunteer_id
    )
    return (await session.exec(query.execution_options(populate_existing=True))).first()


async def _attendances(session: AsyncSession, activity_id: int) -> Sequence[Attendance]:
    query = (
        select(Attendance).where(Attendance.activity_id == activity_id).order_by(col(Attendance.id))
    )
    return (await session.exec(query.execution_options(populate_existing=True))).all()


async def _locked(session: AsyncSession, activity_id: int) -> Activity:
    activity = await queries.lock_activity(session, activity_id)
    if activity is None:
        raise NotFound("activity_not_found")
    return activity


async def _active_volunteer(session: AsyncSession, user_id: int) -> Volunteer:
    volunteer = await queries.get_volunteer_by_user(session, user_id)
    if volunteer is None or volunteer.id is None or volunteer.erased_at is not None:
        raise NotAllowed("not_registered")
    if volunteer.status is VolunteerStatus.PENDING:
        raise NotAllowed("volunteer_pending")
    if volunteer.status is not VolunteerStatus.ACTIVE:
        raise NotAllowed("volunteer_not_active")
    return volunteer


async def _names(session: AsyncSession, volunteer_ids: Collection[int]) -> dict[int, str]:
    if not volunteer_ids:
        return {}
    query = select(Volunteer.id, Volunteer.real_name).where(col(Volunteer.id).in_(volunteer_ids))
    return {vid: name or "—" for vid, name in (await session.exec(query)).all() if vid}


async def _with_code(session: AsyncSession, code: str, since: datetime) -> Sequence[Activity]:
    query = (
        select(Activity)
        .where(Activity.checkin_code == code, col(Activity.ends_at) > since)
        .order_by(col(Activity.starts_at), col(Activity.id))
    )
    return (await session.exec(query)).all()


async def find_by_code(session: AsyncSession, code: str, now: datetime) -> Activity:
    """The activity whose live check-in code this is. Raises ``NotFound('code_unknown')``
    for a code that never was, ``InvalidInput('code_expired')`` for one that was."""
    live = await _with_code(session, code, now - CHECKOUT_GRACE)
    if live:
        # Codes are unique among live ones; should two ever collide, the one whose
        # window holds now wins.
        open_now = [a for a in live if window(a)[0] <= now <= window(a)[2]]
        return (open_now or list(live))[0]
    if await _with_code(session, code, now - EXPIRED_KNOWN_FOR):
        raise InvalidInput("code_expired")
    raise NotFound("code_unknown")


# --- volunteers: check-in and check-out ---------------------------------------------


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
        activity = await _locked(session, activity_id)
        if activity.status is ActivityStatus.CANCELLED:
            raise InvalidInput("activity_cancelled", title=activity.title)
        row = await _attendance(session, activity_id, volunteer_id)
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
    query = (
        select(Activity, Attendance)
        .join(Attendance, col(Attendance.activity_id) == col(Activity.id))
        .where(
            Attendance.volunteer_id == volunteer_id,
            col(Attendance.checked_in_at).is_not(None),
            col(Activity.ends_at) > now - EXPIRED_KNOWN_FOR,
        )
    )
    found = (await session.exec(query)).all()

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
        row = await _attendance(session, activity_id, volunteer.id) if activity else None
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
    row = await _attendance(session, activity_id, volunteer.id)
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


# --- staff: the check-in code -------------------------------------------------------


async def _require(
    session: AsyncSession, *, actor_id: int, admin_ids: Collection[int], station_id: int
) -> None:
    await access.require(
        session,
        user_id=actor_id,
        admin_ids=admin_ids,
        permission=Permission.MANAGE_ACTIVITIES,
        station_id=station_id,
    )


async def _require_somewhere(
    session: AsyncSession, *, actor_id: int, admin_ids: Collection[int]
) -> None:
    await access.require_somewhere(
        session, user_id=actor_id, admin_ids=admin_ids, permission=Permission.MANAGE_ACTIVITIES
    )


async def _managed_locked(
    session: AsyncSession, *, actor_id: int, admin_ids: Collection[int], activity_id: int
) -> Activity:
    await _require_somewhere(session, actor_id=actor_id, admin_ids=admin_ids)
    activity = await _locked(session, activity_id)
    await _require(session, actor_id=actor_id, admin_ids=admin_ids, station_id=activity.station_id)
    return activity


def _random_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


async def open_checkin(
    session: AsyncSession,
    *,
    actor_id: int,
    admin_ids: Collection[int],
    activity_id: int,
    now: datetime | None = None,
) -> Activity:
    """Give the activity a check-in code (once; opening again shows the same code)."""
    now = now or utcnow()
    async with write_transaction(session):
        activity = await _managed_locked(
            session, actor_id=actor_id, admin_ids=admin_ids, activity_id=activity_id
        )
        if activity.status is ActivityStatus.CANCELLED:
            raise InvalidInput("activity_cancelled", title=activity.title)
        if activity.closed_at is not None:
            raise InvalidInput("records_closed", title=activity.title)
        if activity.checkin_code is not None:
            return activity
        if now > activity.ends_at:
            raise InvalidInput("activity_over", title=activity.title)
        for _ in range(CODE_TRIES):
            code = _random_code()
            if not await _with_code(session, code, now - CHECKOUT_GRACE):
                break
        else:  # a million codes and only a few hundred live: not in this universe
            raise InvalidInput("no_code_free")
        activity.checkin_code = code
        activity.checkin_opened_at = now
        activity.checkin_opened_by = actor_id
        activity.updated_at = now
        session.add(activity)
        audit.record(
            session,
            actor_id=actor_id,
            action="attendance.checkin_opened",
            station_id=activity.station_id,
            subject_type="activity",
            subject_id=activity.id,
        )
    return activity


# --- staff: the roster --------------------------------------------------------------


@dataclass(frozen=True)
class RosterRow:
    volunteer_id: int
    user_id: int | None
    name: str | None
    seat: SignupStatus | None  # the sign-up's status; None: no sign-up at all
    attendance: Attendance | None
    no_shows: int  # marked absent this calendar year (station time), anywhere
    activity_over: bool  # the activity has ended

    @property
    def walk_in(self) -> bool:
        return self.seat not in HOLDS_SEAT

    @property
    def unresolved(self) -> bool:
        """Checked in, neither checked out nor confirmed by staff: not credited as it is
        (closing waits for it)."""
        return self.attendance is not None and is_flagged(self.attendance)

    @property
    def flagged(self) -> bool:
        """A missing check-out to show staff: unresolved once the activity has ended.
        While it runs, someone checked in is simply there and may still check out."""
        return self.activity_over and self.unresolved


@dataclass(frozen=True)
class Roster:
    activity: Activity
    station: Station
    zone: ZoneInfo
    rows: list[RosterRow]
    beneficiaries: dict[TargetGroup, int]
    now: datetime

    @property
    def closed(self) -> bool:
        return self.activity.closed_at is not None

    def row(self, volunteer_id: int) -> RosterRow | None:
        return next((r for r in self.rows if r.volunteer_id == volunteer_id), None)


async def _no_shows(
    session: AsyncSession, volunteer_ids: Sequence[int], zone: ZoneInfo, now: datetime
) -> dict[int, int]:
    year = now.astimezone(zone).year
    start = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC)
    found: dict[int, int] = {}
    ids = list(volunteer_ids)
    for first in range(0, len(ids), 1000):
        query = (
            select(Attendance.volunteer_id, func.count())
            .join(Activity, col(Activity.id) == col(Attendance.activity_id))
            .where(
                col(Attendance.volunteer_id).in_(ids[first : first + 1000]),
                Attendance.mark == AttendanceMark.ABSENT,
                col(Activity.starts_at) >= start,
                col(Activity.starts_at) < end,
            )
            .group_by(col(Attendance.volunteer_id))
        )
        found.update({vid: int(n) for vid, n in (await session.exec(query)).all()})
    return found


async def beneficiaries_of(session: AsyncSession, activity_id: int) -> dict[TargetGroup, int]:
    query = select(Beneficiaries).where(Beneficiaries.activity_id == activity_id)
    rows = (await session.exec(query.execution_options(populate_existing=True))).all()
    return {row.target_group: row.count for row in rows}


async def roster(
    session: AsyncSession,
    *,
    actor_id: int,
    admin_ids: Collection[int],
    activity_id: int,
    now: datetime | None = None,
    default_timezone: str = when.DEFAULT_ZONE,
) -> Roster:
    """Everyone holding a seat, and everyone with an attendance record (walk-ins), with
    their attendance and this year's no-shows: seat holders in sign-up order first."""
    now = now or utcnow()
    await _require_somewhere(session, actor_id=actor_id, admin_ids=admin_ids)
    activity = await queries.get_activity(session, activity_id)
    if activity is None:
        raise NotFound("activity_not_found")
    await _require(session, actor_id=actor_id, admin_ids=admin_ids, station_id=activity.station_id)
    station = await queries.get_station(session, activity.station_id)
    assert station is not None  # a foreign key
    zone = await station_zone(session, activity.station_id, default_timezone)
    seated = (
        await session.exec(
            select(Signup, Volunteer)
            .join(Volunteer, col(Volunteer.id) == col(Signup.volunteer_id))
            .where(Signup.activity_id == activity_id, col(Signup.status).in_(HOLDS_SEAT))
            .order_by(col(Signup.queued_at), col(Signup.id))
        )
    ).all()
    present = {row.volunteer_id: row for row in await _attendances(session, activity_id)}
    others = [vid for vid in present if vid not in {v.id for _, v in seated}]
    extra: list[tuple[Signup | None, Volunteer]] = []
    if others:
        volunteers = (
            await session.exec(select(Volunteer).where(col(Volunteer.id).in_(others)))
        ).all()
        signups = (
            await session.exec(
                select(Signup).where(
                    Signup.activity_id == activity_id, col(Signup.volunteer_id).in_(others)
                )
            )
        ).all()
        by_volunteer = {s.volunteer_id: s for s in signups}
        extra = [(by_volunteer.get(v.id or 0), v) for v in volunteers]
        far = datetime.max.replace(tzinfo=UTC)
        extra.sort(key=lambda p: (present[p[1].id or 0].checked_in_at or far, p[1].id or 0))
    everyone: list[tuple[Signup | None, Volunteer]] = [*seated, *extra]
    ids = [v.id for _, v in everyone if v.id is not None]
    no_shows = await _no_shows(session, ids, zone, now)
    rows = [
        RosterRow(
            volunteer_id=v.id,
            user_id=v.user_id,
            name=v.real_name,
            seat=s.status if s is not None else None,
            attendance=present.get(v.id),
            no_shows=no_shows.get(v.id, 0),
            activity_over=now > activity.ends_at,
        )
        for s, v in everyone
        if v.id is not None
    ]
    return Roster(
        activity=activity,
        station=station,
        zone=zone,
        rows=rows,
        beneficiaries=await beneficiaries_of(session, activity_id),
        now=now,
    )


@dataclass(frozen=True)
class RosterItem:
    activity: Activity
    station: Station
    zone: ZoneInfo
    seats: int


@dataclass(frozen=True)
class RosterList:
    items: list[RosterItem]
    page: int
    pages: int
    total: int


async def roster_activities(
    session: AsyncSession,
    *,
    actor_id: int,
    admin_ids: Collection[int],
    now: datetime | None = None,
    page: int = 0,
    per_page: int = 8,
    default_timezone: str = when.DEFAULT_ZONE,
) -> RosterList:
    """Activities whose roster the user may run: on stations where they may manage
    activities, starting within a day, and either ended within the last week or not
    closed yet. Those not over come first, soonest first (one under way, then the
    next); then those over, the latest first. Raises NotAllowed for someone who
    manages none."""
    now = now or utcnow()
    where: list[Any] = [
        Activity.status == ActivityStatus.PUBLISHED,
        col(Activity.starts_at) <= now + LIST_AHEAD,
        or_(col(Activity.closed_at).is_(None), col(Activity.ends_at) >= now - LIST_BACK),
    ]
    if actor_id not in admin_ids:
        managed = await access.stations_where(
            session,
            user_id=actor_id,
            admin_ids=admin_ids,
            permission=Permission.MANAGE_ACTIVITIES,
        )
        station_ids = [s.id for s in managed if s.id is not None]
        if not station_ids:
            raise NotAllowed("not_allowed")
        where.append(col(Activity.station_id).in_(station_ids))
    total = int((await session.exec(select(func.count()).where(*where))).one())
    pages = max(1, -(-total // per_page))
    page = min(max(page, 0), pages - 1)
    query = (
        select(Activity)
        .where(*where)
        .order_by(
            case((col(Activity.ends_at) > now, 0), else_=1),
            case((col(Activity.ends_at) > now, col(Activity.starts_at))),
            col(Activity.starts_at).desc(),
            col(Activity.id),
        )
        .offset(page * per_page)
        .limit(per_page)
    )
    rows = (await session.exec(query)).all()
    seats = await queries.seat_counts_of(
        session, [a.id for a in rows if a.id is not None], HOLDS_SEAT
    )
    items = []
    for activity in rows:
        station = await queries.get_station(session, activity.station_id)
        assert station is not None
        zone = await station_zone(session, activity.station_id, default_timezone)
        items.append(RosterItem(activity, station, zone, seats.get(activity.id or 0, 0)))
    return RosterList(items, page, pages, total)


# --- staff: marks and corrections ---------------------------------------------------


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


async def correct(
    session: AsyncSession,
    *,
    actor_id: int,
    admin_ids: Collection[int],
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
        activity = await _managed_locked(
            session, actor_id=actor_id, admin_ids=admin_ids, activity_id=activity_id
        )
        _may_record(activity, now)
        length = length_minutes(activity)
        row = await _attendance(session, activity_id, volunteer_id)
        if row is None:
            signup = await queries.find_signup(session, activity_id, volunteer_id)
            if signup is None or signup.status not in HOLDS_SEAT:
                raise NotFound("not_on_roster")
            row = Attendance(activity_id=activity_id, volunteer_id=volunteer_id, created_at=now)
        before = _snapshot(row)
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
                return row  # nothing to confirm (already, or redelivered)
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
        assert minutes is not None
        row.minutes = check_minutes(minutes, maximum=length)
        row.mark = mark
        row.confirmed = True
        after = _snapshot(row)
        if after == before:
            return row
        row.updated_by = actor_id
        row.updated_at = now
        if activity.closed_at is not None and row.credited_at is None:
            row.credited_at = now  # confirmed after closing: it counts from now
        session.add(row)
        await session.flush()
        audit.record(
            session,
            actor_id=actor_id,
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


# --- staff: beneficiaries -----------------------------------------------------------


async def set_beneficiaries(
    session: AsyncSession,
    *,
    actor_id: int,
    admin_ids: Collection[int],
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
        activity = await _managed_locked(
            session, actor_id=actor_id, admin_ids=admin_ids, activity_id=activity_id
        )
        _may_record(activity, now)
        query = select(Beneficiaries).where(
            Beneficiaries.activity_id == activity_id, Beneficiaries.target_group == target
        )
        row = (await session.exec(query.execution_options(populate_existing=True))).first()
        old = row.count if row is not None else None
        if row is not None and row.count == count:
            return row
        if row is None:
            row = Beneficiaries(activity_id=activity_id, target_group=target)
        row.count = count
        row.recorded_by = actor_id
        row.updated_at = now
        session.add(row)
        await session.flush()
        audit.record(
            session,
            actor_id=actor_id,
            action="beneficiaries.recorded",
            station_id=activity.station_id,
            subject_type="activity",
            subject_id=activity_id,
            target_group=target.value,
            old=old,
            new=count,
        )
    return row


# --- staff: closing -----------------------------------------------------------------


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
    actor_id: int,
    admin_ids: Collection[int],
    activity_id: int,
    now: datetime | None = None,
    default_timezone: str = when.DEFAULT_ZONE,
) -> ClosePreview:
    """What closing would do, or what stands in its way."""
    found = await roster(
        session,
        actor_id=actor_id,
        admin_ids=admin_ids,
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
    session: AsyncSession,
    *,
    actor_id: int,
    admin_ids: Collection[int],
    activity_id: int,
    now: datetime | None = None,
) -> CloseResult:
    """Close the records and credit the confirmed hours, in one transaction. Refused
    (``InvalidInput('checkout_missing', names=...)``) while a check-in lacks both a
    check-out and staff's confirmation. Closing again credits nothing."""
    now = now or utcnow()
    async with write_transaction(session):
        activity = await _managed_locked(
            session, actor_id=actor_id, admin_ids=admin_ids, activity_id=activity_id
        )
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
        rows = await _attendances(session, activity_id)
        flagged = [r.volunteer_id for r in rows if is_flagged(r)]
        if flagged:
            names = await _names(session, flagged)
            raise InvalidInput(
                "checkout_missing", names=[names.get(v, "—") for v in flagged], count=len(flagged)
            )
        volunteers, minutes = _credit_totals(rows)
        for row in rows:
            if row.confirmed and row.credited_at is None:
                row.credited_at = now
                session.add(row)
        activity.closed_at = now
        activity.closed_by = actor_id
        activity.updated_at = now
        session.add(activity)
        audit.record(
            session,
            actor_id=actor_id,
            action="activity.closed",
            station_id=activity.station_id,
            subject_type="activity",
            subject_id=activity_id,
            credited_volunteers=volunteers,
            credited_minutes=minutes,
        )
        await outbox.withdraw_prefix(session, f"{RECORDS_DUE}:{activity_id}:")
    return CloseResult(activity, already=False, volunteers=volunteers, minutes=minutes)


# --- the daily reminder of records still open ---------------------------------------


def records_due_on(activity: Activity, zone: ZoneInfo, working_days: int) -> date:
    """The day the records are due: ``working_days`` working days after the end."""
    return add_working_days(activity.ends_at.astimezone(zone).date(), working_days)


@dataclass
class _Stations:
    zones: dict[int, ZoneInfo] = field(default_factory=dict)
    staff: dict[int, list[int]] = field(default_factory=dict)


async def remind_unclosed(
    *, sessionmaker: SessionMaker, settings: RecordsRules, now: datetime | None = None
) -> int:
    """Periodic: queue, once per station-local day from the day after the end, a
    reminder (kind ``records_due``) to each staff member of the station (else to the
    activity's author) for every activity that ended, is not cancelled and is not
    closed. Keys carry the local date, so running again the same day queues nothing.
    Returns how many reminders were queued."""
    now = now or utcnow()
    cache = _Stations()
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
            if sid not in cache.zones:
                cache.zones[sid] = await station_zone(session, sid, settings.timezone)
                cache.staff[sid] = await queries.staff_ids(session, sid)
            zone = cache.zones[sid]
            today = now.astimezone(zone).date()
            if today <= activity.ends_at.astimezone(zone).date():
                continue
            recipients = cache.staff[sid] or (
                [activity.created_by] if activity.created_by is not None else []
            )
            due = records_due_on(activity, zone, settings.records_due_working_days)
            send_at = max(now, datetime.combine(today, REMIND_AT, tzinfo=zone).astimezone(UTC))
            for user_id in recipients:
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
        if not messages:
            return 0
        async with write_transaction(session):
            return await outbox.enqueue(session, messages)
