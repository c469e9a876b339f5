"""Volunteer registration and profile. A copy of one's data and its erasure:
services.personal_data."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services import approvals, audit, plain_text, stations
from services.access import Actor
from services.errors import InvalidInput, NotFound
from storage import queries
from storage.db import write_transaction
from storage.models import AgeGroup, Volunteer, VolunteerStatus
from storage.types import utcnow

PRIVACY_VERSION = "2026-11"
NAME_MAX = 40
SKILLS = (
    "first_aid",
    "tutoring",
    "elder_care",
    "counseling",
    "legal",
    "computer",
    "arts",
    "photography",
    "driving",
    "repair",
    "sign_language",
    "foreign_language",
)


def clean_name(text: str) -> str:
    """A real name: 2 to 40 visible characters, letters of any script, spaces,
    middle dots and hyphens; no digits, no markup-only input, nothing invisible."""
    name = plain_text.one_line(text)
    if len(name) < 2:
        raise InvalidInput("name_too_short")
    if len(name) > NAME_MAX:
        raise InvalidInput("name_too_long", max=NAME_MAX)
    if any(ch.isdigit() for ch in name):
        raise InvalidInput("name_has_digits")
    if not any(ch.isalpha() for ch in name):
        raise InvalidInput("name_no_letters")
    return name


def check_skills(codes: list[str]) -> list[str]:
    unknown = [c for c in codes if c not in SKILLS]
    if unknown:
        raise InvalidInput("skill_unknown")
    return [s for s in SKILLS if s in codes]


@dataclass
class Draft:
    """A registration in progress, kept in the dialog state between steps."""

    real_name: str | None = None
    phone: str | None = None
    station_id: int | None = None
    skills: list[str] = field(default_factory=list)
    age_group: str | None = None
    guardian_name: str | None = None
    guardian_phone: str | None = None
    guardian_consent: bool = False
    privacy_consent: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Draft:
        known = {k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def missing(self) -> list[str]:
        """The steps still to do, in dialog order."""
        steps: list[str] = []
        if not self.real_name:
            steps.append("name")
        if not self.phone:
            steps.append("phone")
        if self.station_id is None:
            steps.append("station")
        if self.age_group is None:
            steps.append("age")
        elif self.age_group == AgeGroup.TEEN:
            if not self.guardian_name:
                steps.append("guardian_name")
            if not self.guardian_phone:
                steps.append("guardian_phone")
            if not self.guardian_consent:
                steps.append("guardian_consent")
        if not self.privacy_consent:
            steps.append("privacy")
        return steps


def check_age_group(value: str) -> AgeGroup:
    try:
        group = AgeGroup(value)
    except ValueError:
        raise InvalidInput("age_unknown") from None
    if group is AgeGroup.UNDER_14:
        raise InvalidInput("age_under_14")
    return group


async def save(
    session: AsyncSession,
    *,
    draft: Draft,
    actor: Actor | None = None,
    user_id: int | None = None,
    admin_ids: Collection[int] = (),
) -> Volunteer:
    """Store a completed registration, or the edited profile of a registered volunteer
    (the ``actor``'s own; ``user_id`` is the older way to name them). Consent times
    are kept from the first time they were given. A volunteer who waits for approval
    is brought to the approvers (``approvals.ask_approvers``; ``admin_ids``, the
    admins, when nobody up the tree may approve), once, and again only if they move
    to another station while waiting."""
    if actor is not None:
        user_id = actor.id
    if user_id is None:
        raise TypeError("an actor (or user_id) is required")
    if draft.missing():
        raise InvalidInput("registration_incomplete", steps=draft.missing())
    assert draft.station_id is not None and draft.age_group is not None
    group = check_age_group(draft.age_group)
    real_name = clean_name(draft.real_name or "")
    skills = check_skills(draft.skills)
    now = utcnow()
    async with write_transaction(session):
        station = await queries.get_station(session, draft.station_id)
        if station is None:
            raise NotFound("station_not_found")
        volunteer = await queries.get_volunteer_by_user(session, user_id)
        is_new = volunteer is None
        if volunteer is None:
            pending = await stations.requires_approval(session, draft.station_id)
            status = VolunteerStatus.PENDING if pending else VolunteerStatus.ACTIVE
            volunteer = Volunteer(user_id=user_id, station_id=draft.station_id, status=status)
        before = volunteer.model_dump()
        teen = group is AgeGroup.TEEN
        volunteer.station_id = draft.station_id
        volunteer.real_name = real_name
        volunteer.phone = draft.phone
        volunteer.skills = skills
        volunteer.age_group = group
        volunteer.guardian_name = draft.guardian_name if teen else None
        volunteer.guardian_phone = draft.guardian_phone if teen else None
        volunteer.guardian_consent_at = (volunteer.guardian_consent_at or now) if teen else None
        if volunteer.privacy_version != PRIVACY_VERSION or volunteer.privacy_consent_at is None:
            volunteer.privacy_version = PRIVACY_VERSION
            volunteer.privacy_consent_at = now
        changed = sorted(k for k, v in volunteer.model_dump().items() if before.get(k) != v)
        volunteer.updated_at = now
        session.add(volunteer)
        await session.flush()
        if volunteer.status is VolunteerStatus.PENDING and (is_new or "station_id" in changed):
            await approvals.ask_approvers(session, volunteer, admin_ids)
        audit.record(
            session,
            actor_id=user_id,
            action="volunteer.registered" if is_new else "volunteer.profile_changed",
            station_id=station.id,
            subject_type="volunteer",
            subject_id=volunteer.id,
            **({"status": volunteer.status.value} if is_new else {"fields": changed}),
        )
    return volunteer


def draft_of(volunteer: Volunteer) -> Draft:
    """A registered volunteer's profile as a draft, to edit one field of it."""
    return Draft(
        real_name=volunteer.real_name,
        phone=volunteer.phone,
        station_id=volunteer.station_id,
        skills=list(volunteer.skills),
        age_group=volunteer.age_group.value if volunteer.age_group else None,
        guardian_name=volunteer.guardian_name,
        guardian_phone=volunteer.guardian_phone,
        guardian_consent=volunteer.guardian_consent_at is not None,
        privacy_consent=volunteer.privacy_consent_at is not None,
    )


async def get(session: AsyncSession, user_id: int) -> Volunteer | None:
    return await queries.get_volunteer_by_user(session, user_id)
