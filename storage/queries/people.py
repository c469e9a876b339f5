"""Queries about one person across the tables: who they are (users and their
language), every row that names them (the copy of their data), and erasing them.
Nothing here commits; callers own the transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, false, or_, update
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Activity, Attendance, AuditLog, DialogState, Station, User, Volunteer

# A column that names a person: its name, and whether it holds a Telegram user id
# (True) or a volunteer id (False).
Naming = tuple[str, bool]


async def locales(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, str | None]:
    """The stored language of each of ``user_ids`` that has a user row."""
    found: dict[int, str | None] = {}
    for start in range(0, len(user_ids), 1000):
        chunk = user_ids[start : start + 1000]
        rows = await session.exec(select(User.id, User.locale).where(col(User.id).in_(chunk)))
        found.update(dict(rows.all()))
    return found


async def volunteer_ids_of(session: AsyncSession, user_id: int) -> list[int]:
    rows = await session.exec(select(Volunteer.id).where(Volunteer.user_id == user_id))
    return [v for v in rows if v is not None]


def _names(
    model: type[SQLModel], column: Naming, user_id: int, volunteer_ids: Sequence[int]
) -> ColumnElement[bool]:
    name, holds_user = column
    element = col(getattr(model, name))
    if holds_user:
        return element == user_id
    if not volunteer_ids:
        return false()
    return element.in_(volunteer_ids)


async def rows_naming(
    session: AsyncSession,
    model: type[SQLModel],
    columns: Sequence[Naming],
    *,
    user_id: int,
    volunteer_ids: Sequence[int],
) -> list[SQLModel]:
    """Rows of ``model`` where any of ``columns`` names the person."""
    naming = [_names(model, c, user_id, volunteer_ids) for c in columns]
    return list(await session.exec(select(model).where(or_(*naming))))


async def audit_about(
    session: AsyncSession, user_id: int, subjects: Mapping[str, Sequence[int]]
) -> list[AuditLog]:
    """Entries by the person, about them as a user, or about their records
    (``subjects``: subject type -> ids)."""
    about: list[ColumnElement[bool]] = [
        col(AuditLog.actor_id) == user_id,
        and_(col(AuditLog.subject_type) == "user", col(AuditLog.subject_id) == user_id),
    ]
    for subject, ids in subjects.items():
        if ids:
            about.append(
                and_(col(AuditLog.subject_type) == subject, col(AuditLog.subject_id).in_(ids))
            )
    return list(await session.exec(select(AuditLog).where(or_(*about))))


def _dialog_keys(user_id: int) -> ColumnElement[bool]:
    """Dialog keys embed the user id as ``...:<chat>:<user>...`` (bot.fsm_storage)."""
    return col(DialogState.key).like(f"%:{user_id}:{user_id}%")


async def dialogs_of(session: AsyncSession, user_id: int) -> list[DialogState]:
    return list(await session.exec(select(DialogState).where(_dialog_keys(user_id))))


async def activities_by_id(session: AsyncSession, ids: set[int]) -> Sequence[Activity]:
    query = select(Activity).where(col(Activity.id).in_(ids)).order_by(col(Activity.id))
    return (await session.exec(query)).all()


async def stations_by_id(session: AsyncSession, ids: set[int]) -> Sequence[Station]:
    query = select(Station).where(col(Station.id).in_(ids)).order_by(col(Station.id))
    return (await session.exec(query)).all()


# --- erasure ------------------------------------------------------------------------


async def delete_naming(
    session: AsyncSession, model: type[SQLModel], column: str, user_id: int
) -> None:
    await session.exec(delete(model).where(col(getattr(model, column)) == user_id))


async def forget_naming(
    session: AsyncSession, model: type[SQLModel], column: str, user_id: int
) -> None:
    """Clear ``column`` wherever it holds ``user_id``; the rows stay."""
    element = col(getattr(model, column))
    await session.exec(update(model).where(element == user_id).values({column: None}))


async def forget_audit_subject(session: AsyncSession, user_id: int) -> None:
    await session.exec(
        update(AuditLog)
        .where(col(AuditLog.subject_type) == "user", col(AuditLog.subject_id) == user_id)
        .values(subject_id=None)
    )


async def delete_dialogs_of(session: AsyncSession, user_id: int) -> None:
    await session.exec(delete(DialogState).where(_dialog_keys(user_id)))


async def delete_unstarted_attendance(
    session: AsyncSession, volunteer_id: int, now: datetime
) -> None:
    """A volunteer's attendance rows nothing has credited, at activities not begun."""
    unstarted = select(Activity.id).where(col(Activity.starts_at) > now)
    await session.exec(
        delete(Attendance).where(
            col(Attendance.volunteer_id) == volunteer_id,
            col(Attendance.credited_at).is_(None),
            col(Attendance.activity_id).in_(unstarted),
        )
    )
