"""/mydata is everything kept about the person: one JSON document with a version,
a list of rows for every table that refers to people."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from aiogram import Dispatcher
from sqlalchemy import BigInteger, Table
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (every table in the metadata)
from services import certificates, pledges, reminders, roles
from storage.db import SessionMaker
from storage.types import utcnow
from tests.factories import make_activity
from tests.handlers.test_activities import station_ids
from tests.handlers.test_hours import SHANGHAI, volunteer, year_start
from tests.mocked_bot import Conversation, MockedBot
from tests.storage.test_hours import HOME, credited

# BIGINT columns that hold something other than a Telegram user id. Every other
# BIGINT column is taken to name a person: a new one must be exported, or listed here.
NOT_PEOPLE = {
    ("outbox", "message_id"),
    ("broadcast", "progress_message_id"),
    ("pledge", "amount_fen"),
    ("tally_rollup", "minutes"),  # sums of a week's figures
    ("tally_rollup", "pledged_fen"),
    ("tally_rollup", "received_fen"),
    ("audit_log", "subject_id"),  # a person only with subject_type "user"; see the export
}
# Tables whose rows name people other than through a column (the dialog storage's
# keys embed the Telegram user id).
BY_KEY = {"dialog_state"}


def _names_a_person(table: Table, column: Any) -> bool:
    if any(fk.column.table.name in ("user", "volunteer") for fk in column.foreign_keys):
        return True
    return isinstance(column.type, BigInteger) and (table.name, column.name) not in NOT_PEOPLE


def person_columns() -> set[tuple[str, str]]:
    """(table, column) of every column that names a person (a Telegram user id or a
    volunteer id), walked from the models."""
    return {
        (table.name, column.name)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if _names_a_person(table, column)
    }


def person_tables() -> set[str]:
    """Every table with a column that names a person, and those named by key."""
    return {table for table, _column in person_columns()} | BY_KEY


def test_the_walk_finds_the_tables_we_know_of() -> None:
    """The walk itself is not empty-handed (a guard that finds nothing guards nothing)."""
    tables = person_tables()
    for name in ("user", "volunteer", "signup", "attendance", "pledge", "certificate"):
        assert name in tables, name
    assert "station" not in tables and "beneficiaries" in tables  # recorded_by


async def _document(person: Conversation) -> dict[str, Any]:
    out = await person.send("/mydata")
    assert out[-1].document is not None
    document: dict[str, Any] = json.loads(out[-1].document)
    return document


async def test_every_table_that_names_people_is_in_the_export(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    person, _vid = await volunteer(dp, bot, sqlite_sessionmaker, 741)
    document = await _document(person)
    assert isinstance(document.get("version"), int)
    exported = document["tables"]
    missing = sorted(set(person_tables()) - set(exported))
    assert missing == [], f"tables that name people but are not exported: {missing}"


async def test_mydata_holds_signups_hours_pledges_certificates_and_more(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    person, vid = await volunteer(dp, bot, maker, 742)
    home = (await station_ids(maker))[HOME]
    # Hours credited at a past activity, a certificate for them, a seat at an
    # upcoming one (with its reminders queued), a pledge, a role, a dialog left open.
    past = await credited(maker, home, vid, year_start() + timedelta(hours=2), 90, "巡河护河")
    await make_activity(
        maker, home, now=utcnow(), capacity=5, starts_in=timedelta(hours=20), title="River patrol"
    )
    await person.send("/activities")
    await person.press("River patrol")
    await person.press("Join")
    assert await reminders.plan_reminders(sessionmaker=maker, settings=dp["settings"]) == 1
    async with maker() as session:
        issued = await certificates.issue(
            session=session,
            user_id=742,
            period=certificates.all_time(utcnow().astimezone(SHANGHAI).date()),
            key=b"any key",
            default_zone=SHANGHAI,
            locale="en",
            now=utcnow(),
        )
        made = await pledges.create(
            session,
            user_id=742,
            activity_id=None,
            amount_fen=5000,
            anonymous=False,
            token=pledges.new_token(),
            ceiling_fen=500_000,
            now=utcnow(),
        )
        await roles.grant(session, user_id=742, role="staff", station_code=HOME, actor_id=None)
    await person.send("/verify")  # a dialog waiting for a code

    document = await _document(person)
    assert document["version"] >= 2
    tables = document["tables"]
    assert [row["real_name"] for row in tables["volunteer"]] == ["志愿者丙"]
    assert [row["id"] for row in tables["user"]] == [742]
    signups = tables["signup"]
    assert len(signups) == 1 and signups[0]["status"] == "confirmed"
    [attended] = tables["attendance"]
    assert (attended["activity_id"], attended["minutes"]) == (past, 90)
    assert [row["receipt"] for row in tables["pledge"]] == [made.view.pledge.receipt]
    assert [row["code"] for row in tables["certificate"]] == [issued.code]
    assert [row["role"] for row in tables["role"]] == ["staff"]
    assert {row["kind"] for row in tables["outbox"]} >= {"reminder"}
    assert [row["state"] for row in tables["dialog_state"]] == ["VerifyDialog:code"]
    actions = {row["action"] for row in tables["audit_log"]}
    assert {"volunteer.registered", "signup.joined", "role.granted"} <= actions
    # The activities and stations the rows point at, named, so the file can be read.
    titles = {row["title"] for row in document["activities"]}
    assert {"River patrol", "巡河护河"} <= titles
    assert any(row["name"] == "西园新村社区" for row in document["stations"])
