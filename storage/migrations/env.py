"""Alembic environment: async engines, SQLModel metadata, SQLite batch mode.

The database URL is taken from, in order:

1. ``config.attributes["database_url"]`` (set by :func:`storage.migrate.alembic_config`),
2. ``-x database_url=...`` on the ``alembic`` command line,
3. the ``DATABASE_URL`` environment variable,
4. ``sqlalchemy.url`` in the ini file.

Plain URLs (``sqlite:///...``, ``postgresql://...``) are mapped to the async drivers
with :func:`storage.db.async_url`.

When ``config.attributes["connection"]`` holds a sync :class:`~sqlalchemy.engine.Connection`
(what ``AsyncConnection.run_sync`` hands over), the migrations run on it, inside the
caller's transaction; this is how :mod:`storage.migrate` and the tests run them.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.db import async_url
from storage.migrate import make_migration_engine

config = context.config

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata


def _database_url() -> str:
    url = config.attributes.get("database_url")
    if not url:
        url = context.get_x_argument(as_dictionary=True).get("database_url")
    if not url:
        url = os.environ.get("DATABASE_URL")
    if not url:
        url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "no database URL: set DATABASE_URL or pass -x database_url=... to alembic"
        )
    return async_url(str(url))


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Render our own column types (e.g. ``storage.types.UTCDateTime``) as the plain
    SQLAlchemy type they store, so revisions do not import application code."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        impl = obj.impl_instance
        if type(impl).__module__.startswith("sqlalchemy."):
            return f"sa.{impl!r}"
    return False


def _configure_options(dialect_name: str) -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        "render_as_batch": dialect_name == "sqlite",
        "compare_type": True,
        "render_item": _render_item,
    }


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade head --sql``) without a database."""
    url = _database_url()
    dialect_name = url.split(":", 1)[0].split("+", 1)[0]
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_configure_options(dialect_name),
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, **_configure_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            # Foreign keys are not enforced while migrating (batch mode rebuilds
            # tables); check them before the transaction commits.
            problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"foreign key violations after migration: {problems!r}")


async def run_async_migrations() -> None:
    engine = make_migration_engine(_database_url())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        asyncio.run(run_async_migrations())
    else:
        do_run_migrations(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
