"""Staff publish, edit and cancel activities (the draft and its fields:
services.activity_draft). Every function re-checks the actor's
permission on the activity's station in the database, so a replayed button cannot
bypass it. Plain Python: returns data, raises domain errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, activities, audit, outbox, reminders, stations, when
from services.access import Actor, Permission
from services.activities import OfferRules, Promotion
from services.activity_draft import (
    ActivityDraft,
    aware,
    check_capacity,
    check_target,
    clean_description,
    clean_place,
    clean_title,
)
from services.errors import InvalidInput, NotFound
from services.outbox import Message
from storage import queries
from storage.db import write_transaction
from storage.models import (
    HOLDS_SEAT,
    Activity,
    ActivityKind,
    ActivityStatus,
    SignupStatus,
    Station,
    TargetGroup,
)
from storage.queries import activity_admin as activity_queries

# Sign-ups whose volunteers hear of a change or a cancellation.
SIGNED_UP = (*HOLDS_SEAT, SignupStatus.WAITLISTED)
EDITABLE = ("title", "description", "place", "starts_at", "ends_at", "capacity", "target_group")
# Outbox kinds (rendered in handlers/activity_admin/notices.py), one row per volunteer signed up.
CHANGED = "activity_changed"  # {"activity_id", "fields", "old_title", "tz"}
CANCELLED = "activity_cancelled"  # {"activity_id", "tz"}
# Notices of a change or cancellation wait out quiet hours unless the activity is near.
URGENT_NOTICE = timedelta(hours=12)


# --- reading ------------------------------------------------------------------------


async def get(session: AsyncSession, activity_id: int) -> Activity | None:
    """An activity as it is now (for a message rendered when it is sent)."""
    return await activity_queries.activity_now(session, activity_id)


async def station_zone(
    session: AsyncSession, station_id: int, default: str = when.DEFAULT_ZONE
) -> ZoneInfo:
    """The station's time zone; a station without one takes its nearest ancestor's,
    and the default (settings) when none has one."""
    return await stations.zone(session, station_id, default)


async def manageable_stations(session: AsyncSession, *, actor: Actor) -> list[Station]:
    """Every station the actor may publish on now, tree order."""
    found = await access.stations_where(
        session, actor=actor, permission=Permission.MANAGE_ACTIVITIES
    )
    return [s for s in found if s.id is not None]


async def require_station(session: AsyncSession, *, actor: Actor, station_id: int) -> None:
    await access.require(
        session, actor=actor, permission=Permission.MANAGE_ACTIVITIES, station_id=station_id
    )


async def managed_activity(session: AsyncSession, *, actor: Actor, activity_id: int) -> Activity:
    """The activity, if it exists and the actor may manage it now."""
    await access.require_somewhere(session, actor=actor, permission=Permission.MANAGE_ACTIVITIES)
    activity = await queries.get_activity(session, activity_id)
    if activity is None:
        raise NotFound("activity_not_found")
    await require_station(session, actor=actor, station_id=activity.station_id)
    return activity


@dataclass(frozen=True)
class ManagedActivity:
    activity: Activity
    station: Station
    seats_held: int
    zone: ZoneInfo


@dataclass(frozen=True)
class ManagedPage:
    items: list[ManagedActivity]
    page: int
    pages: int
    total: int


async def upcoming_managed(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    page: int = 0,
    per_page: int = 5,
    default_timezone: str = when.DEFAULT_ZONE,
) -> ManagedPage:
    """Published activities not yet over on the stations the user may manage, soonest
    first, a page at a time."""
    station_ids: list[int] | None = None
    if not actor.is_admin:
        managed = await manageable_stations(session, actor=actor)
        station_ids = [s.id for s in managed if s.id is not None]
        if not station_ids:
            return ManagedPage([], 0, 1, 0)
    rows, total = await activity_queries.managed_activities_not_over(
        session, station_ids, now, offset=page * per_page, limit=per_page
    )
    pages = max(1, -(-total // per_page))
    if page >= pages:  # the list shrank since the button was made: show the last page
        page = pages - 1
        rows, total = await activity_queries.managed_activities_not_over(
            session, station_ids, now, offset=page * per_page, limit=per_page
        )
    seats = await queries.seat_counts_of(
        session, [a.id for a in rows if a.id is not None], HOLDS_SEAT
    )
    zones: dict[int, ZoneInfo] = {}
    places: dict[int, Station] = {}
    items = []
    for activity in rows:
        sid = activity.station_id
        if sid not in zones:
            zones[sid] = await station_zone(session, sid, default_timezone)
            station = await queries.get_station(session, sid)
            assert station is not None  # a foreign key
            places[sid] = station
        items.append(
            ManagedActivity(activity, places[sid], seats.get(activity.id or 0, 0), zones[sid])
        )
    return ManagedPage(items, page, pages, total)


# --- writing ------------------------------------------------------------------------


async def publish(
    session: AsyncSession,
    *,
    actor: Actor,
    station_id: int,
    draft: ActivityDraft,
    now: datetime,
    default_timezone: str = when.DEFAULT_ZONE,
) -> list[Activity]:
    """Create the activity and its weekly repeats (same local wall-clock time each
    week in the station's zone) in one transaction; returns them, first first."""
    draft.validate(now)
    assert draft.starts_at is not None and draft.ends_at is not None
    assert draft.kind is not None and draft.target_group is not None
    async with write_transaction(session):
        station = await queries.get_station(session, station_id)
        if station is None:
            raise NotFound("station_not_found")
        await require_station(session, actor=actor, station_id=station_id)
        tz = await station_zone(session, station_id, default_timezone)
        count = draft.occurrences()
        starts = when.weekly(draft.starts_at, count, tz)
        ends = when.weekly(draft.ends_at, count, tz)
        created = [
            Activity(
                station_id=station_id,
                kind=draft.kind,
                title=clean_title(draft.title or ""),
                description=clean_description(draft.description or ""),
                place=clean_place(draft.place or ""),
                starts_at=start,
                ends_at=end,
                capacity=check_capacity(draft.capacity or 0),
                target_group=draft.target_group,
                status=ActivityStatus.PUBLISHED,
                created_by=actor.id,
                created_at=now,
                updated_at=now,
            )
            for start, end in zip(starts, ends, strict=True)
        ]
        session.add_all(created)
        await session.flush()
        if count > 1:
            for activity in created:
                activity.series_id = created[0].id
            await session.flush()
        audit.record(
            session,
            actor_id=actor.id,
            action="activity.published",
            station_id=station_id,
            subject_type="activity",
            subject_id=created[0].id,
            occurrences=count,
            activity_ids=[a.id for a in created],
            kind=draft.kind.value,
        )
    return created


def _clean_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "title":
            cleaned[name] = clean_title(str(value))
        elif name == "description":
            cleaned[name] = clean_description(str(value))
        elif name == "place":
            cleaned[name] = clean_place(str(value))
        elif name in ("starts_at", "ends_at"):
            cleaned[name] = aware(value, "when_unreadable")
        elif name == "capacity":
            cleaned[name] = check_capacity(value)
        elif name == "target_group":
            cleaned[name] = check_target(str(value))
        else:
            raise InvalidInput("field_not_editable", field=name)
    return cleaned


def _audit_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, ActivityKind | TargetGroup):
        return value.value
    return value


async def _usable(
    session: AsyncSession,
    *,
    actor: Actor,
    activity_id: int,
    now: datetime,
) -> Activity:
    """The activity, locked for the write, if the actor may manage it and it can change."""
    activity = await queries.lock_activity(session, activity_id)
    if activity is None:
        raise NotFound("activity_not_found")
    await require_station(session, actor=actor, station_id=activity.station_id)
    if activity.status is ActivityStatus.CANCELLED:
        raise InvalidInput("activity_cancelled")
    if activity.ends_at <= now:
        raise InvalidInput("activity_over")
    return activity


async def edit(
    session: AsyncSession,
    *,
    actor: Actor,
    activity_id: int,
    changes: Mapping[str, Any],
    now: datetime,
    rules: OfferRules | None = None,
    promoted: list[Promotion] | None = None,
) -> tuple[Activity, list[int]]:
    """Change title, description, place, start, end, capacity or target group. Returns
    the activity and the Telegram user ids of the volunteers signed up (seat, offered
    seat or waitlist), each told of the change through the outbox; no ids when
    nothing actually changed.

    Seats a larger capacity frees go to the waitlist at once (``rules``: how long an
    offer is held, and the time zone of the notices); the promotions made are
    appended to ``promoted``, when given."""
    rules = rules or OfferRules()
    cleaned = _clean_changes(changes)
    async with write_transaction(session):
        activity = await _usable(session, actor=actor, activity_id=activity_id, now=now)
        changed = {k: v for k, v in cleaned.items() if getattr(activity, k) != v}
        if not changed:
            return activity, []
        start = changed.get("starts_at", activity.starts_at)
        end = changed.get("ends_at", activity.ends_at)
        if "starts_at" in changed:
            when.validate_schedule(start, end, now)
        elif "ends_at" in changed:  # an activity under way may still end later or earlier
            when.validate_schedule(start, end, min(now, start))
        grew = False
        if "capacity" in changed:
            held = await queries.count_signups(session, activity_id, HOLDS_SEAT)
            if changed["capacity"] < held:
                raise InvalidInput("capacity_below_seats", seats=held)
            grew = changed["capacity"] > activity.capacity
        before = {k: _audit_value(getattr(activity, k)) for k in changed}
        old_title = activity.title
        for name, value in changed.items():
            setattr(activity, name, value)
        activity.updated_at = now
        session.add(activity)
        await session.flush()
        if "starts_at" in changed:  # queued reminders move with the start
            await reminders.reschedule_for_activity(session, activity, now)
        if grew:
            made = await activities.fill_free_seats(session, activity, now, rules)
            if promoted is not None:
                promoted.extend(made)
        recipients = await activity_queries.signed_up_user_ids(session, activity_id, SIGNED_UP)
        payload = {
            "activity_id": activity_id,
            "fields": sorted(changed),
            "old_title": old_title,
            "tz": rules.timezone,
        }
        stamp = int(now.timestamp() * 1000)
        await _tell(
            session, activity, recipients, CHANGED, f"edited:{activity_id}:{stamp}", payload, now
        )
        audit.record(
            session,
            actor_id=actor.id,
            action="activity.edited",
            station_id=activity.station_id,
            subject_type="activity",
            subject_id=activity_id,
            fields=sorted(changed),
            before=before,
            after={k: _audit_value(v) for k, v in changed.items()},
        )
    return activity, recipients


async def cancel(
    session: AsyncSession,
    *,
    actor: Actor,
    activity_id: int,
    now: datetime,
    default_tz: str = when.DEFAULT_ZONE,
) -> list[int]:
    """Cancel the activity and withdraw its open sign-ups; returns the Telegram user
    ids of the volunteers signed up, each told through the outbox."""
    async with write_transaction(session):
        activity = await _usable(session, actor=actor, activity_id=activity_id, now=now)
        recipients = await activity_queries.signed_up_user_ids(session, activity_id, SIGNED_UP)
        signups = await activity_queries.signups_for_update(session, activity_id, SIGNED_UP)
        for signup in signups:
            signup.status = SignupStatus.WITHDRAWN
            signup.offer_expires_at = None
            signup.updated_at = now
            session.add(signup)
        activity.status = ActivityStatus.CANCELLED
        activity.updated_at = now
        session.add(activity)
        await reminders.withdraw_for_activity(session, activity_id)
        payload = {"activity_id": activity_id, "tz": default_tz}
        await _tell(
            session, activity, recipients, CANCELLED, f"cancelled:{activity_id}", payload, now
        )
        audit.record(
            session,
            actor_id=actor.id,
            action="activity.cancelled",
            station_id=activity.station_id,
            subject_type="activity",
            subject_id=activity_id,
            withdrawn=len(signups),
        )
    return recipients


async def _tell(
    session: AsyncSession,
    activity: Activity,
    recipients: Sequence[int],
    kind: str,
    key_prefix: str,
    payload: dict[str, object],
    now: datetime,
) -> int:
    """Queue the notice of a change for each volunteer signed up, under
    ``{key_prefix}:{user_id}``; held by quiet hours unless the activity is near."""
    urgent = activity.starts_at - now < URGENT_NOTICE
    return await outbox.enqueue(
        session,
        [
            Message(
                user_id=user_id,
                kind=kind,
                key=f"{key_prefix}:{user_id}",
                payload=payload,
                urgent=urgent,
                priority=outbox.NOTICE,
                station_id=activity.station_id,
            )
            for user_id in recipients
        ],
    )
