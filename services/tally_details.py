"""The records behind a tally, for its spreadsheet: the activities held, the
attendance that counts, and the pledges. The same definitions as
the tally's (``storage.queries.tallies``), so the rows of each list add up to the
tally's figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services import stations
from services.periods import Period
from storage.models import ActivityKind, AttendanceMark, PledgeStatus, Station, TargetGroup
from storage.queries import tallies as queries
from storage.queries.tallies import SMALL_SUBTREE, Window

# The most rows one list holds: a spreadsheet sheet takes about a million, and a
# year of a whole city's attendance could pass that. Beyond it the list is cut and
# says how many rows there are.
MAX_ROWS = 200_000


@dataclass(frozen=True)
class HeldActivity:
    id: int
    station_id: int
    kind: ActivityKind
    title: str
    place: str
    starts_at: datetime
    ends_at: datetime
    target_group: TargetGroup
    closed: bool
    participations: int
    minutes: int
    beneficiaries: int


@dataclass(frozen=True)
class Participation:
    """One attendance row that counts (confirmed, not absent). Volunteers are shown
    by their number only: a spreadsheet travels further than a chat."""

    activity_id: int
    station_id: int
    starts_at: datetime
    title: str
    volunteer_id: int
    mark: AttendanceMark | None
    minutes: int


@dataclass(frozen=True)
class PledgeRecord:
    receipt: str
    station_id: int
    activity_id: int | None
    amount_fen: int
    status: PledgeStatus
    created_at: datetime


@dataclass(frozen=True)
class Details:
    activities: list[HeldActivity]
    attendance: list[Participation]
    pledges: list[PledgeRecord]
    # How many rows each list would hold without MAX_ROWS.
    totals: dict[str, int] = field(default_factory=dict)
    stations: dict[int, Station] = field(default_factory=dict)

    def cut(self, name: str) -> bool:
        """Whether a list ("activities", "attendance", "pledges") is shorter than the
        records it stands for."""
        shown: dict[str, int] = {
            "activities": len(self.activities),
            "attendance": len(self.attendance),
            "pledges": len(self.pledges),
        }
        return self.totals.get(name, shown[name]) > shown[name]


async def details(
    session: AsyncSession,
    *,
    station_id: int,
    period: Period,
    zone: ZoneInfo,
    now: datetime,
    limit: int = MAX_ROWS,
) -> Details:
    """Every record behind the tally of ``station_id``'s subtree over ``period``."""
    tree = await stations.tree(session)
    start, end = period.bounds(zone)
    members = tree.subtree(station_id)
    small = members if len(members) <= SMALL_SUBTREE else None
    window = Window(root=station_id, small=small, start=start, end=end, now=now)

    served = await queries.served_per_activity(session, window)
    benefit = await queries.beneficiaries_per_activity(session, window)
    activities = [
        HeldActivity(
            id=int(a_id),
            station_id=int(s_id),
            kind=ActivityKind(kind),
            title=str(title),
            place=str(place),
            starts_at=starts,
            ends_at=ends,
            target_group=TargetGroup(target),
            closed=closed is not None,
            participations=served.get(int(a_id), (0, 0))[0],
            minutes=served.get(int(a_id), (0, 0))[1],
            beneficiaries=benefit.get(int(a_id), 0),
        )
        for a_id, s_id, kind, title, place, starts, ends, target, closed in (
            await queries.held_activities(session, window, limit)
        )
    ]
    attendance = [
        Participation(
            activity_id=int(a_id),
            station_id=int(s_id),
            starts_at=starts,
            title=str(title),
            volunteer_id=int(volunteer),
            mark=AttendanceMark(mark) if mark is not None else None,
            minutes=int(minutes or 0),
        )
        for a_id, s_id, starts, title, volunteer, mark, minutes in (
            await queries.participations(session, window, limit)
        )
    ]
    pledges = [
        PledgeRecord(
            receipt=str(receipt),
            station_id=int(s_id),
            activity_id=int(a_id) if a_id is not None else None,
            amount_fen=int(fen),
            status=PledgeStatus(status),
            created_at=created,
        )
        for receipt, s_id, a_id, fen, status, created in (
            await queries.pledge_records(session, window, limit)
        )
    ]
    totals = {
        "activities": len(activities)
        if len(activities) < limit
        else await queries.count_held(session, window),
        "attendance": sum(n for n, _ in served.values()),
        "pledges": len(pledges)
        if len(pledges) < limit
        else await queries.count_pledges(session, window),
    }
    return Details(activities, attendance, pledges, totals, dict(tree.stations))
