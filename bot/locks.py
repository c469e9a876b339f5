"""Locks that one process of a bot holds on its database while it runs.

- ``poller``: one long poller per bot and database. Two ``volunteer-bot run`` on the
  same token would split the updates between them (each getUpdates takes what the
  other has not), and Telegram ends one's request with 409 Conflict whenever the
  other asks; the second one refuses to start instead (bot.cli).
- ``sender``: of several ``volunteer-bot serve`` workers, the one holding it runs the
  deliverer and the scheduler (bot.leader); the others answer updates only.

On PostgreSQL a lock is a session-level advisory lock keyed by its name and the bot's
id, held by a connection of its own for as long as it is held (a connection that
breaks takes the lock with it). On SQLite it is an exclusive lock on a file beside
the database file, which the operating system lets go when the process ends, however
it ends.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import IO, Literal

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from storage.db import async_url, make_engine

Name = Literal["poller", "sender"]


class Taken(Exception):
    """Another process holds the lock; ``holder`` says which, as far as is known."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


def bot_id(token: str) -> str:
    """The numeric id that starts a bot token (``123456:ABC...``)."""
    return token.split(":", 1)[0].strip() or "bot"


def advisory_key(name: Name, token: str) -> int:
    """A signed 64-bit key for ``pg_try_advisory_lock``, the same for every process of
    this bot, apart from any other application's keys."""
    digest = hashlib.blake2b(f"volunteer-bot {name} {bot_id(token)}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def lock_file(database_url: str, name: Name, token: str) -> Path | None:
    """The lock file of an SQLite database file; None for one that lives in memory."""
    database = make_url(async_url(database_url)).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database)
    return path.with_name(f"{path.name}.{name}-{bot_id(token)}.lock")


@asynccontextmanager
async def hold(database_url: str, name: Name, token: str) -> AsyncIterator[None]:
    """Hold lock ``name`` of ``token``'s bot on ``database_url`` for the block, or
    raise Taken at once when another process holds it."""
    if make_url(async_url(database_url)).get_backend_name() == "sqlite":
        path = lock_file(database_url, name, token)
        if path is None:
            yield
            return
        with _locked_file(path):
            yield
        return
    async with _advisory_lock(database_url, advisory_key(name, token)):
        yield


@asynccontextmanager
async def _advisory_lock(database_url: str, key: int) -> AsyncIterator[None]:
    engine = make_engine(database_url, poolclass=NullPool, user_cache_size=0)
    try:
        async with engine.connect() as conn:
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
            # The lock is the session's, not the transaction's: end the transaction
            # so that this connection does not sit idle in one while it holds it.
            await conn.commit()
            if not got:
                holder = await conn.scalar(
                    text(
                        "SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' "
                        "AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = :key "
                        "LIMIT 1"
                    ),
                    {"key": key},
                )
                await conn.commit()
                raise Taken(f"PostgreSQL backend pid {holder or 'unknown'}")
            try:
                yield
            finally:
                await conn.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                await conn.commit()
    finally:
        await engine.dispose()


def _take(handle: IO[str]) -> bool:
    """An exclusive lock on the open file, without waiting: False if it is taken."""
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextmanager
def _locked_file(path: Path) -> Iterator[None]:
    handle = path.open("a+", encoding="utf-8")
    try:
        if not _take(handle):
            handle.seek(0)
            raise Taken(f"process {handle.read().strip() or 'unknown'}, lock {path}")
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()  # closing lets the lock go; the file stays, harmless
