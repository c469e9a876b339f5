"""Invites, the team and approvals against a real database (SQLite always; PostgreSQL
when TEST_DATABASE_URL is set): tokens kept only hashed, single use under a race,
expiry after 7 days, and revocation."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from services import approvals, invites, roles, users, volunteers
from services.access import Actor
from services.errors import DomainError, InvalidInput, NotAllowed, NotFound
from services.volunteers import Draft
from storage.db import SessionMaker
from storage.models import AuditLog, Invite, Role, RoleKind, VolunteerStatus
from storage.types import utcnow

ADMIN = 900


async def make_invite(
    maker: SessionMaker, station_id: int, role: str = "staff"
) -> invites.CreatedInvite:
    async with maker() as session:
        return await invites.create(
            session, actor=Actor.of(ADMIN, {ADMIN}), station_id=station_id, role=role
        )


async def test_the_token_is_stored_only_as_its_hash(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    created = await make_invite(sessionmaker, tree["hf-ss-xy"])
    assert len(created.start_parameter) <= 64
    assert all(c.isalnum() or c in "_-" for c in created.start_parameter)
    async with sessionmaker() as session:
        rows = (await session.exec(select(Invite))).all()
        audit = (await session.exec(select(AuditLog.action))).all()
    assert len(rows) == 1
    stored = rows[0]
    assert stored.token_hash == invites.hash_token(created.token)
    assert len(stored.token_hash) == 64 and created.token not in stored.token_hash
    assert created.token not in repr(stored.model_dump())
    assert stored.expires_at - stored.created_at == timedelta(days=7)
    assert (stored.role, stored.created_by, stored.used_by) == (RoleKind.STAFF, ADMIN, None)
    assert "invite.created" in audit


async def test_redeem_grants_the_role_once(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    created = await make_invite(sessionmaker, tree["hf-ss"], "coordinator")
    async with sessionmaker() as session:
        redeemed = await invites.redeem(session, token=created.start_parameter, user_id=501)
    assert (redeemed.station.code, redeemed.role, redeemed.new) == (
        "hf-ss",
        RoleKind.COORDINATOR,
        True,
    )
    async with sessionmaker() as session:
        with pytest.raises(InvalidInput) as error:
            await invites.redeem(session, token=created.token, user_id=502)
        assert error.value.code == "invite_used"
        held = (await session.exec(select(Role))).all()
        invite = (await session.exec(select(Invite))).one()
        audit = (await session.exec(select(AuditLog.action).order_by(AuditLog.id))).all()
    assert [(r.user_id, r.station_id, r.role, r.granted_by) for r in held] == [
        (501, tree["hf-ss"], RoleKind.COORDINATOR, ADMIN)
    ]
    assert invite.used_by == 501 and invite.used_at is not None
    assert audit[-2:] == ["role.granted", "invite.used"]


async def test_two_people_racing_on_one_link_only_one_wins(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    created = await make_invite(sessionmaker, tree["hf-ss-hp"])

    async def attempt(user_id: int) -> object:
        async with sessionmaker() as session:
            try:
                return await invites.redeem(session, token=created.token, user_id=user_id)
            except DomainError as error:
                return error

    for _round in range(3):
        results = await asyncio.gather(attempt(601), attempt(602))
        async with sessionmaker() as session:
            held = (await session.exec(select(Role))).all()
        winners = [r for r in results if isinstance(r, invites.Redeemed)]
        losers = [r for r in results if isinstance(r, DomainError)]
        assert len(winners) == 1 and len(held) == 1, results
        assert [e.code for e in losers] == ["invite_used"]
        # a fresh link for the next round, with the same two racing again
        async with sessionmaker() as session:
            await roles.revoke(session, actor=Actor.of(ADMIN, {ADMIN}), role_id=held[0].id or 0)
        created = await make_invite(sessionmaker, tree["hf-ss-hp"])


async def test_expired_and_unknown_links_are_refused(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    created = await make_invite(sessionmaker, tree["hf-ss-xy"])
    later = utcnow() + timedelta(days=7, seconds=1)
    async with sessionmaker() as session:
        with pytest.raises(InvalidInput) as error:
            await invites.redeem(session, token=created.token, user_id=701, now=later)
        assert error.value.code == "invite_expired"
        almost = utcnow() + timedelta(days=6, hours=23)
        with pytest.raises(NotFound) as unknown:
            await invites.redeem(session, token="inv_" + "x" * 22, user_id=701, now=almost)
        assert unknown.value.code == "invite_unknown"
        redeemed = await invites.redeem(session, token=created.token, user_id=701, now=almost)
    assert redeemed.new


async def test_only_managers_of_the_station_may_invite(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    async with sessionmaker() as session:
        await roles.grant(
            session, user_id=801, role="coordinator", station_code="hf-bh", actor_id=None
        )
        await roles.grant(
            session, user_id=802, role="staff", station_code="hf-ss-xy", actor_id=None
        )
        for actor in (801, 802, 803):
            with pytest.raises(NotAllowed):
                await invites.create(
                    session,
                    actor=Actor.of(actor, {ADMIN}),
                    station_id=tree["hf-ss-xy"],
                    role="staff",
                )
        created = await invites.create(
            session, actor=Actor.of(801, {ADMIN}), station_id=tree["hf-bh-wh"], role="staff"
        )
        with pytest.raises(InvalidInput):
            await invites.create(
                session, actor=Actor.of(801, {ADMIN}), station_id=tree["hf-bh"], role="boss"
            )
    assert created.station_id == tree["hf-bh-wh"]
    async with sessionmaker() as session:
        assert len((await session.exec(select(Invite))).all()) == 1


async def test_team_and_revoke(sessionmaker: SessionMaker, tree: dict[str, int]) -> None:
    async with sessionmaker() as session:
        await roles.grant(
            session, user_id=811, role="coordinator", station_code="hf-ss", actor_id=None
        )
        await roles.grant(session, user_id=812, role="staff", station_code="hf-ss-xy", actor_id=811)
        members = await roles.team(session, actor=Actor.of(811, set()), station_id=tree["hf-ss-xy"])
        assert [(m.user_id, m.role) for m in members] == [(812, RoleKind.STAFF)]
        with pytest.raises(NotAllowed):
            await roles.revoke(session, actor=Actor.of(812, set()), role_id=members[0].role_id)
        gone = await roles.revoke(session, actor=Actor.of(811, set()), role_id=members[0].role_id)
        assert gone.user_id == 812
        with pytest.raises(NotFound):
            await roles.revoke(session, actor=Actor.of(811, set()), role_id=members[0].role_id)
    async with sessionmaker() as session:
        actions = (await session.exec(select(AuditLog.action))).all()
        assert "role.revoked" in actions
        assert (
            await roles.team(session, actor=Actor.of(811, set()), station_id=tree["hf-ss-xy"]) == []
        )


async def test_pending_and_decide(sessionmaker: SessionMaker, tree: dict[str, int]) -> None:
    draft = Draft(
        real_name="王小明",
        phone="+8613812345678",
        station_id=tree["hf-ss-hp-wyl"],
        skills=["first_aid"],
        age_group="18_35",
        privacy_consent=True,
    )
    async with sessionmaker() as session:
        await users.ensure_user(session, 821)
        volunteer = await volunteers.save(session, user_id=821, draft=draft)
        await roles.grant(
            session, user_id=822, role="staff", station_code="hf-ss-hp", actor_id=None
        )
        await roles.grant(
            session, user_id=823, role="staff", station_code="hf-ss-xy", actor_id=None
        )
    assert volunteer.status is VolunteerStatus.PENDING and volunteer.id is not None
    async with sessionmaker() as session:
        page = await approvals.pending(session, actor=Actor.of(822, set()))
        assert [v.id for v in page.volunteers] == [volunteer.id] and page.total == 1
        other = await approvals.pending(session, actor=Actor.of(823, set()))
        assert other.total == 0
        with pytest.raises(NotAllowed):
            await approvals.pending(session, actor=Actor.of(824, set()))
        with pytest.raises(NotAllowed):
            await approvals.decide(
                session, actor=Actor.of(823, set()), volunteer_id=volunteer.id, approve=True
            )
        decision = await approvals.decide(
            session, actor=Actor.of(822, set()), volunteer_id=volunteer.id, approve=True
        )
        assert decision.status is VolunteerStatus.ACTIVE
        with pytest.raises(InvalidInput) as error:
            await approvals.decide(
                session, actor=Actor.of(822, set()), volunteer_id=volunteer.id, approve=False
            )
        assert error.value.code == "already_decided"
        assert error.value.params["status"] == "active"
    async with sessionmaker() as session:
        actions = (await session.exec(select(AuditLog.action))).all()
    assert actions.count("volunteer.approved") == 1 and "volunteer.declined" not in actions
