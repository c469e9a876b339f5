"""The station tree: city, district, street or town, community."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit, when
from services.errors import InvalidInput, NotFound
from storage import queries
from storage.db import write_transaction
from storage.models import Station, StationLevel

_CHILD_LEVEL = {
    StationLevel.CITY: StationLevel.DISTRICT,
    StationLevel.DISTRICT: StationLevel.STREET,
    StationLevel.STREET: StationLevel.COMMUNITY,
}


@dataclass(frozen=True)
class StationNode:
    """One station as the tree walk shows it."""

    id: int
    code: str
    name: str
    name_en: str | None
    level: StationLevel
    parent_id: int | None
    children: int


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def _nodes(
    items: Iterable[Mapping[str, Any]], parent: str | None
) -> Iterable[tuple[dict[str, Any], str | None]]:
    for item in items:
        if not isinstance(item, Mapping):
            raise InvalidInput("stations_file_invalid", detail="every station must be a mapping")
        node = {k: v for k, v in item.items() if k != "children"}
        yield node, parent
        children = item.get("children") or []
        if not isinstance(children, list):
            raise InvalidInput("stations_file_invalid", detail="children must be a list")
        yield from _nodes(children, str(node.get("code")))


async def import_tree(
    session: AsyncSession, tree: Sequence[Mapping[str, Any]], *, actor_id: int | None = None
) -> ImportResult:
    """Create or update stations from nested mappings with code, name, name_en, level,
    timezone, requires_approval and children. Idempotent: codes are the keys."""
    created = updated = 0
    seen: set[str] = set()
    async with write_transaction(session):
        by_code: dict[str, Station] = {s.code: s for s in await queries.all_stations(session)}
        for node, parent_code in _nodes(tree, None):
            code = str(node.get("code") or "").strip()
            name = str(node.get("name") or "").strip()
            if not code or not name:
                raise InvalidInput("stations_file_invalid", detail="code and name are required")
            if code in seen:
                raise InvalidInput("stations_file_invalid", detail=f"duplicate code {code}")
            seen.add(code)
            parent = by_code.get(parent_code) if parent_code else None
            level_text = node.get("level")
            if level_text is None:
                level = (
                    _CHILD_LEVEL.get(parent.level, StationLevel.COMMUNITY)
                    if parent
                    else StationLevel.CITY
                )
            else:
                try:
                    level = StationLevel(str(level_text))
                except ValueError:
                    raise InvalidInput(
                        "stations_file_invalid", detail=f"unknown level {level_text}"
                    ) from None
            station = by_code.get(code)
            if station is None:
                station = Station(code=code, name=name, level=level)
                created += 1
            else:
                updated += 1
            station.name = name
            station.name_en = node.get("name_en")
            station.level = level
            station.timezone = node.get("timezone")
            station.requires_approval = bool(node.get("requires_approval", False))
            station.parent_id = parent.id if parent else None
            session.add(station)
            await session.flush()
            by_code[code] = station
        audit.record(
            session, actor_id=actor_id, action="stations.import", created=created, updated=updated
        )
    forget_tree()
    return ImportResult(created=created, updated=updated)


async def children(session: AsyncSession, parent_id: int | None) -> list[StationNode]:
    """The stations right under ``parent_id`` (None: the top), by code, from the
    cached tree (see ``tree``)."""
    known = await tree(session)
    under = [known.stations[s] for s in known.children.get(parent_id, [])]
    under.sort(key=lambda s: s.code)
    return [_node(s, len(known.children.get(s.id or 0, ()))) for s in under]


async def find(session: AsyncSession, station_id: int) -> Station | None:
    """A station by id, or None: for texts that name one the reader already may see."""
    return await queries.get_station(session, station_id)


async def get(session: AsyncSession, station_id: int) -> StationNode:
    """One station as the walk shows it, from the cached tree (see ``tree``)."""
    known = await tree(session)
    station = known.stations.get(station_id)
    if station is None:
        raise NotFound("station_not_found")
    return _node(station, len(known.children.get(station_id, ())))


async def path(session: AsyncSession, station_id: int) -> list[Station]:
    """The station and its ancestors, root first."""
    known = await tree(session)
    return [known.stations[s] for s in reversed(known.ancestors_and_self(station_id))]


async def requires_approval(session: AsyncSession, station_id: int) -> bool:
    """Approval set on a station covers every station under it."""
    return any(s.requires_approval for s in await path(session, station_id))


async def all_stations(session: AsyncSession) -> Sequence[Station]:
    return await queries.all_stations(session)


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

    def zone(self, station_id: int | None, default: str | ZoneInfo) -> ZoneInfo:
        """A station's time zone: its own, else its nearest ancestor's, else
        ``default`` (settings.timezone)."""
        fallback = default.key if isinstance(default, ZoneInfo) else default
        if station_id is not None:
            for member in self.ancestors_and_self(station_id):
                name = self.stations[member].timezone
                if name:
                    return when.zone(name, fallback)
        return when.zone(None, fallback)

    def subtree(self, station_id: int) -> list[int]:
        """The station and every station under it, parents before children."""
        found: list[int] = []
        seen: set[int] = set()
        queue = deque([station_id])
        while queue:
            current = queue.popleft()
            if current in seen:
                continue
            seen.add(current)
            found.append(current)
            queue.extend(sorted(self.children.get(current, [])))
        return found


# The tree changes rarely (an import, an admin's edit) and is read on most updates:
# it is kept for a short while per database. A change made in this process clears it
# at once; one made by another process (the CLI) shows within TREE_TTL seconds.
TREE_TTL = 30.0
_trees: dict[str, tuple[float, StationTree]] = {}


async def tree(session: AsyncSession) -> StationTree:
    """The whole station tree, from the short-lived cache or the database."""
    key = str(session.get_bind().engine.url)
    cached = _trees.get(key)
    now = time.monotonic()
    if cached is not None and now - cached[0] < TREE_TTL:
        return cached[1]
    # Copies not tied to any session: nothing can expire or lazy-load them later.
    rows = await queries.all_stations(session)
    fresh = StationTree.of([Station.model_validate(row.model_dump()) for row in rows])
    _trees[key] = (now, fresh)
    return fresh


async def zone(session: AsyncSession, station_id: int | None, default: str | ZoneInfo) -> ZoneInfo:
    """A station's time zone (see ``StationTree.zone``), from the cached tree."""
    return (await tree(session)).zone(station_id, default)


def forget_tree() -> None:
    _trees.clear()


def _node(station: Station, children: int) -> StationNode:
    assert station.id is not None
    return StationNode(
        id=station.id,
        code=station.code,
        name=station.name,
        name_en=station.name_en,
        level=station.level,
        parent_id=station.parent_id,
        children=children,
    )
