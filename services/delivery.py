"""Claiming and settling outbox rows: the database half of the deliverer.

A deliverer (``bot.deliverer``) claims due rows in a short write transaction (state
``sending``, ``claimed_at``, one more attempt), commits, sends each, and settles it in
another short transaction right after Telegram answers. Every settling statement
names the claim it settles (``claimed_at``), so a row that was claimed again after
its lease lapsed is never settled by the old claim.

On PostgreSQL the claim locks the rows it picks with ``FOR UPDATE SKIP LOCKED``: two
deliverers running at once never pick the same row and never wait on each other. On
SQLite the write transaction itself (BEGIN IMMEDIATE) serialises them.

A row left in ``sending`` by a deliverer that died is put back to ``pending`` once
its lease lapsed (``recover``) and is sent again. Quiet hours hold non-urgent rows:
one that comes due inside the quiet window of its station's time zone is moved to
the end of the window instead of being sent."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services import stations
from storage.db import write_transaction
from storage.models import OutboxState, User
from storage.queries import outbox as outbox_queries
from storage.types import utcnow

QuietWindow = tuple[time, time]

# Network errors and 5xx: tried again after 5 s, 10 s, 20 s, ... at most 5 minutes.
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=5)
_ERROR_MAX = 300  # Outbox.last_error


@dataclass(frozen=True)
class Claimed:
    """A row claimed for sending: what to send, to whom, in which language."""

    id: int
    user_id: int
    kind: str
    payload: dict[str, Any]
    locale: str | None
    attempts: int  # including this one
    claimed_at: datetime  # names this claim when the row is settled
    broadcast_id: int | None = None
    station_id: int | None = None


@dataclass(frozen=True)
class Batch:
    """What one claim did: the rows to send now, and how many it set aside."""

    rows: list[Claimed]
    held: int = 0  # non-urgent rows moved to the end of quiet hours
    skipped: int = 0  # rows of recipients known to be unreachable

    @property
    def touched(self) -> int:
        return len(self.rows) + self.held + self.skipped


def backoff(attempts: int) -> timedelta:
    """How long to wait before trying again after ``attempts`` failed tries."""
    delay: timedelta = BACKOFF_BASE * 2 ** max(attempts - 1, 0)
    return min(delay, BACKOFF_CAP)


def quiet_until(moment: datetime, zone: ZoneInfo, window: QuietWindow | None) -> datetime | None:
    """When the quiet window around ``moment`` ends (UTC), or None when ``moment`` is
    not inside it. The window is in local time of ``zone`` and may span midnight."""
    if window is None:
        return None
    start, end = window
    local = moment.astimezone(zone)
    now = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= now < end
        day = local.date()
    else:  # e.g. 22:00-07:00
        inside = now >= start or now < end
        day = local.date() if now < end else local.date() + timedelta(days=1)
    if not inside:
        return None
    return datetime.combine(day, end, tzinfo=zone).astimezone(UTC)


def _clip(error: str) -> str:
    return error if len(error) <= _ERROR_MAX else error[: _ERROR_MAX - 1] + "…"


async def claim(
    *,
    session: AsyncSession,
    limit: int,
    default_timezone: str,
    quiet: QuietWindow | None = None,
    now: datetime | None = None,
) -> Batch:
    """Claim up to ``limit`` due rows, highest priority first, then oldest. Rows of
    unreachable recipients are skipped; non-urgent rows inside quiet hours are moved
    to the end of the window; the rest become ``sending`` and are returned."""
    now = now or utcnow()
    async with write_transaction(session):
        found = await outbox_queries.due_rows(session, now=now, limit=limit)
        tree = await stations.tree(session) if quiet is not None else None
        send: list[Claimed] = []
        skipped: list[int] = []
        held: dict[datetime, list[int]] = {}
        for row in found:
            if row.unreachable:
                skipped.append(row.id)
                continue
            if not row.urgent and tree is not None:
                zone = tree.zone(row.station_id, default_timezone)
                until = quiet_until(now, zone, quiet)
                if until is not None:
                    held.setdefault(until, []).append(row.id)
                    continue
            send.append(
                Claimed(
                    id=row.id,
                    user_id=row.user_id,
                    kind=row.kind,
                    payload=row.payload or {},
                    locale=row.locale,
                    attempts=row.attempts + 1,
                    claimed_at=now,
                    broadcast_id=row.broadcast_id,
                    station_id=row.station_id,
                )
            )
        if send:
            await outbox_queries.set_sending(session, [r.id for r in send], now)
        if skipped:
            await outbox_queries.set_skipped(session, skipped, "recipient unreachable")
        for until, ids in held.items():
            await outbox_queries.set_due(session, ids, until)
    return Batch(rows=send, held=sum(len(ids) for ids in held.values()), skipped=len(skipped))


async def recover(
    *,
    session: AsyncSession,
    lease_seconds: float,
    now: datetime | None = None,
    keep: Collection[int] = (),
) -> int:
    """Put rows whose claim is older than the lease back to ``pending`` (their
    deliverer died or lost them); they are sent again. ``keep``: rows the caller
    itself still holds (a slow request is not a dead deliverer). Returns how many."""
    now = now or utcnow()
    before = now - timedelta(seconds=lease_seconds)
    async with write_transaction(session):
        return await outbox_queries.recover_lapsed(session, before=before, keep=keep)


async def _settle(session: AsyncSession, row: Claimed, **values: Any) -> bool:
    async with write_transaction(session):
        return bool(await outbox_queries.settle(session, row.id, row.claimed_at, values))


async def mark_sent(
    *, session: AsyncSession, row: Claimed, message_id: int | None, now: datetime | None = None
) -> bool:
    """Telegram accepted the message. False if the claim was no longer ours."""
    return await _settle(
        session,
        row,
        state=OutboxState.SENT,
        sent_at=now or utcnow(),
        message_id=message_id,
        last_error=None,
    )


async def mark_failed(*, session: AsyncSession, row: Claimed, error: str) -> bool:
    """Telegram refused the message (400), retries ran out, or it could not be
    rendered: it is not tried again."""
    return await _settle(session, row, state=OutboxState.FAILED, last_error=_clip(error))


async def mark_skipped(*, session: AsyncSession, row: Claimed, error: str) -> bool:
    """Not sent: the recipient turned out to be unreachable while it waited."""
    return await _settle(session, row, state=OutboxState.SKIPPED, last_error=_clip(error))


async def mark_withdrawn(*, session: AsyncSession, row: Claimed) -> bool:
    """The message is no longer wanted (its renderer said so)."""
    return await _settle(session, row, state=OutboxState.WITHDRAWN)


async def retry_later(
    *, session: AsyncSession, row: Claimed, due_at: datetime, error: str | None = None
) -> bool:
    """Back to ``pending`` until ``due_at``; the attempt counts."""
    values: dict[str, Any] = {"state": OutboxState.PENDING, "due_at": due_at, "claimed_at": None}
    if error is not None:
        values["last_error"] = _clip(error)
    return await _settle(session, row, **values)


async def release(
    *, session: AsyncSession, rows: Sequence[Claimed], due_at: datetime | None = None
) -> int:
    """Give claimed rows back unsent, as if never claimed (the attempt does not
    count): the deliverer is stopping, was told to wait (429), or held them too long."""
    released = 0
    async with write_transaction(session):
        for row in rows:
            values: dict[str, Any] = {
                "state": OutboxState.PENDING,
                "claimed_at": None,
                "attempts": outbox_queries.fewer_attempts(),
            }
            if due_at is not None:
                values["due_at"] = due_at
            released += await outbox_queries.settle(session, row.id, row.claimed_at, values)
    return released


async def mark_unreachable(
    *, session: AsyncSession, row: Claimed, error: str, now: datetime | None = None
) -> int:
    """Telegram answered 403 (blocked, deactivated): note the recipient as
    unreachable, skip this row and every pending row of theirs. They are reachable
    again when they next write to the bot (``services.users.visit``). Returns how
    many rows were skipped."""
    now = now or utcnow()
    skipped = OutboxState.SKIPPED
    async with write_transaction(session):
        user = await session.get(User, row.user_id)
        if user is None:
            user = User(id=row.user_id)
        if user.unreachable_at is None:
            user.unreachable_at = now
        session.add(user)
        this = await outbox_queries.settle(
            session, row.id, row.claimed_at, {"state": skipped, "last_error": _clip(error)}
        )
        others = await outbox_queries.skip_pending_of(session, row.user_id, "recipient unreachable")
    return this + others


async def clear_unreachable(*, session: AsyncSession, user_id: int) -> bool:
    """The recipient can be written to again."""
    async with write_transaction(session):
        return await outbox_queries.clear_unreachable(session, user_id)


async def next_due(*, session: AsyncSession) -> datetime | None:
    """When the earliest pending row comes due (for sleeping until then)."""
    return await outbox_queries.next_due(session)


@dataclass(frozen=True)
class OutboxSummary:
    """The outbox at a glance, for the operators' metrics."""

    counts: dict[OutboxState, int]
    oldest_due_seconds: float  # how long the oldest due pending row has waited; 0 if none


async def summary(*, session: AsyncSession, now: datetime) -> OutboxSummary:
    by_state = await outbox_queries.state_summary(session, now)
    counts = {state: by_state.get(state, (0, None))[0] for state in OutboxState}
    oldest = by_state.get(OutboxState.PENDING, (0, None))[1]
    waited = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return OutboxSummary(counts=counts, oldest_due_seconds=waited)
