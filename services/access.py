"""Who may do what where. Roles are per station and reach every station below it;
admins (ADMIN_IDS) may do everything. Every check reads the database at the moment
of use, so a revoked role stops working at once, also for old buttons."""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from services.errors import NotAllowed
from storage import queries
from storage.models import RoleKind, Station


class Permission(enum.StrEnum):
    MANAGE_ACTIVITIES = "manage_activities"  # publish, edit, cancel, rosters
    APPROVE_VOLUNTEERS = "approve_volunteers"
    MANAGE_TEAM = "manage_team"  # invite staff and coordinators, revoke roles
    VIEW_TALLIES = "view_tallies"


# Which roles grant each permission (on the role's station and everything under it).
GRANTS: dict[Permission, frozenset[RoleKind]] = {
    Permission.MANAGE_ACTIVITIES: frozenset({RoleKind.STAFF, RoleKind.COORDINATOR}),
    Permission.APPROVE_VOLUNTEERS: frozenset({RoleKind.STAFF, RoleKind.COORDINATOR}),
    Permission.MANAGE_TEAM: frozenset({RoleKind.COORDINATOR}),
    Permission.VIEW_TALLIES: frozenset({RoleKind.STAFF, RoleKind.COORDINATOR}),
}


@dataclass(frozen=True)
class StationTree:
    """The whole tree in memory: stations number in the thousands at most."""

    stations: dict[int, Station]
    children: dict[int | None, list[int]]

    @classmethod
    def of(cls, stations: Sequence[Station]) -> StationTree:
        by_id = {s.id: s for s in stations if s.id is not None}
        children: dict[int | None, list[int]] = {}
        for station in by_id.values():
            assert station.id is not None
            children.setdefault(station.parent_id, []).append(station.id)
        return cls(by_id, children)

    def ancestors_and_self(self, station_id: int) -> list[int]:
        chain: list[int] = []
        current: int | None = station_id
        while current is not None and current in self.stations and current not in chain:
            chain.append(current)
            current = self.stations[current].parent_id
        return chain

    def subtree(self, station_id: int) -> list[int]:
        """The station and every station under it, parents before children."""
        found, queue = [], [station_id]
        while queue:
            current = queue.pop(0)
            if current in found:
                continue
            found.append(current)
            queue.extend(sorted(self.children.get(current, [])))
        return found


async def load_tree(session: AsyncSession) -> StationTree:
    return StationTree.of(await queries.all_stations(session))


async def allowed(
    session: AsyncSession,
    *,
    user_id: int,
    admin_ids: Collection[int],
    permission: Permission,
    station_id: int,
) -> bool:
    if user_id in admin_ids:
        return True
    roles = await queries.roles_of(session, user_id)
    granting = {r.station_id for r in roles if r.role in GRANTS[permission]}
    if not granting:
        return False
    tree = await load_tree(session)
    return any(s in granting for s in tree.ancestors_and_self(station_id))


async def require(
    session: AsyncSession,
    *,
    user_id: int,
    admin_ids: Collection[int],
    permission: Permission,
    station_id: int,
) -> None:
    """Raise ``NotAllowed('not_allowed')`` unless the user may act on the station now."""
    if not await allowed(
        session,
        user_id=user_id,
        admin_ids=admin_ids,
        permission=permission,
        station_id=station_id,
    ):
        raise NotAllowed("not_allowed", permission=permission.value)


async def stations_where(
    session: AsyncSession, *, user_id: int, admin_ids: Collection[int], permission: Permission
) -> list[Station]:
    """Every station the user may act on with this permission, tree order."""
    tree = await load_tree(session)
    if user_id in admin_ids:
        roots = tree.children.get(None, [])
    else:
        roles = await queries.roles_of(session, user_id)
        roots = sorted({r.station_id for r in roles if r.role in GRANTS[permission]})
    seen: list[int] = []
    for root in roots:
        seen.extend(s for s in tree.subtree(root) if s not in seen)
    return [tree.stations[s] for s in seen]
