"""A copy of everything kept about a person, and its erasure, over every table that
names people: the export finds each row, leaves other people out of it, and erasure
leaves no mention of the person's Telegram id anywhere."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import SQLModel, col, select

from services import personal_data
from services.personal_data import PERSON_COLUMNS, Names
from storage.db import SessionMaker, write_transaction
from storage.models import (
    Activity,
    ActivityKind,
    ActivityPhoto,
    Attendance,
    AuditLog,
    Beneficiaries,
    Broadcast,
    Certificate,
    DialogState,
    Invite,
    Outbox,
    Pledge,
    Role,
    RoleKind,
    Signup,
    SignupStatus,
    TargetGroup,
    User,
    Volunteer,
)
from storage.types import utcnow
from tests.handlers.test_mydata import person_columns

ME, STAFF, OTHER = 901, 902, 903


def test_every_person_column_of_the_models_is_listed() -> None:
    """A column that names a person and is not in PERSON_COLUMNS would be neither
    exported nor erased."""
    listed = {(c.table, c.column) for c in PERSON_COLUMNS}
    assert person_columns() == listed


async def _everywhere(maker: SessionMaker, station: int) -> dict[str, Any]:
    """A row naming ME in every person column (and some naming others)."""
    now = utcnow()
    async with maker() as session, write_transaction(session):
        session.add_all([User(id=ME, locale="en"), User(id=OTHER)])
        me = Volunteer(user_id=ME, station_id=station, real_name="李雷", phone="+8613800000001")
        other = Volunteer(user_id=OTHER, station_id=station, real_name="韩梅梅")
        session.add_all([me, other])
        await session.flush()
        activity = Activity(
            station_id=station,
            kind=ActivityKind.CLEANUP,
            title="巡河",
            place="河边",
            starts_at=now - timedelta(days=2),
            ends_at=now - timedelta(days=2) + timedelta(hours=2),
            capacity=5,
            target_group=TargetGroup.GENERAL_PUBLIC,
            created_by=ME,
            checkin_opened_by=ME,
            closed_by=ME,
            summary="巡河两小时",
            summary_by=ME,
        )
        session.add(activity)
        await session.flush()
        assert activity.id is not None and me.id is not None and other.id is not None
        broadcast = Broadcast(station_id=station, text="hi", created_by=ME, progress_chat_id=ME)
        session.add(broadcast)
        session.add_all(
            [
                Role(user_id=ME, station_id=station, role=RoleKind.STAFF, granted_by=STAFF),
                Role(user_id=OTHER, station_id=station, role=RoleKind.STAFF, granted_by=ME),
                Signup(activity_id=activity.id, volunteer_id=me.id, status=SignupStatus.CONFIRMED),
                Attendance(
                    activity_id=activity.id, volunteer_id=me.id, minutes=90, updated_by=STAFF
                ),
                Attendance(
                    activity_id=activity.id, volunteer_id=other.id, minutes=60, updated_by=ME
                ),
                Beneficiaries(
                    activity_id=activity.id, target_group=TargetGroup.ELDERLY, recorded_by=ME
                ),
                ActivityPhoto(
                    activity_id=activity.id, file_id="f1", file_unique_id="u1", uploaded_by=ME
                ),
                ActivityPhoto(
                    activity_id=activity.id, file_id="f2", file_unique_id="u2", uploaded_by=OTHER
                ),
                Certificate(
                    code="AAAAAAAAAAAA", volunteer_id=me.id, station_id=station, holder_name="李雷"
                ),
                Pledge(receipt="R-1", volunteer_id=me.id, station_id=station, amount_fen=100),
                Pledge(
                    receipt="R-2",
                    volunteer_id=other.id,
                    station_id=station,
                    amount_fen=200,
                    decided_by=ME,
                ),
                Invite(
                    token_hash="h",
                    station_id=station,
                    role=RoleKind.STAFF,
                    created_by=ME,
                    expires_at=now,
                    used_by=OTHER,
                ),
                Invite(
                    token_hash="h2",
                    station_id=station,
                    role=RoleKind.STAFF,
                    created_by=STAFF,
                    expires_at=now,
                    used_by=ME,
                ),
                Outbox(key="k1", user_id=ME, kind="text", payload={"text": "hi"}),
                Outbox(key="k2", user_id=OTHER, kind="text", payload={"text": "hi"}),
                AuditLog(actor_id=ME, action="signup.joined"),
                AuditLog(actor_id=STAFF, action="role.granted", subject_type="user", subject_id=ME),
                AuditLog(
                    actor_id=STAFF, action="role.granted", subject_type="user", subject_id=OTHER
                ),
                DialogState(key=f"fsm:42:{ME}:{ME}:default", state="VerifyDialog:code"),
                DialogState(key=f"fsm:42:{OTHER}:{OTHER}:default", state="VerifyDialog:code"),
            ]
        )
        await session.flush()
        return {"volunteer": me.id, "other": other.id, "activity": activity.id}


async def test_export_has_every_row_and_leaves_others_out(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    ids = await _everywhere(sessionmaker, tree["hf-ss-xy-xyxc"])
    async with sessionmaker() as session:
        document = await personal_data.export_data(session, ME)
    tables = document["tables"]
    for column in PERSON_COLUMNS:
        mine = ME if column.names is Names.USER else ids["volunteer"]
        values = [row[column.column] for row in tables[column.table]]
        assert mine in values, f"{column.table}.{column.column} not exported"
    # Other people named in those rows are left out.
    for column in PERSON_COLUMNS:
        mine = ME if column.names is Names.USER else ids["volunteer"]
        assert {row[column.column] for row in tables[column.table]} <= {mine, None}
    assert "韩梅梅" not in repr(tables)
    assert [row["key"] for row in tables["dialog_state"]] == [f"fsm:42:{ME}:{ME}:default"]
    assert {(r["action"], r["subject_id"]) for r in tables["audit_log"]} == {
        ("signup.joined", None),
        ("role.granted", ME),
    }
    assert [a["title"] for a in document["activities"]] == ["巡河"]


async def _count(maker: SessionMaker, model: type[SQLModel], where: Any) -> int:
    async with maker() as session:
        return int((await session.exec(select(func.count()).select_from(model).where(where))).one())


async def test_erasure_leaves_no_mention_of_the_person(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    ids = await _everywhere(sessionmaker, tree["hf-ss-xy-xyxc"])
    async with sessionmaker() as session:
        assert await personal_data.erase(session, ME) is True
    for column in PERSON_COLUMNS:
        if column.names is Names.USER:
            left = await _count(sessionmaker, column.model, col(column.element()) == ME)
            assert left == 0, f"{column.table}.{column.column} still names them"
    assert await _count(sessionmaker, DialogState, col(DialogState.key).contains(str(ME))) == 0
    subject = (col(AuditLog.subject_type) == "user") & (col(AuditLog.subject_id) == ME)
    assert await _count(sessionmaker, AuditLog, subject) == 0
    # Anonymous counts stay: the hours, the pledge, the past seat, on the anonymous row.
    async with sessionmaker() as session:
        anonymous = await session.get(Volunteer, ids["volunteer"])
        assert anonymous is not None and anonymous.real_name is None
        assert anonymous.phone is None and anonymous.erased_at is not None
        kept = [
            await _count(sessionmaker, model, col(model.volunteer_id) == ids["volunteer"])
            for model in (Signup, Attendance, Pledge, Certificate)
        ]
        assert kept == [1, 1, 1, 1]
        certificate = (await session.exec(select(Certificate))).one()
        assert certificate.holder_name == "" and certificate.revoked_at is not None
    # Other people's rows are untouched.
    assert await _count(sessionmaker, Outbox, col(Outbox.user_id) == OTHER) == 1
    assert await _count(sessionmaker, Role, col(Role.user_id) == OTHER) == 1
