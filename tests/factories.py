"""Rows for tests, made through the services where there is one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from services import users, volunteers
from services.volunteers import Draft
from storage.db import SessionMaker, write_transaction
from storage.models import Activity, ActivityKind, TargetGroup


async def make_volunteers(maker: SessionMaker, station_id: int, ids: Iterable[int]) -> None:
    async with maker() as session:
        for user_id in ids:
            await users.ensure_user(session, user_id)
            draft = Draft(
                real_name="志愿者" + "甲乙丙丁戊己庚辛壬癸"[user_id % 10],
                phone="+8613800000000",
                station_id=station_id,
                age_group="18_35",
                privacy_consent=True,
            )
            await volunteers.save(session, user_id=user_id, draft=draft)


async def make_activity(
    maker: SessionMaker,
    station_id: int,
    *,
    now: datetime,
    capacity: int,
    starts_in: timedelta = timedelta(days=3),
    hours: float = 2,
    title: str = "垃圾分类督导",
    created_by: int | None = None,
) -> int:
    async with maker() as session, write_transaction(session):
        activity = Activity(
            station_id=station_id,
            kind=ActivityKind.GARBAGE_SORTING,
            title=title,
            place="西园新村东门",
            starts_at=now + starts_in,
            ends_at=now + starts_in + timedelta(hours=hours),
            capacity=capacity,
            target_group=TargetGroup.GENERAL_PUBLIC,
            created_by=created_by,
        )
        session.add(activity)
        await session.flush()
        assert activity.id is not None
        return activity.id
