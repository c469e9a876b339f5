"""A second `volunteer-bot run` on the same bot and database refuses to start
(bot.poller_lock): an advisory lock on PostgreSQL, a lock file on SQLite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot import poller_lock
from bot.poller_lock import PollerRunning
from tests.dbtools import BACKENDS, PG_URL

TOKEN = "123456:LOCK-TEST"


def _url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/bot.db"
    assert PG_URL is not None
    return PG_URL


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_second_poller_is_refused_until_the_first_stops(
    backend: str, tmp_path: Path
) -> None:
    url = _url(backend, tmp_path)
    async with poller_lock.hold(url, TOKEN):
        with pytest.raises(PollerRunning) as refused:
            async with poller_lock.hold(url, TOKEN):
                pytest.fail("two pollers held the lock at once")
        assert "already polling" in str(refused.value)
        # It names the holder: the process on SQLite, the server's backend on PostgreSQL.
        if backend == "sqlite":
            assert f"process {os.getpid()}" in str(refused.value)
        else:
            assert "backend pid unknown" not in str(refused.value)
        # Another bot on the same database is another poller: it may run.
        async with poller_lock.hold(url, "654321:OTHER"):
            pass
    async with poller_lock.hold(url, TOKEN):
        pass  # the first one let it go


async def test_the_lock_file_lies_beside_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/data/bot.db"
    (tmp_path / "data").mkdir()
    async with poller_lock.hold(url, TOKEN):
        assert (tmp_path / "data" / "bot.db.poller-123456.lock").read_text() == str(os.getpid())


async def test_an_in_memory_database_needs_no_lock() -> None:
    async with poller_lock.hold("sqlite://", TOKEN), poller_lock.hold("sqlite://", TOKEN):
        pass


def test_the_advisory_key_is_the_bots_not_the_secrets() -> None:
    assert poller_lock.advisory_key("123456:A") == poller_lock.advisory_key("123456:B")
    assert poller_lock.advisory_key("123456:A") != poller_lock.advisory_key("123457:A")
    assert -(2**63) <= poller_lock.advisory_key("123456:A") < 2**63
