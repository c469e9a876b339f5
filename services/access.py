"""Who may do what where. Roles are per station and reach every station below it;
admins (ADMIN_IDS) may do everything. Every check reads the database at the moment
of use, so a revoked role stops working at once, also for old buttons."""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from services import stations
from services.errors import NotAllowed
from services.stations import StationTree
from storage import queries
from storage.models import RoleKind, Station

__all__ = [
    "GRANTS",
    "Actor",
    "Permission",
    "StationTree",
    "allowed",
    "require",
    "require_somewhere",
    "stations_where",
]


@dataclass(frozen=True, slots=True)
class Actor:
    """The person an update comes from, as the services see them: their Telegram id,
    whether they are an admin (ADMIN_IDS), and the language they read. Handlers get
    it from a middleware (``actor``) and hand it on."""

    id: int
    is_admin: bool = False
    locale: str = "zh_CN"

    @classmethod
    def of(cls, user_id: int, admin_ids: Collection[int], locale: str = "zh_CN") -> Actor:
        return cls(id=user_id, is_admin=user_id in admin_ids, locale=locale)


class Permission(enum.StrEnum):
    MANAGE_ACTIVITIES = "manage_activities"  # publish, edit, cancel, rosters
    APPROVE_VOLUNTEERS = "approve_volunteers"
    MANAGE_TEAM = "manage_team"  # invite staff and coordinators, revoke roles
    VIEW_TALLIES = "view_tallies"
    BROADCAST = "broadcast"  # message the volunteers of a station
    VIEW_AUDIT = "view_audit"  # read the audit log (/audit)
    VIEW_VOLUNTEERS = "view_volunteers"  # the register (花名册) of a station's volunteers


# Which roles grant each permission (on the role's station and everything under it).
GRANTS: dict[Permission, frozenset[RoleKind]] = {
    Permission.MANAGE_ACTIVITIES: frozenset({RoleKind.STAFF, RoleKind.COORDINATOR}),
    Permission.APPROVE_VOLUNTEERS: frozenset({RoleKind.STAFF, RoleKind.COORDINATOR}),
    Permission.MANAGE_TEAM: frozenset({RoleKind.COORDINATOR}),
    Permission.VIEW_TALLIES: frozenset({RoleKind.STAFF, RoleKind.COORDINATOR}),
    Permission.BROADCAST: frozenset({RoleKind.STAFF, RoleKind.COORDINATOR}),
    Permission.VIEW_AUDIT: frozenset({RoleKind.COORDINATOR}),
    Permission.VIEW_VOLUNTEERS: frozenset({RoleKind.STAFF, RoleKind.COORDINATOR}),
}


async def load_tree(session: AsyncSession) -> StationTree:
    return await stations.tree(session)


async def allowed(
    session: AsyncSession,
    *,
    permission: Permission,
    station_id: int,
    actor: Actor,
) -> bool:
    who = actor
    if who.is_admin:
        return True
    roles = await queries.roles_of(session, who.id)
    granting = {r.station_id for r in roles if r.role in GRANTS[permission]}
    if not granting:
        return False
    tree = await load_tree(session)
    return any(s in granting for s in tree.ancestors_and_self(station_id))


async def require(
    session: AsyncSession,
    *,
    permission: Permission,
    station_id: int,
    actor: Actor,
) -> None:
    """Raise ``NotAllowed('not_allowed')`` unless the user may act on the station now."""
    who = actor
    if not await allowed(session, actor=who, permission=permission, station_id=station_id):
        raise NotAllowed("not_allowed", permission=permission.value)


async def require_somewhere(
    session: AsyncSession,
    *,
    permission: Permission,
    actor: Actor,
) -> None:
    """Raise ``NotAllowed('not_allowed')`` unless the user holds the permission on some
    station. Call it before looking up anything by an id a button or a person gave:
    someone without the permission anywhere then gets the one refusal whether the
    id exists or not, and learns nothing from it."""
    who = actor
    if who.is_admin:
        return
    roles = await queries.roles_of(session, who.id)
    if not any(r.role in GRANTS[permission] for r in roles):
        raise NotAllowed("not_allowed", permission=permission.value)


async def stations_where(
    session: AsyncSession,
    *,
    permission: Permission,
    actor: Actor,
) -> list[Station]:
    """Every station the user may act on with this permission, tree order."""
    who = actor
    tree = await load_tree(session)
    if who.is_admin:
        roots = tree.children.get(None, [])
    else:
        roles = await queries.roles_of(session, who.id)
        roots = sorted({r.station_id for r in roles if r.role in GRANTS[permission]})
    seen: list[int] = []
    for root in roots:
        seen.extend(s for s in tree.subtree(root) if s not in seen)
    return [tree.stations[s] for s in seen]
