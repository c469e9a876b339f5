"""Registration, export, erasure, roles and the station tree against a real database
(SQLite always; PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func
from sqlmodel import select

from services import personal_data, roles, stations, users, volunteers
from services.errors import InvalidInput, NotFound
from services.volunteers import Draft
from storage.db import SessionMaker
from storage.models import AuditLog, Role, Station, User, Volunteer, VolunteerStatus


def draft(station_id: int, **changes: object) -> Draft:
    base = Draft(
        real_name="王小明",
        phone="+8613812345678",
        station_id=station_id,
        skills=["first_aid"],
        age_group="18_35",
        privacy_consent=True,
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


async def test_save_registers_once_and_audits(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    async with sessionmaker() as session:
        await users.ensure_user(session, 7)
        saved = await volunteers.save(session, user_id=7, draft=draft(tree["hf-ss-xy-xyxc"]))
        again = await volunteers.save(
            session, user_id=7, draft=draft(tree["hf-ss-xy-xyxc"], real_name="王大明")
        )
    assert saved.id == again.id
    async with sessionmaker() as session:
        rows = (await session.exec(select(Volunteer))).all()
        actions = (await session.exec(select(AuditLog.action).order_by(AuditLog.id))).all()
    assert [(v.real_name, v.status, v.user_id) for v in rows] == [
        ("王大明", VolunteerStatus.ACTIVE, 7)
    ]
    assert rows[0].privacy_consent_at is not None
    assert actions[-2:] == ["volunteer.registered", "volunteer.profile_changed"]


async def test_approval_set_on_a_station_covers_its_communities(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    statuses = {}
    for user_id, code in [(8, "hf-ss-hp-wyl"), (9, "hf-ss-hp"), (10, "hf-ss-xy-xyxc")]:
        async with sessionmaker() as session:
            await users.ensure_user(session, user_id)
            statuses[code] = (
                await volunteers.save(session, user_id=user_id, draft=draft(tree[code]))
            ).status
    # 琥珀街道 requires approval, and so its communities do; 西园街道 does not.
    assert statuses == {
        "hf-ss-hp-wyl": VolunteerStatus.PENDING,
        "hf-ss-hp": VolunteerStatus.PENDING,
        "hf-ss-xy-xyxc": VolunteerStatus.ACTIVE,
    }


async def test_incomplete_or_underage_registration_is_refused(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    async with sessionmaker() as session:
        await users.ensure_user(session, 10)
        with pytest.raises(InvalidInput) as error:
            await volunteers.save(session, user_id=10, draft=draft(tree["hf"], age_group="14_17"))
        assert error.value.code == "registration_incomplete"
        with pytest.raises(InvalidInput):
            await volunteers.save(
                session, user_id=10, draft=draft(tree["hf"], age_group="under_14")
            )
        with pytest.raises(NotFound):
            await volunteers.save(session, user_id=10, draft=draft(999_999))
        count = (await session.exec(select(func.count()).select_from(Volunteer))).one()
    assert count == 0


async def test_export_then_erase_keeps_only_anonymous_counts(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    teen = draft(
        tree["hf-ss-xy-hyd"],
        age_group="14_17",
        guardian_name="王建国",
        guardian_phone="+8613900000000",
        guardian_consent=True,
    )
    async with sessionmaker() as session:
        await users.ensure_user(session, 11)
        await volunteers.save(session, user_id=11, draft=teen)
        await roles.grant(session, user_id=11, role="staff", station_code="hf-ss-xy", actor_id=None)
        exported = await personal_data.export_data(session, 11)
    [exported_volunteer] = exported["tables"]["volunteer"]
    assert exported_volunteer["real_name"] == "王小明"
    assert exported_volunteer["guardian_name"] == "王建国"
    home = next(s for s in exported["stations"] if s["id"] == exported_volunteer["station_id"])
    assert home["name"] == "荷叶地社区"
    assert [r["role"] for r in exported["tables"]["role"]] == ["staff"]

    async with sessionmaker() as session:
        assert await personal_data.erase(session, 11) is True
    async with sessionmaker() as session:
        row = (await session.exec(select(Volunteer))).one()
        assert row.user_id is None and row.erased_at is not None
        assert row.station_id == tree["hf-ss-xy-hyd"]
        personal = (
            row.real_name,
            row.phone,
            row.guardian_name,
            row.guardian_phone,
            row.age_group,
            row.skills,
        )
        assert personal == (None, None, None, None, None, [])
        assert await session.get(User, 11) is None
        assert (await session.exec(select(Role))).all() == []
        actors = (await session.exec(select(AuditLog.actor_id))).all()
        assert 11 not in actors
        again = await personal_data.export_data(session, 11)
    assert again["tables"]["volunteer"] == [] and again["tables"]["role"] == []
    assert again["tables"]["user"] == [] and again["tables"]["audit_log"] == []


async def test_station_import_is_idempotent_and_rejects_bad_trees(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    async with sessionmaker() as session:
        from bot.database import load_tree
        from tests.conftest import EXAMPLE_TREE

        result = await stations.import_tree(session, load_tree(EXAMPLE_TREE))
        assert result.created == 0 and result.updated == len(tree)
        with pytest.raises(InvalidInput):
            await stations.import_tree(session, [{"code": "x"}])
        with pytest.raises(InvalidInput):
            await stations.import_tree(session, [{"code": "y", "name": "Y", "level": "planet"}])
        levels = {s.code: s.level for s in await stations.all_stations(session)}
        chain = [s.code for s in await stations.path(session, tree["hf-ss-xy-xyxc"])]
    assert levels["hf"] == "city" and levels["hf-ss-xy-xyxc"] == "community"
    assert chain == ["hf", "hf-ss", "hf-ss-xy", "hf-ss-xy-xyxc"]


async def test_grant_is_idempotent_and_checks_input(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    async with sessionmaker() as session:
        _, created = await roles.grant(
            session, user_id=5, role="coordinator", station_code="hf-ss", actor_id=1
        )
        _, again = await roles.grant(
            session, user_id=5, role="coordinator", station_code="hf-ss", actor_id=1
        )
        with pytest.raises(InvalidInput):
            await roles.grant(session, user_id=5, role="king", station_code="hf", actor_id=1)
        with pytest.raises(NotFound):
            await roles.grant(session, user_id=5, role="staff", station_code="nope", actor_id=1)
    assert (created, again) == (True, False)


async def test_concurrent_writers_queue_instead_of_failing(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    """Many first contacts at once: every user row is created, none is lost to a lock."""

    async def first_contact(user_id: int) -> None:
        async with sessionmaker() as session:
            await users.ensure_user(session, user_id)
            await volunteers.save(session, user_id=user_id, draft=draft(tree["hf-ss-nq-nq"]))

    await asyncio.gather(*(first_contact(1000 + i) for i in range(40)))
    async with sessionmaker() as session:
        assert (await session.exec(select(func.count()).select_from(User))).one() == 40
        assert (await session.exec(select(func.count()).select_from(Volunteer))).one() == 40
        assert (await session.exec(select(func.count()).select_from(Station))).one() == len(tree)
