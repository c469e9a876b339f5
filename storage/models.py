"""The tables. Telegram ids are BIGINT; timestamps are UTC."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import StrEnumColumn, UTCDateTime, utcnow


def _ts(*, nullable: bool = False, index: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=index)


class StationLevel(enum.StrEnum):
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"


class RoleKind(enum.StrEnum):
    STAFF = "staff"
    COORDINATOR = "coordinator"


class VolunteerStatus(enum.StrEnum):
    ACTIVE = "active"
    PENDING = "pending"
    DECLINED = "declined"


class AgeGroup(enum.StrEnum):
    UNDER_14 = "under_14"
    TEEN = "14_17"
    YOUNG = "18_35"
    MIDDLE = "36_59"
    SENIOR = "60_plus"


class Station(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=100)
    name_en: str | None = Field(default=None, max_length=100)
    level: StationLevel = Field(sa_type=StrEnumColumn(StationLevel))
    parent_id: int | None = Field(default=None, foreign_key="station.id", index=True)
    timezone: str | None = Field(default=None, max_length=64)
    requires_approval: bool = False
    created_at: datetime = _ts()


class User(SQLModel, table=True):
    """Someone who has written to the bot, keyed by Telegram user id."""

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    locale: str | None = Field(default=None, max_length=8)
    created_at: datetime = _ts()
    # Set when Telegram answers 403 (blocked the bot, deleted account): the outbox
    # skips them until they write to the bot again.
    unreachable_at: datetime | None = _ts(nullable=True)


class Volunteer(SQLModel, table=True):
    """A registered volunteer. Erasure clears every personal field and the user link,
    keeping an anonymous row so that counts stay right."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger, ForeignKey("user.id", ondelete="SET NULL"), unique=True, nullable=True
        ),
    )
    station_id: int = Field(foreign_key="station.id", index=True)
    status: VolunteerStatus = Field(
        default=VolunteerStatus.ACTIVE, sa_type=StrEnumColumn(VolunteerStatus)
    )
    real_name: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=20)
    skills: list[str] = Field(default_factory=list, sa_type=JSON)
    age_group: AgeGroup | None = Field(default=None, sa_type=StrEnumColumn(AgeGroup))
    guardian_name: str | None = Field(default=None, max_length=64)
    guardian_phone: str | None = Field(default=None, max_length=20)
    guardian_consent_at: datetime | None = _ts(nullable=True)
    privacy_version: str | None = Field(default=None, max_length=16)
    privacy_consent_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts(index=True)
    updated_at: datetime = _ts()
    erased_at: datetime | None = _ts(nullable=True)
    weekly_digest: bool = True  # the Monday list of new activities (/settings)


class Role(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("user_id", "station_id", "role", name="uq_role"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    station_id: int = Field(foreign_key="station.id", index=True)
    role: RoleKind = Field(sa_type=StrEnumColumn(RoleKind))
    granted_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    granted_at: datetime = _ts()


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_subject", "subject_type", "subject_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(index=True)
    actor_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    action: str = Field(max_length=64)
    station_id: int | None = Field(default=None, foreign_key="station.id")
    subject_type: str | None = Field(default=None, max_length=32)
    subject_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class DialogState(SQLModel, table=True):
    """aiogram FSM storage: one row per storage key."""

    __tablename__ = "dialog_state"

    key: str = Field(primary_key=True, max_length=200)
    state: str | None = Field(default=None, max_length=200)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = _ts()


class ActivityKind(enum.StrEnum):
    HOME_VISIT = "home_visit"
    GARBAGE_SORTING = "garbage_sorting"
    POLICY_PROMOTION = "policy_promotion"
    ELDER_CARE = "elder_care"
    CHILD_CARE = "child_care"
    DISABILITY_SUPPORT = "disability_support"
    CLEANUP = "cleanup"
    OTHER = "other"


class TargetGroup(enum.StrEnum):
    ELDERLY = "elderly"
    CHILDREN = "children"
    FAMILIES_IN_DIFFICULTY = "families_in_difficulty"
    DISABLED = "disabled"
    GENERAL_PUBLIC = "general_public"


class ActivityStatus(enum.StrEnum):
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class SignupStatus(enum.StrEnum):
    CONFIRMED = "confirmed"  # holds a seat
    OFFERED = "offered"  # a freed seat held for them until offer_expires_at
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"  # by the volunteer
    DECLINED = "declined"  # an offered seat they turned down
    EXPIRED = "expired"  # an offered seat they did not answer in time
    WITHDRAWN = "withdrawn"  # the activity was cancelled


HOLDS_SEAT = (SignupStatus.CONFIRMED, SignupStatus.OFFERED)


class Activity(SQLModel, table=True):
    __table_args__ = (Index("ix_activity_station_start", "station_id", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id")
    kind: ActivityKind = Field(sa_type=StrEnumColumn(ActivityKind))
    title: str = Field(max_length=80)
    description: str = Field(default="", max_length=1000)
    place: str = Field(max_length=120)
    starts_at: datetime = _ts(index=True)
    ends_at: datetime = _ts()
    capacity: int
    target_group: TargetGroup = Field(sa_type=StrEnumColumn(TargetGroup))
    series_id: int | None = Field(default=None, index=True)
    status: ActivityStatus = Field(
        default=ActivityStatus.PUBLISHED, sa_type=StrEnumColumn(ActivityStatus)
    )
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    # Attendance: the check-in code staff open (6 digits, valid from 30 minutes before
    # the start to the end), and the closing of the records, which credits the hours.
    checkin_code: str | None = Field(default=None, max_length=6)
    checkin_opened_at: datetime | None = _ts(nullable=True)
    checkin_opened_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    closed_at: datetime | None = _ts(nullable=True, index=True)
    closed_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # The record (台账): a short summary staff write, and who wrote it last.
    summary: str | None = Field(default=None, max_length=500)
    summary_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    summary_at: datetime | None = _ts(nullable=True)


class Signup(SQLModel, table=True):
    """A volunteer's place on an activity: a seat, an offered seat, or the waitlist."""

    __table_args__ = (UniqueConstraint("activity_id", "volunteer_id", name="uq_signup"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    status: SignupStatus = Field(sa_type=StrEnumColumn(SignupStatus))
    queued_at: datetime = _ts()  # waitlist order: earliest first
    offer_expires_at: datetime | None = _ts(nullable=True, index=True)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    # The answer to a reminder's "I'll come" button.
    coming_confirmed_at: datetime | None = _ts(nullable=True)


class Invite(SQLModel, table=True):
    """A one-time deep link granting a role on a station; only its hash is kept."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    station_id: int = Field(foreign_key="station.id")
    role: RoleKind = Field(sa_type=StrEnumColumn(RoleKind))
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = _ts()
    expires_at: datetime = _ts()
    used_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    used_at: datetime | None = _ts(nullable=True)


class AttendanceMark(enum.StrEnum):
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"  # a no-show


class Attendance(SQLModel, table=True):
    """One volunteer at one activity: check-in and check-out, staff's mark, and the
    minutes of service. ``minutes`` is what would be credited (actual time, capped at
    the activity's length, or staff's correction); it counts once ``confirmed`` and
    the activity is closed. A check-in without a check-out is never confirmed on its
    own: staff confirm or correct it."""

    __table_args__ = (
        UniqueConstraint("activity_id", "volunteer_id", name="uq_attendance"),
        UniqueConstraint("import_key", name="uq_attendance_import_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    mark: AttendanceMark | None = Field(default=None, sa_type=StrEnumColumn(AttendanceMark))
    checked_in_at: datetime | None = _ts(nullable=True)
    checked_out_at: datetime | None = _ts(nullable=True)
    minutes: int | None = None
    confirmed: bool = False
    credited_at: datetime | None = _ts(nullable=True)  # set when the activity closes
    updated_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    # Recorded by staff on the person's behalf after the fact (added to the records
    # later, or imported from a spreadsheet): the volunteer sees it marked so.
    on_behalf: bool = False
    # An imported row's key (a hash of station, person, date and title): a row
    # imported twice is found by it and not added again.
    import_key: str | None = Field(default=None, max_length=64)


class Beneficiaries(SQLModel, table=True):
    """People served at an activity (受益人次), one row per target group."""

    __tablename__ = "beneficiaries"
    __table_args__ = (UniqueConstraint("activity_id", "target_group", name="uq_beneficiaries"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    target_group: TargetGroup = Field(sa_type=StrEnumColumn(TargetGroup))
    count: int = 0
    recorded_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    updated_at: datetime = _ts()


class ActivityPhoto(SQLModel, table=True):
    """A photo staff attached to an activity's record (台账), kept by its Telegram file
    id; ``stored_path`` (relative to the data directory) once it is downloaded. A
    download that failed is tried again later (``download_attempts``, ``download_error``)."""

    __tablename__ = "activity_photo"
    __table_args__ = (UniqueConstraint("activity_id", "file_unique_id", name="uq_activity_photo"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    file_id: str = Field(max_length=255)
    file_unique_id: str = Field(max_length=64)
    width: int = 0
    height: int = 0
    file_size: int | None = None
    uploaded_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = _ts()
    stored_path: str | None = Field(default=None, max_length=255)
    stored_at: datetime | None = _ts(nullable=True)
    download_attempts: int = 0
    download_error: str | None = Field(default=None, max_length=200)


class Certificate(SQLModel, table=True):
    """A service certificate as issued: what it states is kept, so that /verify can
    say so later, whatever happens to the records afterwards."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    station_id: int = Field(foreign_key="station.id")
    holder_name: str = Field(max_length=64)
    period_from: datetime = _ts()
    period_to: datetime = _ts()
    total_minutes: int = 0
    period_minutes: int = 0
    activity_count: int = 0
    locale: str = Field(default="zh_CN", max_length=8)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    issued_at: datetime = _ts()
    revoked_at: datetime | None = _ts(nullable=True)


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a deliverer; back to pending if its lease lapses
    SENT = "sent"
    FAILED = "failed"  # Telegram refused it (400) or retries ran out
    SKIPPED = "skipped"  # the recipient is unreachable (403)
    WITHDRAWN = "withdrawn"  # no longer wanted (a cancelled seat or activity)


class Outbox(SQLModel, table=True):
    """Everything the bot sends on its own: one row per recipient and message.
    ``kind`` and ``payload`` say what to send; it is rendered in the recipient's
    language when sent. ``key`` makes enqueueing idempotent."""

    __table_args__ = (Index("ix_outbox_due", "state", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=160, unique=True)
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    kind: str = Field(max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # No foreign keys (migration 0008): a broadcast writes a row per recipient in
    # one statement, and a key's trigger per row was half its time on PostgreSQL.
    # Both are copied in that statement from rows that hold them under their keys.
    station_id: int | None = None  # the recipient's home: its time zone's quiet hours
    broadcast_id: int | None = Field(default=None, index=True)
    urgent: bool = False  # not held by quiet hours
    priority: int = 0  # higher first: one-to-one notices before bulk
    due_at: datetime = _ts()
    state: OutboxState = Field(default=OutboxState.PENDING, sa_type=StrEnumColumn(OutboxState))
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=300)
    claimed_at: datetime | None = _ts(nullable=True)
    sent_at: datetime | None = _ts(nullable=True)
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = _ts()


class Broadcast(SQLModel, table=True):
    """A message from staff to the volunteers of a station (or subtree); its rows in
    the outbox carry ``broadcast_id``. The progress message is edited as they go."""

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id")
    subtree: bool = False
    skills: list[str] = Field(default_factory=list, sa_type=JSON)
    text: str = Field(max_length=4000)
    activity_id: int | None = Field(default=None, foreign_key="activity.id")
    # None once the sender erased their data.
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    total: int = 0
    progress_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    progress_message_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True)
    )
    created_at: datetime = _ts()
    finished_at: datetime | None = _ts(nullable=True)


class PledgeStatus(enum.StrEnum):
    OPEN = "open"  # promised; the station has not received it yet
    RECEIVED = "received"
    CANCELLED = "cancelled"


class Pledge(SQLModel, table=True):
    """A promise of a small donation. The bot takes no money: staff mark a pledge
    received when the station has it. Amounts are integer fen (1 yuan = 100 fen)."""

    __table_args__ = (Index("ix_pledge_station_created", "station_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    receipt: str = Field(max_length=24, unique=True)
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    station_id: int = Field(foreign_key="station.id")  # whose fund, or the activity's
    activity_id: int | None = Field(default=None, foreign_key="activity.id", index=True)
    amount_fen: int = Field(sa_type=BigInteger)
    anonymous: bool = False
    status: PledgeStatus = Field(default=PledgeStatus.OPEN, sa_type=StrEnumColumn(PledgeStatus))
    created_at: datetime = _ts()
    decided_at: datetime | None = _ts(nullable=True)
    decided_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    reminded_at: datetime | None = _ts(nullable=True)


class Setting(SQLModel, table=True):
    """Values the bot makes once and keeps, by name (the certificate key)."""

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=1000)
    updated_at: datetime = _ts()


class TallyWeek(SQLModel, table=True):
    """A closed week whose tally figures are kept in ``tally_rollup``: [week_start,
    week_end) in UTC, the Monday-to-Sunday of some time zone. Every write that changes
    a figure of records inside it bumps ``version`` (``storage.rollup_marks``); the
    rows are current while ``built_version`` equals it."""

    __tablename__ = "tally_week"
    __table_args__ = (UniqueConstraint("week_start", "week_end", name="uq_tally_week"),)

    id: int | None = Field(default=None, primary_key=True)
    week_start: datetime = Field(sa_type=UTCDateTime, nullable=False)
    week_end: datetime = Field(sa_type=UTCDateTime, nullable=False)
    version: int = 0
    built_version: int | None = None
    built_at: datetime | None = _ts(nullable=True)


class TallyRollup(SQLModel, table=True):
    """One station's figures for one closed week: of its whole subtree (``own``
    false), or of the station alone (``own`` true, kept for stations with children).
    Distinct volunteers are counted per row, never added across rows. Rows with
    nothing to count are not kept."""

    __tablename__ = "tally_rollup"

    week_id: int = Field(
        sa_column=Column(
            "week_id",
            ForeignKey("tally_week.id", ondelete="CASCADE"),
            primary_key=True,
            nullable=False,
        )
    )
    station_id: int = Field(
        sa_column=Column(
            "station_id",
            ForeignKey("station.id", ondelete="CASCADE"),
            primary_key=True,
            nullable=False,
        )
    )
    own: bool = Field(default=False, primary_key=True)
    kinds: dict[str, int] = Field(default_factory=dict, sa_type=JSON)  # activities held
    participations: int = 0
    volunteers: int = 0
    minutes: int = Field(default=0, sa_type=BigInteger)
    groups: dict[str, int] = Field(default_factory=dict, sa_type=JSON)  # beneficiaries
    new_volunteers: int = 0
    pledges: int = 0
    pledged_fen: int = Field(default=0, sa_type=BigInteger)
    received_fen: int = Field(default=0, sa_type=BigInteger)
