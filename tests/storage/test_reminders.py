"""Reminders and the weekly digest as outbox rows, against a real database on each
backend: planned with the right due times and urgency, never twice, moved with the
start, withdrawn with the seat or the activity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from services import activities, activity_admin, outbox, personal_data, reminders, volunteers
from services.access import Actor
from services.activities import OfferRules
from services.errors import NotAllowed, NotFound
from storage.db import SessionMaker, write_transaction
from storage.models import (
    Activity,
    Outbox,
    OutboxState,
    Signup,
    SignupStatus,
    Volunteer,
)
from storage.types import utcnow
from tests import factories
from tests.factories import make_volunteers
from ui.settings import Settings

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]
ADMIN = 999


async def make_activity(maker: SessionMaker, station_id: int, **kw: Any) -> int:
    return await factories.make_activity(maker, station_id, now=NOW, **kw)


async def join(maker: SessionMaker, user_id: int, activity_id: int, now: datetime = NOW) -> None:
    async with maker() as session:
        await activities.join(session, user_id=user_id, activity_id=activity_id, now=now)


async def signup_id(maker: SessionMaker, user_id: int, activity_id: int) -> int:
    async with maker() as session:
        volunteer = await volunteers.get(session, user_id)
        assert volunteer is not None
        row = (
            await session.exec(
                select(Signup).where(
                    Signup.activity_id == activity_id, Signup.volunteer_id == volunteer.id
                )
            )
        ).one()
        assert row.id is not None
        return row.id


async def rows(maker: SessionMaker, kind: str = reminders.REMINDER) -> dict[str, Outbox]:
    async with maker() as session:
        found = await session.exec(select(Outbox).where(Outbox.kind == kind))
        return {r.key: r for r in found.all()}


async def plan(maker: SessionMaker, now: datetime = NOW) -> int:
    return await reminders.plan_reminders(sessionmaker=maker, settings=SETTINGS, now=now)


async def test_planned_once_with_due_times_and_urgency(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    station = tree["hf-ss-xy-xyxc"]
    await make_volunteers(sessionmaker, station, [11, 12, 13])
    soon = await make_activity(
        sessionmaker, station, capacity=2, starts_in=timedelta(hours=24, minutes=30)
    )
    later = await make_activity(sessionmaker, station, capacity=5, starts_in=timedelta(days=3))
    for user_id in (11, 12, 13):  # 13 is on the waitlist: no reminders
        await join(sessionmaker, user_id, soon)
    await join(sessionmaker, 11, later)  # too far ahead for now

    assert await plan(sessionmaker) == 4
    found = await rows(sessionmaker)
    start = NOW + timedelta(hours=24, minutes=30)
    first = await signup_id(sessionmaker, 11, soon)
    second = await signup_id(sessionmaker, 12, soon)
    assert set(found) == {
        f"remind:{first}:24h",
        f"remind:{first}:2h",
        f"remind:{second}:24h",
        f"remind:{second}:2h",
    }
    day_before, two_hours = found[f"remind:{first}:24h"], found[f"remind:{first}:2h"]
    assert day_before.due_at == start - timedelta(hours=24)
    assert two_hours.due_at == start - timedelta(hours=2)
    assert (day_before.urgent, two_hours.urgent) == (False, True)  # 2 h never waits for morning
    assert day_before.priority == outbox.REMINDER and day_before.user_id == 11
    assert day_before.station_id == station
    assert day_before.payload == {"signup_id": first, "hours": 24, "tz": "Asia/Shanghai"}

    # The job runs again (and again, a little later): nothing is queued twice.
    assert await plan(sessionmaker) == 0
    assert await plan(sessionmaker, NOW + timedelta(minutes=5)) == 0
    assert len(await rows(sessionmaker)) == 4


async def test_late_joiners_get_only_the_reminders_still_ahead(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    station = tree["hf-ss-xy-xyxc"]
    await make_volunteers(sessionmaker, station, [21])
    activity = await make_activity(sessionmaker, station, capacity=5, starts_in=timedelta(hours=3))
    await join(sessionmaker, 21, activity)  # three hours before: only the two-hour one
    assert await plan(sessionmaker) == 1
    seat = await signup_id(sessionmaker, 21, activity)
    found = await rows(sessionmaker)
    assert set(found) == {f"remind:{seat}:2h"}
    assert found[f"remind:{seat}:2h"].due_at == NOW + timedelta(hours=1)


async def test_a_late_job_still_reminds_seats_held_before_the_mark(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    station = tree["hf-ss-xy-xyxc"]
    await make_volunteers(sessionmaker, station, [22, 23, 24])
    activity = await make_activity(sessionmaker, station, capacity=5, starts_in=timedelta(hours=3))
    earlier = await make_activity(
        sessionmaker, station, capacity=5, starts_in=timedelta(hours=2, minutes=40)
    )
    await join(sessionmaker, 22, activity)  # before the two-hour mark (NOW + 1 h)
    await join(sessionmaker, 23, activity, now=NOW + timedelta(hours=1, minutes=5))  # after it
    await join(sessionmaker, 24, earlier)  # its mark (NOW + 40 min) is 30 minutes gone

    # The job was down and first runs ten minutes after the mark.
    assert await plan(sessionmaker, NOW + timedelta(hours=1, minutes=10)) == 1
    seat = await signup_id(sessionmaker, 22, activity)
    found = await rows(sessionmaker)
    assert set(found) == {f"remind:{seat}:2h"}
    assert found[f"remind:{seat}:2h"].due_at == NOW + timedelta(hours=1)


async def test_reschedule_moves_them_and_cancelling_withdraws_them(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    station = tree["hf-ss-xy-xyxc"]
    await make_volunteers(sessionmaker, station, [31, 32])
    activity = await make_activity(
        sessionmaker, station, capacity=5, starts_in=timedelta(hours=24, minutes=30)
    )
    await join(sessionmaker, 31, activity)
    await join(sessionmaker, 32, activity)
    assert await plan(sessionmaker) == 4
    first = await signup_id(sessionmaker, 31, activity)

    async def move(start: datetime) -> None:
        async with sessionmaker() as session:
            await activity_admin.edit(
                session,
                actor=Actor(ADMIN, is_admin=True),
                activity_id=activity,
                changes={"starts_at": start, "ends_at": start + timedelta(hours=2)},
                now=NOW,
            )

    later = NOW + timedelta(hours=30)
    await move(later)
    found = await rows(sessionmaker)
    assert found[f"remind:{first}:24h"].due_at == later - timedelta(hours=24)
    assert found[f"remind:{first}:2h"].due_at == later - timedelta(hours=2)
    assert {r.state for r in found.values()} == {OutboxState.PENDING}

    # Ten hours ahead: the day-before reminder is past and withdrawn; the other moves.
    sooner = NOW + timedelta(hours=10)
    await move(sooner)
    found = await rows(sessionmaker)
    assert found[f"remind:{first}:24h"].state is OutboxState.WITHDRAWN
    assert found[f"remind:{first}:2h"].state is OutboxState.PENDING
    assert found[f"remind:{first}:2h"].due_at == sooner - timedelta(hours=2)
    assert await plan(sessionmaker) == 0  # and the job does not bring it back

    # A reminder already sent stays as it was; the rest are withdrawn with the activity.
    async with sessionmaker() as session, write_transaction(session):
        await session.exec(
            update(Outbox)
            .where(col(Outbox.key) == f"remind:{first}:2h")
            .values(state=OutboxState.SENT)
        )
    async with sessionmaker() as session:
        await activity_admin.cancel(
            session, actor=Actor(ADMIN, is_admin=True), activity_id=activity, now=NOW
        )
    states = {k: r.state for k, r in (await rows(sessionmaker)).items()}
    assert states.pop(f"remind:{first}:2h") is OutboxState.SENT
    assert set(states.values()) == {OutboxState.WITHDRAWN}
    assert await plan(sessionmaker) == 0


async def test_a_cancelled_seat_withdraws_and_a_new_seat_is_reminded(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    station = tree["hf-ss-xy-xyxc"]
    await make_volunteers(sessionmaker, station, [41, 42, 43])
    activity = await make_activity(
        sessionmaker, station, capacity=2, starts_in=timedelta(hours=24, minutes=30)
    )
    for user_id in (41, 42, 43):
        await join(sessionmaker, user_id, activity)
    assert await plan(sessionmaker) == 4
    gone, stays, waiting = [await signup_id(sessionmaker, u, activity) for u in (41, 42, 43)]

    async with sessionmaker() as session:
        result = await activities.cancel(
            session, user_id=41, activity_id=activity, now=NOW, rules=OfferRules()
        )
    assert [p.user_id for p in result.promotions] == [43]
    states = {k: r.state for k, r in (await rows(sessionmaker)).items()}
    assert states[f"remind:{gone}:24h"] is OutboxState.WITHDRAWN
    assert states[f"remind:{gone}:2h"] is OutboxState.WITHDRAWN
    assert states[f"remind:{stays}:24h"] is OutboxState.PENDING
    assert await plan(sessionmaker) == 0  # an offered seat is not reminded yet

    async with sessionmaker() as session:
        await activities.answer_offer(
            session, user_id=43, activity_id=activity, accept=True, now=NOW, rules=OfferRules()
        )
    assert await plan(sessionmaker) == 2
    assert (await rows(sessionmaker))[f"remind:{waiting}:2h"].state is OutboxState.PENDING

    # The one who left joins again (the same sign-up, now on the waitlist, then a seat):
    # their withdrawn reminders come back with the seat.
    async with sessionmaker() as session, write_transaction(session):
        await session.exec(update(Activity).where(col(Activity.id) == activity).values(capacity=3))
    await join(sessionmaker, 41, activity)
    assert await plan(sessionmaker) == 2
    states = {k: r.state for k, r in (await rows(sessionmaker)).items()}
    assert states[f"remind:{gone}:24h"] is OutboxState.PENDING
    assert len(states) == 6


async def test_reminder_seat_and_coming_answer(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    station = tree["hf-ss-xy-xyxc"]
    await make_volunteers(sessionmaker, station, [51, 52])
    activity = await make_activity(sessionmaker, station, capacity=5, starts_in=timedelta(hours=5))
    await join(sessionmaker, 51, activity)
    seat = await signup_id(sessionmaker, 51, activity)
    async with sessionmaker() as session:
        found = await reminders.reminder_seat(session, seat, NOW)
        assert found is not None and found.user_id == 51
        assert await reminders.reminder_seat(session, seat, NOW + timedelta(hours=6)) is None
        with pytest.raises(NotFound):  # someone else's seat: as if there were none
            await reminders.confirm_coming(session, user_id=52, signup_id=seat, now=NOW)
        await reminders.confirm_coming(session, user_id=51, signup_id=seat, now=NOW)
        await reminders.confirm_coming(
            session, user_id=51, signup_id=seat, now=NOW + timedelta(minutes=1)
        )
    async with sessionmaker() as session:
        row = await session.get(Signup, seat)
        assert row is not None and row.coming_confirmed_at == NOW  # the first answer kept
        assert row.status is SignupStatus.CONFIRMED


# --- the weekly digest ------------------------------------------------------------------


async def test_digest_respects_the_opt_out_and_the_week(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    now = utcnow()
    home = tree["hf-ss-xy-xyxc"]
    await make_volunteers(sessionmaker, home, [61, 62, 63])
    await make_volunteers(sessionmaker, tree["hf-bh-wh-wc"], [64])  # another district
    async with sessionmaker() as session:
        await reminders.set_weekly_digest(session, user_id=62, on=False)
        await personal_data.erase(session, 63)
    # New at the street above their community; one full; one published long ago; one
    # at the other district.
    fresh = await factories.make_activity(
        sessionmaker, tree["hf-ss-xy"], now=now, capacity=5, title="Street fair"
    )
    full = await factories.make_activity(sessionmaker, home, now=now, capacity=1, title="Full")
    old = await factories.make_activity(sessionmaker, home, now=now, capacity=5, title="Old")
    await factories.make_activity(sessionmaker, tree["hf-bh"], now=now, capacity=5, title="Far")
    await join(sessionmaker, 61, full, now=now)
    async with sessionmaker() as session, write_transaction(session):
        await session.exec(
            update(Activity)
            .where(col(Activity.id) == old)
            .values(created_at=now - timedelta(days=8))
        )

    assert await reminders.plan_digest(sessionmaker=sessionmaker, settings=SETTINGS, now=now) == 2
    found = await rows(sessionmaker, reminders.DIGEST)
    week = now.astimezone(SETTINGS.zone).isocalendar()
    assert set(found) == {
        f"digest:61:{week.year}-W{week.week:02d}",
        f"digest:64:{week.year}-W{week.week:02d}",
    }
    row = found[f"digest:61:{week.year}-W{week.week:02d}"]
    assert (row.urgent, row.priority, row.station_id) == (False, outbox.BULK, home)
    assert await reminders.plan_digest(sessionmaker=sessionmaker, settings=SETTINGS, now=now) == 0

    async with sessionmaker() as session:
        digest = await reminders.digest_for(session, row.payload, now)
        assert digest is not None
        assert [(a.id, left) for a, left in digest.items] == [(fresh, 5)]
        far = await reminders.digest_for(session, {**row.payload, "user_id": 64}, now)
        assert far is not None and [a.title for a, _ in far.items] == ["Far"]
        await reminders.set_weekly_digest(session, user_id=61, on=False)
        assert await reminders.digest_for(session, row.payload, now) is None  # turned off since

    # A week later it is a new week's digest, for those who still want it.
    next_week = now + timedelta(days=7)
    await factories.make_activity(
        sessionmaker, home, now=now, capacity=5, title="Next", starts_in=timedelta(days=9)
    )
    async with sessionmaker() as session, write_transaction(session):
        await session.exec(
            update(Activity)
            .where(col(Activity.title) == "Next")
            .values(created_at=next_week - timedelta(days=1))
        )
    async with sessionmaker() as session:
        await reminders.set_weekly_digest(session, user_id=62, on=True)
    assert (
        await reminders.plan_digest(sessionmaker=sessionmaker, settings=SETTINGS, now=next_week)
        == 1
    )
    week = next_week.astimezone(SETTINGS.zone).isocalendar()
    queued = set(await rows(sessionmaker, reminders.DIGEST))
    assert f"digest:62:{week.year}-W{week.week:02d}" in queued
    assert not any(k.endswith(f"{week.year}-W{week.week:02d}") and ":62:" not in k for k in queued)


async def test_set_weekly_digest_needs_a_volunteer(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await make_volunteers(sessionmaker, tree["hf-ss-xy-xyxc"], [71])
    async with sessionmaker() as session:
        await reminders.set_weekly_digest(session, user_id=71, on=False)
        with pytest.raises(NotAllowed) as raised:
            await reminders.set_weekly_digest(session, user_id=72, on=False)
        assert raised.value.code == "not_registered"
    async with sessionmaker() as session:
        volunteer = (await session.exec(select(Volunteer).where(Volunteer.user_id == 71))).one()
        assert volunteer.weekly_digest is False


async def test_digest_shows_a_weekly_series_once(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    now = utcnow()
    home = tree["hf-ss-xy-xyxc"]
    await make_volunteers(sessionmaker, home, [81])
    weekly = [
        await factories.make_activity(
            sessionmaker, home, now=now, capacity=5, title="Duty", starts_in=timedelta(weeks=w)
        )
        for w in (1, 2, 3)
    ]
    single = await factories.make_activity(
        sessionmaker, home, now=now, capacity=5, title="Once", starts_in=timedelta(days=10)
    )
    async with sessionmaker() as session, write_transaction(session):
        await session.exec(
            update(Activity).where(col(Activity.id).in_(weekly)).values(series_id=weekly[0])
        )
    assert await reminders.plan_digest(sessionmaker=sessionmaker, settings=SETTINGS, now=now) == 1
    (row,) = (await rows(sessionmaker, reminders.DIGEST)).values()
    async with sessionmaker() as session:
        digest = await reminders.digest_for(session, row.payload, now)
    assert digest is not None
    assert [a.id for a, _ in digest.items] == [weekly[0], single]
