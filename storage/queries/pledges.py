"""Queries of pledges: one pledge with what a person needs to read it, pages of them,
receipts, the row lock of a decision and the reminders due. Nothing here commits;
callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.models import Activity, Pledge, PledgeStatus, Station, Volunteer

# A pledge with its volunteer, its station and its activity (None: the fund).
Row = tuple[Pledge, Volunteer, Station, Activity | None]


def _listing() -> SelectOfScalar[Any]:
    """Pledges with their volunteer, station and activity (if any)."""
    return (
        select(Pledge, Volunteer, Station, Activity)  # type: ignore[return-value]
        .join(Volunteer, col(Volunteer.id) == col(Pledge.volunteer_id))
        .join(Station, col(Station.id) == col(Pledge.station_id))
        .outerjoin(Activity, col(Activity.id) == col(Pledge.activity_id))
    )


async def one(session: AsyncSession, pledge_id: int) -> Row | None:
    """One pledge as the database holds it now (not as this session last saw it)."""
    query = _listing().where(col(Pledge.id) == pledge_id)
    row = (await session.exec(query.execution_options(populate_existing=True))).first()
    return tuple(row) if row is not None else None


async def _page(
    session: AsyncSession, where: Sequence[Any], *, offset: int, limit: int
) -> tuple[list[Row], int, int, int]:
    """A page of the pledges ``where`` selects, newest first: its rows, how many there
    are in all, the sum of their amounts, and the offset used (an offset past the end
    gives the last page)."""
    total, amount = (
        await session.exec(
            select(func.count(), func.coalesce(func.sum(col(Pledge.amount_fen)), 0)).where(*where)
        )
    ).one()
    offset = max(0, min(offset, max(0, total - 1) // limit * limit))
    query = (
        _listing()
        .where(*where)
        .order_by(col(Pledge.created_at).desc(), col(Pledge.id).desc())
        .offset(offset)
        .limit(limit)
    )
    rows = [tuple(r) for r in (await session.exec(query)).all()]
    return rows, int(total), int(amount), offset


async def open_of_stations(
    session: AsyncSession, station_ids: Sequence[int], *, offset: int, limit: int
) -> tuple[list[Row], int, int, int]:
    """The open pledges of these stations (see ``_page``)."""
    where = (col(Pledge.station_id).in_(station_ids), col(Pledge.status) == PledgeStatus.OPEN)
    return await _page(session, where, offset=offset, limit=limit)


async def of_volunteer(
    session: AsyncSession, volunteer_id: int, *, offset: int, limit: int
) -> tuple[list[Row], int, int, int]:
    """A volunteer's pledges, whatever their status (see ``_page``)."""
    where = (col(Pledge.volunteer_id) == volunteer_id,)
    return await _page(session, where, offset=offset, limit=limit)


async def made_with(session: AsyncSession, volunteer_id: int, token: str) -> Pledge | None:
    """The volunteer's pledge whose receipt ends in ``token``, if there is one."""
    query = select(Pledge).where(
        col(Pledge.volunteer_id) == volunteer_id,
        col(Pledge.receipt).endswith("-" + token),
    )
    return (await session.exec(query)).first()


async def receipt_taken(session: AsyncSession, receipt: str) -> bool:
    query = select(func.count()).where(col(Pledge.receipt) == receipt)
    return bool((await session.exec(query)).one())


async def insert(session: AsyncSession, pledge: Pledge) -> bool:
    """Add the pledge in a savepoint; False (and nothing added) when its receipt was
    taken by a concurrent writer just now."""
    try:
        async with session.begin_nested():
            session.add(pledge)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def locked(session: AsyncSession, pledge_id: int) -> Pledge | None:
    """One pledge, locked until the transaction ends (on PostgreSQL)."""
    query = select(Pledge).where(col(Pledge.id) == pledge_id).with_for_update()
    return (await session.exec(query.execution_options(populate_existing=True))).first()


async def reminders_due(
    session: AsyncSession, cutoff: datetime, limit: int
) -> list[tuple[Pledge, int]]:
    """Open pledges made before ``cutoff`` and not reminded yet, with their volunteer's
    Telegram id (erased volunteers left out), oldest first; locked, skipping those
    another job holds."""
    query = (
        select(Pledge, Volunteer.user_id)
        .join(Volunteer, col(Volunteer.id) == col(Pledge.volunteer_id))
        .where(
            col(Pledge.status) == PledgeStatus.OPEN,
            col(Pledge.reminded_at).is_(None),
            col(Pledge.created_at) <= cutoff,
            col(Volunteer.user_id).is_not(None),
        )
        .order_by(col(Pledge.id))
        .limit(limit)
        .with_for_update(of=Pledge, skip_locked=True)
    )
    return [
        (pledge, user_id)
        for pledge, user_id in (await session.exec(query)).all()
        if user_id is not None
    ]


async def mark_reminded(session: AsyncSession, pledge_ids: Sequence[int], at: datetime) -> None:
    await session.exec(update(Pledge).where(col(Pledge.id).in_(pledge_ids)).values(reminded_at=at))
