"""Reading the audit log: admins and coordinators see the latest changes in the
stations they hold the permission on (and everything below), narrowed to one
activity or one person, with the names the entries are about."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, stations
from services.access import Actor, Permission
from services.errors import NotFound
from storage.models import Activity, AuditLog, Station, Volunteer
from storage.queries import audit_log as audit_queries

PAGE = 8


@dataclass(frozen=True)
class Entry:
    """One audit entry with what it names looked up (None when gone or erased)."""

    id: int
    at: datetime
    zone: ZoneInfo  # its station's, for showing ``at``
    action: str
    actor_id: int | None
    actor_name: str | None
    station: Station | None
    activity: Activity | None
    volunteer: Volunteer | None
    subject_user_id: int | None
    subject_user_name: str | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Filter:
    """What the list is narrowed to: one activity, one volunteer, or nothing."""

    activity_id: int | None = None
    volunteer_id: int | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: list[Entry]
    total: int
    offset: int
    filter: Filter
    activity: Activity | None  # the activity filtered on
    volunteer: Volunteer | None  # the volunteer filtered on


def _int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


async def scope(session: AsyncSession, *, actor: Actor) -> list[int] | None:
    """The stations whose entries someone may read; None for admins (every entry,
    also those of no station). Raises NotAllowed for anyone else."""
    await access.require_somewhere(session, actor=actor, permission=Permission.VIEW_AUDIT)
    if actor.is_admin:
        return None
    found = await access.stations_where(session, actor=actor, permission=Permission.VIEW_AUDIT)
    return [s.id for s in found if s.id is not None]


async def describe(
    session: AsyncSession, rows: Sequence[AuditLog], default_zone: str | ZoneInfo
) -> list[Entry]:
    """The entries with their names and zones looked up, in the order given."""
    tree = await stations.tree(session)
    activity_ids: set[int] = set()
    volunteer_ids: set[int] = set()
    user_ids: set[int] = set()
    for row in rows:
        details = row.details or {}
        if row.subject_type == "activity" and row.subject_id is not None:
            activity_ids.add(row.subject_id)
        if (a := _int(details.get("activity_id"))) is not None:
            activity_ids.add(a)
        if row.subject_type == "volunteer" and row.subject_id is not None:
            volunteer_ids.add(row.subject_id)
        if (v := _int(details.get("volunteer_id"))) is not None:
            volunteer_ids.add(v)
        if row.actor_id is not None:
            user_ids.add(row.actor_id)
        if row.subject_type == "user" and row.subject_id is not None:
            user_ids.add(row.subject_id)
    activities = await audit_queries.activities_by_id(session, activity_ids)
    volunteers = await audit_queries.volunteers_by_id(session, volunteer_ids)
    names = await audit_queries.names_of_users(session, user_ids)
    result = []
    for row in rows:
        assert row.id is not None
        details = dict(row.details or {})
        activity_id = row.subject_id if row.subject_type == "activity" else None
        activity_id = activity_id or _int(details.get("activity_id"))
        volunteer_id = row.subject_id if row.subject_type == "volunteer" else None
        volunteer_id = volunteer_id or _int(details.get("volunteer_id"))
        subject_user = row.subject_id if row.subject_type == "user" else None
        station = tree.stations.get(row.station_id) if row.station_id is not None else None
        result.append(
            Entry(
                id=row.id,
                at=row.at,
                zone=tree.zone(row.station_id, default_zone),
                action=row.action,
                actor_id=row.actor_id,
                actor_name=names.get(row.actor_id) if row.actor_id is not None else None,
                station=station,
                activity=activities.get(activity_id) if activity_id else None,
                volunteer=volunteers.get(volunteer_id) if volunteer_id else None,
                subject_user_id=subject_user,
                subject_user_name=names.get(subject_user) if subject_user else None,
                details=details,
            )
        )
    return result


async def page(
    session: AsyncSession,
    *,
    actor: Actor,
    default_zone: str | ZoneInfo,
    offset: int = 0,
    limit: int = PAGE,
    activity_id: int | None = None,
    volunteer_id: int | None = None,
) -> AuditPage:
    """The latest entries someone may read, newest first, ``limit`` from ``offset``
    (kept in range), optionally about one activity or one volunteer of their scope."""
    station_ids = await scope(session, actor=actor)
    activity = volunteer = None
    if activity_id is not None:
        activity = (await audit_queries.activities_by_id(session, [activity_id])).get(activity_id)
        if activity is None or (station_ids is not None and activity.station_id not in station_ids):
            raise NotFound("activity_not_found")
    if volunteer_id is not None:
        volunteer = (await audit_queries.volunteers_by_id(session, [volunteer_id])).get(
            volunteer_id
        )
        if volunteer is None or (
            station_ids is not None and volunteer.station_id not in station_ids
        ):
            raise NotFound("volunteer_not_found")
    user_id = volunteer.user_id if volunteer is not None else None
    chosen = Filter(activity_id, volunteer_id)
    total = await audit_queries.count_entries(
        session,
        station_ids=station_ids,
        activity_id=activity_id,
        volunteer_id=volunteer_id,
        user_id=user_id,
    )
    last_page_start = max(0, (total - 1) // limit * limit)
    offset = min(max(0, offset), last_page_start)
    rows = await audit_queries.entries(
        session,
        station_ids=station_ids,
        activity_id=activity_id,
        volunteer_id=volunteer_id,
        user_id=user_id,
        offset=offset,
        limit=limit,
    )
    entries = await describe(session, rows, default_zone)
    return AuditPage(entries, total, offset, chosen, activity, volunteer)


async def since(
    session: AsyncSession,
    *,
    station_code: str,
    since: datetime,
    default_zone: str | ZoneInfo,
) -> tuple[Station, list[Entry]]:
    """Every entry of a station and its subtree from ``since`` on, oldest first (the
    command line's, which is trusted as the operator)."""
    tree = await stations.tree(session)
    station = next((s for s in tree.stations.values() if s.code == station_code), None)
    if station is None or station.id is None:
        raise NotFound("station_not_found", station=station_code)
    ids = list(tree.subtree(station.id))
    rows = await audit_queries.entries(session, station_ids=ids, since=since, newest_first=False)
    return station, await describe(session, rows, default_zone)
