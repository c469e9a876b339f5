"""PostgreSQL connections are pinged only after lying unused in the pool, and a dead
one found that way is replaced before anyone uses it (storage.db._ping_when_idle)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import make_engine
from tests.dbtools import PG_SKIP, PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason=PG_SKIP)


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT pg_backend_pid()")))


async def _terminate(pid: int) -> None:
    assert PG_URL is not None
    other = make_engine(PG_URL, poolclass=None)
    try:
        async with other.connect() as conn:
            assert await conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            # Wait until the server has let the backend go.
            for _ in range(100):
                gone = await conn.scalar(
                    text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid"),
                    {"pid": pid},
                )
                if gone:
                    return
                await asyncio.sleep(0.02)
        raise AssertionError("the backend was not terminated")
    finally:
        await other.dispose()


def _count_pings(engine: AsyncEngine) -> list[int]:
    pings = [0]
    dialect: Any = engine.sync_engine.dialect
    ping = dialect.do_ping

    def counting(dbapi_connection: Any) -> bool:
        pings[0] += 1
        return bool(ping(dbapi_connection))

    dialect.do_ping = counting
    return pings


async def test_a_connection_killed_while_idle_is_replaced_before_use() -> None:
    assert PG_URL is not None
    engine = make_engine(PG_URL, pool_size=1, max_overflow=0, idle_ping_seconds=0.1)
    try:
        pid = await _backend_pid(engine)
        await _terminate(pid)
        await asyncio.sleep(0.2)
        assert await _backend_pid(engine) != pid
    finally:
        await engine.dispose()


async def test_without_the_idle_ping_the_killed_connection_fails_its_statement() -> None:
    """The control: what the ping saves the first update after an outage from. The
    statement fails with the driver's error, and the broken connection still goes
    back to the pool: the user cache's rollback listener used to read the broken
    connection's ``info``, which raised from the connection's close instead
    (PendingRollbackError), and the one connection of this pool was never returned."""
    assert PG_URL is not None
    engine = make_engine(
        PG_URL, pool_size=1, max_overflow=0, pool_timeout=2, idle_ping_seconds=3600
    )
    try:
        pid = await _backend_pid(engine)
        await _terminate(pid)
        with pytest.raises(DBAPIError):
            await _backend_pid(engine)
        # The pool dropped it and has its one slot back: the next one works.
        assert await _backend_pid(engine) != pid
    finally:
        await engine.dispose()


async def test_connections_in_steady_use_are_not_pinged() -> None:
    assert PG_URL is not None
    engine = make_engine(PG_URL, pool_size=2, max_overflow=0, idle_ping_seconds=0.3)
    pings = _count_pings(engine)
    try:
        for _ in range(20):
            await _backend_pid(engine)
        assert pings[0] == 0
        await asyncio.sleep(0.4)
        await _backend_pid(engine)
        assert pings[0] == 1
    finally:
        await engine.dispose()
