"""Queries of service certificates. Nothing here commits; callers own the transaction."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Certificate, Volunteer


async def code_taken(session: AsyncSession, code: str) -> bool:
    found = await session.exec(select(Certificate.id).where(Certificate.code == code))
    return found.first() is not None


async def by_code(session: AsyncSession, code: str) -> Certificate | None:
    return (await session.exec(select(Certificate).where(Certificate.code == code))).first()


async def holder(session: AsyncSession, certificate: Certificate) -> Volunteer | None:
    return await session.get(Volunteer, certificate.volunteer_id)
