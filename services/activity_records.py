"""An activity's record (台账): the photos staff attach and a short summary, and the
record sheet's values (the activity's details, attendance, beneficiaries by group,
photos and summary), the page a station files for its assessments.

Photos are Telegram photos, kept by their file id; the Telegram side downloads each
into the data directory (``photo_path``) and tells this module how that went
(``stored``, ``download_failed``). A photo whose download failed stays attached by
its file id and is fetched again later (when the next photo is attached, and when the
sheet is made). Photos belong to the activity; who attached one is kept
(``uploaded_by``) and forgotten on that person's erasure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit, plain_text, when
from services.access import Actor
from services.errors import InvalidInput, NotFound
from services.roster import managed_locked, roster
from storage.db import write_transaction
from storage.models import (
    Activity,
    ActivityKind,
    ActivityPhoto,
    ActivityStatus,
    AttendanceMark,
    TargetGroup,
)
from storage.queries import records as record_queries
from storage.types import utcnow

MAX_PHOTOS = 9  # per activity: three rows of three on the sheet
MAX_PHOTO_BYTES = 5 * 1024 * 1024  # a photo Telegram has compressed is well under this
SUMMARY_MAX = 500  # characters
ERROR_MAX = 200  # characters of a download's error kept
PHOTO_FOLDER = "records"


# --- photos ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AddedPhoto:
    photo: ActivityPhoto
    count: int  # the activity's photos now
    duplicate: bool  # the same photo was attached before: nothing added


def photo_path(activity_id: int, photo_id: int) -> str:
    """Where a photo is kept, relative to the data directory."""
    return f"{PHOTO_FOLDER}/{activity_id}/{photo_id}.jpg"


def _may_attach(activity: Activity, now: datetime) -> None:
    if activity.status is ActivityStatus.CANCELLED:
        raise InvalidInput("activity_cancelled", title=activity.title)
    if now < activity.starts_at:
        raise InvalidInput(
            "activity_not_started",
            title=activity.title,
            at=activity.starts_at,
            station=activity.station_id,
        )


async def add_photo(
    session: AsyncSession,
    *,
    actor: Actor,
    activity_id: int,
    file_id: str,
    file_unique_id: str,
    width: int = 0,
    height: int = 0,
    file_size: int | None = None,
    now: datetime | None = None,
) -> AddedPhoto:
    """Attach a photo to the activity's record. Refused before the activity starts,
    when it is cancelled, past ``MAX_PHOTOS`` (``photos_full``) and over
    ``MAX_PHOTO_BYTES`` (``photo_too_large``). The same photo sent again (a
    redelivered update) is not added twice."""
    now = now or utcnow()
    if not file_id or not file_unique_id or len(file_id) > 255 or len(file_unique_id) > 64:
        raise InvalidInput("photo_unreadable")
    if file_size is not None and file_size > MAX_PHOTO_BYTES:
        raise InvalidInput("photo_too_large", max=MAX_PHOTO_BYTES // (1024 * 1024))
    async with write_transaction(session):
        activity = await managed_locked(session, actor=actor, activity_id=activity_id)
        _may_attach(activity, now)
        count = await record_queries.count_photos(session, activity_id)
        same = await record_queries.photo_by_unique_id(session, activity_id, file_unique_id)
        if same is not None:
            return AddedPhoto(same, count, duplicate=True)
        if count >= MAX_PHOTOS:
            raise InvalidInput("photos_full", max=MAX_PHOTOS, title=activity.title)
        photo = ActivityPhoto(
            activity_id=activity_id,
            file_id=file_id,
            file_unique_id=file_unique_id,
            width=max(0, width),
            height=max(0, height),
            file_size=file_size,
            uploaded_by=actor.id,
            created_at=now,
        )
        session.add(photo)
        await session.flush()
        audit.record(
            session,
            actor_id=actor.id,
            action="record.photo_added",
            station_id=activity.station_id,
            subject_type="activity",
            subject_id=activity_id,
            photo_id=photo.id,
        )
    return AddedPhoto(photo, count + 1, duplicate=False)


async def stored(
    session: AsyncSession, *, photo_id: int, path: str, now: datetime | None = None
) -> None:
    """The photo is downloaded and kept at ``path`` (relative to the data directory)."""
    async with write_transaction(session):
        photo = await record_queries.get_photo(session, photo_id)
        if photo is None:
            return
        photo.stored_path = path
        photo.stored_at = now or utcnow()
        photo.download_attempts += 1
        photo.download_error = None
        session.add(photo)


async def download_failed(session: AsyncSession, *, photo_id: int, error: str) -> None:
    """A download failed: the photo stays attached by its file id, to be fetched later."""
    async with write_transaction(session):
        photo = await record_queries.get_photo(session, photo_id)
        if photo is None:
            return
        photo.stored_path = None
        photo.download_attempts += 1
        photo.download_error = plain_text.one_line(error)[:ERROR_MAX] or "?"
        session.add(photo)


# --- the summary ----------------------------------------------------------------------


def parse_summary(text: str) -> str:
    """A summary as typed: plain, its lines kept (blank runs made one), at most
    ``SUMMARY_MAX`` characters."""
    lines = plain_text.lines(text)
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    summary = "\n".join(kept).strip()
    if not summary:
        raise InvalidInput("summary_empty")
    if len(summary) > SUMMARY_MAX:
        raise InvalidInput("summary_too_long", max=SUMMARY_MAX, length=len(summary))
    return summary


async def set_summary(
    session: AsyncSession,
    *,
    actor: Actor,
    activity_id: int,
    text: str,
    now: datetime | None = None,
) -> Activity:
    """Write (or replace) the activity's summary."""
    now = now or utcnow()
    summary = parse_summary(text)
    async with write_transaction(session):
        activity = await managed_locked(session, actor=actor, activity_id=activity_id)
        _may_attach(activity, now)
        if activity.summary == summary:
            return activity
        old = activity.summary
        activity.summary = summary
        activity.summary_by = actor.id
        activity.summary_at = now
        session.add(activity)
        audit.record(
            session,
            actor_id=actor.id,
            action="record.summary_written",
            station_id=activity.station_id,
            subject_type="activity",
            subject_id=activity_id,
            old_length=len(old) if old else 0,
            new_length=len(summary),
        )
    return activity


# --- what the record holds ------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    activity: Activity
    zone: ZoneInfo
    photos: list[ActivityPhoto]
    now: datetime

    @property
    def room(self) -> int:
        return max(0, MAX_PHOTOS - len(self.photos))


async def record(
    session: AsyncSession,
    *,
    actor: Actor,
    activity_id: int,
    now: datetime | None = None,
    default_timezone: str = when.DEFAULT_ZONE,
) -> Record:
    """The activity's photos and summary, for someone who may manage it."""
    found = await roster(
        session,
        actor=actor,
        activity_id=activity_id,
        now=now or utcnow(),
        default_timezone=default_timezone,
    )
    photos = list(await record_queries.photos_of(session, activity_id))
    return Record(found.activity, found.zone, photos, found.now)


# --- the record sheet -----------------------------------------------------------------


@dataclass(frozen=True)
class SheetLine:
    name: str
    walk_in: bool
    mark: AttendanceMark | None
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    minutes: int | None  # confirmed minutes; None: none confirmed
    recorded: bool  # an attendance record exists


@dataclass(frozen=True)
class SheetPhoto:
    id: int
    file_id: str
    stored_path: str | None  # relative to the data directory; None: not downloaded


@dataclass(frozen=True)
class RecordSheet:
    activity_id: int
    title: str
    kind: ActivityKind
    station_name: str
    station_name_en: str | None
    place: str
    starts_at: datetime
    ends_at: datetime
    zone: ZoneInfo
    organiser: str | None
    closed_at: datetime | None
    status: ActivityStatus
    lines: list[SheetLine]
    beneficiaries: dict[TargetGroup, int]
    photos: list[SheetPhoto]
    summary: str | None
    made_at: datetime

    @property
    def present(self) -> int:
        """People who served: checked in or marked present or late."""
        return sum(
            1
            for line in self.lines
            if line.mark in (AttendanceMark.PRESENT, AttendanceMark.LATE)
            or (line.mark is None and line.checked_in_at is not None)
        )

    @property
    def absent(self) -> int:
        return sum(1 for line in self.lines if line.mark is AttendanceMark.ABSENT)

    @property
    def minutes(self) -> int:
        return sum(line.minutes or 0 for line in self.lines)

    @property
    def served(self) -> int:
        return sum(self.beneficiaries.values())


async def sheet(
    session: AsyncSession,
    *,
    actor: Actor,
    activity_id: int,
    now: datetime | None = None,
    default_timezone: str = when.DEFAULT_ZONE,
) -> RecordSheet:
    """The record sheet's values, for someone who may manage the activity. Raises
    NotFound('activity_not_found') and NotAllowed like ``roster.roster``."""
    now = now or utcnow()
    found = await roster(
        session, actor=actor, activity_id=activity_id, now=now, default_timezone=default_timezone
    )
    activity = found.activity
    if activity.id is None:
        raise NotFound("activity_not_found")
    organiser = (
        await record_queries.name_of_user(session, activity.created_by)
        if activity.created_by is not None
        else None
    )
    photos = await record_queries.photos_of(session, activity_id)
    lines = []
    for row in found.rows:
        att = row.attendance
        lines.append(
            SheetLine(
                name=row.name or "—",
                walk_in=row.walk_in,
                mark=att.mark if att else None,
                checked_in_at=att.checked_in_at if att else None,
                checked_out_at=att.checked_out_at if att else None,
                minutes=att.minutes if att and att.confirmed else None,
                recorded=att is not None,
            )
        )
    return RecordSheet(
        activity_id=activity.id,
        title=activity.title,
        kind=activity.kind,
        station_name=found.station.name,
        station_name_en=found.station.name_en,
        place=activity.place,
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        zone=found.zone,
        organiser=organiser,
        closed_at=activity.closed_at,
        status=activity.status,
        lines=lines,
        beneficiaries={g: n for g, n in found.beneficiaries.items()},
        photos=[SheetPhoto(p.id, p.file_id, p.stored_path) for p in photos if p.id is not None],
        summary=activity.summary,
        made_at=now,
    )
