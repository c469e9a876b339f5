"""Plain queries over the tables. Nothing here commits; callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, inspect, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditLog, DialogState, Role, RoleKind, Station, User, Volunteer
from storage.types import utcnow


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_volunteer_by_user(session: AsyncSession, user_id: int) -> Volunteer | None:
    result = await session.exec(select(Volunteer).where(Volunteer.user_id == user_id))
    return result.first()


async def get_station(session: AsyncSession, station_id: int) -> Station | None:
    return await session.get(Station, station_id)


async def get_station_by_code(session: AsyncSession, code: str) -> Station | None:
    result = await session.exec(select(Station).where(Station.code == code))
    return result.first()


async def child_stations(session: AsyncSession, parent_id: int | None) -> Sequence[Station]:
    query = select(Station).where(Station.parent_id == parent_id).order_by(col(Station.code))
    return (await session.exec(query)).all()


async def count_child_stations(session: AsyncSession, parent_ids: Sequence[int]) -> dict[int, int]:
    if not parent_ids:
        return {}
    query = (
        select(Station.parent_id, func.count())
        .where(col(Station.parent_id).in_(parent_ids))
        .group_by(col(Station.parent_id))
    )
    return {pid: n for pid, n in (await session.exec(query)).all() if pid is not None}


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
) -> None:
    row = await session.get(DialogState, key)
    if row is None:
        row = DialogState(key=key)
    if state is not ...:
        row.state = state
    if data is not ...:
        row.data = data
    row.updated_at = utcnow()
    empty = row.state is None and not row.data
    if empty and inspect(row).persistent:
        await session.delete(row)
    elif not empty:
        session.add(row)
