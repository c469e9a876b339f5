"""Queries of an activity's record (台账): its photos. Nothing here commits; callers
own the transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ActivityPhoto, Volunteer


async def photos_of(session: AsyncSession, activity_id: int) -> Sequence[ActivityPhoto]:
    """The activity's photos in the order they were attached."""
    query = (
        select(ActivityPhoto)
        .where(ActivityPhoto.activity_id == activity_id)
        .order_by(col(ActivityPhoto.id))
    )
    return (await session.exec(query.execution_options(populate_existing=True))).all()


async def count_photos(session: AsyncSession, activity_id: int) -> int:
    query = (
        select(func.count())
        .select_from(ActivityPhoto)
        .where(ActivityPhoto.activity_id == activity_id)
    )
    return int((await session.exec(query)).one())


async def photo_by_unique_id(
    session: AsyncSession, activity_id: int, file_unique_id: str
) -> ActivityPhoto | None:
    query = select(ActivityPhoto).where(
        ActivityPhoto.activity_id == activity_id,
        ActivityPhoto.file_unique_id == file_unique_id,
    )
    return (await session.exec(query)).first()


async def get_photo(session: AsyncSession, photo_id: int) -> ActivityPhoto | None:
    query = select(ActivityPhoto).where(ActivityPhoto.id == photo_id)
    return (await session.exec(query.execution_options(populate_existing=True))).first()


async def name_of_user(session: AsyncSession, user_id: int) -> str | None:
    """The registered name of the volunteer a Telegram user is, if any."""
    query = select(Volunteer.real_name).where(Volunteer.user_id == user_id)
    return (await session.exec(query)).first()
