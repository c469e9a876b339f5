"""Seats, the waitlist and offers, against a real database on each backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from services import activities, volunteers
from services.activities import OfferRules, Outcome
from services.errors import InvalidInput, NotAllowed
from storage.db import SessionMaker
from storage.models import AuditLog, Signup, SignupStatus
from tests import factories
from tests.factories import make_volunteers

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
RULES = OfferRules()


async def make_activity(maker: SessionMaker, station_id: int, **kw: Any) -> int:
    return await factories.make_activity(maker, station_id, now=NOW, **kw)


async def join(maker: SessionMaker, user_id: int, activity_id: int, **kw: object):  # type: ignore[no-untyped-def]
    async with maker() as session:
        return await activities.join(
            session, user_id=user_id, activity_id=activity_id, now=NOW, **kw
        )  # type: ignore[arg-type]


async def statuses(maker: SessionMaker, activity_id: int) -> list[tuple[int, SignupStatus]]:
    async with maker() as session:
        rows = (
            await session.exec(
                select(Signup)
                .where(Signup.activity_id == activity_id)
                .order_by(col(Signup.queued_at), col(Signup.id))
            )
        ).all()
    return [(r.volunteer_id, r.status) for r in rows]


async def test_fifty_concurrent_joins_for_the_last_seat(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    station = tree["hf-ss-xy-xyxc"]
    await make_volunteers(sessionmaker, station, range(100, 155))
    activity_id = await make_activity(sessionmaker, station, capacity=5)
    for user_id in range(100, 104):  # four of five seats taken
        assert (await join(sessionmaker, user_id, activity_id)).outcome is Outcome.SEAT

    results = await asyncio.gather(*(join(sessionmaker, u, activity_id) for u in range(104, 154)))

    outcomes = [r.outcome for r in results]
    assert outcomes.count(Outcome.SEAT) == 1 and outcomes.count(Outcome.WAITLIST) == 49
    positions = sorted(r.position for r in results if r.outcome is Outcome.WAITLIST)
    assert positions == list(range(1, 50))
    rows = await statuses(sessionmaker, activity_id)
    assert [s for _, s in rows].count(SignupStatus.CONFIRMED) == 5
    waitlisted = [v for v, s in rows if s is SignupStatus.WAITLISTED]
    assert len(waitlisted) == 49
    # The order each was told is the order kept.
    async with sessionmaker() as session:
        told = {}
        for result, user_id in zip(results, range(104, 154), strict=True):
            if result.position is not None:
                vol = await volunteers.get(session, user_id)
                assert vol is not None
                told[vol.id] = result.position
    assert [told[v] for v in waitlisted] == list(range(1, 50))


async def test_cancel_offers_the_seat_to_the_first_in_line(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    station = tree["hf-ss-xy-xyxc"]
    await make_volunteers(sessionmaker, station, range(200, 204))
    activity_id = await make_activity(sessionmaker, station, capacity=1)
    await join(sessionmaker, 200, activity_id)
    second = await join(sessionmaker, 201, activity_id)
    third = await join(sessionmaker, 202, activity_id)
    assert (second.position, third.position) == (1, 2)

    async with sessionmaker() as session:
        result = await activities.cancel(
            session, user_id=200, activity_id=activity_id, now=NOW, rules=RULES
        )
    assert result.late is False
    [offer] = result.promotions
    assert offer.user_id == 201 and offer.expires_at == NOW + timedelta(hours=12)

    async with sessionmaker() as session:  # 201 turns it down: 202 is asked
        [nxt] = await activities.answer_offer(
            session, user_id=201, activity_id=activity_id, accept=False, now=NOW, rules=RULES
        )
        assert nxt.user_id == 202
        with pytest.raises(InvalidInput):  # an old button cannot take it back
            await activities.answer_offer(
                session, user_id=201, activity_id=activity_id, accept=True, now=NOW, rules=RULES
            )
    async with sessionmaker() as session:  # 202 does not answer in time
        promotions, lapsed = await activities.expire_offers(
            session, now=NOW + timedelta(hours=13), rules=RULES
        )
    assert promotions == [] and [u for _, u in lapsed] == [202]
    async with sessionmaker() as session:  # a newcomer now gets the free seat
        again = await activities.join(
            session, user_id=203, activity_id=activity_id, now=NOW + timedelta(hours=14)
        )
    assert again.outcome is Outcome.SEAT


async def test_offer_deadline_and_late_cancellation(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    station = tree["hf-ss-xy-xyxc"]
    await make_volunteers(sessionmaker, station, range(300, 303))
    soon = await make_activity(sessionmaker, station, capacity=1, starts_in=timedelta(hours=5))
    await join(sessionmaker, 300, soon)
    await join(sessionmaker, 301, soon)
    async with sessionmaker() as session:
        result = await activities.cancel(
            session, user_id=300, activity_id=soon, now=NOW, rules=RULES
        )
    assert result.late is True  # inside 24 hours: staff are told
    [offer] = result.promotions
    assert offer.expires_at == NOW + timedelta(hours=3)  # never later than 2 h before start

    closer = await make_activity(sessionmaker, station, capacity=1, starts_in=timedelta(hours=1))
    await join(sessionmaker, 300, closer)
    await join(sessionmaker, 302, closer)
    async with sessionmaker() as session:
        result = await activities.cancel(
            session, user_id=300, activity_id=closer, now=NOW, rules=RULES
        )
    [given] = result.promotions
    assert given.expires_at is None  # too close to ask: the seat is simply given
    assert (await statuses(sessionmaker, closer))[-1][1] is SignupStatus.CONFIRMED


async def test_overlap_needs_confirmation_and_rejoining_is_idempotent(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    station = tree["hf-ss-xy-xyxc"]
    await make_volunteers(sessionmaker, station, range(400, 401))
    first = await make_activity(sessionmaker, station, capacity=10)
    second = await make_activity(
        sessionmaker, station, capacity=10, starts_in=timedelta(days=3, hours=1)
    )
    assert (await join(sessionmaker, 400, first)).outcome is Outcome.SEAT
    assert (await join(sessionmaker, 400, first)).outcome is Outcome.ALREADY
    clash = await join(sessionmaker, 400, second)
    assert clash.outcome is Outcome.OVERLAP and [a.id for a in clash.overlapping] == [first]
    assert await statuses(sessionmaker, second) == []
    assert (await join(sessionmaker, 400, second, allow_overlap=True)).outcome is Outcome.SEAT
    async with sessionmaker() as session:
        joined = (
            await session.exec(select(AuditLog).where(AuditLog.action == "signup.joined"))
        ).all()
    assert len(joined) == 2


async def test_who_may_join(sessionmaker: SessionMaker, tree: dict[str, int]) -> None:
    activity_id = await make_activity(sessionmaker, tree["hf-ss-hp"], capacity=3)
    with pytest.raises(NotAllowed) as error:
        await join(sessionmaker, 999, activity_id)
    assert error.value.code == "not_registered"
    await make_volunteers(sessionmaker, tree["hf-ss-hp-wyl"], range(500, 501))  # needs approval
    with pytest.raises(NotAllowed) as error:
        await join(sessionmaker, 500, activity_id)
    assert error.value.code == "volunteer_pending"
    past = await make_activity(sessionmaker, tree["hf"], capacity=3, starts_in=-timedelta(hours=1))
    await make_volunteers(sessionmaker, tree["hf-ss-xy"], range(501, 502))
    with pytest.raises(InvalidInput) as bad:
        await join(sessionmaker, 501, past)
    assert bad.value.code == "activity_started"


async def test_seat_counts_of_a_page_equal_counting_each_activity_alone(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    """/activities counts a page's places in one query; each figure equals counting
    that activity and status on its own."""
    from services import activity_views
    from storage import queries
    from storage.models import HOLDS_SEAT, Activity

    station = tree["hf-ss-xy-xyxc"]
    await make_volunteers(sessionmaker, station, range(300, 312))
    full = await make_activity(sessionmaker, station, capacity=2)
    roomy = await make_activity(sessionmaker, station, capacity=9)
    empty = await make_activity(sessionmaker, station, capacity=4)
    for user_id in range(300, 307):  # 2 seats, 5 waiting
        await join(sessionmaker, user_id, full)
    for user_id in range(307, 311):
        await join(sessionmaker, user_id, roomy)
    async with sessionmaker() as session:
        await activities.cancel(session, user_id=310, activity_id=roomy, now=NOW, rules=RULES)
    ids = [full, roomy, empty]
    async with sessionmaker() as session:
        counts = await queries.seat_counts(session, ids)
        alone = {
            i: (
                await queries.count_signups(session, i, HOLDS_SEAT),
                await queries.count_signups(session, i, (SignupStatus.WAITLISTED,)),
            )
            for i in ids
        }
        shown = await activity_views.seats_of(
            session, [a for i in ids if (a := await session.get(Activity, i)) is not None]
        )
    assert counts == alone == {full: (2, 5), roomy: (3, 0), empty: (0, 0)}
    assert [(s.activity.id, s.taken, s.waiting, s.left) for s in shown] == [
        (full, 2, 5, 0),
        (roomy, 3, 0, 6),
        (empty, 0, 0, 4),
    ]
