"""Pledges: a volunteer's promise of a small donation to their station's community
fund or to an upcoming activity. The bot takes no money: staff mark a pledge
received when the station has it, or cancelled.

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
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from services import access, activity_admin, audit, money, outbox, stations, when
from services.access import Permission
from services.errors import InvalidInput, NotAllowed, NotFound
from services.outbox import Message
from storage import queries
from storage.db import SessionMaker, write_transaction
from storage.models import (
    Activity,
    ActivityStatus,
    Pledge,
    PledgeStatus,
    Station,
    Volunteer,
    VolunteerStatus,
)
from storage.types import utcnow

REMINDER = "pledge_reminder"
DECIDED = "pledge_decided"
QUICK_AMOUNTS_FEN = (2_000, 5_000, 10_000, 20_000)  # ¥20, ¥50, ¥100, ¥200
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TOKEN_LENGTH = 6
_RECEIPT_ATTEMPTS = 8
_REMINDER_BATCH = 500


class PledgeSettings(Protocol):
    """What the reminder job reads from the settings."""

    @property
    def pledge_reminder_days(self) -> float: ...

    @property
    def timezone(self) -> str: ...


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


@dataclass(frozen=True)
class Page:
    items: Sequence[PledgeView]
    total: int
    offset: int
    amount_fen: int  # the sum over all ``total`` pledges, not only this page


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


# --- reading ------------------------------------------------------------------------


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


def _listing() -> SelectOfScalar[Any]:
    """Pledges with their volunteer, station and activity (if any)."""
    return (
        select(Pledge, Volunteer, Station, Activity)  # type: ignore[return-value]
        .join(Volunteer, col(Volunteer.id) == col(Pledge.volunteer_id))
        .join(Station, col(Station.id) == col(Pledge.station_id))
        .outerjoin(Activity, col(Activity.id) == col(Pledge.activity_id))
    )


def _view(row: Any) -> PledgeView:
    pledge, volunteer, station, activity = row
    return PledgeView(
        pledge=pledge,
        purpose=Purpose(station=station, activity=activity),
        name=volunteer.real_name,
        user_id=volunteer.user_id,
    )


async def _one(session: AsyncSession, pledge_id: int) -> PledgeView | None:
    query = _listing().where(col(Pledge.id) == pledge_id)
    row = (await session.exec(query.execution_options(populate_existing=True))).first()
    return _view(row) if row is not None else None


async def _page(session: AsyncSession, where: Sequence[Any], *, offset: int, limit: int) -> Page:
    total, amount = (
        await session.exec(
            select(func.count(), func.coalesce(func.sum(col(Pledge.amount_fen)), 0)).where(*where)
        )
    ).one()
    offset = max(0, min(offset, max(0, total - 1) // limit * limit))
    query = (
        _listing()
        .where(*where)
        .order_by(col(Pledge.created_at).desc(), col(Pledge.id).desc())
        .offset(offset)
        .limit(limit)
    )
    rows = (await session.exec(query)).all()
    return Page(
        items=[_view(r) for r in rows], total=int(total), offset=offset, amount_fen=int(amount)
    )


async def _staff_station_ids(
    session: AsyncSession, actor_id: int, admin_ids: Collection[int]
) -> list[int]:
    where = await access.stations_where(
        session, user_id=actor_id, admin_ids=admin_ids, permission=Permission.MANAGE_ACTIVITIES
    )
    if not where and actor_id not in admin_ids:
        raise NotAllowed("not_allowed", permission=Permission.MANAGE_ACTIVITIES.value)
    return [s.id for s in where if s.id is not None]


async def open_for_staff(
    session: AsyncSession,
    *,
    actor_id: int,
    admin_ids: Collection[int],
    offset: int = 0,
    limit: int = 5,
) -> Page:
    """Open pledges of the stations the actor manages (and those below), newest first.
    Raises NotAllowed when the actor manages no station."""
    ids = await _staff_station_ids(session, actor_id, admin_ids)
    if not ids:
        return Page(items=[], total=0, offset=0, amount_fen=0)
    where = (col(Pledge.station_id).in_(ids), col(Pledge.status) == PledgeStatus.OPEN)
    return await _page(session, where, offset=offset, limit=limit)


async def mine(session: AsyncSession, *, user_id: int, offset: int = 0, limit: int = 5) -> Page:
    """The user's own pledges, newest first, whatever their status."""
    volunteer = await queries.get_volunteer_by_user(session, user_id)
    if volunteer is None or volunteer.id is None:
        raise NotAllowed("not_registered")
    where = (col(Pledge.volunteer_id) == volunteer.id,)
    return await _page(session, where, offset=offset, limit=limit)


async def _require_staff_somewhere(
    session: AsyncSession, actor_id: int, admin_ids: Collection[int]
) -> None:
    """Before any pledge is looked up: see ``access.require_somewhere``."""
    await access.require_somewhere(
        session, user_id=actor_id, admin_ids=admin_ids, permission=Permission.MANAGE_ACTIVITIES
    )


async def _require_staff(
    session: AsyncSession, actor_id: int, admin_ids: Collection[int], pledge: Pledge
) -> None:
    await access.require(
        session,
        user_id=actor_id,
        admin_ids=admin_ids,
        permission=Permission.MANAGE_ACTIVITIES,
        station_id=pledge.station_id,
    )


async def for_staff(
    session: AsyncSession, *, actor_id: int, admin_ids: Collection[int], pledge_id: int
) -> PledgeView:
    """One pledge, for staff of its station (or above). NotFound('pledge_not_found')."""
    await _require_staff_somewhere(session, actor_id, admin_ids)
    view = await _one(session, pledge_id)
    if view is None:
        raise NotFound("pledge_not_found")
    await _require_staff(session, actor_id, admin_ids, view.pledge)
    return view


async def own(session: AsyncSession, *, user_id: int, pledge_id: int) -> PledgeView:
    """One of the user's own pledges. Anyone else's is NotFound('pledge_not_found'),
    as if it did not exist: nobody learns which receipts others hold."""
    view = await _one(session, pledge_id)
    if view is None or view.user_id is None or view.user_id != user_id:
        raise NotFound("pledge_not_found")
    return view


async def view_of(session: AsyncSession, pledge_id: int) -> PledgeView | None:
    """One pledge for a message to its volunteer (the outbox renderers)."""
    return await _one(session, pledge_id)


# --- writing ------------------------------------------------------------------------


async def _made_with(session: AsyncSession, volunteer_id: int, token: str) -> Pledge | None:
    query = select(Pledge).where(
        col(Pledge.volunteer_id) == volunteer_id,
        col(Pledge.receipt).endswith("-" + token),
    )
    return (await session.exec(query)).first()


async def _receipt_taken(session: AsyncSession, receipt: str) -> bool:
    query = select(func.count()).where(col(Pledge.receipt) == receipt)
    return bool((await session.exec(query)).one())


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
        earlier = await _made_with(session, volunteer.id, token)
        if earlier is not None and earlier.id is not None:
            view = await _one(session, earlier.id)
            assert view is not None
            return Created(view=view, created=False)
        chosen = await purpose(session, user_id=user_id, activity_id=activity_id, now=now)
        money.check_fen(amount_fen, ceiling_fen=ceiling_fen)
        zone = await activity_admin.station_zone(session, chosen.station_id, default_tz)
        day = now.astimezone(zone).date()
        pledge: Pledge | None = None
        candidate = token
        for _attempt in range(_RECEIPT_ATTEMPTS):
            receipt = receipt_for(day, candidate)
            if not await _receipt_taken(session, receipt):
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
                try:
                    async with session.begin_nested():
                        session.add(row)
                        await session.flush()
                except IntegrityError:  # taken by a concurrent writer just now
                    pass
                else:
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


async def _locked(session: AsyncSession, pledge_id: int) -> Pledge:
    query = select(Pledge).where(col(Pledge.id) == pledge_id).with_for_update()
    pledge = (await session.exec(query.execution_options(populate_existing=True))).first()
    if pledge is None:
        raise NotFound("pledge_not_found")
    return pledge


def decided_key(pledge_id: int, status: PledgeStatus) -> str:
    return f"pledge:{pledge_id}:{status.value}"


def reminder_key(pledge_id: int) -> str:
    return f"pledge:{pledge_id}:reminder"


async def decide(
    session: AsyncSession,
    *,
    actor_id: int,
    admin_ids: Collection[int],
    pledge_id: int,
    status: PledgeStatus,
    now: datetime,
    default_tz: str = when.DEFAULT_ZONE,
) -> PledgeView:
    """Staff mark an open pledge received or cancelled; the volunteer's note is queued
    in the same transaction. Raises NotFound('pledge_not_found'), NotAllowed, or
    InvalidInput('pledge_decided', status=...) when it was decided already."""
    if status is PledgeStatus.OPEN:
        raise InvalidInput("bad_status")
    async with write_transaction(session):
        await _require_staff_somewhere(session, actor_id, admin_ids)
        pledge = await _locked(session, pledge_id)
        await _require_staff(session, actor_id, admin_ids, pledge)
        if pledge.status is not PledgeStatus.OPEN:
            raise InvalidInput("pledge_decided", status=pledge.status.value, receipt=pledge.receipt)
        pledge.status = status
        pledge.decided_at = now
        pledge.decided_by = actor_id
        session.add(pledge)
        await session.flush()
        view = await _one(session, pledge_id)
        assert view is not None
        if view.user_id is not None:
            await outbox.enqueue(
                session,
                [
                    Message(
                        user_id=view.user_id,
                        kind=DECIDED,
                        key=decided_key(pledge_id, status),
                        payload={"pledge_id": pledge_id, "tz": default_tz},
                        priority=outbox.NOTICE,
                        station_id=pledge.station_id,
                    )
                ],
            )
        audit.record(
            session,
            actor_id=actor_id,
            action="pledge." + status.value,
            station_id=pledge.station_id,
            subject_type="pledge",
            subject_id=pledge_id,
            receipt=pledge.receipt,
            amount_fen=pledge.amount_fen,
        )
    return view


async def withdraw(
    session: AsyncSession, *, user_id: int, pledge_id: int, now: datetime
) -> PledgeView:
    """The volunteer takes back their own open pledge (it is cancelled; staff are not
    messaged, it leaves their list). Raises NotFound (also when it is not theirs, see
    ``own``) or InvalidInput('pledge_decided', status=...)."""
    async with write_transaction(session):
        pledge = await _locked(session, pledge_id)
        volunteer = await session.get(Volunteer, pledge.volunteer_id)
        if volunteer is None or volunteer.user_id is None or volunteer.user_id != user_id:
            raise NotFound("pledge_not_found")
        if pledge.status is not PledgeStatus.OPEN:
            raise InvalidInput("pledge_decided", status=pledge.status.value, receipt=pledge.receipt)
        pledge.status = PledgeStatus.CANCELLED
        pledge.decided_at = now
        pledge.decided_by = user_id
        session.add(pledge)
        await session.flush()
        await outbox.withdraw(session, [reminder_key(pledge_id)])
        audit.record(
            session,
            actor_id=user_id,
            action="pledge.withdrawn",
            station_id=pledge.station_id,
            subject_type="pledge",
            subject_id=pledge_id,
            receipt=pledge.receipt,
            amount_fen=pledge.amount_fen,
        )
        view = await _one(session, pledge_id)
        assert view is not None
    return view


# --- the reminder -------------------------------------------------------------------


async def remind_open_pledges(
    *, sessionmaker: SessionMaker, settings: PledgeSettings, now: datetime | None = None
) -> int:
    """Periodic job (hourly): queue one reminder to the volunteer of each pledge open
    for more than PLEDGE_REMINDER_DAYS and not reminded yet, marking it reminded in
    the same transaction. Returns how many reminders were queued."""
    now = now or utcnow()
    cutoff = now - timedelta(days=settings.pledge_reminder_days)
    queued = 0
    while True:
        async with sessionmaker() as session, write_transaction(session):
            query = (
                select(Pledge, Volunteer.user_id)
                .join(Volunteer, col(Volunteer.id) == col(Pledge.volunteer_id))
                .where(
                    col(Pledge.status) == PledgeStatus.OPEN,
                    col(Pledge.reminded_at).is_(None),
                    col(Pledge.created_at) <= cutoff,
                    col(Volunteer.user_id).is_not(None),
                )
                .order_by(col(Pledge.id))
                .limit(_REMINDER_BATCH)
                .with_for_update(of=Pledge, skip_locked=True)
            )
            rows = (await session.exec(query)).all()
            if not rows:
                break
            messages = []
            for pledge, user_id in rows:
                assert pledge.id is not None and user_id is not None
                messages.append(
                    Message(
                        user_id=user_id,
                        kind=REMINDER,
                        key=reminder_key(pledge.id),
                        payload={"pledge_id": pledge.id, "tz": settings.timezone},
                        priority=outbox.REMINDER,
                        station_id=pledge.station_id,
                    )
                )
            queued += await outbox.enqueue(session, messages)
            ids = [pledge.id for pledge, _user in rows]
            await session.exec(
                update(Pledge).where(col(Pledge.id).in_(ids)).values(reminded_at=now)
            )
        if len(rows) < _REMINDER_BATCH:
            break
    return queued


async def reminder_view(session: AsyncSession, pledge_id: int) -> PledgeView | None:
    """The pledge a reminder is about, or None when it is no longer open (or its
    volunteer erased)."""
    view = await _one(session, pledge_id)
    if view is None or view.pledge.status is not PledgeStatus.OPEN or view.user_id is None:
        return None
    return view
