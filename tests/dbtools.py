"""Databases for tests: SQLite always, PostgreSQL when TEST_DATABASE_URL is set, Redis
when TEST_REDIS_URL is set. The PostgreSQL database is shared, so it is wiped before
and after each test."""

from __future__ import annotations

import os
from typing import Any

import pytest
from sqlalchemy.engine import Connection

PG_URL = os.environ.get("TEST_DATABASE_URL")
PG_SKIP = "TEST_DATABASE_URL not set: PostgreSQL tests skipped"
# Redis for the tests of several workers (bot.redis_shared); each test keeps its keys
# under a prefix of its own and deletes them afterwards.
REDIS_URL = os.environ.get("TEST_REDIS_URL")
REDIS_SKIP = "TEST_REDIS_URL not set: Redis tests skipped"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql", id="postgresql", marks=pytest.mark.skipif(not PG_URL, reason=PG_SKIP)
    ),
]


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def wipe_postgres(conn: Connection) -> None:
    """Drop every table (alembic_version included) and enum type in the current schema."""
    tables = conn.exec_driver_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    ).scalars()
    names = ", ".join(_quote(conn, t) for t in tables)
    if names:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {names} CASCADE")
    enums = conn.exec_driver_sql(
        "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE t.typtype = 'e' AND n.nspname = current_schema()"
    ).scalars()
    names = ", ".join(_quote(conn, e) for e in enums)
    if names:
        conn.exec_driver_sql(f"DROP TYPE IF EXISTS {names} CASCADE")


async def wipe(url: str) -> None:
    from storage.migrate import make_migration_engine

    engine = make_migration_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(wipe_postgres)
    finally:
        await engine.dispose()


def url_for(backend: str, tmp_path: Any) -> str:
    if backend == "postgresql":
        assert PG_URL
        return PG_URL
    return f"sqlite:///{tmp_path}/test.db"
