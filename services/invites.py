"""One-time invitation links that grant a role on a station. Only a SHA-256 hash of
the token is stored; the link itself is shown once, to the person who made it."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, audit, outbox, roles
from services.access import Actor, Permission
from services.errors import InvalidInput, NotFound
from services.outbox import Message
from storage import queries
from storage.db import write_transaction
from storage.models import Invite, RoleKind, Station
from storage.types import utcnow

PREFIX = "inv_"  # the /start parameter: inv_<token>
VALID_FOR = timedelta(days=7)
TOKEN_BYTES = 16  # 22 URL-safe characters: inv_ and the token fit Telegram's 64
# The note to whoever made an invite that it was used (rendered in handlers/staff/invites.py):
# {"name": the new holder's Telegram name, "role", "station_id"}.
USED = "invite_used"


@dataclass(frozen=True)
class CreatedInvite:
    token: str  # shown once; never stored
    invite_id: int
    station_id: int
    role: RoleKind
    expires_at: datetime

    @property
    def start_parameter(self) -> str:
        return PREFIX + self.token


@dataclass(frozen=True)
class Redeemed:
    station: Station
    role: RoleKind
    new: bool  # False when the person already held this role
    invited_by: int | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create(
    session: AsyncSession,
    *,
    actor: Actor,
    station_id: int,
    role: str,
    now: datetime | None = None,
) -> CreatedInvite:
    """A new invite, for someone who may manage the station's team."""
    kind = roles.role_kind(role)
    now = now or utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    async with write_transaction(session):
        await access.require_somewhere(session, actor=actor, permission=Permission.MANAGE_TEAM)
        station = await queries.get_station(session, station_id)
        if station is None:
            raise NotFound("station_not_found")
        await access.require(
            session,
            actor=actor,
            permission=Permission.MANAGE_TEAM,
            station_id=station_id,
        )
        invite = Invite(
            token_hash=hash_token(token),
            station_id=station_id,
            role=kind,
            created_by=actor.id,
            created_at=now,
            expires_at=now + VALID_FOR,
        )
        session.add(invite)
        await session.flush()
        assert invite.id is not None
        audit.record(
            session,
            actor_id=actor.id,
            action="invite.created",
            station_id=station_id,
            subject_type="invite",
            subject_id=invite.id,
            role=kind.value,
            expires_at=invite.expires_at.isoformat(),
        )
    return CreatedInvite(token, invite.id, station_id, kind, invite.expires_at)


async def redeem(
    session: AsyncSession,
    *,
    token: str,
    user_id: int,
    name: str = "",
    now: datetime | None = None,
) -> Redeemed:
    """Use an invite: grant its role to ``user_id`` (whose Telegram name is ``name``)
    and mark it used, in one transaction; whoever made the invite is told. Raises
    NotFound('invite_unknown'), InvalidInput('invite_used') or
    InvalidInput('invite_expired'). Of two people racing on one link, one wins."""
    now = now or utcnow()
    token = token.removeprefix(PREFIX)
    async with write_transaction(session):
        invite = await queries.get_invite_by_hash(session, hash_token(token)) if token else None
        if invite is None or invite.id is None:
            raise NotFound("invite_unknown")
        if invite.used_at is not None:
            raise InvalidInput("invite_used")
        if invite.expires_at <= now:
            raise InvalidInput("invite_expired")
        if not await queries.claim_invite(session, invite.id, user_id=user_id, now=now):
            raise InvalidInput("invite_used")
        station = await queries.get_station(session, invite.station_id)
        if station is None:
            raise NotFound("station_not_found")
        _role, new = await roles.grant_within(
            session, user_id=user_id, kind=invite.role, station=station, actor_id=invite.created_by
        )
        audit.record(
            session,
            actor_id=user_id,
            action="invite.used",
            station_id=station.id,
            subject_type="invite",
            subject_id=invite.id,
            role=invite.role.value,
            new_role=new,
        )
        inviter = invite.created_by
        if new and inviter is not None and inviter != user_id:
            payload: dict[str, object] = {
                "name": name,
                "role": invite.role.value,
                "station_id": station.id,
            }
            note = Message(
                user_id=inviter,
                kind=USED,
                key=f"invite-used:{invite.id}",
                payload=payload,
                urgent=True,  # a one-to-one note, sent at any hour
            )
            await outbox.enqueue(session, [note])
    return Redeemed(station=station, role=invite.role, new=new, invited_by=invite.created_by)
