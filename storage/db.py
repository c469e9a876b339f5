"""The async engine and sessions for SQLite and PostgreSQL from one code path."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import people_cache, rollup_marks

SessionMaker = async_sessionmaker[AsyncSession]
_WRITE = "volunteer_write"
# A pooled PostgreSQL connection unused for this long is pinged before it is handed
# out again (see _ping_when_idle).
IDLE_PING_SECONDS = 5.0
_IDLE_SINCE = "volunteer_idle_since"


def async_url(url: str) -> str:
    """Map the plain URLs people write to the async drivers we use."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def make_engine(
    url: str,
    *,
    concurrency: int | None = None,
    user_cache_size: int = people_cache.DEFAULT_SIZE,
    **kwargs: Any,
) -> AsyncEngine:
    """An engine for ``url``. With ``concurrency`` (units of work running at once, each
    needing up to two connections) the pool is sized so they never wait on each other.
    ``user_cache_size``: how many people's user and volunteer rows are kept in memory
    (storage.people_cache; 0: none). On PostgreSQL, ``idle_ping_seconds`` (default
    IDLE_PING_SECONDS): how long a pooled connection lies unused before it is pinged
    on its next checkout; ``pool_pre_ping=True`` pings on every checkout instead."""
    engine = _make_engine(url, concurrency=concurrency, **kwargs)
    people_cache.watch(engine.sync_engine, size=user_cache_size)
    return engine


def _make_engine(url: str, *, concurrency: int | None, **kwargs: Any) -> AsyncEngine:
    url = async_url(url)
    if concurrency is not None and "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", concurrency)
        kwargs.setdefault("max_overflow", concurrency + 8)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_async_engine(url, **kwargs)
        _tune_sqlite(engine)
        rollup_marks.watch_engine(engine.sync_engine)
        return engine
    idle_ping = kwargs.pop("idle_ping_seconds", IDLE_PING_SECONDS)
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine, idle_ping)
    rollup_marks.watch_engine(engine.sync_engine)
    return engine


def _ping_when_idle(engine: AsyncEngine, after: float) -> None:
    """Ping a pooled connection before handing it out only when it has lain unused
    for ``after`` seconds; a dead one is replaced before anyone uses it. This is
    ``pool_pre_ping`` without its round trip on every checkout (one per /activities:
    1,093 pings in one run of benchmarks/updates.py, none with this): under traffic a
    connection comes back within milliseconds. A server restarted while the bot is
    busy can still fail the statements in flight, as it would with a ping."""
    sync = engine.sync_engine

    @event.listens_for(sync.pool, "checkin")
    def _checkin(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(sync.pool, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < after:
            return  # new, or back from use a moment ago
        try:
            alive = sync.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool drops this connection and checks out another (a fresh one).
            raise DisconnectionError(first_line(exc)) from exc
        if not alive:
            raise DisconnectionError("the ping found the connection closed")


def _tune_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, foreign keys; BEGIN IMMEDIATE for write transactions."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Any) -> None:
        # Reads run in autocommit (each statement sees one consistent WAL snapshot),
        # which saves a round trip per session; units of work that write take the
        # write lock up front, so two writers queue instead of failing.
        if conn.get_execution_options().get(_WRITE, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


async def for_writing(conn: AsyncConnection) -> AsyncConnection:
    """``conn`` marked as a writer, for Core work outside a session: on SQLite its
    transactions begin with BEGIN IMMEDIATE (see ``write_transaction``)."""
    return await conn.execution_options(**{_WRITE: True})


def make_sessionmaker(engine: AsyncEngine) -> SessionMaker:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def is_writing(session: AsyncSession) -> bool:
    """Whether the session is inside ``write_transaction`` (asks nothing of the
    database: a session that has no connection yet is not given one)."""
    return bool(session.info.get(_WRITE, False))


async def ping(session: AsyncSession) -> None:
    """Raises unless the database answers ``SELECT 1`` (the readiness check)."""
    await (await session.connection()).execute(text("SELECT 1"))


def first_line(exc: BaseException) -> str:
    """An error as one line for the person at the terminal (the driver's own message
    where SQLAlchemy wraps one)."""
    message = str(getattr(exc, "orig", None) or exc)
    return message.strip().splitlines()[0] if message.strip() else type(exc).__name__


@asynccontextmanager
async def write_transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """One unit of work that writes: on SQLite it takes the write lock up front
    (BEGIN IMMEDIATE) so two writers queue instead of failing; it commits on success
    and rolls back on error. Reads before it must not have written anything."""
    if session.in_transaction():
        # End the read snapshot. Commit, not rollback: a rollback would expire
        # loaded objects, and an expired attribute cannot lazy-load under asyncio.
        await session.commit()
    await session.connection(execution_options={_WRITE: True})
    session.info[_WRITE] = True
    try:
        yield session
    except BaseException:
        await session.rollback()
        raise
    finally:
        session.info.pop(_WRITE, None)
    await session.commit()
