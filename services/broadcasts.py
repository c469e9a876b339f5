"""Broadcasts: staff write to the volunteers of a station and every station under it,
optionally only those with chosen skills. One Broadcast row and one outbox row per
recipient are written in one transaction; the deliverer sends them at the paced rate
(``services.broadcast_progress`` reads the progress back). Announcing a published
activity the same way is ``services.announcements``."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, audit, outbox, stations, volunteers
from services.access import Actor, Permission
from services.errors import InvalidInput, NotFound
from storage import queries
from storage.db import write_transaction
from storage.models import Broadcast
from storage.queries import broadcasts as broadcast_queries
from storage.types import utcnow

KIND = "broadcast"
TEXT_MAX = 3500
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def key_prefix(broadcast_id: int) -> str:
    return f"bc:{broadcast_id}:"


def key(broadcast_id: int, user_id: int) -> str:
    return f"{key_prefix(broadcast_id)}{user_id}"


@dataclass(frozen=True)
class Recipient:
    user_id: int
    station_id: int  # their home station: its time zone decides the quiet hours


@dataclass(frozen=True)
class Created:
    broadcast: Broadcast
    new: bool  # False: it had been created already (a double tap, a replayed button)


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


async def require(session: AsyncSession, *, actor: Actor, station_id: int) -> None:
    """NotAllowed unless the actor may broadcast to the station now; NotFound when the
    station is gone (told only to those who may broadcast somewhere)."""
    await require_somewhere(session, actor=actor)
    if await queries.get_station(session, station_id) is None:
        raise NotFound("station_not_found")
    await access.require(
        session, actor=actor, permission=Permission.BROADCAST, station_id=station_id
    )


async def require_somewhere(session: AsyncSession, *, actor: Actor) -> None:
    """Before anything is looked up by id: see ``access.require_somewhere``."""
    await access.require_somewhere(session, actor=actor, permission=Permission.BROADCAST)


async def recipients(
    session: AsyncSession, *, station_id: int, skills: Sequence[str] = ()
) -> list[Recipient]:
    """Active, not erased volunteers with a Telegram account whose home station is the
    station or under it; with ``skills``, only those having at least one of them."""
    tree = await stations.tree(session)
    if station_id not in tree.stations:
        raise NotFound("station_not_found")
    wanted = set(skills)
    return [
        Recipient(user_id, home)
        for user_id, home, theirs in await broadcast_queries.active_volunteers_at(
            session, tree.subtree(station_id)
        )
        if not wanted or wanted.intersection(theirs)
    ]


async def count_recipients(
    session: AsyncSession, *, station_id: int, skills: Sequence[str] = ()
) -> int:
    """How many ``recipients`` there are, counted by the database."""
    tree = await stations.tree(session)
    if station_id not in tree.stations:
        raise NotFound("station_not_found")
    return await broadcast_queries.count_active_volunteers_at(
        session, tree.subtree(station_id), list(skills)
    )


# --- creating -----------------------------------------------------------------------


async def open_broadcast(
    session: AsyncSession,
    *,
    actor: Actor,
    station_id: int,
    text: str,
    now: datetime,
    skills: Sequence[str] = (),
    activity_id: int | None = None,
) -> Broadcast:
    """The Broadcast row and one outbox row per recipient (see ``recipients``), in the
    caller's transaction; the rows are written by the database in one statement per
    chunk of stations, not built here one by one. Raises InvalidInput('no_recipients')
    when nobody would get it: the caller's transaction must then be rolled back (a
    ``write_transaction`` does so)."""
    tree = await stations.tree(session)
    if station_id not in tree.stations:
        raise NotFound("station_not_found")
    broadcast = Broadcast(
        station_id=station_id,
        subtree=True,
        skills=list(skills),
        text=text,
        activity_id=activity_id,
        created_by=actor.id,
        total=0,
        created_at=now,
    )
    session.add(broadcast)
    await session.flush()
    assert broadcast.id is not None
    queued = await broadcast_queries.queue_to_volunteers_at(
        session,
        station_ids=tree.subtree(station_id),
        skills=list(skills),
        key_prefix=key_prefix(broadcast.id),
        kind=KIND,
        payload={"broadcast_id": broadcast.id},
        urgent=False,
        priority=outbox.BULK,
        broadcast_id=broadcast.id,
        now=utcnow(),  # queued now, whatever time the broadcast is dated
    )
    if not queued:
        raise InvalidInput("no_recipients")
    broadcast.total = queued
    await session.flush()
    return broadcast


async def create(
    session: AsyncSession,
    *,
    actor: Actor,
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
        await require(session, actor=actor, station_id=station_id)
        # One sender's broadcasts one at a time, so that two taps on Send cannot both
        # find nothing and both create.
        await broadcast_queries.lock_sender(session, actor.id)
        earlier = await broadcast_queries.broadcasts_since(
            session, created_by=actor.id, station_id=station_id, since=since
        )
        for old in earlier:
            if old.text == text and list(old.skills or []) == chosen:
                return Created(old, new=False)
        broadcast = await open_broadcast(
            session,
            actor=actor,
            station_id=station_id,
            text=text,
            skills=chosen,
            now=now,
        )
        audit.record(
            session,
            actor_id=actor.id,
            action="broadcast.created",
            station_id=station_id,
            subject_type="broadcast",
            subject_id=broadcast.id,
            recipients=broadcast.total,
            skills=chosen,
        )
    return Created(broadcast, new=True)
