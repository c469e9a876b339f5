"""Walking the part of the station tree someone may act on with a permission: the
top of their scope, then down. Every step re-reads their roles from the database."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from services import access
from services.access import Actor, Permission, StationTree
from services.errors import NotAllowed, NotFound
from services.stations import StationNode

TOP = 0  # the id that stands for the top of a scope


@dataclass(frozen=True)
class ScopeView:
    current: StationNode | None  # None: the top of the scope
    nodes: list[StationNode]
    parent: int  # where "back" goes: a station in scope, or TOP


def _node(tree: StationTree, station_id: int) -> StationNode:
    station = tree.stations[station_id]
    return StationNode(
        id=station_id,
        code=station.code,
        name=station.name,
        name_en=station.name_en,
        level=station.level,
        parent_id=station.parent_id,
        children=len(tree.children.get(station_id, [])),
    )


async def view(
    session: AsyncSession,
    *,
    permission: Permission,
    station_id: int = TOP,
    actor: Actor,
) -> ScopeView:
    """The top of the actor's scope (``TOP``) or one station in it with its children.
    Raises NotAllowed when the actor may not act there (or anywhere, for ``TOP``)."""
    where = await access.stations_where(session, actor=actor, permission=permission)
    in_scope = {s.id for s in where if s.id is not None}
    is_admin = actor.is_admin
    if not in_scope and not is_admin:
        raise NotAllowed("not_allowed", permission=permission.value)
    tree = await access.load_tree(session)

    def by_code(ids: Collection[int]) -> list[int]:
        return sorted(ids, key=lambda i: tree.stations[i].code)

    if station_id == TOP:
        tops = [s for s in in_scope if tree.stations[s].parent_id not in in_scope]
        return ScopeView(None, [_node(tree, s) for s in by_code(tops)], TOP)
    if station_id not in in_scope:
        if is_admin:
            raise NotFound("station_not_found")
        raise NotAllowed("not_allowed", permission=permission.value)
    current = _node(tree, station_id)
    children = by_code(tree.children.get(station_id, []))
    parent = current.parent_id if current.parent_id in in_scope else None
    return ScopeView(current, [_node(tree, s) for s in children], parent or TOP)
