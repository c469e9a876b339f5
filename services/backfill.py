"""Hours recorded on someone's behalf: staff add a person to an activity's records
after the fact (a walk-in recorded late, a volunteer without a phone or without
Telegram), and import historical hours from the spreadsheet template.

A person without Telegram is a volunteer row without a user: their name and, when
they have one, their phone. The next record finds them again by phone, or (without
a phone) by the exact name at the same station. Erasure still works by volunteer:
``personal_data`` clears every personal field of the row.

An import is all or nothing: every row is checked first, and one bad row refuses
the whole file with a report row by row (``SheetRefused``). Each row has a key (a
hash of station, phone or name, date and title) kept on the attendance row it
made, so a file sent twice adds nothing the second time. Every added or changed
minute is in the audit log under the operator's id.

New writes to attendance and activity rows (for tallies kept elsewhere): a late
record (``record_on_behalf``) and an import (``import_hours``), which may also
create closed activities in the past."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, audit, stations, when
from services.access import Actor, Permission
from services.attendance_values import length_minutes, parse_minutes
from services.errors import DomainError, InvalidInput, NotFound
from services.phones import normalize_mobile
from services.roster import managed_locked
from storage import queries
from storage.db import write_transaction
from storage.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Attendance,
    AttendanceMark,
    TargetGroup,
    Volunteer,
    VolunteerStatus,
)
from storage.queries import attendance as attendance_queries
from storage.queries import backfill as backfill_queries
from storage.types import utcnow

MAX_FILE_BYTES = 1024 * 1024  # a template with the largest number of rows is ~100 KB
MAX_ROWS = 2000
MAX_ROW_MINUTES = 24 * 60
MAX_NAME = 64
MAX_TITLE = 80
EARLIEST = date(2000, 1, 1)
IMPORT_START = time(9, 0)  # an imported activity that did not exist starts at 9:00
COLUMNS = 5  # name, phone, activity date, title, hours

RECORDED = "attendance.recorded_on_behalf"
IMPORTED_ROW = "attendance.imported"
IMPORTED = "hours.imported"


# --- who -----------------------------------------------------------------------------


def check_name(text: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise InvalidInput("backfill_name_missing")
    if len(name) > MAX_NAME:
        raise InvalidInput("backfill_name_too_long", max=MAX_NAME)
    return name


def parse_person(text: str) -> tuple[str, str | None]:
    """A person as staff type them: a name and, optionally, a mainland mobile number
    anywhere in the text (``王芳 138 0013 8000``). Returns (name, phone or None)."""
    cleaned = " ".join(text.split())
    phone: str | None = None
    match = re.search(r"(?:\+?86[\s-]?)?1[3-9](?:[\s-]?\d){9}", cleaned)
    if match is not None:
        phone = normalize_mobile(match.group(0))
        cleaned = (cleaned[: match.start()] + " " + cleaned[match.end() :]).strip()
    elif re.search(r"\d{7,}", cleaned):
        raise InvalidInput("phone_invalid")
    return check_name(cleaned.strip(" ,，;；")), phone


def _new_person(station_id: int, name: str, phone: str | None, now: datetime) -> Volunteer:
    return Volunteer(
        user_id=None,
        station_id=station_id,
        status=VolunteerStatus.ACTIVE,
        real_name=name,
        phone=phone,
        created_at=now,
        updated_at=now,
    )


async def _person(
    session: AsyncSession, station_id: int, name: str, phone: str | None, now: datetime
) -> tuple[Volunteer, bool]:
    """The volunteer a record is about, and whether they were added now."""
    if phone is not None:
        found = (await backfill_queries.volunteers_by_phone(session, [phone])).get(phone)
    else:
        found = await backfill_queries.phoneless_by_name(session, station_id, name)
    if found is not None:
        return found, False
    person = _new_person(station_id, name, phone, now)
    session.add(person)
    await session.flush()
    return person, True


def _snapshot(row: Attendance | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "mark": row.mark.value if row.mark is not None else None,
        "minutes": row.minutes,
        "confirmed": row.confirmed,
    }


# --- one person, late ----------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    volunteer: Volunteer
    attendance: Attendance
    new_person: bool
    changed: bool


async def record_on_behalf(
    session: AsyncSession,
    *,
    actor: Actor,
    activity_id: int,
    name: str,
    phone: str | None,
    minutes: int,
    now: datetime | None = None,
) -> Recorded:
    """Add someone to an activity's records after the fact with the minutes they
    served (at most the activity's length). Someone already on the records gets
    these minutes instead (a correction, audited as one). After closing the hours
    count from now."""
    now = now or utcnow()
    name = check_name(name)
    async with write_transaction(session):
        activity = await managed_locked(session, actor=actor, activity_id=activity_id)
        if activity.status is ActivityStatus.CANCELLED:
            raise InvalidInput("activity_cancelled", title=activity.title)
        if now < activity.starts_at:
            raise InvalidInput(
                "activity_not_started",
                title=activity.title,
                at=activity.starts_at,
                station=activity.station_id,
            )
        maximum = length_minutes(activity)
        if isinstance(minutes, bool) or not 0 < minutes <= maximum:
            raise InvalidInput("minutes_out_of_range", max=maximum)
        volunteer, new_person = await _person(session, activity.station_id, name, phone, now)
        assert volunteer.id is not None and activity.id is not None
        row = await attendance_queries.attendance_of(session, activity.id, volunteer.id)
        before = _snapshot(row)
        if row is None:
            row = Attendance(activity_id=activity.id, volunteer_id=volunteer.id, created_at=now)
        row.mark = row.mark if row.mark is AttendanceMark.LATE else AttendanceMark.PRESENT
        row.minutes = minutes
        row.confirmed = True
        after = _snapshot(row)
        if after == before:
            return Recorded(volunteer, row, new_person, changed=False)
        row.on_behalf = True
        row.updated_by = actor.id
        row.updated_at = now
        if activity.closed_at is not None and row.credited_at is None:
            row.credited_at = now
        session.add(row)
        await session.flush()
        audit.record(
            session,
            actor_id=actor.id,
            action=RECORDED,
            station_id=activity.station_id,
            subject_type="attendance",
            subject_id=row.id,
            activity_id=activity.id,
            volunteer_id=volunteer.id,
            new_person=new_person,
            old=before,
            new=after,
        )
    return Recorded(volunteer, row, new_person, changed=True)


# --- the spreadsheet -----------------------------------------------------------------


@dataclass(frozen=True)
class SheetRow:
    number: int  # the row in the sheet (the header is row 1)
    name: str
    phone: str | None
    day: date
    title: str
    minutes: int


@dataclass(frozen=True)
class RowProblem:
    number: int
    code: str
    params: dict[str, object] = field(default_factory=dict)


class SheetRefused(InvalidInput):
    """A file with bad rows: nothing was imported. ``problems`` says which and why."""

    code = "import_refused"

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        super().__init__("import_refused", count=len(problems))
        self.problems = list(problems)


def read_sheet(content: bytes) -> list[tuple[int, tuple[object, ...]]]:
    """The rows of the first sheet below the header, as (row number, the first five
    cells); blank rows are left out. Raises InvalidInput for a file that is too big,
    not a spreadsheet, or has too many rows."""
    if len(content) > MAX_FILE_BYTES:
        raise InvalidInput("import_too_big", max_kb=MAX_FILE_BYTES // 1024)
    from openpyxl import load_workbook  # only imports need it

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # zip, XML, or openpyxl's own: any of them is "unreadable"
        raise InvalidInput("import_unreadable") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise InvalidInput("import_unreadable")
        rows: list[tuple[int, tuple[object, ...]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number == 1:
                continue  # the header
            cells = tuple(values[:COLUMNS]) + (None,) * (COLUMNS - len(values[:COLUMNS]))
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            rows.append((number, cells))
            if len(rows) > MAX_ROWS:
                raise InvalidInput("import_too_many_rows", max=MAX_ROWS)
    except InvalidInput:
        raise
    except Exception:  # a cell or a part that does not read
        raise InvalidInput("import_unreadable") from None
    finally:
        book.close()
    if not rows:
        raise InvalidInput("import_empty")
    return rows


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return " ".join(str(cell).split())


_DAY = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def _day(cell: object, today: date) -> date:
    if isinstance(cell, datetime):
        day = cell.date()
    elif isinstance(cell, date):
        day = cell
    else:
        match = _DAY.match(when.plain_digits(_text(cell)))
        if match is None:
            raise InvalidInput("import_bad_date")
        try:
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            raise InvalidInput("import_bad_date") from None
    if day > today:
        raise InvalidInput("import_future_date")
    if day < EARLIEST:
        raise InvalidInput("import_too_old", earliest=EARLIEST)
    return day


def _minutes(cell: object) -> int:
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        raise InvalidInput("import_no_hours")
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        minutes = round(float(cell) * 60)
    else:
        try:
            minutes = parse_minutes(_text(cell), maximum=MAX_ROW_MINUTES)
        except InvalidInput:
            raise InvalidInput("import_bad_hours", max=MAX_ROW_MINUTES // 60) from None
    if minutes > MAX_ROW_MINUTES or minutes < 0:
        raise InvalidInput("import_bad_hours", max=MAX_ROW_MINUTES // 60)
    if minutes == 0:
        raise InvalidInput("import_no_hours")
    return minutes


def _row(number: int, cells: tuple[object, ...], today: date) -> SheetRow:
    name_cell, phone_cell, day_cell, title_cell, hours_cell = cells
    name = " ".join(_text(name_cell).split())
    if not name:
        raise InvalidInput("import_no_name")
    if len(name) > MAX_NAME:
        raise InvalidInput("import_name_too_long", max=MAX_NAME)
    phone_text = _text(phone_cell)
    try:
        phone = normalize_mobile(phone_text) if phone_text else None
    except InvalidInput:
        raise InvalidInput("import_bad_phone", phone=phone_text) from None
    day = _day(day_cell, today)
    title = _text(title_cell)
    if not title:
        raise InvalidInput("import_no_title")
    if len(title) > MAX_TITLE:
        raise InvalidInput("import_title_too_long", max=MAX_TITLE)
    return SheetRow(number, name, phone, day, title, _minutes(hours_cell))


def row_key(station_id: int, row: SheetRow) -> str:
    """The row's key: the same person, day and title at the same station is the same
    record, whatever the hours say."""
    who = row.phone or "name:" + row.name
    text = f"{station_id}|{who}|{row.day.isoformat()}|{row.title}"
    return hashlib.sha256(text.encode()).hexdigest()


def check_rows(
    station_id: int, raw: Iterable[tuple[int, tuple[object, ...]]], today: date
) -> list[SheetRow]:
    """Every row checked; raises SheetRefused with every problem found."""
    rows: list[SheetRow] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for number, cells in raw:
        try:
            row = _row(number, cells, today)
        except DomainError as error:
            problems.append(RowProblem(number, error.code, dict(error.params)))
            continue
        key = row_key(station_id, row)
        if key in seen:
            problems.append(RowProblem(number, "import_duplicate_row", {"row": seen[key]}))
            continue
        seen[key] = number
        rows.append(row)
    if problems:
        raise SheetRefused(problems)
    return rows


@dataclass(frozen=True)
class ImportResult:
    rows: int
    added: int
    changed: int
    already: int
    new_people: int
    new_activities: int
    minutes: int  # added and changed minutes (the difference they made)


async def require_importer(session: AsyncSession, *, actor: Actor, station_id: int) -> None:
    """Raise NotAllowed unless someone may import hours into the station's records
    (asked before a file is even downloaded)."""
    await access.require_somewhere(session, actor=actor, permission=Permission.MANAGE_ACTIVITIES)
    await access.require(
        session, actor=actor, permission=Permission.MANAGE_ACTIVITIES, station_id=station_id
    )


async def import_hours(
    session: AsyncSession,
    *,
    actor: Actor,
    station_id: int,
    content: bytes,
    default_zone: ZoneInfo | str,
    now: datetime | None = None,
) -> ImportResult:
    """Import the template's rows into the station's records, all or nothing."""
    now = now or utcnow()
    await require_importer(session, actor=actor, station_id=station_id)
    if await queries.get_station(session, station_id) is None:
        raise NotFound("station_not_found")
    zone = await stations.zone(session, station_id, default_zone)
    raw = await asyncio.to_thread(read_sheet, content)
    rows = check_rows(station_id, raw, now.astimezone(zone).date())
    async with write_transaction(session):
        return await _import(session, actor, station_id, zone, rows, now)


async def _import(
    session: AsyncSession,
    actor: Actor,
    station_id: int,
    zone: ZoneInfo,
    rows: list[SheetRow],
    now: datetime,
) -> ImportResult:
    """The rows not imported before, in a few statements whatever their number: the
    people, activities and attendance rows are looked up together and added together."""
    keys = {row_key(station_id, r): r for r in rows}
    done = await backfill_queries.imported_keys(session, keys)
    todo = [(k, r) for k, r in keys.items() if k not in done]
    already = len(rows) - len(todo)
    if not todo:
        return ImportResult(len(rows), 0, 0, already, 0, 0, 0)
    people, new_people = await _people(session, station_id, [r for _, r in todo], now)
    activities, new_activities = await _activities(
        session, actor, station_id, zone, [r for _, r in todo], now
    )
    pairs = {(activities[(r.day, r.title)].id, people[_who(r)].id) for _, r in todo}
    existing = await backfill_queries.attendances_of_pairs(
        session,
        [a for a, _ in pairs if a is not None],
        [v for _, v in pairs if v is not None],
    )
    written: list[tuple[Attendance, SheetRow, dict[str, Any] | None, int]] = []
    for key, row in todo:
        activity, volunteer = activities[(row.day, row.title)], people[_who(row)]
        assert activity.id is not None and volunteer.id is not None
        attendance = existing.get((activity.id, volunteer.id))
        before = _snapshot(attendance)
        if attendance is None:
            attendance = Attendance(
                activity_id=activity.id, volunteer_id=volunteer.id, created_at=now
            )
            existing[(activity.id, volunteer.id)] = attendance
        old_minutes = (attendance.minutes or 0) if attendance.confirmed else 0
        if attendance.import_key is None:
            attendance.import_key = key
        if attendance.confirmed and attendance.minutes == row.minutes:
            session.add(attendance)  # the same record: keep its key, change nothing
            already += 1
            continue
        attendance.mark = AttendanceMark.PRESENT
        attendance.minutes = row.minutes
        attendance.confirmed = True
        attendance.on_behalf = True
        attendance.updated_by = actor.id
        attendance.updated_at = now
        if activity.closed_at is not None and attendance.credited_at is None:
            attendance.credited_at = now
        session.add(attendance)
        written.append((attendance, row, before, row.minutes - old_minutes))
    await session.flush()
    added = changed = total = 0
    for attendance, row, before, difference in written:
        if before is None:
            added += 1
        else:
            changed += 1
        total += difference
        audit.record(
            session,
            actor_id=actor.id,
            action=IMPORTED_ROW,
            station_id=station_id,
            subject_type="attendance",
            subject_id=attendance.id,
            activity_id=attendance.activity_id,
            volunteer_id=attendance.volunteer_id,
            row=row.number,
            old=before,
            new=_snapshot(attendance),
        )
    result = ImportResult(len(rows), added, changed, already, new_people, new_activities, total)
    if added or changed:
        audit.record(
            session,
            actor_id=actor.id,
            action=IMPORTED,
            station_id=station_id,
            rows=result.rows,
            added=added,
            changed=changed,
            already=already,
            minutes=total,
        )
    return result


def _who(row: SheetRow) -> tuple[str, str]:
    """How a row names its person: by phone, or (without one) by name."""
    return ("phone", row.phone) if row.phone is not None else ("name", row.name)


async def _people(
    session: AsyncSession, station_id: int, rows: Sequence[SheetRow], now: datetime
) -> tuple[dict[tuple[str, str], Volunteer], int]:
    """Each row's person: a volunteer with the phone, or a person recorded before
    without phone or Telegram under the same name at the station, or someone new."""
    phones = {r.phone for r in rows if r.phone is not None}
    names = {r.name for r in rows if r.phone is None}
    by_phone = await backfill_queries.volunteers_by_phone(session, phones)
    by_name = await backfill_queries.phoneless_by_names(session, station_id, names)
    found: dict[tuple[str, str], Volunteer] = {}
    found.update({("phone", p): v for p, v in by_phone.items()})
    found.update({("name", n): v for n, v in by_name.items()})
    added = []
    for row in rows:
        who = _who(row)
        if who not in found:
            found[who] = _new_person(station_id, row.name, row.phone, now)
            added.append(found[who])
    session.add_all(added)
    await session.flush()
    return found, len(added)


async def _activities(
    session: AsyncSession,
    actor: Actor,
    station_id: int,
    zone: ZoneInfo,
    rows: Sequence[SheetRow],
    now: datetime,
) -> tuple[dict[tuple[date, str], Activity], int]:
    """The station's activity of each row's title and day, or a closed one made for
    the import (starting at 9:00, as long as the longest row of it)."""
    first = datetime.combine(min(r.day for r in rows), time(), tzinfo=zone)
    end = datetime.combine(max(r.day for r in rows) + timedelta(days=1), time(), tzinfo=zone)
    titles = {r.title for r in rows}
    found: dict[tuple[date, str], Activity] = {}
    for activity in await backfill_queries.activities_between(
        session, station_id, titles, first, end
    ):
        found.setdefault((activity.starts_at.astimezone(zone).date(), activity.title), activity)
    longest: dict[tuple[date, str], int] = {}
    people: dict[tuple[date, str], int] = {}
    for row in rows:
        key = (row.day, row.title)
        longest[key] = max(longest.get(key, 0), row.minutes)
        people[key] = people.get(key, 0) + 1
    added = []
    for key, minutes in longest.items():
        if key in found:
            continue
        starts = datetime.combine(key[0], IMPORT_START, tzinfo=zone)
        found[key] = Activity(
            station_id=station_id,
            kind=ActivityKind.OTHER,
            title=key[1],
            place="",
            starts_at=starts,
            ends_at=starts + timedelta(minutes=minutes),
            capacity=people[key],
            target_group=TargetGroup.GENERAL_PUBLIC,
            created_by=actor.id,
            created_at=now,
            updated_at=now,
            closed_at=now,
            closed_by=actor.id,
        )
        added.append(found[key])
    session.add_all(added)
    await session.flush()
    return found, len(added)
