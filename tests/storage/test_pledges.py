"""Pledges against a real database on each backend: made once per confirmation with a
unique receipt, amounts in integer fen, decided once under a row lock by staff of the
right station only, the volunteer's note queued with the decision, and one reminder
per pledge still open after the configured days."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from services import pledge_decisions, pledge_lists, pledge_reminders, pledges, roles
from services.access import Actor
from services.errors import InvalidInput, NotAllowed, NotFound
from storage.db import SessionMaker, write_transaction
from storage.models import (
    Activity,
    ActivityStatus,
    AuditLog,
    Outbox,
    OutboxState,
    Pledge,
    PledgeStatus,
)
from storage.queries import pledges as pledge_queries
from tests import factories
from tests.factories import make_volunteers
from ui.settings import Settings

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]
CEILING = 500_000
HOME = "hf-ss-xy-xyxc"  # a community under Xiyuan street, Shushan district, Hefei
RECEIPT = re.compile(r"^P\d{8}-[0-9ABCDEFGHJKMNPQRSTVWXYZ]{6}$")


async def make(
    maker: SessionMaker,
    user_id: int,
    *,
    activity_id: int | None = None,
    fen: int = 5_000,
    anonymous: bool = False,
    token: str | None = None,
    now: datetime = NOW,
    ceiling: int = CEILING,
) -> pledges.Created:
    async with maker() as session:
        return await pledges.create(
            session,
            user_id=user_id,
            activity_id=activity_id,
            amount_fen=fen,
            anonymous=anonymous,
            token=token or pledges.new_token(),
            ceiling_fen=ceiling,
            now=now,
        )


async def all_pledges(maker: SessionMaker) -> list[Pledge]:
    async with maker() as session:
        return list((await session.exec(select(Pledge).order_by(col(Pledge.id)))).all())


async def outbox_rows(maker: SessionMaker) -> dict[str, Outbox]:
    async with maker() as session:
        return {r.key: r for r in (await session.exec(select(Outbox))).all()}


async def grant(maker: SessionMaker, user_id: int, role: str, code: str) -> None:
    async with maker() as session:
        await roles.grant(session, user_id=user_id, role=role, station_code=code, actor_id=None)


async def decide(
    maker: SessionMaker, actor_id: int, pledge_id: int, status: PledgeStatus
) -> pledges.PledgeView:
    async with maker() as session:
        return await pledge_decisions.decide(
            session,
            actor=Actor(actor_id),
            pledge_id=pledge_id,
            status=status,
            now=NOW + timedelta(days=1),
        )


async def test_fund_pledge_made_once_per_confirmation(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [11])
    first = await make(sessionmaker, 11, fen=5_050, anonymous=True, token="7K3M9Q")
    again = await make(sessionmaker, 11, fen=5_050, anonymous=True, token="7K3M9Q")
    assert first.created and not again.created
    assert again.view.id == first.view.id
    assert first.view.pledge.receipt == "P20261121-7K3M9Q"  # the date in Asia/Shanghai

    [row] = await all_pledges(sessionmaker)
    assert row.receipt == "P20261121-7K3M9Q"
    assert RECEIPT.match(row.receipt)
    assert row.station_id == tree[HOME] and row.activity_id is None
    assert row.amount_fen == 5_050 and type(row.amount_fen) is int
    assert row.anonymous is True and row.status is PledgeStatus.OPEN
    assert row.created_at == NOW and row.decided_at is None and row.reminded_at is None
    async with sessionmaker() as session:
        audit = (
            await session.exec(select(AuditLog).where(AuditLog.action == "pledge.created"))
        ).all()
    assert [(a.actor_id, a.subject_id, a.details["amount_fen"]) for a in audit] == [
        (11, row.id, 5_050)
    ]


async def test_receipt_date_is_local(sessionmaker: SessionMaker, tree: dict[str, int]) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [11])
    late_utc = datetime(2026, 11, 21, 17, 30, tzinfo=UTC)  # 01:30 on the 22nd in Hefei
    made = await make(sessionmaker, 11, token="AAAAAA", now=late_utc)
    assert made.view.pledge.receipt == "P20261122-AAAAAA"


async def test_receipt_collision_draws_again(
    sessionmaker: SessionMaker, tree: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [11, 12])
    await make(sessionmaker, 11, token="AAAAAA")
    drawn = iter(["AAAAAA", "BBBBBB"])
    monkeypatch.setattr(pledges, "new_token", lambda: next(drawn))
    second = await make(sessionmaker, 12, token="AAAAAA")  # same day, same six: taken
    assert second.created
    assert second.view.pledge.receipt == "P20261121-BBBBBB"
    receipts = [p.receipt for p in await all_pledges(sessionmaker)]
    assert receipts == ["P20261121-AAAAAA", "P20261121-BBBBBB"]


async def test_receipt_taken_by_a_concurrent_writer(
    sessionmaker: SessionMaker, tree: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The insert itself fails on the unique receipt (another writer just took it):
    only that insert is rolled back, and the next draw is used."""
    await make_volunteers(sessionmaker, tree[HOME], [11, 12])
    await make(sessionmaker, 11, token="AAAAAA")

    async def never_taken(session: object, receipt: str) -> bool:
        return False

    monkeypatch.setattr(pledge_queries, "receipt_taken", never_taken)
    monkeypatch.setattr(pledges, "new_token", lambda: "CCCCCC")
    second = await make(sessionmaker, 12, token="AAAAAA", fen=700)
    assert second.view.pledge.receipt == "P20261121-CCCCCC"
    rows = await all_pledges(sessionmaker)
    assert [(p.receipt, p.amount_fen) for p in rows] == [
        ("P20261121-AAAAAA", 5_000),
        ("P20261121-CCCCCC", 700),
    ]
    async with sessionmaker() as session:
        created = (
            await session.exec(select(AuditLog).where(AuditLog.action == "pledge.created"))
        ).all()
    assert len(created) == 2


async def test_activity_purposes_checked(sessionmaker: SessionMaker, tree: dict[str, int]) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [11])
    city = await factories.make_activity(sessionmaker, tree["hf"], now=NOW, capacity=5)
    elsewhere = await factories.make_activity(sessionmaker, tree["hf-bh"], now=NOW, capacity=5)
    past = await factories.make_activity(
        sessionmaker, tree[HOME], now=NOW, capacity=5, starts_in=timedelta(hours=-3)
    )
    called_off = await factories.make_activity(sessionmaker, tree[HOME], now=NOW, capacity=5)
    async with sessionmaker() as session, write_transaction(session):
        await session.exec(
            update(Activity)
            .where(col(Activity.id) == called_off)
            .values(status=ActivityStatus.CANCELLED)
        )

    made = await make(sessionmaker, 11, activity_id=city, fen=10_000)
    assert made.view.pledge.station_id == tree["hf"]  # the activity's station
    assert made.view.pledge.activity_id == city
    for activity_id in (elsewhere, past, called_off, 999_999):
        with pytest.raises(InvalidInput) as caught:
            await make(sessionmaker, 11, activity_id=activity_id)
        assert caught.value.code == "activity_gone"
    assert len(await all_pledges(sessionmaker)) == 1

    async with sessionmaker() as session:
        found = await pledges.choices(session, user_id=11, now=NOW, offset=0, limit=5)
    assert found.home.id == tree[HOME]
    assert [a.id for a in found.activities] == [city] and found.total == 1


async def test_who_may_pledge_and_how_much(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [11])
    await make_volunteers(sessionmaker, tree["hf-ss-hp-hpmd"], [12])  # needs approval
    with pytest.raises(NotAllowed) as caught:
        await make(sessionmaker, 12)
    assert caught.value.code == "volunteer_pending"
    with pytest.raises(NotAllowed) as caught:
        await make(sessionmaker, 13)  # never registered
    assert caught.value.code == "not_registered"
    for fen, code in ((0, "amount_zero"), (-100, "amount_negative")):
        with pytest.raises(InvalidInput) as caught:
            await make(sessionmaker, 11, fen=fen)
        assert caught.value.code == code
    with pytest.raises(InvalidInput) as caught:
        await make(sessionmaker, 11, fen=CEILING + 1)
    assert caught.value.code == "amount_above_ceiling"
    with pytest.raises(InvalidInput):
        await make(sessionmaker, 11, token="not-a-token")
    assert await all_pledges(sessionmaker) == []
    await make(sessionmaker, 11, fen=CEILING)  # the ceiling itself is fine
    assert [p.amount_fen for p in await all_pledges(sessionmaker)] == [CEILING]


async def test_staff_decide_once_and_volunteer_is_told(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [11])
    await grant(sessionmaker, 900, "staff", HOME)
    await grant(sessionmaker, 901, "staff", "hf-bh")  # another district
    await grant(sessionmaker, 902, "coordinator", "hf")  # the city, above everything
    one = (await make(sessionmaker, 11, fen=2_000)).view.id
    two = (await make(sessionmaker, 11, fen=20_000)).view.id

    for stranger in (901, 11):  # staff elsewhere; the pledge's own volunteer
        with pytest.raises(NotAllowed):
            await decide(sessionmaker, stranger, one, PledgeStatus.RECEIVED)
    assert {p.status for p in await all_pledges(sessionmaker)} == {PledgeStatus.OPEN}

    view = await decide(sessionmaker, 900, one, PledgeStatus.RECEIVED)
    assert view.pledge.status is PledgeStatus.RECEIVED
    with pytest.raises(InvalidInput) as caught:
        await decide(sessionmaker, 902, one, PledgeStatus.CANCELLED)
    assert caught.value.code == "pledge_decided"
    assert caught.value.params["status"] == "received"
    await decide(sessionmaker, 902, two, PledgeStatus.CANCELLED)
    with pytest.raises(NotFound):
        await decide(sessionmaker, 900, 999_999, PledgeStatus.RECEIVED)

    rows = {p.id: p for p in await all_pledges(sessionmaker)}
    assert rows[one].status is PledgeStatus.RECEIVED and rows[one].decided_by == 900
    assert rows[one].decided_at == NOW + timedelta(days=1)
    assert rows[two].status is PledgeStatus.CANCELLED and rows[two].decided_by == 902
    queued = await outbox_rows(sessionmaker)
    assert set(queued) == {f"pledge:{one}:received", f"pledge:{two}:cancelled"}
    assert {(r.user_id, r.kind, r.payload["pledge_id"]) for r in queued.values()} == {
        (11, pledges.DECIDED, one),
        (11, pledges.DECIDED, two),
    }
    async with sessionmaker() as session:
        actions = (
            await session.exec(
                select(AuditLog.action, AuditLog.actor_id).where(
                    col(AuditLog.action).in_(["pledge.received", "pledge.cancelled"])
                )
            )
        ).all()
    assert sorted(actions) == [("pledge.cancelled", 902), ("pledge.received", 900)]


async def test_two_staff_at_once_decide_once(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [11])
    await grant(sessionmaker, 900, "staff", HOME)
    await grant(sessionmaker, 902, "coordinator", "hf")
    pledge_id = (await make(sessionmaker, 11)).view.id
    outcomes = await asyncio.gather(
        decide(sessionmaker, 900, pledge_id, PledgeStatus.RECEIVED),
        decide(sessionmaker, 902, pledge_id, PledgeStatus.CANCELLED),
        return_exceptions=True,
    )
    done = [o for o in outcomes if isinstance(o, pledges.PledgeView)]
    refused = [o for o in outcomes if isinstance(o, InvalidInput)]
    assert len(done) == 1 and len(refused) == 1
    [row] = await all_pledges(sessionmaker)
    assert row.status is done[0].pledge.status
    assert len(await outbox_rows(sessionmaker)) == 1


async def test_staff_list_open_newest_first_paged(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [11])
    await make_volunteers(sessionmaker, tree["hf-bh-wh-wc"], [12])
    await grant(sessionmaker, 900, "staff", "hf-ss-xy")  # the street: HOME is below it
    ids = [
        (await make(sessionmaker, 11, fen=100 * (i + 1), now=NOW + timedelta(minutes=i))).view.id
        for i in range(7)
    ]
    await make(sessionmaker, 12, fen=99_999)  # another district
    await decide(sessionmaker, 900, ids[6], PledgeStatus.RECEIVED)
    async with sessionmaker() as session:
        first = await pledge_lists.open_for_staff(session, actor=Actor(900), offset=0, limit=5)
        second = await pledge_lists.open_for_staff(session, actor=Actor(900), offset=5, limit=5)
        beyond = await pledge_lists.open_for_staff(session, actor=Actor(900), offset=50, limit=5)
        with pytest.raises(NotAllowed):
            await pledge_lists.open_for_staff(session, actor=Actor(11))
        admin = await pledge_lists.open_for_staff(session, actor=Actor(7, is_admin=True))
    assert first.total == 6 and first.amount_fen == 100 + 200 + 300 + 400 + 500 + 600
    assert [v.id for v in first.items] == [ids[5], ids[4], ids[3], ids[2], ids[1]]
    assert [v.id for v in second.items] == [ids[0]]
    assert beyond.offset == 5 and [v.id for v in beyond.items] == [ids[0]]
    assert admin.total == 7  # every station


async def test_withdraw_own_only(sessionmaker: SessionMaker, tree: dict[str, int]) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [11, 12])
    pledge_id = (await make(sessionmaker, 11)).view.id
    async with sessionmaker() as session:
        with pytest.raises(NotFound):  # someone else's: as if it did not exist
            await pledge_decisions.withdraw(session, user_id=12, pledge_id=pledge_id, now=NOW)
        view = await pledge_decisions.withdraw(session, user_id=11, pledge_id=pledge_id, now=NOW)
        assert view.pledge.status is PledgeStatus.CANCELLED
        with pytest.raises(InvalidInput) as caught:
            await pledge_decisions.withdraw(session, user_id=11, pledge_id=pledge_id, now=NOW)
        assert caught.value.code == "pledge_decided"
        page = await pledge_lists.mine(session, user_id=11)
    assert [(v.id, v.pledge.status) for v in page.items] == [(pledge_id, PledgeStatus.CANCELLED)]
    [row] = await all_pledges(sessionmaker)
    assert row.decided_by == 11
    assert await outbox_rows(sessionmaker) == {}  # no note to oneself


async def test_reminder_queued_once(sessionmaker: SessionMaker, tree: dict[str, int]) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [11])
    await grant(sessionmaker, 900, "staff", HOME)
    old = (await make(sessionmaker, 11, now=NOW - timedelta(days=8))).view.id
    fresh = (await make(sessionmaker, 11, now=NOW - timedelta(days=2))).view.id
    given = (await make(sessionmaker, 11, now=NOW - timedelta(days=9))).view.id
    await decide(sessionmaker, 900, given, PledgeStatus.RECEIVED)

    async def run(now: datetime) -> int:
        return await pledge_reminders.remind_open_pledges(
            sessionmaker=sessionmaker, settings=SETTINGS, now=now
        )

    assert await run(NOW) == 1
    assert await run(NOW) == 0
    assert await run(NOW + timedelta(hours=1)) == 0
    reminders = {
        k: r for k, r in (await outbox_rows(sessionmaker)).items() if r.kind == pledges.REMINDER
    }
    assert set(reminders) == {f"pledge:{old}:reminder"}
    row = reminders[f"pledge:{old}:reminder"]
    assert row.user_id == 11 and row.payload["pledge_id"] == old
    assert row.state is OutboxState.PENDING and row.station_id == tree[HOME]
    rows = {p.id: p for p in await all_pledges(sessionmaker)}
    assert rows[old].reminded_at == NOW
    assert rows[fresh].reminded_at is None

    assert await run(NOW + timedelta(days=6)) == 1  # the fresh one is now due
    assert await run(NOW + timedelta(days=30)) == 0
    async with sessionmaker() as session:
        assert await pledge_reminders.reminder_view(session, old) is not None
        assert await pledge_reminders.reminder_view(session, given) is None

    # A withdrawn pledge's reminder, not sent yet, is withdrawn with it.
    async with sessionmaker() as session:
        await pledge_decisions.withdraw(
            session, user_id=11, pledge_id=fresh, now=NOW + timedelta(days=6)
        )
        assert await pledge_reminders.reminder_view(session, fresh) is None
    assert (await outbox_rows(sessionmaker))[
        f"pledge:{fresh}:reminder"
    ].state is OutboxState.WITHDRAWN


async def test_reminder_days_from_settings(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    await make_volunteers(sessionmaker, tree[HOME], [11])
    await make(sessionmaker, 11, now=NOW - timedelta(days=2))
    quick = Settings(_env_file=None, pledge_reminder_days=1)  # type: ignore[call-arg]
    assert (
        await pledge_reminders.remind_open_pledges(
            sessionmaker=sessionmaker, settings=SETTINGS, now=NOW
        )
        == 0
    )
    assert (
        await pledge_reminders.remind_open_pledges(
            sessionmaker=sessionmaker, settings=quick, now=NOW
        )
        == 1
    )
