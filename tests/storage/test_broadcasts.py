"""Broadcasts against a real database on each backend: exactly the right recipients,
one row each in one go, nothing twice, permissions, and progress from the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from services import announcements, broadcast_progress, broadcasts, outbox, personal_data, roles
from services.access import Actor
from services.errors import InvalidInput, NotAllowed
from storage.db import SessionMaker, write_transaction
from storage.models import Activity, ActivityStatus, Broadcast, Outbox, OutboxState, Volunteer
from storage.types import utcnow
from tests.factories import make_activity, make_volunteers

SINCE = datetime(2026, 1, 1, tzinfo=UTC)
STAFF = 500  # staff of the Xiyuan street station
OTHER = 501  # staff of a Baohe street station


async def people(maker: SessionMaker, tree: dict[str, int]) -> None:
    """At Xiyuan: 11, 12 (first aid), 13 (erased), 14 (under Xiyuan street, driving);
    15 at Hupo (needs approval: pending); 16 in another district."""
    await make_volunteers(maker, tree["hf-ss-xy-xyxc"], [11, 12, 13])
    await make_volunteers(maker, tree["hf-ss-xy-hyd"], [14])
    await make_volunteers(maker, tree["hf-ss-hp-hpmd"], [15])
    await make_volunteers(maker, tree["hf-bh-wh-wc"], [16])
    async with maker() as session, write_transaction(session):
        await session.exec(
            update(Volunteer).where(col(Volunteer.user_id) == 12).values(skills=["first_aid"])
        )
        await session.exec(
            update(Volunteer).where(col(Volunteer.user_id) == 14).values(skills=["driving"])
        )
    async with maker() as session:
        await personal_data.erase(session, 13)
        await roles.grant(
            session, user_id=STAFF, role="staff", station_code="hf-ss-xy", actor_id=None
        )
        await roles.grant(
            session, user_id=OTHER, role="staff", station_code="hf-bh-wh", actor_id=None
        )


async def outbox_rows(maker: SessionMaker) -> list[Outbox]:
    async with maker() as session:
        return list((await session.exec(select(Outbox).order_by(col(Outbox.user_id)))).all())


async def test_recipients_rows_and_no_second_broadcast(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await people(sessionmaker, tree)
    street = tree["hf-ss-xy"]
    async with sessionmaker() as session:
        everyone = await broadcasts.recipients(session, station_id=street)
        assert [r.user_id for r in everyone] == [11, 12, 14]
        skilled = await broadcasts.recipients(
            session, station_id=street, skills=["first_aid", "driving"]
        )
        assert [r.user_id for r in skilled] == [12, 14]
        assert await broadcasts.count_recipients(session, station_id=tree["hf-ss"]) == 3
        assert await broadcasts.count_recipients(session, station_id=tree["hf"]) == 4

        created = await broadcasts.create(
            session,
            actor=Actor(STAFF),
            station_id=street,
            skills=["first_aid", "driving"],
            text="  Bring gloves\r\n\r\n\r\n\r\nand water  ",
            since=SINCE,
        )
    assert created.new
    broadcast = created.broadcast
    assert broadcast.text == "Bring gloves\n\nand water"
    assert (broadcast.total, broadcast.skills, broadcast.created_by) == (
        2,
        ["first_aid", "driving"],
        STAFF,
    )
    rows = await outbox_rows(sessionmaker)
    assert [(r.user_id, r.key) for r in rows] == [
        (12, f"bc:{broadcast.id}:12"),
        (14, f"bc:{broadcast.id}:14"),
    ]
    for row, home in zip(rows, (tree["hf-ss-xy-xyxc"], tree["hf-ss-xy-hyd"]), strict=True):
        assert (row.kind, row.payload, row.broadcast_id) == (
            "broadcast",
            {"broadcast_id": broadcast.id},
            broadcast.id,
        )
        assert (row.urgent, row.priority, row.station_id) == (False, outbox.BULK, home)

    # The same dialog confirming again (a double tap, a redelivered update): no second one.
    async with sessionmaker() as session:
        again = await broadcasts.create(
            session,
            actor=Actor(STAFF),
            station_id=street,
            skills=["driving", "first_aid"],
            text="Bring gloves\n\nand water",
            since=SINCE,
        )
        assert not again.new and again.broadcast.id == broadcast.id
        # A new dialog, later, may send the same words again.
        later = await broadcasts.create(
            session,
            actor=Actor(STAFF),
            station_id=street,
            skills=[],
            text="Bring gloves\n\nand water",
            since=utcnow() + timedelta(seconds=1),
            now=utcnow() + timedelta(seconds=2),
        )
        assert later.new and later.broadcast.total == 3
    assert len(await outbox_rows(sessionmaker)) == 5


async def test_permission_text_and_nobody_to_tell(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await people(sessionmaker, tree)
    async with sessionmaker() as session:
        with pytest.raises(NotAllowed):  # staff of Baohe, not of Shushan
            await broadcasts.create(
                session,
                actor=Actor(OTHER),
                station_id=tree["hf-ss-xy"],
                skills=[],
                text="Hello",
                since=SINCE,
            )
        with pytest.raises(NotAllowed):  # a station above one's own
            await broadcasts.create(
                session,
                actor=Actor(STAFF),
                station_id=tree["hf-ss"],
                skills=[],
                text="Hello",
                since=SINCE,
            )
        with pytest.raises(InvalidInput) as raised:  # nobody there has this skill
            await broadcasts.create(
                session,
                actor=Actor(STAFF),
                station_id=tree["hf-ss-xy"],
                skills=["sign_language"],
                text="Hello",
                since=SINCE,
            )
        assert raised.value.code == "no_recipients"
        for text, code in (("  \n ", "text_empty"), ("x" * 3501, "text_too_long")):
            with pytest.raises(InvalidInput) as raised:
                broadcasts.clean_text(text)
            assert raised.value.code == code
        assert broadcasts.clean_text("x" * 3500) == "x" * 3500
        with pytest.raises(InvalidInput):
            broadcasts.check_skills(["juggling"])
        # Staff of a street may write to one community under it.
        created = await broadcasts.create(
            session,
            actor=Actor(STAFF),
            station_id=tree["hf-ss-xy-hyd"],
            skills=[],
            text="Hello",
            since=SINCE,
        )
        assert created.broadcast.total == 1
    async with sessionmaker() as session:
        assert len((await session.exec(select(Broadcast))).all()) == 1
    assert [r.user_id for r in await outbox_rows(sessionmaker)] == [14]


async def test_announce_once_and_not_when_cancelled(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await people(sessionmaker, tree)
    activity = await make_activity(sessionmaker, tree["hf-ss-xy"], now=utcnow(), capacity=10)
    async with sessionmaker() as session:
        found, count = await announcements.announcement_audience(
            session, actor=Actor(STAFF), activity_id=activity
        )
        assert found.id == activity and count == 3
        with pytest.raises(NotAllowed):
            await announcements.announce(session, actor=Actor(OTHER), activity_id=activity)
        first = await announcements.announce(session, actor=Actor(STAFF), activity_id=activity)
        second = await announcements.announce(session, actor=Actor(STAFF), activity_id=activity)
    assert first.new and not second.new and second.broadcast.id == first.broadcast.id
    assert first.broadcast.activity_id == activity and first.broadcast.total == 3
    assert [r.user_id for r in await outbox_rows(sessionmaker)] == [11, 12, 14]

    cancelled = await make_activity(sessionmaker, tree["hf-ss-xy"], now=utcnow(), capacity=10)
    async with sessionmaker() as session, write_transaction(session):
        await session.exec(
            update(Activity)
            .where(col(Activity.id) == cancelled)
            .values(status=ActivityStatus.CANCELLED)
        )
    async with sessionmaker() as session:
        with pytest.raises(InvalidInput) as raised:
            await announcements.announce(session, actor=Actor(STAFF), activity_id=cancelled)
    assert raised.value.code == "activity_cancelled"


async def test_progress_and_finish_from_the_outbox(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await people(sessionmaker, tree)
    async with sessionmaker() as session:
        created = await broadcasts.create(
            session,
            actor=Actor(STAFF),
            station_id=tree["hf-ss-xy"],
            skills=[],
            text="Hello",
            since=SINCE,
        )
        broadcast = created.broadcast
        assert broadcast.id is not None
        progress = await broadcast_progress.progress(session, broadcast)
        assert (progress.sent, progress.not_delivered, progress.waiting) == (0, 0, 3)
        assert not progress.done
    states = {11: OutboxState.SENT, 12: OutboxState.SKIPPED, 14: OutboxState.SENDING}
    async with sessionmaker() as session, write_transaction(session):
        for user_id, state in states.items():
            await session.exec(
                update(Outbox).where(col(Outbox.user_id) == user_id).values(state=state)
            )
    async with sessionmaker() as session:
        progress = await broadcast_progress.progress(session, broadcast)
        assert (progress.sent, progress.blocked, progress.waiting) == (1, 1, 1)
        assert [b.id for b in await broadcast_progress.unfinished(session)] == [broadcast.id]
        assert await broadcast_progress.finish(session, broadcast.id)
        assert not await broadcast_progress.finish(session, broadcast.id)  # reported once
        assert list(await broadcast_progress.unfinished(session)) == []
