"""An activity's sign-in sheet (签到表) as plain values: the station, the activity, and
one line per person on its roster (seat holders in sign-up order, then walk-ins) with
the name, the phone's last four digits and the check-in and check-out times. The
documents are made from it by ``reports.signin_sheet``; stations print them and keep
the signed paper for their assessments."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import attendance, when
from storage.models import Volunteer
from storage.types import utcnow


@dataclass(frozen=True)
class SheetLine:
    name: str
    phone_tail: str | None  # the last four digits only
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    walk_in: bool = False


@dataclass(frozen=True)
class SigninSheet:
    activity_id: int
    station_name: str
    station_name_en: str | None
    title: str
    place: str
    starts_at: datetime
    ends_at: datetime
    zone: ZoneInfo
    lines: list[SheetLine]


def phone_tail(phone: str | None) -> str | None:
    """The last four digits of a phone number, the rest never leaves the database."""
    digits = "".join(c for c in phone or "" if c.isdigit())
    return digits[-4:] if len(digits) >= 4 else None


async def _phones(session: AsyncSession, volunteer_ids: list[int]) -> dict[int, str | None]:
    found: dict[int, str | None] = {}
    for first in range(0, len(volunteer_ids), 500):
        query = select(Volunteer.id, Volunteer.phone).where(
            col(Volunteer.id).in_(volunteer_ids[first : first + 500])
        )
        found.update({vid: phone for vid, phone in (await session.exec(query)).all() if vid})
    return found


async def sheet(
    session: AsyncSession,
    *,
    actor_id: int,
    admin_ids: Collection[int],
    activity_id: int,
    now: datetime | None = None,
    default_timezone: str = when.DEFAULT_ZONE,
) -> SigninSheet:
    """The sign-in sheet of an activity, for staff who may run its roster. Raises
    NotFound('activity_not_found') and NotAllowed like ``attendance.roster``."""
    found = await attendance.roster(
        session,
        actor_id=actor_id,
        admin_ids=admin_ids,
        activity_id=activity_id,
        now=now or utcnow(),
        default_timezone=default_timezone,
    )
    phones = await _phones(session, [row.volunteer_id for row in found.rows])
    activity = found.activity
    assert activity.id is not None
    return SigninSheet(
        activity_id=activity.id,
        station_name=found.station.name,
        station_name_en=found.station.name_en,
        title=activity.title,
        place=activity.place,
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        zone=found.zone,
        lines=[
            SheetLine(
                name=row.name or "—",
                phone_tail=phone_tail(phones.get(row.volunteer_id)),
                checked_in_at=row.attendance.checked_in_at if row.attendance else None,
                checked_out_at=row.attendance.checked_out_at if row.attendance else None,
                walk_in=row.walk_in,
            )
            for row in found.rows
        ],
    )
