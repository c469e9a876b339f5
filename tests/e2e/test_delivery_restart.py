"""Restart safety: `volunteer-bot run` is killed (SIGKILL) in the middle of a
2,000-recipient broadcast and started again; every recipient ends with exactly one
copy. On SQLite always, on PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import IO

from standin.server import BotAPIStandin
from storage.db import SessionMaker
from storage.models import OutboxState
from tests.e2e.delivery_world import chats, queue_broadcast, received, states, wait_states

ROOT = Path(__file__).resolve().parents[2]
N = 2000
HOLD_AFTER = 1000


async def start_bot(
    standin: BotAPIStandin, db_url: str, cwd: Path, log: IO[bytes]
) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {
        "BOT_TOKEN": "123456:RESTART-TEST",
        "TELEGRAM_API_BASE": standin.base_url,
        "DATABASE_URL": db_url,
        "PYTHONPATH": str(ROOT),
        "SEND_RATE": "200",
        "DELIVERY_LEASE_SECONDS": "3",
        "QUIET_HOURS": "off",  # the broadcast is not urgent; the test runs at any hour
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=cwd, env=env, stdout=log, stderr=log
    )


async def test_sigkill_mid_broadcast_then_restart_sends_each_exactly_once(
    db_url: str, sessionmaker: SessionMaker, tmp_path: Path
) -> None:
    log_path = tmp_path / "bot.log"
    async with BotAPIStandin() as standin:
        await queue_broadcast(sessionmaker, standin, N)
        standin.hold_after(HOLD_AFTER)
        with log_path.open("wb") as log:
            first = await start_bot(standin, db_url, tmp_path, log)
            try:
                await wait_states(
                    sessionmaker,
                    lambda c: c[OutboxState.SENT] >= HOLD_AFTER,
                    timeout=90,
                    what="first run",
                )
                for _ in range(200):  # until sends are in flight, unanswered
                    if standin.stats.held:
                        break
                    await asyncio.sleep(0.05)
                before_kill = await states(sessionmaker)
            finally:
                first.send_signal(signal.SIGKILL)
                await first.wait()
            assert first.returncode == -signal.SIGKILL
            # Killed with rows claimed and unanswered: only the lease brings them back.
            assert before_kill[OutboxState.SENT] == HOLD_AFTER
            assert before_kill[OutboxState.SENDING] > 0 and standin.stats.held > 0
            assert standin.stats.messages_sent == HOLD_AFTER
            standin.release()

            second = await start_bot(standin, db_url, tmp_path, log)
            try:
                final = await wait_states(
                    sessionmaker,
                    lambda c: c[OutboxState.PENDING] + c[OutboxState.SENDING] == 0,
                    timeout=120,
                    what="after the restart",
                )
            finally:
                second.send_signal(signal.SIGTERM)
                await asyncio.wait_for(second.wait(), timeout=30)
        output = log_path.read_text(errors="replace")
        assert second.returncode == 0, output
        assert "Traceback" not in output, output
        assert "lapsed in sending" in output  # the second run recovered the lost claims
        copies = received(standin, chats(N))
        assert sorted(set(copies.values())) == [1], {c: n for c, n in copies.items() if n != 1}
        assert final == {OutboxState.SENT: N}
        assert standin.stats.messages_sent == N
        assert standin.internal_errors == []
