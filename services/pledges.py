"""Pledges: a volunteer's promise of a small donation to their station's community
fund or to an upcoming activity. The bot takes no money: staff mark a pledge
received when the station has it, or cancelled.

This module is the volunteer making a pledge, and the words the pledge services
share; the lists are in ``pledge_lists``, the decisions (staff's, and the
volunteer's withdrawal) in ``pledge_decisions``, the reminder in ``pledge_reminders``.

- Amounts are integer fen; one pledge is at most the ceiling (PLEDGE_CEILING_YUAN).
- A pledge's station is the fund's station (the volunteer's home station) or the
  activity's; staff of that station or above decide it.
- A receipt number ``P20261121-7K3M9Q``: the local date and six random Crockford
  base32 characters, unique. The six characters are drawn before the volunteer
  confirms and kept in the dialog: confirming again with the same ones finds the
  pledge already made instead of making a second one.
- The volunteer is told of the decision through the outbox (kind ``pledge_decided``,
  key ``pledge:{id}:received`` or ``pledge:{id}:cancelled``) in the transaction of
  the decision; a pledge still open after PLEDGE_REMINDER_DAYS is brought up once
  (kind ``pledge_reminder``, key ``pledge:{id}:reminder``).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit, money, stations, when
from services.errors import InvalidInput, NotAllowed, NotFound
from storage import queries
from storage.db import write_transaction
from storage.models import (
    Activity,
    ActivityStatus,
    Pledge,
    PledgeStatus,
    Station,
    Volunteer,
    VolunteerStatus,
)
from storage.queries import pledges as pledge_queries

REMINDER = "pledge_reminder"
DECIDED = "pledge_decided"
QUICK_AMOUNTS_FEN = (2_000, 5_000, 10_000, 20_000)  # ¥20, ¥50, ¥100, ¥200
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TOKEN_LENGTH = 6
_RECEIPT_ATTEMPTS = 8


@dataclass(frozen=True)
class Purpose:
    """What a pledge is for: a station's community fund (``activity`` None) or an
    activity, whose station is ``station``."""

    station: Station
    activity: Activity | None = None

    @property
    def station_id(self) -> int:
        assert self.station.id is not None
        return self.station.id


@dataclass(frozen=True)
class Choices:
    """What a volunteer may pledge to: their home station's fund, and a page of the
    upcoming published activities of their station and the stations above it."""

    home: Station
    activities: Sequence[Activity]
    total: int
    offset: int
    stations: dict[int, Station]  # the home station and those above it, by id


@dataclass(frozen=True)
class PledgeView:
    """A pledge with what a person needs to read it."""

    pledge: Pledge
    purpose: Purpose
    name: str | None  # the volunteer's name (None once erased); shown unless anonymous
    user_id: int | None  # the volunteer's Telegram id (None once erased)

    @property
    def id(self) -> int:
        assert self.pledge.id is not None
        return self.pledge.id


@dataclass(frozen=True)
class Created:
    view: PledgeView
    created: bool  # False: this confirmation had already made the pledge


def view_from(row: pledge_queries.Row) -> PledgeView:
    pledge, volunteer, station, activity = row
    return PledgeView(
        pledge=pledge,
        purpose=Purpose(station=station, activity=activity),
        name=volunteer.real_name,
        user_id=volunteer.user_id,
    )


async def view_of(session: AsyncSession, pledge_id: int) -> PledgeView | None:
    """One pledge as it is now, for a message to its volunteer (the outbox renderers)
    and after a change."""
    row = await pledge_queries.one(session, pledge_id)
    return view_from(row) if row is not None else None


def decided_key(pledge_id: int, status: PledgeStatus) -> str:
    return f"pledge:{pledge_id}:{status.value}"


def reminder_key(pledge_id: int) -> str:
    return f"pledge:{pledge_id}:reminder"


# --- receipts -----------------------------------------------------------------------


def new_token() -> str:
    """Six random Crockford base32 characters (no I, L, O or U)."""
    return "".join(secrets.choice(CROCKFORD) for _ in range(TOKEN_LENGTH))


def is_token(value: object) -> bool:
    return (
        isinstance(value, str) and len(value) == TOKEN_LENGTH and all(c in CROCKFORD for c in value)
    )


def receipt_for(day: date, token: str) -> str:
    return f"P{day:%Y%m%d}-{token}"


# --- what a volunteer may pledge to -------------------------------------------------


async def active_volunteer(session: AsyncSession, user_id: int) -> Volunteer:
    """The user's volunteer profile if they may pledge; else NotAllowed with the reason
    (``not_registered``, ``volunteer_pending``, ``volunteer_not_active``)."""
    volunteer = await queries.get_volunteer_by_user(session, user_id)
    if volunteer is None or volunteer.id is None or volunteer.erased_at is not None:
        raise NotAllowed("not_registered")
    if volunteer.status is VolunteerStatus.PENDING:
        raise NotAllowed("volunteer_pending")
    if volunteer.status is not VolunteerStatus.ACTIVE:
        raise NotAllowed("volunteer_not_active")
    return volunteer


async def _chain_ids(session: AsyncSession, station_id: int) -> list[int]:
    return [s.id for s in await stations.path(session, station_id) if s.id is not None]


async def choices(
    session: AsyncSession, *, user_id: int, now: datetime, offset: int = 0, limit: int = 5
) -> Choices:
    """The purposes a volunteer may choose from, activities soonest first."""
    volunteer = await active_volunteer(session, user_id)
    home = await queries.get_station(session, volunteer.station_id)
    if home is None:  # pragma: no cover - a foreign key
        raise NotFound("station_not_found")
    path = await stations.path(session, volunteer.station_id)
    chain = [s.id for s in path if s.id is not None]
    found, total = await queries.upcoming_activities(
        session, chain, now, offset=max(offset, 0), limit=limit
    )
    if not found and total and offset > 0:  # the page emptied meanwhile: the last one
        offset = max(0, (total - 1) // limit * limit)
        found, total = await queries.upcoming_activities(
            session, chain, now, offset=offset, limit=limit
        )
    return Choices(
        home=home,
        activities=found,
        total=total,
        offset=max(offset, 0),
        stations={s.id: s for s in path if s.id is not None},
    )


async def purpose(
    session: AsyncSession, *, user_id: int, activity_id: int | None, now: datetime
) -> Purpose:
    """The purpose a volunteer chose, checked now: the home station's fund, or an
    upcoming published activity they can see. Raises InvalidInput('activity_gone')."""
    volunteer = await active_volunteer(session, user_id)
    if not activity_id:
        home = await queries.get_station(session, volunteer.station_id)
        if home is None:  # pragma: no cover - a foreign key
            raise NotFound("station_not_found")
        return Purpose(station=home)
    activity = await queries.get_activity(session, activity_id)
    if (
        activity is None
        or activity.status is not ActivityStatus.PUBLISHED
        or activity.starts_at <= now
        or activity.station_id not in await _chain_ids(session, volunteer.station_id)
    ):
        raise InvalidInput("activity_gone")
    station = await queries.get_station(session, activity.station_id)
    if station is None:  # pragma: no cover - a foreign key
        raise NotFound("station_not_found")
    return Purpose(station=station, activity=activity)


# --- making the pledge --------------------------------------------------------------


async def create(
    session: AsyncSession,
    *,
    user_id: int,
    activity_id: int | None,
    amount_fen: int,
    anonymous: bool,
    token: str,
    ceiling_fen: int,
    now: datetime,
    default_tz: str = when.DEFAULT_ZONE,
) -> Created:
    """Make the pledge the volunteer confirmed, once: a second call with the same
    ``token`` returns the pledge the first one made. Raises NotAllowed (the volunteer
    may not pledge), InvalidInput('activity_gone') or an amount error (services.money)."""
    if not is_token(token):
        raise InvalidInput("bad_token")
    async with write_transaction(session):
        volunteer = await active_volunteer(session, user_id)
        assert volunteer.id is not None
        earlier = await pledge_queries.made_with(session, volunteer.id, token)
        if earlier is not None and earlier.id is not None:
            view = await view_of(session, earlier.id)
            assert view is not None
            return Created(view=view, created=False)
        chosen = await purpose(session, user_id=user_id, activity_id=activity_id, now=now)
        money.check_fen(amount_fen, ceiling_fen=ceiling_fen)
        zone = await stations.zone(session, chosen.station_id, default_tz)
        day = now.astimezone(zone).date()
        pledge: Pledge | None = None
        candidate = token
        for _attempt in range(_RECEIPT_ATTEMPTS):
            receipt = receipt_for(day, candidate)
            if not await pledge_queries.receipt_taken(session, receipt):
                row = Pledge(
                    receipt=receipt,
                    volunteer_id=volunteer.id,
                    station_id=chosen.station_id,
                    activity_id=chosen.activity.id if chosen.activity else None,
                    amount_fen=amount_fen,
                    anonymous=anonymous,
                    status=PledgeStatus.OPEN,
                    created_at=now,
                )
                if await pledge_queries.insert(session, row):
                    pledge = row
                    break
            candidate = new_token()
        if pledge is None or pledge.id is None:  # pragma: no cover - 32**6 receipts a day
            raise RuntimeError("could not find a free receipt number")
        audit.record(
            session,
            actor_id=user_id,
            action="pledge.created",
            station_id=pledge.station_id,
            subject_type="pledge",
            subject_id=pledge.id,
            receipt=pledge.receipt,
            amount_fen=amount_fen,
            activity_id=pledge.activity_id,
            anonymous=anonymous,
        )
        view = PledgeView(
            pledge=pledge, purpose=chosen, name=volunteer.real_name, user_id=volunteer.user_id
        )
    return Created(view=view, created=True)
