"""Reading the audit log: the latest entries of some stations, narrowed to one
activity or one person, a page at a time. Nothing here commits."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Activity, AuditLog, Volunteer


def _detail_int(key: str) -> Any:
    return col(AuditLog.details)[key].as_integer()


def _where(
    station_ids: Collection[int] | None,
    activity_id: int | None,
    volunteer_id: int | None,
    user_id: int | None,
    since: datetime | None,
) -> list[Any]:
    where: list[Any] = []
    if station_ids is not None:
        where.append(col(AuditLog.station_id).in_(sorted(station_ids)))
    if activity_id is not None:
        where.append(
            or_(
                and_(
                    col(AuditLog.subject_type) == "activity",
                    col(AuditLog.subject_id) == activity_id,
                ),
                _detail_int("activity_id") == activity_id,
            )
        )
    if volunteer_id is not None:
        about = [
            and_(
                col(AuditLog.subject_type) == "volunteer", col(AuditLog.subject_id) == volunteer_id
            ),
            _detail_int("volunteer_id") == volunteer_id,
        ]
        if user_id is not None:
            about += [
                col(AuditLog.actor_id) == user_id,
                and_(col(AuditLog.subject_type) == "user", col(AuditLog.subject_id) == user_id),
            ]
        where.append(or_(*about))
    if since is not None:
        where.append(col(AuditLog.at) >= since)
    return where


async def count_entries(
    session: AsyncSession,
    *,
    station_ids: Collection[int] | None,
    activity_id: int | None = None,
    volunteer_id: int | None = None,
    user_id: int | None = None,
    since: datetime | None = None,
) -> int:
    query = select(func.count()).select_from(AuditLog)
    query = query.where(*_where(station_ids, activity_id, volunteer_id, user_id, since))
    return int((await session.exec(query)).one())


async def entries(
    session: AsyncSession,
    *,
    station_ids: Collection[int] | None,
    activity_id: int | None = None,
    volunteer_id: int | None = None,
    user_id: int | None = None,
    since: datetime | None = None,
    offset: int = 0,
    limit: int | None = None,
    newest_first: bool = True,
) -> Sequence[AuditLog]:
    order = col(AuditLog.id).desc() if newest_first else col(AuditLog.id)
    query = (
        select(AuditLog)
        .where(*_where(station_ids, activity_id, volunteer_id, user_id, since))
        .order_by(order)
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return (await session.exec(query)).all()


async def names_of_users(session: AsyncSession, user_ids: Collection[int]) -> dict[int, str]:
    """Volunteer names of Telegram users (those registered and not erased)."""
    if not user_ids:
        return {}
    query = select(Volunteer.user_id, Volunteer.real_name).where(
        col(Volunteer.user_id).in_(sorted(user_ids))
    )
    return {int(u): n for u, n in (await session.exec(query)).all() if u is not None and n}


async def volunteers_by_id(
    session: AsyncSession, volunteer_ids: Collection[int]
) -> dict[int, Volunteer]:
    if not volunteer_ids:
        return {}
    query = select(Volunteer).where(col(Volunteer.id).in_(sorted(volunteer_ids)))
    return {v.id: v for v in (await session.exec(query)).all() if v.id is not None}


async def activities_by_id(
    session: AsyncSession, activity_ids: Collection[int]
) -> dict[int, Activity]:
    if not activity_ids:
        return {}
    query = select(Activity).where(col(Activity.id).in_(sorted(activity_ids)))
    return {a.id: a for a in (await session.exec(query)).all() if a.id is not None}
