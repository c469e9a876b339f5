"""Roles per station: staff and coordinators, inherited down the tree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, audit, outbox
from services.access import Actor, Permission
from services.errors import InvalidInput, NotFound
from services.outbox import Message
from storage import queries
from storage.db import write_transaction
from storage.models import Role, RoleKind, Station

# The note to someone whose role was taken away (rendered in handlers/staff/team.py):
# {"role", "station_id"}.
REVOKED = "role_revoked"


@dataclass(frozen=True)
class TeamMember:
    """One role on a station, with the holder's volunteer name where they have one."""

    role_id: int
    user_id: int
    role: RoleKind
    station_id: int
    granted_at: datetime
    name: str | None


async def grant(
    session: AsyncSession, *, user_id: int, role: str, station_code: str, actor_id: int | None
) -> tuple[Role, bool]:
    """Grant a role; returns the role and whether it is new. Idempotent."""
    kind = role_kind(role)
    async with write_transaction(session):
        station = await queries.get_station_by_code(session, station_code)
        if station is None or station.id is None:
            raise NotFound("station_not_found", station=station_code)
        return await grant_within(
            session, user_id=user_id, kind=kind, station=station, actor_id=actor_id
        )


async def held_by(session: AsyncSession, user_id: int) -> list[Role]:
    """The roles a person holds (for their own /help)."""
    return list(await queries.roles_of(session, user_id))


async def is_staff(session: AsyncSession, *, actor: Actor) -> bool:
    """Whether the person is an admin or holds a role (staff or coordinator) anywhere."""
    return actor.is_admin or bool(await queries.roles_of(session, actor.id))


def role_kind(role: str) -> RoleKind:
    try:
        return RoleKind(role)
    except ValueError:
        raise InvalidInput("role_unknown", role=role) from None


async def grant_within(
    session: AsyncSession, *, user_id: int, kind: RoleKind, station: Station, actor_id: int | None
) -> tuple[Role, bool]:
    """``grant`` inside a write transaction the caller holds (an invite being redeemed)."""
    assert station.id is not None
    existing = await queries.find_role(session, user_id, station.id, kind)
    if existing is not None:
        return existing, False
    granted = Role(user_id=user_id, station_id=station.id, role=kind, granted_by=actor_id)
    session.add(granted)
    await session.flush()
    audit.record(
        session,
        actor_id=actor_id,
        action="role.granted",
        station_id=station.id,
        subject_type="user",
        subject_id=user_id,
        role=kind.value,
    )
    return granted, True


async def team(session: AsyncSession, *, actor: Actor, station_id: int) -> list[TeamMember]:
    """Staff and coordinators of exactly this station, for someone who may manage it."""
    await access.require(
        session,
        actor=actor,
        permission=Permission.MANAGE_TEAM,
        station_id=station_id,
    )
    return [
        _member(role, name) for role, name in await queries.team_of_station(session, station_id)
    ]


async def member(session: AsyncSession, *, actor: Actor, role_id: int) -> TeamMember:
    """One role, for someone who may manage its station (to confirm a revocation)."""
    await access.require_somewhere(session, actor=actor, permission=Permission.MANAGE_TEAM)
    role = await queries.get_role(session, role_id)
    if role is None:
        raise NotFound("role_not_found")
    await access.require(
        session,
        actor=actor,
        permission=Permission.MANAGE_TEAM,
        station_id=role.station_id,
    )
    for held, name in await queries.team_of_station(session, role.station_id):
        if held.id == role_id:
            return _member(held, name)
    raise NotFound("role_not_found")


async def revoke(session: AsyncSession, *, actor: Actor, role_id: int) -> TeamMember:
    """Take a role away; the permission is checked in the same transaction, and the
    former holder is told (unless they took it from themselves)."""
    async with write_transaction(session):
        await access.require_somewhere(session, actor=actor, permission=Permission.MANAGE_TEAM)
        role = await queries.get_role(session, role_id)
        if role is None:
            raise NotFound("role_not_found")
        await access.require(
            session,
            actor=actor,
            permission=Permission.MANAGE_TEAM,
            station_id=role.station_id,
        )
        gone = _member(role, None)
        await session.delete(role)
        audit.record(
            session,
            actor_id=actor.id,
            action="role.revoked",
            station_id=role.station_id,
            subject_type="user",
            subject_id=role.user_id,
            role=role.role.value,
        )
        if role.user_id != actor.id:
            note = Message(
                user_id=role.user_id,
                kind=REVOKED,
                key=f"revoked:{role.id}",
                urgent=True,  # a one-to-one note, sent at any hour
                payload={"role": role.role.value, "station_id": role.station_id},
                station_id=role.station_id,
            )
            await outbox.enqueue(session, [note])
    return gone


def _member(role: Role, name: str | None) -> TeamMember:
    assert role.id is not None
    return TeamMember(
        role_id=role.id,
        user_id=role.user_id,
        role=role.role,
        station_id=role.station_id,
        granted_at=role.granted_at,
        name=name,
    )
