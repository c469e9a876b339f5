"""Claiming and settling outbox rows, against a real database on each backend."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, update
from sqlmodel import col, select

from services import delivery, outbox, stations, users
from services.delivery import Claimed
from services.outbox import Message
from storage.db import SessionMaker, write_transaction
from storage.models import Outbox, OutboxState, User

# 10:00 in Shanghai: outside the default quiet hours.
NOW = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
SHANGHAI = "Asia/Shanghai"
QUIET = (time(22, 0), time(7, 0))


async def queue(maker: SessionMaker, *messages: Message) -> None:
    async with maker() as session, write_transaction(session):
        await outbox.enqueue(session, messages)


def note(user_id: int, key: str, **kw: object) -> Message:
    kw.setdefault("due_at", NOW - timedelta(minutes=1))
    return Message(user_id=user_id, kind="text", key=key, payload={"text": key}, **kw)  # type: ignore[arg-type]


async def claim(
    maker: SessionMaker, *, limit: int = 100, now: datetime = NOW, quiet: object = None
) -> delivery.Batch:
    async with maker() as session:
        return await delivery.claim(
            session=session,
            limit=limit,
            default_timezone=SHANGHAI,
            quiet=quiet,  # type: ignore[arg-type]
            now=now,
        )


async def rows(maker: SessionMaker) -> dict[str, Outbox]:
    async with maker() as session:
        found = (await session.exec(select(Outbox).order_by(col(Outbox.id)))).all()
    return {r.key: r for r in found}


async def test_claim_takes_due_rows_by_priority_then_age(sessionmaker: SessionMaker) -> None:
    await queue(
        sessionmaker,
        note(1, "bulk-old", priority=outbox.BULK, due_at=NOW - timedelta(hours=2)),
        note(2, "reminder", priority=outbox.REMINDER),
        note(3, "notice-new", priority=outbox.NOTICE, due_at=NOW - timedelta(seconds=1)),
        note(4, "notice-old", priority=outbox.NOTICE, due_at=NOW - timedelta(hours=1)),
        note(5, "later", priority=outbox.NOTICE, due_at=NOW + timedelta(seconds=1)),
    )
    batch = await claim(sessionmaker, limit=3)
    assert [r.payload["text"] for r in batch.rows] == ["notice-old", "notice-new", "reminder"]
    assert all(r.attempts == 1 and r.claimed_at == NOW for r in batch.rows)
    stored = await rows(sessionmaker)
    assert {k for k, r in stored.items() if r.state is OutboxState.SENDING} == {
        "notice-old",
        "notice-new",
        "reminder",
    }
    assert stored["notice-old"].attempts == 1 and stored["notice-old"].claimed_at == NOW
    # Claimed rows are not claimed again; the one not yet due stays.
    again = await claim(sessionmaker)
    assert [r.payload["text"] for r in again.rows] == ["bulk-old"]
    assert (await claim(sessionmaker)).touched == 0
    later = await claim(sessionmaker, now=NOW + timedelta(seconds=2))
    assert [r.payload["text"] for r in later.rows] == ["later"]


async def test_claim_carries_the_recipients_language(sessionmaker: SessionMaker) -> None:
    async with sessionmaker() as session:
        user = await users.ensure_user(session, 7)
        await users.set_locale(session, user, "en")
    await queue(sessionmaker, note(7, "a"), note(8, "b"))
    batch = await claim(sessionmaker)
    assert {r.user_id: r.locale for r in batch.rows} == {7: "en", 8: None}


async def test_two_claims_at_once_never_share_a_row(sessionmaker: SessionMaker) -> None:
    await queue(sessionmaker, *(note(100 + i, f"k{i}") for i in range(300)))
    batches = await asyncio.gather(*(claim(sessionmaker, limit=40) for _ in range(10)))
    ids = [r.id for b in batches for r in b.rows]
    assert len(ids) == len(set(ids)) == 300


async def test_lapsed_leases_go_back_to_pending(sessionmaker: SessionMaker) -> None:
    await queue(sessionmaker, note(1, "old"), note(2, "fresh", due_at=NOW + timedelta(seconds=50)))
    await claim(sessionmaker)  # "old" claimed at NOW
    await claim(sessionmaker, now=NOW + timedelta(seconds=60))  # "fresh" claimed 60 s later
    old_id = (await rows(sessionmaker))["old"].id
    assert old_id is not None
    async with sessionmaker() as session:
        # A deliverer still holding the row (a slow request) does not take it back.
        spared = await delivery.recover(
            session=session, lease_seconds=90, now=NOW + timedelta(seconds=100), keep={old_id}
        )
        assert spared == 0
        recovered = await delivery.recover(
            session=session, lease_seconds=90, now=NOW + timedelta(seconds=100)
        )
    assert recovered == 1
    stored = await rows(sessionmaker)
    assert stored["old"].state is OutboxState.PENDING and stored["old"].claimed_at is None
    assert stored["fresh"].state is OutboxState.SENDING
    # Sent again: the attempt of the lost claim counts.
    batch = await claim(sessionmaker, now=NOW + timedelta(seconds=100))
    assert [(r.payload["text"], r.attempts) for r in batch.rows] == [("old", 2)]


async def test_settling_needs_the_current_claim(sessionmaker: SessionMaker) -> None:
    await queue(sessionmaker, note(1, "a"))
    [first] = (await claim(sessionmaker)).rows
    async with sessionmaker() as session:
        await delivery.recover(session=session, lease_seconds=1, now=NOW + timedelta(seconds=5))
    [second] = (await claim(sessionmaker, now=NOW + timedelta(seconds=5))).rows
    async with sessionmaker() as session:
        assert not await delivery.mark_sent(session=session, row=first, message_id=1, now=NOW)
        assert await delivery.mark_sent(session=session, row=second, message_id=2, now=NOW)
    stored = (await rows(sessionmaker))["a"]
    assert (stored.state, stored.message_id, stored.sent_at) == (OutboxState.SENT, 2, NOW)


async def test_failed_retried_withdrawn_and_released(sessionmaker: SessionMaker) -> None:
    await queue(sessionmaker, *(note(i, f"r{i}") for i in range(1, 5)))
    claimed = {r.payload["text"]: r for r in (await claim(sessionmaker)).rows}
    async with sessionmaker() as session:
        await delivery.mark_failed(session=session, row=claimed["r1"], error="Bad Request: x")
        await delivery.retry_later(
            session=session, row=claimed["r2"], due_at=NOW + timedelta(seconds=5), error="502"
        )
        await delivery.mark_withdrawn(session=session, row=claimed["r3"])
        assert await delivery.release(session=session, rows=[claimed["r4"]]) == 1
    stored = await rows(sessionmaker)
    assert (stored["r1"].state, stored["r1"].last_error) == (OutboxState.FAILED, "Bad Request: x")
    assert (stored["r2"].state, stored["r2"].attempts) == (OutboxState.PENDING, 1)
    assert stored["r2"].due_at == NOW + timedelta(seconds=5) and stored["r2"].last_error == "502"
    assert stored["r3"].state is OutboxState.WITHDRAWN
    assert (stored["r4"].state, stored["r4"].attempts) == (OutboxState.PENDING, 0)
    assert stored["r4"].claimed_at is None


def test_backoff_doubles_up_to_a_cap() -> None:
    assert [delivery.backoff(n).total_seconds() for n in range(1, 6)] == [5, 10, 20, 40, 80]
    assert delivery.backoff(30) == timedelta(minutes=5)


async def test_unreachable_recipients_are_skipped_until_they_write(
    sessionmaker: SessionMaker,
) -> None:
    await queue(sessionmaker, note(9, "first"), note(9, "second"), note(10, "other"))
    batch = await claim(sessionmaker, limit=1)
    [row] = batch.rows
    async with sessionmaker() as session:
        skipped = await delivery.mark_unreachable(
            session=session, row=row, error="Forbidden: bot was blocked by the user", now=NOW
        )
    assert skipped == 2
    stored = await rows(sessionmaker)
    assert stored["first"].state is OutboxState.SKIPPED
    assert stored["first"].last_error == "Forbidden: bot was blocked by the user"
    assert stored["second"].state is OutboxState.SKIPPED
    assert stored["other"].state is OutboxState.PENDING
    # Queued while unreachable: skipped by the claim, never sent.
    await queue(sessionmaker, note(9, "third"))
    batch = await claim(sessionmaker)
    assert [r.user_id for r in batch.rows] == [10] and batch.skipped == 1
    assert (await rows(sessionmaker))["third"].state is OutboxState.SKIPPED
    # They write to the bot again: reachable from then on.
    async with sessionmaker() as session:
        user = await session.get(User, 9)
        assert user is not None and user.unreachable_at == NOW
        await users.visit(session, 9, "zh_CN")
    async with sessionmaker() as session:
        user = await session.get(User, 9)
        assert user is not None and user.unreachable_at is None
    await queue(sessionmaker, note(9, "fourth"))
    assert [r.payload["text"] for r in (await claim(sessionmaker)).rows] == ["fourth"]


async def test_visit_is_one_query_unless_unreachable(sessionmaker: SessionMaker) -> None:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.startswith(("BEGIN", "COMMIT", "PRAGMA")):
            statements.append(statement)

    engine = sessionmaker.kw["bind"].sync_engine
    async with sessionmaker() as session:
        await users.visit(session, 11, "en")
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with sessionmaker() as session:
            await users.visit(session, 11, "en")
        assert len(statements) == 1
        async with sessionmaker() as session, write_transaction(session):
            await session.exec(update(User).where(col(User.id) == 11).values(unreachable_at=NOW))
        statements.clear()
        async with sessionmaker() as session:
            user, _ = await users.visit(session, 11, "en")
        assert len(statements) > 1 and user.unreachable_at is None
    finally:
        event.remove(engine, "before_cursor_execute", count)
    async with sessionmaker() as session:
        stored = await session.get(User, 11)
    assert stored is not None and stored.unreachable_at is None and stored.locale == "en"


async def test_clear_unreachable(sessionmaker: SessionMaker) -> None:
    async with sessionmaker() as session, write_transaction(session):
        session.add(User(id=12, unreachable_at=NOW))
    async with sessionmaker() as session:
        assert await delivery.clear_unreachable(session=session, user_id=12)
        assert not await delivery.clear_unreachable(session=session, user_id=12)


# --- quiet hours ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2026-11-21T22:00", "2026-11-22T07:00"),
        ("2026-11-21T23:59", "2026-11-22T07:00"),
        ("2026-11-22T03:00", "2026-11-22T07:00"),
        ("2026-11-22T06:59", "2026-11-22T07:00"),
        ("2026-11-22T07:00", None),
        ("2026-11-21T21:59", None),
        ("2026-11-21T12:00", None),
    ],
)
def test_quiet_until_across_midnight(local: str, expected: str | None) -> None:
    zone = ZoneInfo(SHANGHAI)
    moment = datetime.fromisoformat(local).replace(tzinfo=zone)
    until = delivery.quiet_until(moment, zone, QUIET)
    if expected is None:
        assert until is None
    else:
        assert until == datetime.fromisoformat(expected).replace(tzinfo=zone)
        assert until is not None and until.tzinfo is UTC


def test_quiet_until_within_a_day_and_off() -> None:
    zone = ZoneInfo("Europe/Berlin")
    window = (time(1, 0), time(5, 30))
    inside = datetime(2026, 7, 1, 2, 0, tzinfo=zone)
    assert delivery.quiet_until(inside, zone, window) == datetime(2026, 7, 1, 5, 30, tzinfo=zone)
    assert delivery.quiet_until(datetime(2026, 7, 1, 6, 0, tzinfo=zone), zone, window) is None
    assert delivery.quiet_until(inside, zone, None) is None


async def make_stations(maker: SessionMaker) -> dict[str, int]:
    """A city with its own zone, a district inheriting it, and one elsewhere."""
    async with maker() as session:
        await stations.import_tree(
            session,
            [
                {
                    "code": "urumqi",
                    "name": "乌鲁木齐市",
                    "timezone": "Asia/Urumqi",  # UTC+6
                    "children": [{"code": "urumqi-d", "name": "天山区"}],
                },
                {"code": "hefei", "name": "合肥市"},
            ],
        )
        return {s.code: s.id for s in await stations.all_stations(session) if s.id}


def ids(found: Sequence[Claimed]) -> list[str]:
    return [r.payload["text"] for r in found]


async def test_quiet_hours_hold_non_urgent_rows_in_the_stations_zone(
    sessionmaker: SessionMaker,
) -> None:
    codes = await make_stations(sessionmaker)
    # 22:30 in Shanghai (UTC+8) is 20:30 in Urumqi (UTC+6): quiet only in Shanghai.
    now = datetime(2026, 11, 21, 14, 30, tzinfo=UTC)
    due = now - timedelta(minutes=1)
    await queue(
        sessionmaker,
        note(1, "hefei", station_id=codes["hefei"], due_at=due),
        note(2, "default zone", due_at=due),
        note(3, "urgent", station_id=codes["hefei"], urgent=True, due_at=due),
        note(4, "urumqi district", station_id=codes["urumqi-d"], due_at=due),
    )
    batch = await claim(sessionmaker, now=now, quiet=QUIET)
    assert sorted(ids(batch.rows)) == ["urgent", "urumqi district"]
    assert batch.held == 2
    stored = await rows(sessionmaker)
    morning = datetime(2026, 11, 22, 7, 0, tzinfo=ZoneInfo(SHANGHAI))
    for key in ("hefei", "default zone"):
        assert stored[key].state is OutboxState.PENDING
        assert stored[key].due_at == morning and stored[key].attempts == 0
    # Nothing more is due until the morning; then they go.
    assert (await claim(sessionmaker, now=now + timedelta(hours=2), quiet=QUIET)).touched == 0
    batch = await claim(sessionmaker, now=morning.astimezone(UTC), quiet=QUIET)
    assert sorted(ids(batch.rows)) == ["default zone", "hefei"]
    # 23:30 in Urumqi is quiet there too.
    await queue(sessionmaker, note(5, "late", station_id=codes["urumqi-d"], due_at=due))
    late = datetime(2026, 11, 21, 17, 30, tzinfo=UTC)
    batch = await claim(sessionmaker, now=late, quiet=QUIET)
    assert batch.rows == [] and batch.held == 1
    held = (await rows(sessionmaker))["late"].due_at
    assert held == datetime(2026, 11, 22, 7, 0, tzinfo=ZoneInfo("Asia/Urumqi"))
    assert (await claim(sessionmaker, now=late, quiet=None)).touched == 0
