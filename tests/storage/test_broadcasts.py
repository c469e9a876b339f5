"""Broadcasts against a real database on each backend: exactly the right recipients,
one row each in one go, nothing twice, permissions, and progress from the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import announcements, broadcast_progress, broadcasts, outbox, personal_data, roles
from services.access import Actor
from services.errors import InvalidInput, NotAllowed
from storage.db import SessionMaker, write_transaction
from storage.models import (
    Activity,
    ActivityStatus,
    Broadcast,
    Outbox,
    OutboxState,
    Volunteer,
    VolunteerStatus,
)
from storage.queries import broadcasts as broadcast_queries
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


# --- the set-based queueing against the per-row one it replaced ----------------------

FROZEN = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)


async def queue_row_by_row(
    session: AsyncSession, broadcast: Broadcast, station_id: int, skills: list[str]
) -> int:
    """The queueing as it was before it moved into the database: the recipients
    listed here, one Message each, inserted through ``outbox.enqueue``."""
    assert broadcast.id is not None
    found = await broadcasts.recipients(session, station_id=station_id, skills=skills)
    return await outbox.enqueue(
        session,
        [
            outbox.Message(
                user_id=r.user_id,
                kind=broadcasts.KIND,
                key=broadcasts.key(broadcast.id, r.user_id),
                payload={"broadcast_id": broadcast.id},
                urgent=False,
                priority=outbox.BULK,
                station_id=r.station_id,
                broadcast_id=broadcast.id,
            )
            for r in found
        ],
    )


def comparable(rows: list[Outbox], broadcast_id: int) -> list[tuple[object, ...]]:
    """Every column but the id, in id order, the broadcast's own id written as 0."""
    own = broadcasts.key_prefix(broadcast_id)
    return [
        (
            row.key.replace(own, broadcasts.key_prefix(0)),
            row.user_id,
            row.kind,
            {**row.payload, "broadcast_id": 0}
            if row.payload == {"broadcast_id": broadcast_id}
            else row.payload,
            row.due_at,
            row.urgent,
            row.priority,
            row.station_id,
            0 if row.broadcast_id == broadcast_id else row.broadcast_id,
            row.state,
            row.attempts,
            row.last_error,
            row.claimed_at,
            row.sent_at,
            row.message_id,
            row.created_at,
        )
        for row in rows
    ]


async def rows_of(session: AsyncSession, broadcast_id: int) -> list[tuple[object, ...]]:
    query = select(Outbox).where(Outbox.broadcast_id == broadcast_id).order_by(col(Outbox.id))
    rows = list((await session.exec(query.execution_options(populate_existing=True))).all())
    return comparable(rows, broadcast_id)


async def test_set_based_queueing_equals_the_row_by_row_one(
    sessionmaker: SessionMaker, tree: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """For several stations and skill choices, the rows the database writes in one
    statement are the rows the per-row code wrote: same keys, recipients, home stations
    (their time zone decides the quiet hours), due times, order and everything else;
    also when stations are split across several statements."""
    await people(sessionmaker, tree)
    # More people, added in an order unlike the stations' one, with skills that only
    # partly match, no skills at all, and one declined volunteer.
    await make_volunteers(sessionmaker, tree["hf-ss-xy-hyd"], [31, 32])
    await make_volunteers(sessionmaker, tree["hf-ss-xy-xyxc"], [33, 34])
    await make_volunteers(sessionmaker, tree["hf-ss-hp-hpmd"], [35])
    async with sessionmaker() as session, write_transaction(session):
        for user_id, skills in ((31, ["driving", "first_aid"]), (33, ["sign_language"])):
            await session.exec(
                update(Volunteer).where(col(Volunteer.user_id) == user_id).values(skills=skills)
            )
        await session.exec(
            update(Volunteer)
            .where(col(Volunteer.user_id) == 34)
            .values(status=VolunteerStatus.DECLINED)
        )
    monkeypatch.setattr(broadcasts, "utcnow", lambda: FROZEN)
    monkeypatch.setattr(outbox, "utcnow", lambda: FROZEN)
    cases = [
        (station, skills)
        for station in ("hf", "hf-ss", "hf-ss-xy", "hf-ss-xy-hyd", "hf-bh")
        for skills in ([], ["first_aid"], ["driving", "sign_language"], ["translation"])
    ]
    compared = 0
    for chunk in (500, 1):
        monkeypatch.setattr(broadcast_queries, "CHUNK", chunk)
        for code, skills in cases:
            station_id = tree[code]
            async with sessionmaker() as session:
                async with write_transaction(session):
                    old = Broadcast(station_id=station_id, text="old", created_at=FROZEN)
                    session.add(old)
                    await session.flush()
                    assert old.id is not None
                    old_count = await queue_row_by_row(session, old, station_id, skills)
                    expected = await rows_of(session, old.id)
                    await session.rollback()  # only the rows were wanted
                expected_total = await broadcasts.count_recipients(
                    session, station_id=station_id, skills=skills
                )
                assert expected_total == old_count == len(expected)
                if not expected:
                    with pytest.raises(InvalidInput) as raised:
                        async with write_transaction(session):
                            await broadcasts.open_broadcast(
                                session,
                                actor=Actor(STAFF),
                                station_id=station_id,
                                text="new",
                                now=FROZEN,
                                skills=skills,
                            )
                    assert raised.value.code == "no_recipients"
                    continue
                async with write_transaction(session):
                    new = await broadcasts.open_broadcast(
                        session,
                        actor=Actor(STAFF),
                        station_id=station_id,
                        text="new",
                        now=FROZEN,
                        skills=skills,
                    )
                assert new.id is not None and new.total == old_count
                assert await rows_of(session, new.id) == expected, (code, skills, chunk)
                compared += 1
    assert compared >= 20
    async with sessionmaker() as session:
        # Nothing was left by the cases that found nobody, nor by the old code's runs.
        assert len((await session.exec(select(Broadcast))).all()) == compared
