"""Reminders before an activity to everyone with a seat, and their "I'll come" answer.
(The weekly digest of new activities is ``services.digest``; its names are also
reached here.)

Reminders are outbox rows keyed ``remind:{signup_id}:{hours}h``, one per offset
(settings: REMINDER_HOURS). A periodic job queues them for seats on activities
starting soon; a cancelled seat or activity withdraws them, and a new start time
moves them, each in the transaction of that change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from services import outbox

# The weekly digest, also reached here as before.
from services.digest import (
    DIGEST,
    DIGEST_MAX,
    DIGEST_WINDOW,
    Digest,
    digest_for,
    digest_key,
    plan_digest,
    set_weekly_digest,
)
from services.errors import InvalidInput, NotFound
from services.outbox import Message
from storage import queries
from storage.db import SessionMaker, write_transaction
from storage.models import (
    HOLDS_SEAT,
    Activity,
    ActivityStatus,
    Signup,
    SignupStatus,
    Volunteer,
)
from storage.queries import outbox as outbox_queries
from storage.queries import reminders as reminder_queries
from storage.types import utcnow

REMINDER = "reminder"
# A reminder this close to the start is sent in quiet hours too.
URGENT_WITHIN = timedelta(hours=3)
# A reminder whose time passed this recently is still sent (the job runs every few
# minutes, and may have been down), if the seat was held before its time.
GRACE = timedelta(minutes=15)


class JobSettings(Protocol):
    """What the periodic jobs read from the settings."""

    @property
    def reminder_hours(self) -> tuple[float, ...]: ...

    @property
    def timezone(self) -> str: ...


def reminder_key(signup_id: int, hours: float) -> str:
    return f"remind:{signup_id}:{hours:g}h"


def reminder_prefix(signup_id: int) -> str:
    return f"remind:{signup_id}:"


def parse_key(key: str) -> tuple[int, float] | None:
    """``remind:12:24h`` -> (12, 24.0); None for anything else."""
    parts = key.split(":")
    if len(parts) != 3 or parts[0] != "remind" or not parts[2].endswith("h"):
        return None
    try:
        return int(parts[1]), float(parts[2][:-1])
    except ValueError:
        return None


def _wanted(due: datetime, now: datetime, seated_at: datetime | None) -> bool:
    """Is a reminder due at ``due`` still worth sending? Ahead of us, yes; just past
    (within GRACE) only for a seat held before its time: someone who joined an hour
    before the start needs no "two hours to go"."""
    if due >= now:
        return True
    return now - due <= GRACE and (seated_at is None or seated_at < due)


def offsets_to_queue(
    *, starts_at: datetime, now: datetime, offsets: Sequence[float], seated_at: datetime | None
) -> list[tuple[float, datetime]]:
    """(hours, due time) of each reminder to queue for a seat: past offsets are
    skipped, so a person joining three hours before gets only the two-hour one."""
    found = []
    for hours in sorted(set(offsets), reverse=True):
        due = starts_at - timedelta(hours=hours)
        if starts_at > now and _wanted(due, now, seated_at):
            found.append((hours, due))
    return found


def _reminder(
    signup: Signup, activity: Activity, user_id: int, hours: float, due: datetime, tz: str
) -> Message:
    assert signup.id is not None
    return Message(
        user_id=user_id,
        kind=REMINDER,
        key=reminder_key(signup.id, hours),
        payload={"signup_id": signup.id, "hours": hours, "tz": tz},
        due_at=due,
        urgent=timedelta(hours=hours) <= URGENT_WITHIN,
        priority=outbox.REMINDER,
        station_id=activity.station_id,
    )


async def _revive(session: AsyncSession, messages: Sequence[Message]) -> int:
    """A reminder withdrawn earlier (a seat given up, then taken again) is queued
    again; one already sent stays sent."""
    revived = 0
    for message in messages:
        revived += await outbox_queries.revive(session, message.key, message.due_at)
    return revived


async def plan_reminders(
    *, sessionmaker: SessionMaker, settings: JobSettings, now: datetime | None = None
) -> int:
    """Periodic job (every 5 minutes): queue the reminders of every seat on a published
    activity starting within the largest offset (plus an hour). Queues nothing twice.
    Returns how many rows were queued (or queued again)."""
    now = now or utcnow()
    offsets = settings.reminder_hours
    if not offsets:
        return 0
    horizon = now + timedelta(hours=max(offsets) + 1)
    async with sessionmaker() as session:
        seats = await reminder_queries.seats_starting(session, after=now, until=horizon)
        messages = []
        for signup, activity, user_id in seats:
            if user_id is None:
                continue
            for hours, due in offsets_to_queue(
                starts_at=activity.starts_at,
                now=now,
                offsets=offsets,
                seated_at=signup.updated_at,
            ):
                messages.append(_reminder(signup, activity, user_id, hours, due, settings.timezone))
        if not messages:
            return 0
        async with write_transaction(session):
            new = await outbox.enqueue(session, messages)
            new += await _revive(session, messages)
    return new


# --- keeping queued reminders in step with the activity ----------------------------


async def withdraw_for_signup(session: AsyncSession, signup_id: int) -> int:
    """The seat is gone: its reminders not sent yet are withdrawn. Call inside the
    caller's write transaction."""
    return await outbox.withdraw_prefix(session, reminder_prefix(signup_id))


async def _pending_of_activity(session: AsyncSession, activity_id: int) -> list[tuple[str, float]]:
    """(key, hours) of the activity's reminders not sent yet."""
    signups = await reminder_queries.signups_with_users(session, activity_id)
    signup_ids = {sid for sid, _ in signups if sid is not None}
    user_ids = sorted({uid for _, uid in signups if uid is not None})
    found: list[tuple[str, float]] = []
    for key in await outbox_queries.pending_keys_of(session, REMINDER, user_ids):
        parsed = parse_key(key)
        if parsed is not None and parsed[0] in signup_ids:
            found.append((key, parsed[1]))
    return found


async def withdraw_for_activity(session: AsyncSession, activity_id: int) -> int:
    """The activity is cancelled: all its reminders not sent yet are withdrawn. Call
    inside the caller's write transaction."""
    keys = [key for key, _ in await _pending_of_activity(session, activity_id)]
    return await outbox.withdraw(session, keys)


async def reschedule_for_activity(
    session: AsyncSession, activity: Activity, now: datetime
) -> tuple[int, int]:
    """The activity has a new start: its reminders not sent yet move with it, or are
    withdrawn when their time has passed (the periodic job queues any that the new
    time brings ahead). Call inside the caller's write transaction, after the change.
    Returns (moved, withdrawn)."""
    assert activity.id is not None
    moved: list[tuple[str, datetime]] = []
    gone: list[str] = []
    for key, hours in await _pending_of_activity(session, activity.id):
        due = activity.starts_at - timedelta(hours=hours)
        if activity.starts_at > now and _wanted(due, now, None):
            moved.append((key, due))
        else:
            gone.append(key)
    for key, due in moved:
        await outbox.reschedule(session, key, due)
    withdrawn = await outbox.withdraw(session, gone)
    return len(moved), withdrawn


# --- the reminder and its answer ----------------------------------------------------


@dataclass(frozen=True)
class Seat:
    """A confirmed seat on a published activity not started yet."""

    signup: Signup
    activity: Activity
    user_id: int


async def reminder_seat(
    session: AsyncSession, signup_id: int, now: datetime | None = None
) -> Seat | None:
    """The seat a reminder is about, or None when it is no longer worth a reminder
    (the seat given up, the activity cancelled or started, the volunteer erased)."""
    now = now or utcnow()
    signup = await session.get(Signup, signup_id, populate_existing=True)
    if signup is None or signup.status is not SignupStatus.CONFIRMED:
        return None
    activity = await queries.get_activity(session, signup.activity_id)
    if activity is None or activity.status is not ActivityStatus.PUBLISHED:
        return None
    if activity.starts_at <= now:
        return None
    volunteer = await session.get(Volunteer, signup.volunteer_id)
    if volunteer is None or volunteer.user_id is None:
        return None
    return Seat(signup, activity, volunteer.user_id)


async def own_seat(
    session: AsyncSession, *, user_id: int, signup_id: int, now: datetime | None = None
) -> Seat:
    """The presser's own seat from a reminder's button, checked afresh: someone
    else's is NotFound('seat_gone') as if it did not exist; InvalidInput when it is
    gone or the activity changed."""
    now = now or utcnow()
    signup = await session.get(Signup, signup_id, populate_existing=True)
    volunteer = await session.get(Volunteer, signup.volunteer_id) if signup else None
    if signup is None or volunteer is None or volunteer.user_id != user_id:
        raise NotFound("seat_gone")
    activity = await queries.get_activity(session, signup.activity_id)
    if activity is None:
        raise NotFound("activity_not_found")
    if activity.status is not ActivityStatus.PUBLISHED:
        raise InvalidInput("activity_cancelled")
    if activity.starts_at <= now:
        raise InvalidInput("activity_started")
    if signup.status not in HOLDS_SEAT:
        raise InvalidInput("seat_gone")
    return Seat(signup, activity, user_id)


async def confirm_coming(
    session: AsyncSession, *, user_id: int, signup_id: int, now: datetime | None = None
) -> Seat:
    """ "I'll come": noted once (a second press keeps the first time)."""
    now = now or utcnow()
    async with write_transaction(session):
        seat = await own_seat(session, user_id=user_id, signup_id=signup_id, now=now)
        if seat.signup.status is not SignupStatus.CONFIRMED:
            raise InvalidInput("seat_gone")
        if seat.signup.coming_confirmed_at is None:
            seat.signup.coming_confirmed_at = now
            session.add(seat.signup)
    return seat


__all__ = [
    "DIGEST",
    "DIGEST_MAX",
    "DIGEST_WINDOW",
    "Digest",
    "digest_for",
    "digest_key",
    "plan_digest",
    "set_weekly_digest",
]
