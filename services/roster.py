"""An activity's roster for staff: everyone holding a seat and every walk-in with
their attendance and this year's no-shows; the activities whose roster someone may
run; and the permission every staff action on attendance checks first.

/roster lists activities starting up to ``LIST_AHEAD`` ahead, and those that ended
in the last ``LIST_BACK`` or are still open (not closed), however old."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, stations, when
from services.access import Actor, Permission
from services.attendance_values import is_flagged
from services.errors import NotAllowed, NotFound
from storage import queries
from storage.models import (
    HOLDS_SEAT,
    Activity,
    Attendance,
    Signup,
    SignupStatus,
    Station,
    TargetGroup,
    Volunteer,
)
from storage.queries import attendance as attendance_queries
from storage.types import utcnow

LIST_AHEAD = timedelta(days=1)
LIST_BACK = timedelta(days=7)


# --- who may -------------------------------------------------------------------------


async def require_manager(session: AsyncSession, *, actor: Actor, station_id: int) -> None:
    await access.require(
        session, actor=actor, permission=Permission.MANAGE_ACTIVITIES, station_id=station_id
    )


async def require_manager_somewhere(session: AsyncSession, *, actor: Actor) -> None:
    await access.require_somewhere(session, actor=actor, permission=Permission.MANAGE_ACTIVITIES)


async def locked(session: AsyncSession, activity_id: int) -> Activity:
    """The activity, locked until the transaction ends (every write locks it first, so
    concurrent check-ins and corrections of one activity queue)."""
    activity = await queries.lock_activity(session, activity_id)
    if activity is None:
        raise NotFound("activity_not_found")
    return activity


async def managed_locked(session: AsyncSession, *, actor: Actor, activity_id: int) -> Activity:
    """The activity, locked, for someone who may manage it (asked before the lookup)."""
    await require_manager_somewhere(session, actor=actor)
    activity = await locked(session, activity_id)
    await require_manager(session, actor=actor, station_id=activity.station_id)
    return activity


# --- one activity's roster -----------------------------------------------------------


@dataclass(frozen=True)
class RosterRow:
    volunteer_id: int
    user_id: int | None
    name: str | None
    seat: SignupStatus | None  # the sign-up's status; None: no sign-up at all
    attendance: Attendance | None
    no_shows: int  # marked absent this calendar year (station time), anywhere
    activity_over: bool  # the activity has ended

    @property
    def walk_in(self) -> bool:
        return self.seat not in HOLDS_SEAT

    @property
    def unresolved(self) -> bool:
        """Checked in, neither checked out nor confirmed by staff: not credited as it is
        (closing waits for it)."""
        return self.attendance is not None and is_flagged(self.attendance)

    @property
    def flagged(self) -> bool:
        """A missing check-out to show staff: unresolved once the activity has ended.
        While it runs, someone checked in is simply there and may still check out."""
        return self.activity_over and self.unresolved


@dataclass(frozen=True)
class Roster:
    activity: Activity
    station: Station
    zone: ZoneInfo
    rows: list[RosterRow]
    beneficiaries: dict[TargetGroup, int]
    now: datetime

    @property
    def closed(self) -> bool:
        return self.activity.closed_at is not None

    def row(self, volunteer_id: int) -> RosterRow | None:
        return next((r for r in self.rows if r.volunteer_id == volunteer_id), None)


async def _no_shows(
    session: AsyncSession, volunteer_ids: Sequence[int], zone: ZoneInfo, now: datetime
) -> dict[int, int]:
    year = now.astimezone(zone).year
    start = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC)
    return await attendance_queries.absences_between(session, volunteer_ids, start, end)


async def beneficiaries_of(session: AsyncSession, activity_id: int) -> dict[TargetGroup, int]:
    rows = await attendance_queries.beneficiaries_of(session, activity_id)
    return {row.target_group: row.count for row in rows}


async def roster(
    session: AsyncSession,
    *,
    actor: Actor,
    activity_id: int,
    now: datetime | None = None,
    default_timezone: str = when.DEFAULT_ZONE,
) -> Roster:
    """Everyone holding a seat, and everyone with an attendance record (walk-ins), with
    their attendance and this year's no-shows: seat holders in sign-up order first."""
    now = now or utcnow()
    await require_manager_somewhere(session, actor=actor)
    activity = await queries.get_activity(session, activity_id)
    if activity is None:
        raise NotFound("activity_not_found")
    await require_manager(session, actor=actor, station_id=activity.station_id)
    station = await queries.get_station(session, activity.station_id)
    assert station is not None  # a foreign key
    zone = await stations.zone(session, activity.station_id, default_timezone)
    seated = await attendance_queries.seat_holders(session, activity_id, HOLDS_SEAT)
    present = {
        row.volunteer_id: row
        for row in await attendance_queries.attendances_of(session, activity_id)
    }
    others = [vid for vid in present if vid not in {v.id for _, v in seated}]
    extra: list[tuple[Signup | None, Volunteer]] = []
    if others:
        volunteers = await attendance_queries.volunteers_by_ids(session, others)
        signups = await attendance_queries.signups_of(session, activity_id, others)
        by_volunteer = {s.volunteer_id: s for s in signups}
        extra = [(by_volunteer.get(v.id or 0), v) for v in volunteers]
        far = datetime.max.replace(tzinfo=UTC)
        extra.sort(key=lambda p: (present[p[1].id or 0].checked_in_at or far, p[1].id or 0))
    everyone: list[tuple[Signup | None, Volunteer]] = [*seated, *extra]
    ids = [v.id for _, v in everyone if v.id is not None]
    no_shows = await _no_shows(session, ids, zone, now)
    rows = [
        RosterRow(
            volunteer_id=v.id,
            user_id=v.user_id,
            name=v.real_name,
            seat=s.status if s is not None else None,
            attendance=present.get(v.id),
            no_shows=no_shows.get(v.id, 0),
            activity_over=now > activity.ends_at,
        )
        for s, v in everyone
        if v.id is not None
    ]
    return Roster(
        activity=activity,
        station=station,
        zone=zone,
        rows=rows,
        beneficiaries=await beneficiaries_of(session, activity_id),
        now=now,
    )


# --- the activities whose roster someone may run ------------------------------------


@dataclass(frozen=True)
class RosterItem:
    activity: Activity
    station: Station
    zone: ZoneInfo
    seats: int


@dataclass(frozen=True)
class RosterList:
    items: list[RosterItem]
    page: int
    pages: int
    total: int


async def roster_activities(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime | None = None,
    page: int = 0,
    per_page: int = 8,
    default_timezone: str = when.DEFAULT_ZONE,
) -> RosterList:
    """Activities whose roster the user may run: on stations where they may manage
    activities, starting within a day, and either ended within the last week or not
    closed yet. Those not over come first, soonest first (one under way, then the
    next); then those over, the latest first. Raises NotAllowed for someone who
    manages none."""
    now = now or utcnow()
    station_ids: list[int] | None = None
    if not actor.is_admin:
        managed = await access.stations_where(
            session, actor=actor, permission=Permission.MANAGE_ACTIVITIES
        )
        station_ids = [s.id for s in managed if s.id is not None]
        if not station_ids:
            raise NotAllowed("not_allowed")
    rows, page, total = await attendance_queries.roster_activities(
        session,
        station_ids=station_ids,
        starts_before=now + LIST_AHEAD,
        ended_after=now - LIST_BACK,
        now=now,
        page=page,
        per_page=per_page,
    )
    pages = max(1, -(-total // per_page))
    seats = await queries.seat_counts_of(
        session, [a.id for a in rows if a.id is not None], HOLDS_SEAT
    )
    items = []
    for activity in rows:
        station = await queries.get_station(session, activity.station_id)
        assert station is not None
        zone = await stations.zone(session, activity.station_id, default_timezone)
        items.append(RosterItem(activity, station, zone, seats.get(activity.id or 0, 0)))
    return RosterList(items, page, pages, total)
