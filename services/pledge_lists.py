"""Lists of pledges: a volunteer's own, and the open pledges of the stations a
member of staff manages. Newest first, a page at a time, with the sum of all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from services import access
from services.access import Actor, Permission
from services.errors import NotAllowed
from services.pledges import PledgeView, view_from
from storage import queries
from storage.queries import pledges as pledge_queries


@dataclass(frozen=True)
class Page:
    items: Sequence[PledgeView]
    total: int
    offset: int
    amount_fen: int  # the sum over all ``total`` pledges, not only this page


def _page(found: tuple[list[pledge_queries.Row], int, int, int]) -> Page:
    rows, total, amount, offset = found
    return Page(items=[view_from(r) for r in rows], total=total, offset=offset, amount_fen=amount)


async def _staff_station_ids(session: AsyncSession, actor: Actor) -> list[int]:
    where = await access.stations_where(
        session, actor=actor, permission=Permission.MANAGE_ACTIVITIES
    )
    if not where and not actor.is_admin:
        raise NotAllowed("not_allowed", permission=Permission.MANAGE_ACTIVITIES.value)
    return [s.id for s in where if s.id is not None]


async def open_for_staff(
    session: AsyncSession, *, actor: Actor, offset: int = 0, limit: int = 5
) -> Page:
    """Open pledges of the stations the actor manages (and those below), newest first.
    Raises NotAllowed when the actor manages no station."""
    ids = await _staff_station_ids(session, actor)
    if not ids:
        return Page(items=[], total=0, offset=0, amount_fen=0)
    return _page(await pledge_queries.open_of_stations(session, ids, offset=offset, limit=limit))


async def mine(session: AsyncSession, *, user_id: int, offset: int = 0, limit: int = 5) -> Page:
    """The user's own pledges, newest first, whatever their status."""
    volunteer = await queries.get_volunteer_by_user(session, user_id)
    if volunteer is None or volunteer.id is None:
        raise NotAllowed("not_registered")
    return _page(
        await pledge_queries.of_volunteer(session, volunteer.id, offset=offset, limit=limit)
    )
