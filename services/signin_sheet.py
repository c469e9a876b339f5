"""An activity's sign-in sheet (签到表) as plain values: the station, the activity, and
one line per person on its roster (seat holders in sign-up order, then walk-ins) with
the name, the phone's last four digits and the check-in and check-out times. The
documents are made from it by ``reports.signin_sheet``; stations print them and keep
the signed paper for their assessments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services import when
from services.access import Actor
from services.roster import roster
from storage.queries import attendance as attendance_queries
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


async def sheet(
    session: AsyncSession,
    *,
    actor: Actor,
    activity_id: int,
    now: datetime | None = None,
    default_timezone: str = when.DEFAULT_ZONE,
) -> SigninSheet:
    """The sign-in sheet of an activity, for staff who may run its roster. Raises
    NotFound('activity_not_found') and NotAllowed like ``roster.roster``."""
    found = await roster(
        session,
        actor=actor,
        activity_id=activity_id,
        now=now or utcnow(),
        default_timezone=default_timezone,
    )
    phones = await attendance_queries.volunteer_phones(
        session, [row.volunteer_id for row in found.rows]
    )
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
