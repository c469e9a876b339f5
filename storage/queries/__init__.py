"""Plain queries over the tables. Nothing here commits; callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, inspect, or_, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import people_cache
from storage.models import (
    HOLDS_SEAT,
    Activity,
    ActivityStatus,
    Attendance,
    AuditLog,
    Certificate,
    DialogState,
    Invite,
    Outbox,
    Role,
    RoleKind,
    Signup,
    SignupStatus,
    Station,
    User,
    Volunteer,
    VolunteerStatus,
)
from storage.types import utcnow


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_user_with_volunteer(
    session: AsyncSession, user_id: int
) -> tuple[User | None, Volunteer | None]:
    """The user row and their volunteer profile; served from the engine's cache of
    them (storage.people_cache) when it holds them, as copies in ``session``."""
    sync = session.sync_session
    bind = sync.get_bind()
    cache = people_cache.of(bind.engine if isinstance(bind, Connection) else bind)
    generation = 0
    if cache is not None:
        # A session with changes of its own reads them from the database (autoflush),
        # and one that already holds the user returns what it holds, as a query would.
        clean = not (sync.new or sync.dirty or sync.deleted)
        if clean and identity_key(User, user_id) not in sync.identity_map:
            hit = cache.get(user_id)
            if hit is not None:
                user, volunteer = hit
                mine = people_cache.attach(sync, volunteer) if volunteer is not None else None
                _remember_volunteer(sync, user_id, mine)
                return people_cache.attach(sync, user), mine
        generation = cache.generation
    query = (
        select(User, Volunteer)
        .outerjoin(Volunteer, col(Volunteer.user_id) == col(User.id))
        .where(User.id == user_id)
    )
    row = (await session.exec(query)).first()
    if row is None:
        return None, None
    if cache is not None:
        cache.put(generation, user_id, row[0], row[1])
    _remember_volunteer(sync, user_id, row[1])
    return row[0], row[1]


# session.info: user id -> id of their volunteer row, for the volunteers this session
# has loaded by their user (the person behind the update, loaded by the middleware).
_VOLUNTEER_OF = "volunteer_of_user"


def _remember_volunteer(sync: Session, user_id: int, volunteer: Volunteer | None) -> None:
    if volunteer is not None:
        sync.info.setdefault(_VOLUNTEER_OF, {})[user_id] = volunteer.id


async def get_volunteer_by_user(session: AsyncSession, user_id: int) -> Volunteer | None:
    """The user's volunteer profile. The one this session already holds (loaded with
    the user behind the update) is returned without a query, as the query would
    return that same object; a session with unflushed changes asks the database."""
    sync = session.sync_session
    known = sync.info.get(_VOLUNTEER_OF, {}).get(user_id)
    if known is not None and not (sync.new or sync.dirty or sync.deleted):
        held = sync.identity_map.get(identity_key(Volunteer, known))
        # Expired (after a rollback) it would load lazily: the query refreshes it.
        if isinstance(held, Volunteer) and not inspect(held).expired_attributes:
            return held
    result = await session.exec(select(Volunteer).where(Volunteer.user_id == user_id))
    return result.first()


async def get_station(session: AsyncSession, station_id: int) -> Station | None:
    return await session.get(Station, station_id)


async def get_station_by_code(session: AsyncSession, code: str) -> Station | None:
    result = await session.exec(select(Station).where(Station.code == code))
    return result.first()


async def all_stations(session: AsyncSession) -> Sequence[Station]:
    return (await session.exec(select(Station).order_by(col(Station.code)))).all()


async def roles_of(session: AsyncSession, user_id: int) -> Sequence[Role]:
    return (await session.exec(select(Role).where(Role.user_id == user_id))).all()


async def find_role(
    session: AsyncSession, user_id: int, station_id: int, kind: RoleKind
) -> Role | None:
    query = select(Role).where(
        Role.user_id == user_id, Role.station_id == station_id, Role.role == kind
    )
    return (await session.exec(query)).first()


async def audit_entries_about(session: AsyncSession, user_id: int) -> Sequence[AuditLog]:
    query = select(AuditLog).where(AuditLog.actor_id == user_id).order_by(col(AuditLog.id))
    return (await session.exec(query)).all()


async def forget_actor(session: AsyncSession, user_id: int) -> None:
    await session.exec(
        update(AuditLog).where(col(AuditLog.actor_id) == user_id).values(actor_id=None)
    )


async def delete_roles_of(session: AsyncSession, user_id: int) -> None:
    await session.exec(delete(Role).where(col(Role.user_id) == user_id))


async def delete_dialogs_of(session: AsyncSession, user_id: int) -> None:
    """Dialog keys embed the user id as ``...:<chat>:<user>...``; see bot.fsm_storage."""
    pattern = f"%:{user_id}:{user_id}%"
    await session.exec(delete(DialogState).where(col(DialogState.key).like(pattern)))


async def load_dialog(session: AsyncSession, key: str) -> DialogState | None:
    return await session.get(DialogState, key)


async def save_dialog(
    session: AsyncSession, key: str, *, state: Any = ..., data: Any = ...
) -> DialogState | None:
    """Set the state and/or data of one dialog; returns the row, or None once empty."""
    row = await session.get(DialogState, key)
    if row is None:
        row = DialogState(key=key)
    if state is not ...:
        row.state = state
    if data is not ...:
        row.data = data
    row.updated_at = utcnow()
    empty = row.state is None and not row.data
    if empty:
        if inspect(row).persistent:
            await session.delete(row)
        return None
    session.add(row)
    return row


# --- activities and sign-ups -------------------------------------------------------


async def get_activity(session: AsyncSession, activity_id: int) -> Activity | None:
    return await session.get(Activity, activity_id)


async def lock_activity(session: AsyncSession, activity_id: int) -> Activity | None:
    """The activity row, locked until the transaction ends (no-op lock on SQLite,
    where BEGIN IMMEDIATE already serialises writers)."""
    query = select(Activity).where(Activity.id == activity_id).with_for_update()
    result = await session.exec(query.execution_options(populate_existing=True))
    return result.first()


async def find_signup(session: AsyncSession, activity_id: int, volunteer_id: int) -> Signup | None:
    query = select(Signup).where(
        Signup.activity_id == activity_id, Signup.volunteer_id == volunteer_id
    )
    return (await session.exec(query.execution_options(populate_existing=True))).first()


async def checked_in_to(
    session: AsyncSession, volunteer_id: int, activity_ids: Sequence[int]
) -> set[int]:
    """Of ``activity_ids``, those the volunteer has checked in to."""
    if not activity_ids:
        return set()
    query = select(Attendance.activity_id).where(
        Attendance.volunteer_id == volunteer_id,
        col(Attendance.activity_id).in_(activity_ids),
        col(Attendance.checked_in_at).is_not(None),
    )
    return set((await session.exec(query)).all())


async def count_signups(
    session: AsyncSession, activity_id: int, statuses: Sequence[SignupStatus]
) -> int:
    query = select(func.count()).where(
        Signup.activity_id == activity_id, col(Signup.status).in_(statuses)
    )
    return (await session.exec(query)).one()


async def seat_counts(
    session: AsyncSession, activity_ids: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """Activity id -> (places held, people waiting) for several activities in one
    query; an activity nobody signed up for is (0, 0)."""
    counts = dict.fromkeys(activity_ids, (0, 0))
    if not activity_ids:
        return counts
    query = (
        select(Signup.activity_id, Signup.status, func.count())
        .where(
            col(Signup.activity_id).in_(activity_ids),
            col(Signup.status).in_((*HOLDS_SEAT, SignupStatus.WAITLISTED)),
        )
        .group_by(col(Signup.activity_id), col(Signup.status))
    )
    for activity_id, status, n in (await session.exec(query)).all():
        taken, waiting = counts[activity_id]
        if status == SignupStatus.WAITLISTED:
            counts[activity_id] = (taken, waiting + n)
        else:
            counts[activity_id] = (taken + n, waiting)
    return counts


async def waitlist_position(session: AsyncSession, signup: Signup) -> int:
    ahead = select(func.count()).where(
        Signup.activity_id == signup.activity_id,
        Signup.status == SignupStatus.WAITLISTED,
        or_(
            col(Signup.queued_at) < signup.queued_at,
            and_(col(Signup.queued_at) == signup.queued_at, col(Signup.id) < signup.id),
        ),
    )
    return (await session.exec(ahead)).one() + 1


async def first_waitlisted(session: AsyncSession, activity_id: int, limit: int) -> Sequence[Signup]:
    query = (
        select(Signup)
        .where(Signup.activity_id == activity_id, Signup.status == SignupStatus.WAITLISTED)
        .order_by(col(Signup.queued_at), col(Signup.id))
        .limit(limit)
    )
    return (await session.exec(query)).all()


async def overlapping_activities(
    session: AsyncSession,
    volunteer_id: int,
    starts_at: datetime,
    ends_at: datetime,
    statuses: Sequence[SignupStatus],
    *,
    exclude: int,
) -> Sequence[Activity]:
    query = (
        select(Activity)
        .join(Signup, col(Signup.activity_id) == col(Activity.id))
        .where(
            Signup.volunteer_id == volunteer_id,
            col(Signup.status).in_(statuses),
            Activity.status == ActivityStatus.PUBLISHED,
            col(Activity.id) != exclude,
            col(Activity.starts_at) < ends_at,
            col(Activity.ends_at) > starts_at,
        )
        .order_by(col(Activity.starts_at))
    )
    return (await session.exec(query)).all()


async def activities_with_lapsed_offers(session: AsyncSession, now: datetime) -> list[int]:
    query = (
        select(Signup.activity_id)
        .where(Signup.status == SignupStatus.OFFERED, col(Signup.offer_expires_at) <= now)
        .distinct()
    )
    return list((await session.exec(query)).all())


async def lapsed_offers(session: AsyncSession, activity_id: int, now: datetime) -> Sequence[Signup]:
    query = select(Signup).where(
        Signup.activity_id == activity_id,
        Signup.status == SignupStatus.OFFERED,
        col(Signup.offer_expires_at) <= now,
    )
    return (await session.exec(query.execution_options(populate_existing=True))).all()


async def upcoming_activities(
    session: AsyncSession, station_ids: Sequence[int], now: datetime, *, offset: int, limit: int
) -> tuple[Sequence[Activity], int]:
    where = (
        col(Activity.station_id).in_(station_ids),
        Activity.status == ActivityStatus.PUBLISHED,
        col(Activity.starts_at) > now,
    )
    total = (await session.exec(select(func.count()).where(*where))).one()
    query = (
        select(Activity)
        .where(*where)
        .order_by(col(Activity.starts_at), col(Activity.id))
        .offset(offset)
        .limit(limit)
    )
    return (await session.exec(query)).all(), total


async def signups_of_volunteer(
    session: AsyncSession, volunteer_id: int, now: datetime, statuses: Sequence[SignupStatus]
) -> list[tuple[Activity, Signup]]:
    query = (
        select(Activity, Signup)
        .join(Signup, col(Signup.activity_id) == col(Activity.id))
        .where(
            Signup.volunteer_id == volunteer_id,
            col(Signup.status).in_(statuses),
            Activity.status == ActivityStatus.PUBLISHED,
            col(Activity.ends_at) > now,
        )
        .order_by(col(Activity.starts_at))
    )
    return [(a, s) for a, s in (await session.exec(query)).all()]


async def staff_ids(session: AsyncSession, station_id: int) -> list[int]:
    """Telegram ids of the staff of one station."""
    query = select(Role.user_id).where(Role.station_id == station_id, Role.role == RoleKind.STAFF)
    return sorted(set((await session.exec(query)).all()))


async def role_holders(
    session: AsyncSession, station_ids: Sequence[int], kinds: Sequence[RoleKind]
) -> dict[int, list[int]]:
    """Telegram ids holding one of ``kinds`` on each of ``station_ids`` (stations with
    none left out), each list sorted."""
    if not station_ids or not kinds:
        return {}
    query = select(Role.station_id, Role.user_id).where(
        col(Role.station_id).in_(station_ids), col(Role.role).in_(kinds)
    )
    found: dict[int, set[int]] = {}
    for station_id, user_id in (await session.exec(query)).all():
        found.setdefault(station_id, set()).add(user_id)
    return {station_id: sorted(ids) for station_id, ids in found.items()}


# --- Invites, the team of a station, and volunteers waiting for approval ---


async def get_invite_by_hash(session: AsyncSession, token_hash: str) -> Invite | None:
    return (await session.exec(select(Invite).where(Invite.token_hash == token_hash))).first()


async def claim_invite(
    session: AsyncSession, invite_id: int, *, user_id: int, now: datetime
) -> bool:
    """Mark an unused, unexpired invite used by ``user_id``; False if someone else got
    there first (the conditional UPDATE is the lock: only one writer can match)."""
    result = await session.exec(
        update(Invite)
        .where(
            col(Invite.id) == invite_id,
            col(Invite.used_at).is_(None),
            col(Invite.expires_at) > now,
        )
        .values(used_by=user_id, used_at=now)
    )
    return result.rowcount == 1


async def get_role(session: AsyncSession, role_id: int) -> Role | None:
    return await session.get(Role, role_id)


async def team_of_station(
    session: AsyncSession, station_id: int
) -> Sequence[tuple[Role, str | None]]:
    """Roles held on exactly this station, with the holder's volunteer name if any."""
    query = (
        select(Role, Volunteer.real_name)
        .join(Volunteer, col(Volunteer.user_id) == col(Role.user_id), isouter=True)
        .where(Role.station_id == station_id)
        .order_by(col(Role.role), col(Role.granted_at), col(Role.id))
    )
    return (await session.exec(query)).all()


async def pending_volunteers(
    session: AsyncSession, station_ids: Sequence[int], *, offset: int, limit: int
) -> Sequence[Volunteer]:
    query = (
        select(Volunteer)
        .where(
            Volunteer.status == VolunteerStatus.PENDING,
            col(Volunteer.station_id).in_(station_ids),
            col(Volunteer.erased_at).is_(None),
        )
        .order_by(col(Volunteer.created_at), col(Volunteer.id))
        .offset(offset)
        .limit(limit)
    )
    return (await session.exec(query)).all()


async def count_pending_volunteers(session: AsyncSession, station_ids: Sequence[int]) -> int:
    query = select(func.count()).where(
        Volunteer.status == VolunteerStatus.PENDING,
        col(Volunteer.station_id).in_(station_ids),
        col(Volunteer.erased_at).is_(None),
    )
    return int((await session.exec(query)).one())


async def get_volunteer_for_update(session: AsyncSession, volunteer_id: int) -> Volunteer | None:
    """The volunteer row, locked on PostgreSQL until the transaction ends."""
    query = select(Volunteer).where(Volunteer.id == volunteer_id).with_for_update()
    return (await session.exec(query)).first()


# --- Sign-ups counted per activity ---


async def seat_counts_of(
    session: AsyncSession, activity_ids: Sequence[int], statuses: Sequence[SignupStatus]
) -> dict[int, int]:
    """Sign-ups in one of ``statuses`` per activity, for several activities at once."""
    if not activity_ids:
        return {}
    query = (
        select(Signup.activity_id, func.count())
        .where(col(Signup.activity_id).in_(activity_ids), col(Signup.status).in_(statuses))
        .group_by(col(Signup.activity_id))
    )
    return {aid: n for aid, n in (await session.exec(query)).all()}


async def revoke_certificates_of(session: AsyncSession, volunteer_id: int, at: datetime) -> None:
    """Revoke a volunteer's certificates and blank what they state about the person."""
    await session.exec(
        update(Certificate)
        .where(col(Certificate.volunteer_id) == volunteer_id)
        .values(revoked_at=at, holder_name="", details={})
    )


async def delete_outbox_of(session: AsyncSession, user_id: int) -> None:
    await session.exec(delete(Outbox).where(col(Outbox.user_id) == user_id))
