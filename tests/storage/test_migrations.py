"""Alembic migrations: every step up and down, the result matches the models,
and ``downgrade base`` leaves an empty database. On SQLite always, and on
PostgreSQL when TEST_DATABASE_URL is set (that database is shared: every table,
the alembic_version table and enum types are dropped before and after each test)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from storage.migrate import alembic_config, current, downgrade, make_migration_engine, upgrade
from tests.dbtools import BACKENDS, PG_URL
from tests.dbtools import wipe_postgres as _wipe_postgres

ROOT = Path(__file__).resolve().parents[2]


async def _on_connection(url: str, fn: Any, *, write: bool = False) -> Any:
    engine = make_migration_engine(url)
    try:
        if write:
            async with engine.begin() as conn:
                return await conn.run_sync(fn)
        async with engine.connect() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    return set(await _on_connection(url, lambda conn: inspect(conn).get_table_names()))


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    assert PG_URL is not None
    await _on_connection(PG_URL, _wipe_postgres, write=True)
    try:
        yield PG_URL
    finally:
        await _on_connection(PG_URL, _wipe_postgres, write=True)


def _revisions(url: str) -> list[str]:
    """Revision ids from the first to the head."""
    script = ScriptDirectory.from_config(alembic_config(url))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _head(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


def test_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    assert _revisions("sqlite://")[0] == "0001"


async def test_stairway(database_url: str) -> None:
    """Each revision: up, one step down, up again; then to head."""
    assert await current(database_url) is None
    previous: str | None = None
    for revision in _revisions(database_url):
        await upgrade(database_url, revision)
        assert await current(database_url) == revision
        await downgrade(database_url, "-1")
        assert await current(database_url) == previous
        await upgrade(database_url, revision)
        assert await current(database_url) == revision
        previous = revision
    await upgrade(database_url)
    assert await current(database_url) == _head(database_url)


async def test_schema_matches_models(database_url: str) -> None:
    await upgrade(database_url, "head")

    def diff(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    assert await _on_connection(database_url, diff) == []
    assert set(SQLModel.metadata.tables) <= await _tables(database_url)


async def test_workers_started_together_migrate_one_after_the_other(database_url: str) -> None:
    """Three processes' worth of upgrades at once on an empty database all succeed (on
    PostgreSQL an advisory lock orders them; without it they race to create the same
    tables, or wait on each other's for good)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers on one database: the PostgreSQL setup")
    # Without the lock they deadlock on each other's new tables: fail, do not hang.
    await asyncio.wait_for(asyncio.gather(*(upgrade(database_url) for _ in range(3))), 60)
    assert await current(database_url) == _head(database_url)


async def test_downgrade_base_leaves_no_tables(database_url: str) -> None:
    await upgrade(database_url, "head")
    assert set(SQLModel.metadata.tables) <= await _tables(database_url)
    await downgrade(database_url, "base")
    assert await current(database_url) is None
    assert await _tables(database_url) - {"alembic_version"} == set()


async def test_env_without_connection_uses_its_own_engine(tmp_path: Path) -> None:
    """The path the ``alembic`` command line takes: env.py makes an async engine."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    config = alembic_config(url)  # no "connection" attribute
    await asyncio.to_thread(command.upgrade, config, "head")
    assert await current(url) == _head(url)
    await asyncio.to_thread(command.downgrade, config, "base")
    assert await current(url) is None


def test_alembic_ini_from_another_directory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ini.db'}"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    args = [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini")]
    args += ["-x", f"database_url={url}"]
    run = subprocess.run(
        [*args, "upgrade", "head"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    run = subprocess.run([*args, "current"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert f"{head} (head)" in run.stdout


def test_the_bot_migrates_in_a_child_process_and_never_loads_alembic(tmp_path: Path) -> None:
    """`volunteer-bot run` migrates apart (bot.database.prepare(apart=True)): the
    schema reaches head, and the process that goes on to serve holds no Alembic."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    script = (
        "import asyncio, sys\n"
        "from bot.database import prepare\n"
        "from ui.settings import Settings\n"
        f"settings = Settings(_env_file=None, database_url={url!r}, bot_token='1:x')\n"
        "asyncio.run(prepare(settings, apart=True))\n"
        "import bot.app\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert asyncio.run(current(url)) == head


async def test_a_migration_that_fails_apart_says_why_in_one_line() -> None:
    from bot.database import UsageError, prepare
    from ui.settings import Settings

    url = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing_listens_here"
    settings = Settings(_env_file=None, database_url=url, bot_token="1:x")  # type: ignore[call-arg]
    with pytest.raises(UsageError) as raised:
        await prepare(settings, apart=True)
    assert str(raised.value).startswith("cannot migrate postgresql+asyncpg://postgres@")
    assert "connect call failed" in str(raised.value).lower()
    assert "\n" not in str(raised.value)
