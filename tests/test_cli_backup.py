"""`volunteer-bot backup FILE`: a copy of the SQLite database made while the bot keeps
writing is whole (integrity_check) and consistent (every transaction in it or not);
an existing file is kept unless --force; PostgreSQL is pointed to pg_dump; mistakes
are one line and exit status 2, and leave no half file behind."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bot import cli
from bot.__main__ import main
from storage import migrate
from storage.db import SessionMaker, make_engine, make_sessionmaker, write_transaction
from storage.models import AuditLog, User
from tests.conftest import load_example_tree, settings_for
from tests.factories import make_volunteers
from tests.unit.test_cli import cli as cli_process


@pytest.fixture
async def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/cli.db"  # where `run` and `cli_process` point the command
    await migrate.upgrade(url)
    engine = make_engine(url)
    try:
        maker = make_sessionmaker(engine)
        ids = await load_example_tree(maker)
        await make_volunteers(maker, ids["hf-ss-xy-xyxc"], range(101, 131))
    finally:
        await engine.dispose()
    return url


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str
) -> tuple[int, str, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    status = main(["backup", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def check(path: Path) -> dict[str, int]:
    """The file's integrity_check verdict must be ok; its rows by table."""
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name)


async def test_a_backup_while_the_bot_writes(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each of the writer's transactions adds a user and an audit entry naming them:
    a copy that caught half a transaction, or rows of different moments, would hold
    more of one than of the other."""
    engine = make_engine(database)
    maker = make_sessionmaker(engine)
    committed = 0
    going, stop = asyncio.Event(), asyncio.Event()

    async def counts(maker: SessionMaker) -> tuple[int, int]:
        async with maker() as session:
            users = (await session.exec(select(func.count()).select_from(User))).one()  # type: ignore[call-overload]
            entries = (await session.exec(select(func.count()).select_from(AuditLog))).one()  # type: ignore[call-overload]
        return users[0], entries[0]

    async def writer() -> None:
        nonlocal committed
        user_id = 10**9
        while not stop.is_set():
            user_id += 1
            async with maker() as session, write_transaction(session):
                conn = await session.connection()
                await conn.execute(insert(User).values(id=user_id))
                await conn.execute(insert(AuditLog).values(action="test.write", subject_id=user_id))
            committed += 1
            if committed == 20:
                going.set()
            await asyncio.sleep(0)

    users0, entries0 = await counts(maker)
    task = asyncio.create_task(writer())
    try:
        await going.wait()
        copies = []
        for n in range(5):
            before = committed
            path = tmp_path / f"copy{n}.db"
            assert await cli.backup(settings_for(database), path, force=False) == 0
            copies.append((path, before, committed))
    finally:
        stop.set()
        await task
        await engine.dispose()
    assert committed > 20
    # The writer went on while the copies were made (each copy takes a few
    # milliseconds, a write a fraction of one).
    assert any(after > before for _, before, after in copies), copies
    out = capsys.readouterr().out.splitlines()
    for (path, before, after), line in zip(copies, out, strict=True):
        rows = check(path)
        written = rows["user"] - users0
        assert rows["audit_log"] - entries0 == written  # whole transactions only
        assert before <= written <= after
        assert rows["volunteer"] == 30 and rows["station"] == 14
        size = path.stat().st_size
        assert line.startswith(f"backup: {path} ({size / 1024:.1f} KiB), integrity ok; ")
        assert "30 volunteer, 0 activity" in line and f"{sum(rows.values())} rows in all" in line
    assert leftovers(tmp_path) == []


def test_an_existing_file_is_kept_unless_force(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    database: str,
) -> None:
    target = tmp_path / "backup.db"
    target.write_bytes(b"last week's backup")
    status, out, err = run(monkeypatch, capsys, tmp_path, str(target))
    assert status == 2 and out == ""
    assert err == f"volunteer-bot: {target} exists: give --force to replace it\n"
    assert target.read_bytes() == b"last week's backup"
    status, out, err = run(monkeypatch, capsys, tmp_path, str(target), "--force")
    assert status == 0, err
    assert check(target)["volunteer"] == 30
    assert out.startswith(f"backup: {target} (")
    assert leftovers(tmp_path) == []


def test_postgresql_is_pointed_to_pg_dump(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:secret@db.example/volunteers")
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    status = main(["backup", str(tmp_path / "x.db")])
    err = capsys.readouterr().err
    assert status == 2 and len(err.splitlines()) == 1
    assert "is PostgreSQL: use pg_dump" in err and "secret" not in err
    assert list(tmp_path.iterdir()) == []


def test_mistakes_are_one_line_and_status_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    database: str,
) -> None:
    (tmp_path / "afile").write_text("x")
    cases = [
        ((str(tmp_path / "no" / "b.db"),), f"no such directory: {tmp_path / 'no'}"),
        ((str(tmp_path / "afile" / "b.db"),), "no such directory"),
        ((str(tmp_path),), "is a directory: name the backup file"),
        ((str(tmp_path / "cli.db"), "--force"), "is the database itself"),
    ]
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        cases.append(((str(locked / "b.db"),), f"cannot write in {locked}"))
    for args, words in cases:
        status, _out, err = run(monkeypatch, capsys, tmp_path, *args)
        assert status == 2, (args, err)
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith("volunteer-bot: ") and words in err, err
    assert check(tmp_path / "cli.db")["volunteer"] == 30  # untouched
    assert leftovers(tmp_path) == []
    # No database file: said once, in a process of its own, and none is made.
    result = cli_process(
        tmp_path, "backup", "b.db", DATABASE_URL=f"sqlite:///{tmp_path}/none/bot.db"
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr == f"volunteer-bot: no database file at {tmp_path}/none/bot.db\n"
    assert not (tmp_path / "none").exists() and not (tmp_path / "b.db").exists()
