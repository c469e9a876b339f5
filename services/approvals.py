"""Volunteers waiting for their station's approval, and the staff's decision."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, audit
from services.access import Permission
from services.errors import InvalidInput, NotAllowed, NotFound
from storage import queries
from storage.db import write_transaction
from storage.models import Station, Volunteer, VolunteerStatus
from storage.types import utcnow


@dataclass(frozen=True)
class PendingPage:
    volunteers: Sequence[Volunteer]
    total: int
    offset: int
    stations: dict[int, Station]


@dataclass(frozen=True)
class Decision:
    volunteer: Volunteer
    station: Station | None
    status: VolunteerStatus


async def pending(
    session: AsyncSession,
    *,
    actor_id: int,
    admin_ids: Collection[int],
    offset: int = 0,
    limit: int = 5,
) -> PendingPage:
    """Pending volunteers whose home station the actor may approve for, oldest first.
    Raises NotAllowed when the actor may approve nowhere."""
    where = await access.stations_where(
        session, user_id=actor_id, admin_ids=admin_ids, permission=Permission.APPROVE_VOLUNTEERS
    )
    if not where and actor_id not in admin_ids:
        raise NotAllowed("not_allowed", permission=Permission.APPROVE_VOLUNTEERS.value)
    ids = [s.id for s in where if s.id is not None]
    total = await queries.count_pending_volunteers(session, ids) if ids else 0
    offset = max(0, min(offset, max(0, total - 1) // limit * limit))
    rows = await queries.pending_volunteers(session, ids, offset=offset, limit=limit) if ids else []
    return PendingPage(
        volunteers=rows, total=total, offset=offset, stations={s.id: s for s in where if s.id}
    )


async def decide(
    session: AsyncSession,
    *,
    actor_id: int,
    admin_ids: Collection[int],
    volunteer_id: int,
    approve: bool,
) -> Decision:
    """Approve or decline a pending volunteer. Raises NotFound('volunteer_not_found'),
    NotAllowed, or InvalidInput('already_decided', status=...) when someone was quicker."""
    async with write_transaction(session):
        await access.require_somewhere(
            session,
            user_id=actor_id,
            admin_ids=admin_ids,
            permission=Permission.APPROVE_VOLUNTEERS,
        )
        volunteer = await queries.get_volunteer_for_update(session, volunteer_id)
        if volunteer is None or volunteer.erased_at is not None:
            raise NotFound("volunteer_not_found")
        await access.require(
            session,
            user_id=actor_id,
            admin_ids=admin_ids,
            permission=Permission.APPROVE_VOLUNTEERS,
            station_id=volunteer.station_id,
        )
        if volunteer.status is not VolunteerStatus.PENDING:
            raise InvalidInput(
                "already_decided", status=volunteer.status.value, name=volunteer.real_name or ""
            )
        volunteer.status = VolunteerStatus.ACTIVE if approve else VolunteerStatus.DECLINED
        volunteer.updated_at = utcnow()
        session.add(volunteer)
        station = await queries.get_station(session, volunteer.station_id)
        audit.record(
            session,
            actor_id=actor_id,
            action="volunteer.approved" if approve else "volunteer.declined",
            station_id=volunteer.station_id,
            subject_type="volunteer",
            subject_id=volunteer.id,
        )
    return Decision(volunteer=volunteer, station=station, status=volunteer.status)
