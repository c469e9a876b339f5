"""`volunteer-bot copy-db --to URL`: a station's database, filled through the services,
copied from SQLite to PostgreSQL (and to another SQLite file) row for row and value
for value; the sequences go on after the copied keys; a non-empty target, the
database itself and a copy that fails half-way leave the target as it was."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from sqlalchemy import Table, insert, select, update
from sqlalchemy.pool import NullPool
from sqlmodel import col

from bot import cli
from bot.__main__ import parser
from bot.database import UsageError
from services import activities, attendance_codes, checkin, outbox, pledges, roles
from services.access import Actor
from services.outbox import Message
from storage import copy as copies
from storage import migrate
from storage.db import SessionMaker, make_engine, make_sessionmaker, write_transaction
from storage.models import (
    Beneficiaries,
    DialogState,
    Station,
    StationLevel,
    TallyRollup,
    TallyWeek,
    TargetGroup,
    Volunteer,
)
from tests import factories
from tests.conftest import load_example_tree, settings_for
from tests.dbtools import PG_SKIP, PG_URL, wipe

NOW = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
STAFF = 7001
HOME = "hf-ss-xy-xyxc"
# The tables the seed must fill, or the comparison proves little.
FILLED = (
    "station", "user", "volunteer", "role", "audit_log", "activity", "signup",
    "attendance", "pledge", "outbox", "tally_week", "tally_rollup", "beneficiaries",
    "dialog_state",
)  # fmt: skip


async def seed(maker: SessionMaker) -> None:
    """Rows in most tables, made the way the bot makes them, and a station tree in
    which a child was made before its parent (the copy must put the parent first)."""
    ids = await load_example_tree(maker)
    async with maker() as session:
        await roles.grant(session, user_id=STAFF, role="staff", station_code=HOME, actor_id=None)
    people = range(101, 113)
    await factories.make_volunteers(maker, ids[HOME], people)
    first = await factories.make_activity(
        maker, ids[HOME], now=NOW, capacity=8, starts_in=timedelta(hours=1)
    )
    second = await factories.make_activity(
        maker, ids[HOME], now=NOW, capacity=3, starts_in=timedelta(days=5), title="敬老院探访"
    )
    for user_id in people:
        async with maker() as session:
            await activities.join(
                session, user_id=user_id, activity_id=first, now=NOW - timedelta(days=2)
            )
    for user_id in people[:6]:  # three seats, three on the waitlist
        async with maker() as session:
            await activities.join(session, user_id=user_id, activity_id=second, now=NOW)
    async with maker() as session:
        opened = await attendance_codes.open_checkin(
            session, actor=Actor(STAFF), activity_id=first, now=NOW
        )
    assert opened.checkin_code is not None
    for minute, user_id in enumerate(people[:5]):
        async with maker() as session:
            await checkin.check_in(
                session,
                user_id=user_id,
                code=opened.checkin_code,
                now=NOW + timedelta(minutes=40 + minute, microseconds=123_457),
            )
    for user_id, fen in ((101, 5_000), (102, 123_456), (103, 1)):
        async with maker() as session:
            await pledges.create(
                session,
                user_id=user_id,
                activity_id=first if user_id != 103 else None,
                amount_fen=fen,
                anonymous=user_id == 102,
                token=pledges.new_token(),
                ceiling_fen=500_000,
                now=NOW,
            )
    async with maker() as session, write_transaction(session):
        await outbox.enqueue(
            session,
            [Message(key="copy-test", user_id=2**40 + 7, kind="notice", payload={"a": [1, "二"]})],
        )
        conn = await session.connection()
        week = (
            await conn.execute(
                insert(TallyWeek)
                .values(week_start=NOW - timedelta(days=7), week_end=NOW, version=3)
                .returning(col(TallyWeek.id))
            )
        ).scalar_one()
        await conn.execute(
            insert(TallyRollup),
            [
                {"week_id": week, "station_id": ids[HOME], "own": own, "kinds": {"cleanup": 2},
                 "minutes": 2**33, "groups": {"elderly": 4}}
                for own in (False, True)
            ],
        )  # fmt: skip
        await conn.execute(
            insert(Beneficiaries).values(
                activity_id=first, target_group=TargetGroup.ELDERLY, count=12
            )
        )
        await conn.execute(
            insert(DialogState).values(
                key="bot:1:1", state="Form:name", data={"名字": "张三", "n": None}
            )
        )
        # A parent made after its child: the new district takes an older street.
        new = (
            await conn.execute(
                insert(Station)
                .values(code="hf-new", name="新区", level=StationLevel.DISTRICT)
                .values(parent_id=ids["hf"])
                .returning(col(Station.id))
            )
        ).scalar_one()
        await conn.execute(
            update(Station).where(col(Station.id) == ids["hf-ss-xy"]).values(parent_id=new)
        )


async def contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in key order, as the models' types read them."""
    engine = make_engine(url, poolclass=NullPool, user_cache_size=0)
    try:
        async with engine.connect() as conn:
            return {
                table.name: [tuple(row) for row in await conn.execute(ordered(table))]
                for table in copies.tables()
            }
    finally:
        await engine.dispose()


def ordered(table: Table) -> Any:
    return select(table).order_by(*table.primary_key.columns)


@pytest.fixture
async def source(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/station.db"
    await migrate.upgrade(url)
    engine = make_engine(url)
    try:
        await seed(make_sessionmaker(engine))
    finally:
        await engine.dispose()
    return url


@pytest.fixture
async def pg_target() -> AsyncIterator[str]:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    await wipe(PG_URL)
    yield PG_URL
    await wipe(PG_URL)


async def copy_db(source: str, *args: str) -> int:
    """The verb as the command line dispatches it."""
    return await cli.dispatch(parser().parse_args(["copy-db", *args]), settings_for(source))


def assert_same(before: dict[str, list[tuple[Any, ...]]], after: dict[str, Any]) -> None:
    assert before.keys() == after.keys()
    for name, rows in before.items():
        assert after[name] == rows, name


async def test_sqlite_to_postgresql(
    source: str, pg_target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await copy_db(source, "--to", pg_target) == 0
    out = capsys.readouterr().out
    before = await contents(source)
    assert all(before[name] for name in FILLED), [n for n in FILLED if not before[n]]
    assert before["setting"], "prepare keeps the certificate key in the source first"
    after = await contents(pg_target)
    assert_same(before, after)
    # The values came back as the models read them, not merely equal as text.
    [tally] = after["tally_week"]
    assert tally[1] == NOW - timedelta(days=7) and tally[1].tzinfo is not None
    assert after["dialog_state"] == [("bot:1:1", "Form:name", {"名字": "张三", "n": None}, ANY)]
    printed = dict(line.split() for line in out.splitlines()[:-1])
    assert printed == {name: str(len(rows)) for name, rows in before.items()}
    assert f"copied {sum(map(len, before.values()))} rows in 19 tables" in out
    assert "the counts match" in out

    # The bot goes on in the copy: new rows take the keys after the copied ones.
    engine = make_engine(pg_target)
    try:
        maker = make_sessionmaker(engine)
        station = before["station"][0][0]
        activity = await factories.make_activity(maker, station, now=NOW, capacity=1)
        assert activity == max(row[0] for row in before["activity"]) + 1
        await factories.make_volunteers(maker, station, [999])
        async with engine.connect() as conn:
            volunteer = await conn.scalar(
                select(col(Volunteer.id)).where(col(Volunteer.user_id) == 999)
            )
        assert volunteer == max(row[0] for row in before["volunteer"]) + 1
    finally:
        await engine.dispose()

    # A second copy onto the now non-empty target is refused, and changes nothing.
    kept = await contents(pg_target)
    with pytest.raises(UsageError, match=r"already holds rows .*copy-db fills an empty"):
        await copy_db(source, "--to", pg_target)
    assert_same(kept, await contents(pg_target))


async def test_sqlite_to_sqlite_in_small_chunks(source: str, tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path}/copy.db"
    heard: list[tuple[str, int]] = []
    copied = await copies.copy_database(
        source, target, chunk=4, progress=lambda name, rows: heard.append((name, rows))
    )
    before = await contents(source)
    assert copied == {name: len(rows) for name, rows in before.items()}
    assert heard == list(copied.items())
    assert len(before["attendance"]) > 4 and len(before["signup"]) > 8  # several chunks
    assert_same(before, await contents(target))
    assert await migrate.current(target) == await migrate.current(source)


async def test_a_failure_half_way_leaves_the_target_empty(source: str, tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path}/copy.db"

    def fail_after_volunteers(name: str, _rows: int) -> None:
        if name == "volunteer":
            raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError, match="the disk is full"):
        await copies.copy_database(source, target, progress=fail_after_volunteers)
    assert not any((await contents(target)).values())
    # ... and the target can still take the copy.
    await copies.copy_database(source, target)
    assert_same(await contents(source), await contents(target))


async def test_a_failure_half_way_on_postgresql(source: str, pg_target: str) -> None:
    def fail_after_signups(name: str, _rows: int) -> None:
        if name == "signup":
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        await copies.copy_database(source, pg_target, progress=fail_after_signups)
    assert not any((await contents(pg_target)).values())


async def test_the_database_onto_itself_is_refused(
    source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await contents(source)
    monkeypatch.chdir(tmp_path)
    for spelling in ("sqlite:///station.db", f"sqlite:///{tmp_path}/./station.db"):
        with pytest.raises(UsageError, match="is the database being copied"):
            await copy_db(source, "--to", spelling)
    assert_same(before, await contents(source))
    assert copies.same_database(
        "postgresql://a:x@localhost/bot", "postgresql+asyncpg://b@127.0.0.1:5432/bot"
    )
    assert not copies.same_database("postgresql://localhost/bot", "postgresql://localhost/bot2")


async def test_an_unreachable_target_is_one_line(source: str) -> None:
    with pytest.raises(UsageError) as caught:
        await copy_db(source, "--to", "postgresql://nobody:secret@127.0.0.1:9/none")
    message = str(caught.value)
    assert message.startswith("cannot migrate postgresql://nobody:***@127.0.0.1:9/none: ")
    assert "\n" not in message and "secret" not in message
