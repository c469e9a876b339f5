"""The weekly digest: each active volunteer who wants it hears once a week of the
activities published lately at their station or a station above it that still have
free seats (outbox kind ``digest``, rendered in handlers/reminders.py when sent).
The digest is one row per volunteer and ISO week, ``digest:{user_id}:{year}-W{week}``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from services import outbox, stations, when
from services.errors import NotAllowed
from services.outbox import Message
from storage import queries
from storage.db import SessionMaker, write_transaction
from storage.models import HOLDS_SEAT, Activity, Volunteer, VolunteerStatus
from storage.queries import reminders as reminder_queries
from storage.types import utcnow

DIGEST = "digest"
DIGEST_WINDOW = timedelta(days=7)
DIGEST_MAX = 10


class DigestSettings(Protocol):
    """What the weekly job reads from the settings."""

    @property
    def timezone(self) -> str: ...


def digest_key(user_id: int, moment: datetime, tz: str) -> str:
    year, week, _ = moment.astimezone(when.zone(tz)).isocalendar()
    return f"digest:{user_id}:{year}-W{week:02d}"


async def _fresh_activities(
    session: AsyncSession, *, since: datetime, now: datetime
) -> list[tuple[Activity, int]]:
    """Published since ``since``, starting later than ``now``, with free seats: each
    with its seats left, soonest first."""
    found = await reminder_queries.published_since(session, since=since, now=now)
    taken = await queries.seat_counts_of(
        session, [a.id for a in found if a.id is not None], HOLDS_SEAT
    )
    with_seats = [(a, a.capacity - taken.get(a.id or 0, 0)) for a in found]
    return [(a, left) for a, left in with_seats if left > 0]


async def plan_digest(
    *, sessionmaker: SessionMaker, settings: DigestSettings, now: datetime | None = None
) -> int:
    """Weekly job: queue the digest for each active volunteer who wants it and has at
    least one new activity with free seats at their home station or a station above
    it. One per volunteer and ISO week, however often it runs. Returns how many were
    queued."""
    now = now or utcnow()
    since = now - DIGEST_WINDOW
    async with sessionmaker() as session:
        fresh = await _fresh_activities(session, since=since, now=now)
        where = {a.station_id for a, _ in fresh}
        if not where:
            return 0
        tree = await stations.tree(session)
        messages = []
        for user_id, home in await reminder_queries.digest_readers(session):
            if user_id is None or not where.intersection(tree.ancestors_and_self(home)):
                continue
            messages.append(
                Message(
                    user_id=user_id,
                    kind=DIGEST,
                    key=digest_key(user_id, now, settings.timezone),
                    payload={
                        "user_id": user_id,
                        "since": since.isoformat(),
                        "tz": settings.timezone,
                    },
                    urgent=False,
                    priority=outbox.BULK,
                    station_id=home,
                )
            )
        if not messages:
            return 0
        async with write_transaction(session):
            return await outbox.enqueue(session, messages)


@dataclass(frozen=True)
class Digest:
    items: list[tuple[Activity, int]]  # (activity, seats left), at most DIGEST_MAX
    more: int  # how many more there are


async def digest_for(
    session: AsyncSession, payload: dict[str, Any], now: datetime | None = None
) -> Digest | None:
    """What a queued digest shows now, or None when the volunteer turned it off, is
    no longer active, or nothing is left to show."""
    now = now or utcnow()
    user_id = int(payload["user_id"])
    volunteer = await queries.get_volunteer_by_user(session, user_id)
    if (
        volunteer is None
        or not volunteer.weekly_digest
        or volunteer.status is not VolunteerStatus.ACTIVE
        or volunteer.erased_at is not None
    ):
        return None
    since = datetime.fromisoformat(str(payload["since"]))
    tree = await stations.tree(session)
    chain = set(tree.ancestors_and_self(volunteer.station_id))
    items = []
    series: set[int] = set()
    for activity, left in await _fresh_activities(session, since=since, now=now):
        if activity.station_id not in chain or activity.series_id in series:
            continue
        if activity.series_id is not None:  # a weekly series shows its next date only
            series.add(activity.series_id)
        items.append((activity, left))
    if not items:
        return None
    return Digest(items[:DIGEST_MAX], max(0, len(items) - DIGEST_MAX))


async def set_weekly_digest(session: AsyncSession, *, user_id: int, on: bool) -> Volunteer:
    """Turn the weekly digest on or off for a registered volunteer."""
    async with write_transaction(session):
        volunteer = await queries.get_volunteer_by_user(session, user_id)
        if volunteer is None:
            raise NotAllowed("not_registered")
        if volunteer.weekly_digest != on:
            volunteer.weekly_digest = on
            volunteer.updated_at = utcnow()
            session.add(volunteer)
    return volunteer
