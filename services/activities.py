"""Joining activities: first come first served up to capacity, then an ordered
waitlist. A freed seat is offered to the first in line, who confirms or lets it go;
capacity is never exceeded, also when many join at once.

Every change runs in one write transaction that first locks the activity row
(PostgreSQL: SELECT ... FOR UPDATE; SQLite: BEGIN IMMEDIATE serialises writers).
The notices a change brings (a seat offered to the next in line, a lapsed offer, a
late cancellation told to staff) are queued in the outbox in that same transaction,
under keys that name the change, and rendered when they are sent."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit, outbox, reminders, when

# What volunteers see of activities, also reached here as before.
from services.activity_views import (
    ACTIVE,
    MyActivity,
    Seats,
    SignupView,
    details,
    find,
    in_reach,
    mine,
    seats,
    signup_view,
    upcoming_for,
    waitlist_position,
)
from services.errors import InvalidInput, NotAllowed, NotFound
from services.outbox import Message
from storage import queries
from storage.db import write_transaction
from storage.models import (
    HOLDS_SEAT,
    Activity,
    ActivityStatus,
    Signup,
    SignupStatus,
    Volunteer,
    VolunteerStatus,
)
from storage.types import utcnow

# Outbox kinds (rendered in handlers/activities/renderers.py). Payloads name the sign-up or the
# activity; the words are written when the message is sent.
SEAT_OFFERED = "seat_offered"  # {"signup_id", "outright", "tz"}
OFFER_LAPSED = "offer_lapsed"  # {"activity_id", "tz"}
LATE_CANCEL = "late_cancel"  # {"signup_id", "tz"}, to each of the station's staff


@dataclass(frozen=True)
class OfferRules:
    """How long a freed seat is held for the next in line, and when staff hear of a
    cancellation (settings: OFFER_HOURS, OFFER_LEAD_HOURS, LATE_CANCEL_HOURS); and the
    time zone the notices show times in where a station has none (TIMEZONE)."""

    offer_for: timedelta = timedelta(hours=12)
    lead: timedelta = timedelta(hours=2)
    late_cancel: timedelta = timedelta(hours=24)
    timezone: str = when.DEFAULT_ZONE


class Outcome(enum.StrEnum):
    SEAT = "seat"
    WAITLIST = "waitlist"
    ALREADY = "already"
    OVERLAP = "overlap"


@dataclass(frozen=True)
class Promotion:
    """Someone moved up from the waitlist: offered the seat until ``expires_at``, or,
    too close to the start to ask, given it outright (``expires_at`` is None)."""

    activity: Activity
    signup_id: int
    user_id: int | None
    expires_at: datetime | None


@dataclass(frozen=True)
class JoinResult:
    outcome: Outcome
    activity: Activity
    status: SignupStatus | None = None
    position: int | None = None  # on the waitlist, from 1
    overlapping: Sequence[Activity] = ()


@dataclass(frozen=True)
class CancelResult:
    activity: Activity
    late: bool  # a seat given up inside the late-cancellation window
    promotions: list[Promotion] = field(default_factory=list)


async def _locked(session: AsyncSession, activity_id: int) -> Activity:
    activity = await queries.lock_activity(session, activity_id)
    if activity is None:
        raise NotFound("activity_not_found")
    return activity


def _turn(signup: Signup) -> str:
    """Names one stay of a sign-up in the queue: a person who leaves and joins again
    has a new ``queued_at``, so the notices of each stay have keys of their own."""
    return str(int(signup.queued_at.timestamp() * 1000))


def _notice(
    user_id: int, kind: str, key: str, payload: dict[str, object], activity: Activity
) -> Message:
    return Message(
        user_id=user_id,
        kind=kind,
        key=key,
        payload=payload,
        urgent=True,
        priority=outbox.NOTICE,
        station_id=activity.station_id,
    )


async def _volunteer(session: AsyncSession, user_id: int) -> Volunteer:
    volunteer = await queries.get_volunteer_by_user(session, user_id)
    if volunteer is None or volunteer.id is None:
        raise NotAllowed("not_registered")
    if volunteer.status is VolunteerStatus.PENDING:
        raise NotAllowed("volunteer_pending")
    if volunteer.status is not VolunteerStatus.ACTIVE:
        raise NotAllowed("volunteer_not_active")
    return volunteer


async def join(
    session: AsyncSession,
    *,
    user_id: int,
    activity_id: int,
    now: datetime,
    allow_overlap: bool = False,
) -> JoinResult:
    """Take a seat if one is free, else a place at the end of the waitlist."""
    async with write_transaction(session):
        volunteer = await _volunteer(session, user_id)
        assert volunteer.id is not None
        activity = await _locked(session, activity_id)
        signup = await queries.find_signup(session, activity_id, volunteer.id)
        if not await in_reach(session, volunteer, activity, signup):
            raise NotFound("activity_not_found")
        if activity.status is not ActivityStatus.PUBLISHED:
            raise InvalidInput("activity_cancelled")
        if activity.starts_at <= now:
            raise InvalidInput("activity_started")
        if signup is not None and signup.status in ACTIVE:
            position = await waitlist_position(session, signup)
            return JoinResult(Outcome.ALREADY, activity, signup.status, position)
        if not allow_overlap:
            clashes = await queries.overlapping_activities(
                session,
                volunteer.id,
                activity.starts_at,
                activity.ends_at,
                ACTIVE,
                exclude=activity_id,
            )
            if clashes:
                return JoinResult(Outcome.OVERLAP, activity, overlapping=clashes)
        taken = await queries.count_signups(session, activity_id, HOLDS_SEAT)
        waiting = await queries.count_signups(session, activity_id, (SignupStatus.WAITLISTED,))
        status = (
            SignupStatus.CONFIRMED
            if taken < activity.capacity and not waiting
            else SignupStatus.WAITLISTED
        )
        if signup is None:
            signup = Signup(activity_id=activity_id, volunteer_id=volunteer.id, status=status)
        signup.status = status
        # Arrival order under the activity lock, so the waitlist is first come first served.
        signup.queued_at = utcnow()
        signup.updated_at = now
        signup.offer_expires_at = None
        session.add(signup)
        await session.flush()
        audit.record(
            session,
            actor_id=user_id,
            action="signup.joined",
            station_id=activity.station_id,
            subject_type="activity",
            subject_id=activity_id,
            status=status.value,
        )
        position = await waitlist_position(session, signup)
    outcome = Outcome.SEAT if status is SignupStatus.CONFIRMED else Outcome.WAITLIST
    return JoinResult(outcome, activity, status, position)


async def may_cancel(session: AsyncSession, *, user_id: int, activity_id: int) -> Signup:
    """The user's place that they may give up, or the reason they may not: not
    registered, not signed up, or checked in already (there, and counted)."""
    volunteer = await queries.get_volunteer_by_user(session, user_id)
    if volunteer is None or volunteer.id is None:
        raise NotAllowed("not_registered")
    signup = await queries.find_signup(session, activity_id, volunteer.id)
    if signup is None or signup.status not in ACTIVE:
        raise InvalidInput("not_signed_up")
    if await queries.checked_in_to(session, volunteer.id, [activity_id]):
        raise InvalidInput("checked_in")
    return signup


async def cancel(
    session: AsyncSession,
    *,
    user_id: int,
    activity_id: int,
    now: datetime,
    rules: OfferRules,
) -> CancelResult:
    """Give up a seat or a waitlist place; a freed seat goes to the next in line.
    Refused once the volunteer has checked in."""
    async with write_transaction(session):
        # Who may cancel is asked first, so a stranger gets the same answer whether
        # the activity exists or not (never reveal an id); then again with the
        # activity locked, as a concurrent change may have moved the place.
        await may_cancel(session, user_id=user_id, activity_id=activity_id)
        activity = await queries.lock_activity(session, activity_id)
        if activity is None:
            raise InvalidInput("not_signed_up")
        signup = await may_cancel(session, user_id=user_id, activity_id=activity_id)
        return await give_up(
            session, activity, signup, now=now, rules=rules, actor_id=user_id, user_id=user_id
        )


async def give_up(
    session: AsyncSession,
    activity: Activity,
    signup: Signup,
    *,
    now: datetime,
    rules: OfferRules,
    actor_id: int | None,
    user_id: int | None,
    erased: bool = False,
) -> CancelResult:
    """Cancel one active sign-up, inside the caller's transaction with the activity
    locked: its reminders are withdrawn, staff are told of a late cancellation, and
    a freed seat is offered on. ``erased``: the volunteer is erasing their data."""
    assert signup.id is not None and activity.id is not None
    held_seat = signup.status in HOLDS_SEAT
    signup.status = SignupStatus.CANCELLED
    signup.offer_expires_at = None
    signup.updated_at = now
    session.add(signup)
    await session.flush()
    await reminders.withdraw_for_signup(session, signup.id)
    late = held_seat and now < activity.starts_at and activity.starts_at - now < rules.late_cancel
    details: dict[str, object] = {"late": late, "held_seat": held_seat}
    if erased:
        details["erased"] = True
    audit.record(
        session,
        actor_id=actor_id,
        action="signup.cancelled",
        station_id=activity.station_id,
        subject_type="activity",
        subject_id=activity.id,
        **details,
    )
    if late:
        await _tell_staff_late(session, activity, signup, user_id, rules)
    promotions = await _fill(session, activity, now, rules) if held_seat else []
    return CancelResult(activity, late, promotions)


async def _tell_staff_late(
    session: AsyncSession,
    activity: Activity,
    signup: Signup,
    user_id: int | None,
    rules: OfferRules,
) -> None:
    """A seat given up inside the late window: the station's staff hear of it (or
    whoever published the activity, when the station has no staff)."""
    recipients = await queries.staff_ids(session, activity.station_id)
    if not recipients and activity.created_by:
        recipients = [activity.created_by]
    payload: dict[str, object] = {"signup_id": signup.id, "tz": rules.timezone}
    await outbox.enqueue(
        session,
        [
            _notice(
                staff, LATE_CANCEL, f"late:{signup.id}:{_turn(signup)}:{staff}", payload, activity
            )
            for staff in recipients
            if staff != user_id
        ],
    )


async def answer_offer(
    session: AsyncSession,
    *,
    user_id: int,
    activity_id: int,
    accept: bool,
    now: datetime,
    rules: OfferRules,
) -> list[Promotion]:
    """Confirm or turn down an offered seat; turning it down offers it to the next."""
    async with write_transaction(session):
        volunteer = await queries.get_volunteer_by_user(session, user_id)
        if volunteer is None or volunteer.id is None:
            raise NotAllowed("not_registered")
        activity = await queries.lock_activity(session, activity_id)
        signup = await queries.find_signup(session, activity_id, volunteer.id)
        if activity is None or signup is None or signup.status is not SignupStatus.OFFERED:
            raise InvalidInput("offer_gone")  # the same whether the activity exists
        if signup.offer_expires_at is not None and signup.offer_expires_at <= now:
            raise InvalidInput("offer_gone")
        signup.status = SignupStatus.CONFIRMED if accept else SignupStatus.DECLINED
        signup.offer_expires_at = None
        signup.updated_at = now
        session.add(signup)
        await session.flush()
        if not accept:
            assert signup.id is not None
            await reminders.withdraw_for_signup(session, signup.id)
        audit.record(
            session,
            actor_id=user_id,
            action="signup.offer_" + ("accepted" if accept else "declined"),
            station_id=activity.station_id,
            subject_type="activity",
            subject_id=activity_id,
        )
        return [] if accept else await _fill(session, activity, now, rules)


async def expire_offers(
    session: AsyncSession, *, now: datetime, rules: OfferRules
) -> tuple[list[Promotion], list[tuple[Activity, int | None]]]:
    """Offers not answered in time lapse and go to the next in line; each person whose
    offer lapsed is told. Returns the new promotions and (activity, user id) of each
    lapsed offer."""
    promotions: list[Promotion] = []
    lapsed: list[tuple[Activity, int | None]] = []
    for activity_id in await queries.activities_with_lapsed_offers(session, now):
        async with write_transaction(session):
            activity = await _locked(session, activity_id)
            for signup in await queries.lapsed_offers(session, activity_id, now):
                signup.status = SignupStatus.EXPIRED
                signup.offer_expires_at = None
                signup.updated_at = now
                session.add(signup)
                assert signup.id is not None
                await reminders.withdraw_for_signup(session, signup.id)
                volunteer = await session.get(Volunteer, signup.volunteer_id)
                user_id = volunteer.user_id if volunteer else None
                lapsed.append((activity, user_id))
                if user_id is not None:
                    payload: dict[str, object] = {"activity_id": activity_id, "tz": rules.timezone}
                    key = f"lapsed:{signup.id}:{_turn(signup)}"
                    await outbox.enqueue(
                        session, [_notice(user_id, OFFER_LAPSED, key, payload, activity)]
                    )
            await session.flush()
            promotions += await _fill(session, activity, now, rules)
    return promotions, lapsed


async def fill_free_seats(
    session: AsyncSession, activity: Activity, now: datetime, rules: OfferRules
) -> list[Promotion]:
    """Offer seats freed by a larger capacity. Call inside the caller's transaction,
    with the activity locked."""
    return await _fill(session, activity, now, rules)


async def _fill(
    session: AsyncSession, activity: Activity, now: datetime, rules: OfferRules
) -> list[Promotion]:
    """Offer free seats to the first in line, each told in this transaction."""
    if activity.status is not ActivityStatus.PUBLISHED or activity.starts_at <= now:
        return []
    assert activity.id is not None
    promotions: list[Promotion] = []
    free = activity.capacity - await queries.count_signups(session, activity.id, HOLDS_SEAT)
    if free <= 0:
        return []
    deadline = min(now + rules.offer_for, activity.starts_at - rules.lead)
    for signup in await queries.first_waitlisted(session, activity.id, free):
        assert signup.id is not None
        outright = deadline <= now  # too close to the start to wait for an answer
        signup.status = SignupStatus.CONFIRMED if outright else SignupStatus.OFFERED
        signup.offer_expires_at = None if outright else deadline
        signup.updated_at = now
        session.add(signup)
        volunteer = await session.get(Volunteer, signup.volunteer_id)
        user_id = volunteer.user_id if volunteer else None
        promotions.append(Promotion(activity, signup.id, user_id, None if outright else deadline))
        if user_id is not None:
            payload: dict[str, object] = {
                "signup_id": signup.id,
                "outright": outright,
                "tz": rules.timezone,
            }
            key = f"seat:{signup.id}:{_turn(signup)}"
            await outbox.enqueue(session, [_notice(user_id, SEAT_OFFERED, key, payload, activity)])
        audit.record(
            session,
            actor_id=None,
            action="signup.promoted",
            station_id=activity.station_id,
            subject_type="activity",
            subject_id=activity.id,
            signup_id=signup.id,
            outright=outright,
        )
    await session.flush()
    return promotions


__all__ = [
    "ACTIVE",
    "MyActivity",
    "Seats",
    "SignupView",
    "details",
    "find",
    "mine",
    "seats",
    "signup_view",
    "upcoming_for",
]
