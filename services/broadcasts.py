"""Broadcasts: staff write to the volunteers of a station and every station under it,
optionally only those with chosen skills; or announce a published activity the same
way. One Broadcast row and one outbox row per recipient are written in one
transaction; the deliverer sends them at the paced rate, and the progress is read
back from the outbox."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, audit, outbox, stations, volunteers
from services.access import Permission
from services.errors import InvalidInput, NotFound
from services.outbox import Message
from storage import queries
from storage.db import write_transaction
from storage.models import (
    Activity,
    ActivityStatus,
    Broadcast,
    OutboxState,
    Station,
    User,
    Volunteer,
    VolunteerStatus,
)
from storage.types import utcnow

KIND = "broadcast"
# The final report to the sender when there is no progress message left to edit
# (rendered in handlers/broadcast.py): {"broadcast_id"}.
REPORT = "broadcast_report"
TEXT_MAX = 3500
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def key(broadcast_id: int, user_id: int) -> str:
    return f"bc:{broadcast_id}:{user_id}"


@dataclass(frozen=True)
class Recipient:
    user_id: int
    station_id: int  # their home station: its time zone decides the quiet hours


@dataclass(frozen=True)
class Created:
    broadcast: Broadcast
    new: bool  # False: it had been created already (a double tap, a replayed button)


@dataclass(frozen=True)
class Progress:
    broadcast: Broadcast
    sent: int
    blocked: int  # skipped: the recipient blocked the bot or deleted their account
    failed: int  # Telegram refused it, or retries ran out
    withdrawn: int  # no longer wanted when its turn came (a cancelled activity, say)
    waiting: int  # pending or being sent

    @property
    def not_delivered(self) -> int:
        return self.blocked + self.failed + self.withdrawn

    @property
    def done(self) -> bool:
        return self.waiting == 0


# --- checking what the sender gives -------------------------------------------------


def clean_text(text: str) -> str:
    """The message as typed: control characters out, line breaks kept, at most one
    blank line in a row, 1 to TEXT_MAX characters."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_CONTROL.sub(" ", line).rstrip() for line in text.split("\n")]
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if not cleaned:
        raise InvalidInput("text_empty")
    if len(cleaned) > TEXT_MAX:
        raise InvalidInput("text_too_long", max=TEXT_MAX, length=len(cleaned))
    return cleaned


def check_skills(codes: Sequence[str]) -> list[str]:
    """Known skill codes in their canonical order; raises on an unknown one."""
    return volunteers.check_skills(list(codes))


# --- who may send, and to whom ------------------------------------------------------


async def sendable_stations(
    session: AsyncSession, *, user_id: int, admin_ids: Collection[int]
) -> list[Station]:
    """Every station the user may broadcast to now, tree order."""
    return await access.stations_where(
        session, user_id=user_id, admin_ids=admin_ids, permission=Permission.BROADCAST
    )


async def require(
    session: AsyncSession, *, user_id: int, admin_ids: Collection[int], station_id: int
) -> None:
    """NotAllowed unless the user may broadcast to the station now; NotFound when the
    station is gone (told only to those who may broadcast somewhere)."""
    await require_somewhere(session, user_id=user_id, admin_ids=admin_ids)
    if await queries.get_station(session, station_id) is None:
        raise NotFound("station_not_found")
    await access.require(
        session,
        user_id=user_id,
        admin_ids=admin_ids,
        permission=Permission.BROADCAST,
        station_id=station_id,
    )


async def require_somewhere(
    session: AsyncSession, *, user_id: int, admin_ids: Collection[int]
) -> None:
    """Before anything is looked up by id: see ``access.require_somewhere``."""
    await access.require_somewhere(
        session, user_id=user_id, admin_ids=admin_ids, permission=Permission.BROADCAST
    )


async def recipients(
    session: AsyncSession, *, station_id: int, skills: Sequence[str] = ()
) -> list[Recipient]:
    """Active, not erased volunteers with a Telegram account whose home station is the
    station or under it; with ``skills``, only those having at least one of them."""
    tree = await stations.tree(session)
    if station_id not in tree.stations:
        raise NotFound("station_not_found")
    subtree = tree.subtree(station_id)
    wanted = set(skills)
    found: list[Recipient] = []
    for start in range(0, len(subtree), 500):
        chunk = subtree[start : start + 500]
        query = (
            select(Volunteer.user_id, Volunteer.station_id, Volunteer.skills)
            .where(
                col(Volunteer.station_id).in_(chunk),
                Volunteer.status == VolunteerStatus.ACTIVE,
                col(Volunteer.erased_at).is_(None),
                col(Volunteer.user_id).is_not(None),
            )
            .order_by(col(Volunteer.id))
        )
        for user_id, home, their_skills in (await session.exec(query)).all():
            if user_id is None:
                continue
            if wanted and not wanted.intersection(their_skills or ()):
                continue
            found.append(Recipient(int(user_id), home))
    return found


async def count_recipients(
    session: AsyncSession, *, station_id: int, skills: Sequence[str] = ()
) -> int:
    return len(await recipients(session, station_id=station_id, skills=skills))


# --- creating -----------------------------------------------------------------------


async def _lock_sender(session: AsyncSession, user_id: int) -> None:
    """Serialise one sender's broadcasts (PostgreSQL; SQLite's BEGIN IMMEDIATE already
    does), so that two taps on Send cannot both find nothing and both create."""
    await session.exec(select(User.id).where(User.id == user_id).with_for_update())


async def _queue(session: AsyncSession, broadcast: Broadcast, found: list[Recipient]) -> int:
    assert broadcast.id is not None
    return await outbox.enqueue(
        session,
        [
            Message(
                user_id=r.user_id,
                kind=KIND,
                key=key(broadcast.id, r.user_id),
                payload={"broadcast_id": broadcast.id},
                urgent=False,
                priority=outbox.BULK,
                station_id=r.station_id,
                broadcast_id=broadcast.id,
            )
            for r in found
        ],
    )


async def create(
    session: AsyncSession,
    *,
    actor_id: int,
    admin_ids: Collection[int],
    station_id: int,
    skills: Sequence[str],
    text: str,
    since: datetime,
    now: datetime | None = None,
) -> Created:
    """Create the broadcast and queue it for every recipient, in one transaction.
    ``since`` is when the sender's dialog began: a broadcast of theirs with the same
    station, skills and text created since then is that dialog's, and is returned
    instead of a second one. Raises InvalidInput('no_recipients') when nobody would
    get it (nothing is created), NotAllowed, NotFound."""
    text = clean_text(text)
    chosen = check_skills(skills)
    now = now or utcnow()
    async with write_transaction(session):
        await require(session, user_id=actor_id, admin_ids=admin_ids, station_id=station_id)
        await _lock_sender(session, actor_id)
        earlier = await session.exec(
            select(Broadcast)
            .where(
                Broadcast.created_by == actor_id,
                Broadcast.station_id == station_id,
                col(Broadcast.activity_id).is_(None),
                col(Broadcast.created_at) >= since,
            )
            .order_by(col(Broadcast.id))
        )
        for old in earlier.all():
            if old.text == text and list(old.skills or []) == chosen:
                return Created(old, new=False)
        found = await recipients(session, station_id=station_id, skills=chosen)
        if not found:
            raise InvalidInput("no_recipients")
        broadcast = Broadcast(
            station_id=station_id,
            subtree=True,
            skills=chosen,
            text=text,
            created_by=actor_id,
            total=len(found),
            created_at=now,
        )
        session.add(broadcast)
        await session.flush()
        await _queue(session, broadcast, found)
        audit.record(
            session,
            actor_id=actor_id,
            action="broadcast.created",
            station_id=station_id,
            subject_type="broadcast",
            subject_id=broadcast.id,
            recipients=len(found),
            skills=chosen,
        )
    return Created(broadcast, new=True)


async def announcement_audience(
    session: AsyncSession, *, actor_id: int, admin_ids: Collection[int], activity_id: int
) -> tuple[Activity, int]:
    """The activity to announce and how many volunteers would get it, after the same
    checks ``announce`` makes."""
    await require_somewhere(session, user_id=actor_id, admin_ids=admin_ids)
    activity = await queries.get_activity(session, activity_id)
    if activity is None:
        raise NotFound("activity_not_found")
    await require(session, user_id=actor_id, admin_ids=admin_ids, station_id=activity.station_id)
    _check_announceable(activity, utcnow())
    return activity, await count_recipients(session, station_id=activity.station_id)


def _check_announceable(activity: Activity, now: datetime) -> None:
    if activity.status is not ActivityStatus.PUBLISHED:
        raise InvalidInput("activity_cancelled")
    if activity.starts_at <= now:
        raise InvalidInput("activity_started")


async def announce(
    session: AsyncSession,
    *,
    actor_id: int,
    admin_ids: Collection[int],
    activity_id: int,
    now: datetime | None = None,
) -> Created:
    """Announce a published activity to the volunteers of its station and every
    station under it; each gets the activity's card in their language, with a Join
    button. An activity is announced once: asking again returns the first."""
    now = now or utcnow()
    async with write_transaction(session):
        await require_somewhere(session, user_id=actor_id, admin_ids=admin_ids)
        activity = await queries.lock_activity(session, activity_id)
        if activity is None or activity.id is None:
            raise NotFound("activity_not_found")
        await require(
            session, user_id=actor_id, admin_ids=admin_ids, station_id=activity.station_id
        )
        earlier = await session.exec(
            select(Broadcast).where(Broadcast.activity_id == activity.id).limit(1)
        )
        old = earlier.first()
        if old is not None:
            return Created(old, new=False)
        _check_announceable(activity, now)
        found = await recipients(session, station_id=activity.station_id)
        if not found:
            raise InvalidInput("no_recipients")
        broadcast = Broadcast(
            station_id=activity.station_id,
            subtree=True,
            skills=[],
            text=activity.title,
            activity_id=activity.id,
            created_by=actor_id,
            total=len(found),
            created_at=now,
        )
        session.add(broadcast)
        await session.flush()
        await _queue(session, broadcast, found)
        audit.record(
            session,
            actor_id=actor_id,
            action="broadcast.announced",
            station_id=activity.station_id,
            subject_type="broadcast",
            subject_id=broadcast.id,
            activity_id=activity.id,
            recipients=len(found),
        )
    return Created(broadcast, new=True)


# --- progress -----------------------------------------------------------------------


async def get(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    return await session.get(Broadcast, broadcast_id)


async def set_progress_message(
    session: AsyncSession, *, broadcast_id: int, chat_id: int, message_id: int
) -> None:
    """Where the sender's progress message is, to edit it as the broadcast goes."""
    async with write_transaction(session):
        await session.exec(
            update(Broadcast)
            .where(col(Broadcast.id) == broadcast_id)
            .values(progress_chat_id=chat_id, progress_message_id=message_id)
        )


async def unfinished(session: AsyncSession) -> Sequence[Broadcast]:
    query = (
        select(Broadcast).where(col(Broadcast.finished_at).is_(None)).order_by(col(Broadcast.id))
    )
    return (await session.exec(query.execution_options(populate_existing=True))).all()


async def progress(session: AsyncSession, broadcast: Broadcast) -> Progress:
    assert broadcast.id is not None
    counts = await outbox.counts(session, broadcast.id)
    return Progress(
        broadcast=broadcast,
        sent=counts.get(OutboxState.SENT, 0),
        blocked=counts.get(OutboxState.SKIPPED, 0),
        failed=counts.get(OutboxState.FAILED, 0),
        withdrawn=counts.get(OutboxState.WITHDRAWN, 0),
        waiting=counts.get(OutboxState.PENDING, 0) + counts.get(OutboxState.SENDING, 0),
    )


async def finish(
    session: AsyncSession,
    broadcast_id: int,
    now: datetime | None = None,
    *,
    report_to: int | None = None,
) -> bool:
    """Mark the broadcast finished; False if it already was (reported once).
    ``report_to``: queue the final report to them in the same transaction (when the
    progress message could not be edited into it)."""
    async with write_transaction(session):
        result = await session.exec(
            update(Broadcast)
            .where(col(Broadcast.id) == broadcast_id, col(Broadcast.finished_at).is_(None))
            .values(finished_at=now or utcnow())
        )
        finished = bool(result.rowcount)
        if finished and report_to is not None:
            report = Message(
                user_id=report_to,
                kind=REPORT,
                key=f"bc-report:{broadcast_id}",
                urgent=True,  # the sender waits for it
                payload={"broadcast_id": broadcast_id},
            )
            await outbox.enqueue(session, [report])
    return finished


async def announced_activity(session: AsyncSession, broadcast: Broadcast) -> Activity | None:
    if broadcast.activity_id is None:
        return None
    return await queries.get_activity(session, broadcast.activity_id)
