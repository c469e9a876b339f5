"""Queries of service certificates. Nothing here commits; callers own the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Certificate, Setting, Volunteer


async def code_taken(session: AsyncSession, code: str) -> bool:
    found = await session.exec(select(Certificate.id).where(Certificate.code == code))
    return found.first() is not None


async def by_code(session: AsyncSession, code: str) -> Certificate | None:
    return (await session.exec(select(Certificate).where(Certificate.code == code))).first()


async def holder(session: AsyncSession, certificate: Certificate) -> Volunteer | None:
    return await session.get(Volunteer, certificate.volunteer_id)


async def any_issued(session: AsyncSession) -> bool:
    return (await session.exec(select(Certificate.id).limit(1))).first() is not None


async def setting(session: AsyncSession, name: str) -> str | None:
    return (await session.exec(select(Setting.value).where(Setting.key == name))).first()


async def keep_setting(session: AsyncSession, name: str, value: str, now: datetime) -> None:
    """Store a setting unless one of that name exists (the first writer's is kept)."""
    row = {"key": name, "value": value, "updated_at": now}
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.exec(insert(Setting).values(row).on_conflict_do_nothing(index_elements=["key"]))
