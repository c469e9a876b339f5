"""Schema migrations: Alembic run through the async engine.

``upgrade``/``downgrade``/``current`` open an :class:`~sqlalchemy.ext.asyncio.AsyncEngine`,
hand its sync connection to Alembic (``config.attributes["connection"]``, read by
``storage/migrations/env.py``) inside one transaction, and dispose of the engine.
The migration scripts are found next to this module, so this works from any
directory and from an installed package.

Alembic is imported when a migration runs, not with this module: the long-running
bot migrates in a child process (``python -m storage.migrate``, the URL on its
stdin; ``bot.database.prepare``), so that it never holds Alembic and the migration
scripts (some 16 MiB).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from storage.db import first_line, make_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The PostgreSQL advisory lock migrations take ("volunteer-bot migrate" as 8 bytes).
MIGRATION_LOCK = int.from_bytes(b"vb-migra", "big", signed=True)


def alembic_config(url: str) -> Config:
    """An Alembic config for ``url`` that needs no ``alembic.ini``."""
    from alembic.config import Config

    config = Config()
    # ConfigParser interpolation: a literal "%" in the path must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["database_url"] = url
    return config


def make_migration_engine(url: str) -> AsyncEngine:
    """The engine migrations run on: the app's engine settings, no pooling, and on
    SQLite with foreign keys not enforced (batch mode rebuilds tables by copy, drop and
    rename; with enforcement on, dropping a parent table would fire ON DELETE actions).
    env.py runs ``PRAGMA foreign_key_check`` before committing instead."""
    engine = make_engine(url, poolclass=NullPool)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _no_fk_enforcement(dbapi_connection: Any, _record: Any) -> None:
            # Registered after storage.db's listener, so it runs after it.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.close()

    return engine


async def _run(url: str, action: Callable[[Config], None]) -> None:
    config = alembic_config(url)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        action(config)

    engine = make_migration_engine(url)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Workers started together migrate one after the other: the later
                # ones find the schema up to date (the lock ends with the transaction).
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            await conn.run_sync(run)
    finally:
        await engine.dispose()


async def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (default: the latest)."""
    from alembic import command

    await _run(url, lambda config: command.upgrade(config, revision))


async def downgrade(url: str, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision`` (e.g. ``"-1"`` or ``"base"``)."""
    from alembic import command

    await _run(url, lambda config: command.downgrade(config, revision))


async def current(url: str) -> str | None:
    """The revision the database at ``url`` is at, or ``None`` if it is unversioned."""

    from alembic.runtime.migration import MigrationContext

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    engine = make_migration_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(read)
    finally:
        await engine.dispose()


def main() -> int:
    """``python -m storage.migrate``: upgrade the database whose URL comes on stdin
    (not in the arguments, where other users of the machine could read a password).
    A failure is one line on stderr and exit status 1."""
    url = sys.stdin.readline().strip()
    try:
        asyncio.run(upgrade(url))
    except Exception as exc:  # the parent shows this line to the person at the terminal
        print(first_line(exc), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
