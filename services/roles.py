"""Roles per station: staff and coordinators, inherited down the tree."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.errors import InvalidInput, NotFound
from storage import queries
from storage.db import write_transaction
from storage.models import Role, RoleKind


async def grant(
    session: AsyncSession, *, user_id: int, role: str, station_code: str, actor_id: int | None
) -> tuple[Role, bool]:
    """Grant a role; returns the role and whether it is new. Idempotent."""
    try:
        kind = RoleKind(role)
    except ValueError:
        raise InvalidInput("role_unknown", role=role) from None
    async with write_transaction(session):
        station = await queries.get_station_by_code(session, station_code)
        if station is None or station.id is None:
            raise NotFound("station_not_found", station=station_code)
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
