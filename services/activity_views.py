"""What volunteers see of activities: the upcoming ones in their reach a page at a
time, one activity with how full it is and their own place on it, their own
activities not yet over, and a sign-up as the notices about it read it. Reading
only; joining and leaving are ``services.activities``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, stations
from services.access import Actor
from services.errors import NotAllowed, NotFound
from storage import queries
from storage.models import HOLDS_SEAT, Activity, Signup, SignupStatus, Volunteer

ACTIVE = (*HOLDS_SEAT, SignupStatus.WAITLISTED)


@dataclass(frozen=True)
class Seats:
    """An activity with how full it is."""

    activity: Activity
    taken: int
    waiting: int

    @property
    def left(self) -> int:
        return max(0, self.activity.capacity - self.taken)


async def in_reach(
    session: AsyncSession, volunteer: Volunteer | None, activity: Activity, signup: Signup | None
) -> bool:
    """Whether the volunteer may see and join the activity: it belongs to their station
    or one above it (where /activities and announcements show it), or they have had a
    place on it. Anything else is answered as if it did not exist."""
    if signup is not None:
        return True
    if volunteer is None:
        return False
    chain = await stations.path(session, volunteer.station_id)
    return activity.station_id in {s.id for s in chain}


async def waitlist_position(session: AsyncSession, signup: Signup) -> int | None:
    if signup.status is not SignupStatus.WAITLISTED:
        return None
    return await queries.waitlist_position(session, signup)


async def find(session: AsyncSession, activity_id: int) -> Activity | None:
    """An activity by id, or None: for notices about one their reader was told of."""
    return await queries.get_activity(session, activity_id)


async def upcoming_for(
    session: AsyncSession, *, user_id: int, now: datetime, offset: int, limit: int
) -> tuple[list[Seats], int]:
    """Upcoming published activities of the volunteer's station and the stations above
    it, soonest first, a page at a time; and how many there are in all."""
    volunteer = await queries.get_volunteer_by_user(session, user_id)
    if volunteer is None:
        raise NotAllowed("not_registered")
    chain = await stations.path(session, volunteer.station_id)
    station_ids = [s.id for s in chain if s.id is not None]
    activities, total = await queries.upcoming_activities(
        session, station_ids, now, offset=offset, limit=limit
    )
    return await seats_of(session, activities), total


async def seats_of(session: AsyncSession, activities: Sequence[Activity]) -> list[Seats]:
    """How full each activity is, in one query."""
    counts = await queries.seat_counts(session, [a.id for a in activities if a.id is not None])
    return [Seats(a, *counts[a.id]) for a in activities if a.id is not None]


async def seats(session: AsyncSession, activity: Activity) -> Seats:
    return (await seats_of(session, [activity]))[0]


async def details(
    session: AsyncSession,
    *,
    actor: Actor,
    activity_id: int,
) -> tuple[Seats, Signup | None, int | None]:
    """An activity, how full it is, and the user's own place on it (with their
    waitlist position). NotFound unless the activity is in the volunteer's reach
    (``in_reach``) or the user may manage it."""
    activity = await queries.get_activity(session, activity_id)
    volunteer = await queries.get_volunteer_by_user(session, actor.id)
    signup = None
    if activity is not None and volunteer is not None and volunteer.id is not None:
        signup = await queries.find_signup(session, activity_id, volunteer.id)
    if activity is None or not (
        await in_reach(session, volunteer, activity, signup)
        or await access.allowed(
            session,
            actor=actor,
            permission=access.Permission.MANAGE_ACTIVITIES,
            station_id=activity.station_id,
        )
    ):
        raise NotFound("activity_not_found")
    position = await waitlist_position(session, signup) if signup is not None else None
    return await seats(session, activity), signup, position


@dataclass(frozen=True)
class MyActivity:
    """One of the user's activities not yet over, and where they stand."""

    activity: Activity
    signup: Signup
    position: int | None  # on the waitlist
    checked_in: bool


async def mine(session: AsyncSession, *, user_id: int, now: datetime) -> list[MyActivity]:
    """The user's activities not yet over: seats (checked in or not), offers and
    waitlist places, soonest first."""
    volunteer = await queries.get_volunteer_by_user(session, user_id)
    if volunteer is None or volunteer.id is None:
        return []
    rows = await queries.signups_of_volunteer(session, volunteer.id, now, ACTIVE)
    present = await queries.checked_in_to(session, volunteer.id, [a.id for a, _ in rows if a.id])
    return [MyActivity(a, s, await waitlist_position(session, s), a.id in present) for a, s in rows]


@dataclass(frozen=True)
class SignupView:
    """A sign-up with its activity and volunteer, for the notices about it."""

    signup: Signup
    activity: Activity
    volunteer: Volunteer | None


async def signup_view(session: AsyncSession, signup_id: int) -> SignupView | None:
    signup = await session.get(Signup, signup_id, populate_existing=True)
    if signup is None:
        return None
    activity = await queries.get_activity(session, signup.activity_id)
    if activity is None:
        return None
    volunteer = await session.get(Volunteer, signup.volunteer_id, populate_existing=True)
    return SignupView(signup, activity, volunteer)
