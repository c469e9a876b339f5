"""Everything kept about one person: the copy they may ask for (/mydata) and its
erasure (/delete_me).

``PERSON_COLUMNS`` names every column that holds a person, a Telegram user id or a
volunteer id, and what erasure does with it. The export reads every row any of them
points at, so a table added with such a column is exported once it is listed here
(tests/handlers/test_mydata.py walks the models and fails while one is missing).
Besides the columns: the dialog storage's keys embed the Telegram user id, and an
audit entry names a person through its subject.

Erasure keeps only anonymous counts: the volunteer row stays without anything
personal, so the sign-ups, hours and pledges it holds still count; every upcoming
seat and waitlist place is given up first (the waitlist moves up and the next in line
is told, as on any cancellation), messages not yet sent to them go, certificates are
withdrawn (/verify says issued, then withdrawn), and every other mention of their
Telegram id is cleared."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, activities, audit
from services.access import Actor, Permission
from services.activities import ACTIVE, OfferRules
from services.errors import InvalidInput, NotFound
from storage import queries
from storage.db import write_transaction
from storage.models import (
    Activity,
    ActivityPhoto,
    ActivityStatus,
    Attendance,
    AuditLog,
    Beneficiaries,
    Broadcast,
    Certificate,
    Invite,
    Outbox,
    Pledge,
    Role,
    Signup,
    User,
    Volunteer,
)
from storage.queries import people as people_queries
from storage.types import utcnow

EXPORT_VERSION = 2


class Names(enum.StrEnum):
    USER = "user"  # a Telegram user id
    VOLUNTEER = "volunteer"  # a volunteer id


class OnErasure(enum.StrEnum):
    DELETE = "delete"  # the rows go
    FORGET = "forget"  # the column is cleared; the row stays, naming no one
    KEEP = "keep"  # kept: it points at the volunteer row, which is made anonymous


@dataclass(frozen=True)
class PersonColumn:
    model: type[SQLModel]
    column: str
    names: Names
    on_erasure: OnErasure

    @property
    def table(self) -> str:
        return str(self.model.__tablename__)

    def element(self) -> Any:
        return getattr(self.model, self.column)

    @property
    def naming(self) -> people_queries.Naming:
        return self.column, self.names is Names.USER


U, V = Names.USER, Names.VOLUNTEER
DELETE, FORGET, KEEP = OnErasure.DELETE, OnErasure.FORGET, OnErasure.KEEP

PERSON_COLUMNS: tuple[PersonColumn, ...] = (
    PersonColumn(User, "id", U, DELETE),
    PersonColumn(Volunteer, "user_id", U, FORGET),  # and every personal field with it
    PersonColumn(Role, "user_id", U, DELETE),
    PersonColumn(Role, "granted_by", U, FORGET),
    PersonColumn(Signup, "volunteer_id", V, KEEP),  # upcoming places given up first
    PersonColumn(Attendance, "volunteer_id", V, KEEP),
    PersonColumn(Attendance, "updated_by", U, FORGET),
    PersonColumn(Pledge, "volunteer_id", V, KEEP),
    PersonColumn(Pledge, "decided_by", U, FORGET),
    PersonColumn(Certificate, "volunteer_id", V, KEEP),  # withdrawn, holder blanked
    PersonColumn(Outbox, "user_id", U, DELETE),
    PersonColumn(AuditLog, "actor_id", U, FORGET),  # and entries about them as a user
    PersonColumn(Activity, "created_by", U, FORGET),
    PersonColumn(Activity, "checkin_opened_by", U, FORGET),
    PersonColumn(Activity, "closed_by", U, FORGET),
    PersonColumn(Activity, "summary_by", U, FORGET),
    PersonColumn(ActivityPhoto, "uploaded_by", U, FORGET),  # the photo is the activity's
    PersonColumn(Beneficiaries, "recorded_by", U, FORGET),
    PersonColumn(Invite, "created_by", U, FORGET),
    PersonColumn(Invite, "used_by", U, FORGET),
    PersonColumn(Broadcast, "created_by", U, FORGET),
    PersonColumn(Broadcast, "progress_chat_id", U, FORGET),
)
# Audit entries about a person's records name them by (subject_type, subject_id); the
# subject types are the tables' names.
_SUBJECTS = ("volunteer", "attendance", "pledge", "certificate")
_PERSONAL_FIELDS = (
    "real_name",
    "phone",
    "age_group",
    "guardian_name",
    "guardian_phone",
    "guardian_consent_at",
    "privacy_consent_at",
    "privacy_version",
)


def _models() -> dict[type[SQLModel], list[PersonColumn]]:
    grouped: dict[type[SQLModel], list[PersonColumn]] = {}
    for column in PERSON_COLUMNS:
        grouped.setdefault(column.model, []).append(column)
    return grouped


# --- the copy -----------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


class _Person:
    """One person's ids, and how to tell them from others in a row."""

    def __init__(self, user_id: int, volunteer_ids: Sequence[int]) -> None:
        self.user_id = user_id
        self.volunteer_ids = set(volunteer_ids)

    def is_them(self, column: PersonColumn, value: Any) -> bool:
        if column.names is Names.USER:
            return bool(value == self.user_id)
        return value in self.volunteer_ids

    def row(self, obj: SQLModel, columns: Iterable[PersonColumn]) -> dict[str, Any]:
        """A row as plain JSON values. Other people named in it are left out: a staff
        member's id on a correction of one's hours is theirs, not this person's."""
        data = {k: _plain(v) for k, v in obj.model_dump().items()}
        for column in columns:
            value = data.get(column.column)
            if value is not None and not self.is_them(column, value):
                data[column.column] = None
        subject = isinstance(obj, AuditLog) and obj.subject_type == "user"
        if subject and data.get("subject_id") != self.user_id:
            data["subject_id"] = None
        return data


async def export_data(session: AsyncSession, user_id: int) -> dict[str, Any]:
    """Every row that refers to the person, table by table, as plain JSON-ready
    values; with the activities and stations those rows point at, named."""
    volunteer_ids = await people_queries.volunteer_ids_of(session, user_id)
    person = _Person(user_id, volunteer_ids)
    found: dict[str, list[SQLModel]] = {}
    for model, columns in _models().items():
        if model is AuditLog:
            continue
        found[str(model.__tablename__)] = await people_queries.rows_naming(
            session,
            model,
            [c.naming for c in columns],
            user_id=user_id,
            volunteer_ids=volunteer_ids,
        )
    audit_log = await people_queries.audit_about(session, user_id, _subjects(found))
    found["audit_log"] = list(audit_log)
    found["dialog_state"] = list(await people_queries.dialogs_of(session, user_id))
    grouped = _models()
    tables = {
        name: sorted(
            (person.row(obj, grouped.get(type(obj), ())) for obj in rows),
            key=_order,
        )
        for name, rows in found.items()
    }
    return {
        "version": EXPORT_VERSION,
        "telegram_user_id": user_id,
        "exported_at": utcnow().isoformat(),
        "tables": tables,
        "activities": await _activities(session, tables),
        "stations": await _stations(session, tables),
    }


def _order(row: dict[str, Any]) -> tuple[str, str]:
    return (str(row.get("id", "")).rjust(20, "0"), str(row.get("key", "")))


def _subjects(found: dict[str, list[SQLModel]]) -> dict[str, list[int]]:
    """The ids of the person's records that audit entries may be about."""
    return {
        subject: [
            i for obj in found.get(subject, []) if (i := getattr(obj, "id", None)) is not None
        ]
        for subject in _SUBJECTS
    }


def _referenced(tables: dict[str, list[dict[str, Any]]], field: str) -> set[int]:
    return {
        int(row[field])
        for rows in tables.values()
        for row in rows
        if isinstance(row.get(field), int)
    }


async def _activities(
    session: AsyncSession, tables: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    ids = _referenced(tables, "activity_id") | {r["id"] for r in tables.get("activity", [])}
    if not ids:
        return []
    fields = ("id", "title", "kind", "station_id", "starts_at", "ends_at", "place", "status")
    found = await people_queries.activities_by_id(session, ids)
    return [{f: _plain(getattr(a, f)) for f in fields} for a in found]


async def _stations(
    session: AsyncSession, tables: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    ids = _referenced(tables, "station_id")
    if not ids:
        return []
    fields = ("id", "code", "name", "name_en", "level")
    found = await people_queries.stations_by_id(session, ids)
    return [{f: _plain(getattr(s, f)) for f in fields} for s in found]


# --- erasure ------------------------------------------------------------------------


async def erase(
    session: AsyncSession,
    user_id: int,
    *,
    now: datetime | None = None,
    rules: OfferRules | None = None,
) -> bool:
    """Erase a person's data, keeping only anonymous counts (see the module's text).
    ``rules``: how long a seat given up is held for the next in line. Returns whether
    anything was kept about them."""
    now = now or utcnow()
    rules = rules or OfferRules()
    async with write_transaction(session):
        volunteer = await queries.get_volunteer_by_user(session, user_id)
        user = await queries.get_user(session, user_id)
        roles = await queries.roles_of(session, user_id)
        found = volunteer is not None or user is not None or bool(roles)
        if volunteer is not None:
            assert volunteer.id is not None
            await _give_up_places(session, volunteer.id, user_id, now, rules)
            for name in _PERSONAL_FIELDS:
                setattr(volunteer, name, None)
            volunteer.skills = []
            volunteer.user_id = None
            volunteer.erased_at = now
            volunteer.updated_at = now
            session.add(volunteer)
            await session.flush()
            # /verify answers that a certificate was issued, then withdrawn.
            await queries.revoke_certificates_of(session, volunteer.id, now)
        for column in PERSON_COLUMNS:
            if column.names is not Names.USER or column.model is User:
                continue
            if column.on_erasure is OnErasure.DELETE:
                await people_queries.delete_naming(session, column.model, column.column, user_id)
            elif column.on_erasure is OnErasure.FORGET:
                await people_queries.forget_naming(session, column.model, column.column, user_id)
        await people_queries.forget_audit_subject(session, user_id)
        await people_queries.delete_dialogs_of(session, user_id)
        await session.flush()
        if user is not None:
            await session.delete(user)
        audit.record(
            session,
            actor_id=None,
            action="volunteer.erased",
            station_id=volunteer.station_id if volunteer else None,
            subject_type="volunteer" if volunteer else None,
            subject_id=volunteer.id if volunteer else None,
        )
    return found


async def _give_up_places(
    session: AsyncSession, volunteer_id: int, user_id: int, now: datetime, rules: OfferRules
) -> None:
    """Every seat, offered seat and waitlist place at an activity not yet started is
    cancelled as the volunteer would cancel it: the seat goes to the next in line
    (who is told), staff hear of a late cancellation (without a name). A check-in
    made before the start, which nothing has credited, goes too."""
    upcoming = [
        activity.id
        for activity, _signup in await queries.signups_of_volunteer(
            session, volunteer_id, now, ACTIVE
        )
        if activity.starts_at > now and activity.id is not None
    ]
    for activity_id in sorted(upcoming):  # one lock order for every writer
        activity = await queries.lock_activity(session, activity_id)
        signup = await queries.find_signup(session, activity_id, volunteer_id)
        if activity is None or signup is None:
            continue
        await session.refresh(signup)
        if signup.status not in ACTIVE or activity.status is not ActivityStatus.PUBLISHED:
            continue
        await activities.give_up(
            session,
            activity,
            signup,
            now=now,
            rules=rules,
            actor_id=None,
            user_id=user_id,
            erased=True,
        )
    await people_queries.delete_unstarted_attendance(session, volunteer_id, now)


async def erase_unlinked(
    session: AsyncSession,
    *,
    actor: Actor,
    volunteer_id: int,
    now: datetime | None = None,
) -> bool:
    """Erase a person staff recorded without Telegram (a volunteer row without a
    user), at their request made to the station: the same as ``erase`` does to a
    volunteer row, by someone who manages activities there. Returns False for a
    row already erased. A volunteer with Telegram erases their own data."""
    now = now or utcnow()
    await access.require_somewhere(session, actor=actor, permission=Permission.MANAGE_ACTIVITIES)
    async with write_transaction(session):
        volunteer = await queries.get_volunteer_for_update(session, volunteer_id)
        if volunteer is None:
            raise NotFound("volunteer_not_found")
        await access.require(
            session,
            actor=actor,
            permission=Permission.MANAGE_ACTIVITIES,
            station_id=volunteer.station_id,
        )
        if volunteer.user_id is not None:
            raise InvalidInput("erase_own_data")
        if volunteer.erased_at is not None:
            return False
        for name in _PERSONAL_FIELDS:
            setattr(volunteer, name, None)
        volunteer.skills = []
        volunteer.erased_at = now
        volunteer.updated_at = now
        session.add(volunteer)
        await session.flush()
        await queries.revoke_certificates_of(session, volunteer_id, now)
        audit.record(
            session,
            actor_id=actor.id,
            action="volunteer.erased",
            station_id=volunteer.station_id,
            subject_type="volunteer",
            subject_id=volunteer_id,
            by_staff=True,
        )
    return True
