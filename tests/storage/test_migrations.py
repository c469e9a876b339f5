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
