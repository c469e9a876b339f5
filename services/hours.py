"""Service hours: what counts, the totals, star levels and no-shows.

Hours are kept as integer minutes. Only credited attendance counts: confirmed by
staff, credited when the activity was closed (``credited_at``), with minutes above
zero, not marked absent, at an activity that was not cancelled. An attendance
belongs to the year (or period) in which its activity started."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services import stations
from services.errors import NotFound
from storage import queries
from storage.models import Station, Volunteer
from storage.queries import attendance as attendance_queries

LATEST = 5


@dataclass(frozen=True)
class CreditedActivity:
    """One activity a volunteer was credited for, with its station's names and zone."""

    activity_id: int
    title: str
    starts_at: datetime
    minutes: int
    station_id: int
    station_name: str
    station_name_en: str | None
    station_zone: str | None
    by_staff: bool = False  # recorded by staff on the volunteer's behalf


@dataclass(frozen=True)
class StarLevel:
    """Stars reached (0 to the number of thresholds); the next threshold in hours and
    the minutes still missing, or None when the highest level is reached."""

    stars: int
    of: int
    next_hours: int | None
    minutes_to_next: int | None


@dataclass(frozen=True)
class HoursSummary:
    volunteer: Volunteer
    station: Station
    zone: ZoneInfo
    year: int
    total_minutes: int
    year_minutes: int
    level: StarLevel
    latest: list[CreditedActivity]
    no_shows_this_year: int


def hours_of(minutes: int) -> Decimal:
    """Minutes as hours with at most one decimal, rounded half up: 95 -> 1.6."""
    return (Decimal(minutes) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def star_level(total_minutes: int, thresholds: Sequence[int]) -> StarLevel:
    """The number of thresholds (in hours) reached, and the way to the next one."""
    reached = sum(1 for hours in thresholds if total_minutes >= hours * 60)
    if reached >= len(thresholds):
        return StarLevel(reached, len(thresholds), None, None)
    target = thresholds[reached]
    return StarLevel(reached, len(thresholds), target, target * 60 - total_minutes)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of a local day, as an aware datetime (compare in UTC)."""
    return datetime.combine(day, time(), tzinfo=zone)


def year_bounds(year: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The calendar year in ``zone``: [1 January 00:00, next 1 January 00:00)."""
    return day_start(date(year, 1, 1), zone), day_start(date(year + 1, 1, 1), zone)


async def credited_minutes(
    *,
    session: AsyncSession,
    volunteer_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Credited minutes of one volunteer, for activities started in [since, until)."""
    return await attendance_queries.credited_minutes(session, volunteer_id, since, until)


async def credited_activities(
    *,
    session: AsyncSession,
    volunteer_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    newest_first: bool = False,
    limit: int | None = None,
) -> list[CreditedActivity]:
    """The activities one volunteer was credited for, started in [since, until)."""
    rows = await attendance_queries.credited_activities(
        session, volunteer_id, since=since, until=until, newest_first=newest_first, limit=limit
    )
    result = []
    for activity, minutes, station, on_behalf in rows:
        assert activity.id is not None and station.id is not None
        result.append(
            CreditedActivity(
                activity_id=activity.id,
                title=activity.title,
                starts_at=activity.starts_at,
                minutes=int(minutes or 0),
                station_id=station.id,
                station_name=station.name,
                station_name_en=station.name_en,
                station_zone=station.timezone,
                by_staff=bool(on_behalf),
            )
        )
    return result


async def no_show_counts(
    *,
    session: AsyncSession,
    volunteer_ids: Iterable[int],
    year_start: datetime,
    year_end: datetime,
) -> dict[int, int]:
    """No-shows (attendance marked absent) at activities that started in
    [year_start, year_end) and were not cancelled, per volunteer; 0 for those without."""
    ids = sorted(set(volunteer_ids))
    if not ids:
        return {}
    counts = await attendance_queries.no_shows_between(session, ids, year_start, year_end)
    return {vid: counts.get(vid, 0) for vid in ids}


async def home_station(session: AsyncSession, user_id: int) -> tuple[Volunteer, Station]:
    """The registered volunteer behind a Telegram user and their home station."""
    volunteer = await queries.get_volunteer_by_user(session, user_id)
    if volunteer is None or volunteer.id is None:
        raise NotFound("not_registered")
    station = await queries.get_station(session, volunteer.station_id)
    if station is None:
        raise NotFound("station_not_found")
    return volunteer, station


async def summary(
    *,
    session: AsyncSession,
    user_id: int,
    thresholds: Sequence[int],
    default_zone: ZoneInfo | str,
    now: datetime,
    latest: int = LATEST,
) -> HoursSummary:
    """What /hours shows: totals, this year's hours (the calendar year in the home
    station's zone), the star level, the latest credited activities and this
    year's no-shows. Raises NotFound("not_registered") for someone not registered."""
    volunteer, station = await home_station(session, user_id)
    assert volunteer.id is not None
    zone = await stations.zone(session, station.id, default_zone)
    year = now.astimezone(zone).year
    start, end = year_bounds(year, zone)
    total = await credited_minutes(session=session, volunteer_id=volunteer.id)
    this_year = await credited_minutes(
        session=session, volunteer_id=volunteer.id, since=start, until=end
    )
    recent = await credited_activities(
        session=session, volunteer_id=volunteer.id, newest_first=True, limit=latest
    )
    no_shows = await no_show_counts(
        session=session, volunteer_ids=[volunteer.id], year_start=start, year_end=end
    )
    return HoursSummary(
        volunteer=volunteer,
        station=station,
        zone=zone,
        year=year,
        total_minutes=total,
        year_minutes=this_year,
        level=star_level(total, thresholds),
        latest=recent,
        no_shows_this_year=no_shows[volunteer.id],
    )
