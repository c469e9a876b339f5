"""Locks one process of a bot holds on its database (bot.locks): an advisory lock on
PostgreSQL, a lock file on SQLite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot import locks
from bot.locks import Taken
from tests.dbtools import BACKENDS, PG_URL

TOKEN = "123456:LOCK-TEST"


def _url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/bot.db"
    assert PG_URL is not None
    return PG_URL


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_lock_is_held_by_one_until_it_lets_go(backend: str, tmp_path: Path) -> None:
    url = _url(backend, tmp_path)
    async with locks.hold(url, "poller", TOKEN):
        with pytest.raises(Taken) as refused:
            async with locks.hold(url, "poller", TOKEN):
                pytest.fail("two processes held the lock at once")
        # It names the holder: the process on SQLite, the server's backend on PostgreSQL.
        if backend == "sqlite":
            assert refused.value.holder.startswith(f"process {os.getpid()},")
        else:
            assert refused.value.holder.startswith("PostgreSQL backend pid ")
            assert "unknown" not in refused.value.holder
        # Another bot on the same database, or another lock of this bot, is apart.
        async with locks.hold(url, "poller", "654321:OTHER"), locks.hold(url, "sender", TOKEN):
            pass
    async with locks.hold(url, "poller", TOKEN):
        pass  # the first one let it go


async def test_the_lock_file_lies_beside_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/data/bot.db"
    (tmp_path / "data").mkdir()
    async with locks.hold(url, "poller", TOKEN):
        assert (tmp_path / "data" / "bot.db.poller-123456.lock").read_text() == str(os.getpid())


async def test_an_in_memory_database_needs_no_lock() -> None:
    async with locks.hold("sqlite://", "poller", TOKEN), locks.hold("sqlite://", "poller", TOKEN):
        pass


def test_the_advisory_key_is_the_bots_not_the_secrets() -> None:
    key = locks.advisory_key
    assert key("poller", "123456:A") == key("poller", "123456:B")
    assert key("poller", "123456:A") != key("poller", "123457:A")
    assert key("poller", "123456:A") != key("sender", "123456:A")
    assert -(2**63) <= key("poller", "123456:A") < 2**63
