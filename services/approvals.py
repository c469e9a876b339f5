"""Volunteers waiting for their station's approval, the notice that tells staff of
each (outbox kind ``approval_needed``), and the staff's decision."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, audit, outbox, stations
from services.access import GRANTS, Actor, Permission
from services.errors import InvalidInput, NotAllowed, NotFound
from services.outbox import Message
from storage import queries
from storage.db import write_transaction
from storage.models import Station, Volunteer, VolunteerStatus
from storage.types import utcnow

# The volunteer's note of the decision (rendered in handlers/staff/approvals.py):
# {"volunteer_id", "status"}.
DECIDED = "registration_decided"
# Outbox kind of the notice to staff that a volunteer waits for their approval; one
# per volunteer and recipient (``notice_key``), rendered when it is sent.
APPROVAL_NEEDED = "approval_needed"


def notice_key(volunteer_id: int, user_id: int) -> str:
    return f"approval:{volunteer_id}:{user_id}"


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
    actor: Actor,
    offset: int = 0,
    limit: int = 5,
) -> PendingPage:
    """Pending volunteers whose home station the actor may approve for, oldest first.
    Raises NotAllowed when the actor may approve nowhere."""
    where = await access.stations_where(
        session, actor=actor, permission=Permission.APPROVE_VOLUNTEERS
    )
    if not where and not actor.is_admin:
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
    actor: Actor,
    volunteer_id: int,
    approve: bool,
) -> Decision:
    """Approve or decline a pending volunteer, who is told in the same transaction.
    Raises NotFound('volunteer_not_found'), NotAllowed, or
    InvalidInput('already_decided', status=...) when someone was quicker."""
    async with write_transaction(session):
        await access.require_somewhere(
            session,
            actor=actor,
            permission=Permission.APPROVE_VOLUNTEERS,
        )
        volunteer = await queries.get_volunteer_for_update(session, volunteer_id)
        if volunteer is None or volunteer.erased_at is not None:
            raise NotFound("volunteer_not_found")
        await access.require(
            session,
            actor=actor,
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
            actor_id=actor.id,
            action="volunteer.approved" if approve else "volunteer.declined",
            station_id=volunteer.station_id,
            subject_type="volunteer",
            subject_id=volunteer.id,
        )
        if volunteer.user_id is not None:
            status = volunteer.status.value
            note = Message(
                user_id=volunteer.user_id,
                kind=DECIDED,
                key=f"decided:{volunteer.id}:{status}",
                urgent=True,  # a one-to-one note, sent at any hour
                payload={"volunteer_id": volunteer.id, "status": status},
                station_id=volunteer.station_id,
            )
            await outbox.enqueue(session, [note])
    return Decision(volunteer=volunteer, station=station, status=volunteer.status)


async def decided_view(session: AsyncSession, volunteer_id: int) -> Decision | None:
    """A decision as it stands now, for the volunteer's note; None once they erased
    their data."""
    volunteer = await session.get(Volunteer, volunteer_id, populate_existing=True)
    if volunteer is None or volunteer.erased_at is not None:
        return None
    station = await queries.get_station(session, volunteer.station_id)
    return Decision(volunteer=volunteer, station=station, status=volunteer.status)


# --- telling staff ------------------------------------------------------------------


async def approvers(
    session: AsyncSession, station_id: int, admin_ids: Collection[int] = ()
) -> list[int]:
    """Who is asked to approve a volunteer of ``station_id``: the staff and coordinators
    of that station, else of the nearest station above it that has any, else the
    admins."""
    chain = (await stations.tree(session)).ancestors_and_self(station_id)
    kinds = sorted(GRANTS[Permission.APPROVE_VOLUNTEERS])
    holders = await queries.role_holders(session, chain, kinds)
    for member in chain:
        if member in holders:
            return holders[member]
    return sorted(admin_ids)


async def ask_approvers(
    session: AsyncSession, volunteer: Volunteer, admin_ids: Collection[int] = ()
) -> int:
    """Queue the notice of a volunteer waiting for approval to each of ``approvers``,
    once per volunteer and recipient. Call inside the registration's write
    transaction. Returns how many notices were new."""
    assert volunteer.id is not None
    recipients = await approvers(session, volunteer.station_id, admin_ids)
    return await outbox.enqueue(
        session,
        [
            outbox.Message(
                user_id=user_id,
                kind=APPROVAL_NEEDED,
                key=notice_key(volunteer.id, user_id),
                payload={"volunteer": volunteer.id, "station": volunteer.station_id},
                urgent=False,  # waits for the morning in quiet hours
                priority=outbox.NOTICE,
                station_id=volunteer.station_id,
            )
            for user_id in recipients
        ],
    )


async def still_waiting(session: AsyncSession, payload: dict[str, object]) -> Volunteer | None:
    """The volunteer a queued notice is about, while they still wait for approval at
    the station it was meant for; None once decided, erased or moved elsewhere."""
    volunteer = await session.get(Volunteer, int(str(payload["volunteer"])))
    if (
        volunteer is None
        or volunteer.erased_at is not None
        or volunteer.status is not VolunteerStatus.PENDING
        or volunteer.station_id != int(str(payload["station"]))
    ):
        return None
    return volunteer
