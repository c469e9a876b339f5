"""`volunteer-bot run` as deployed: a separate process, a token, a self-hosted API base."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from standin.server import BotAPIStandin
from tests.e2e.processes import bot_environment, start_bot


def _environment(standin: BotAPIStandin, tmp_path: Path) -> dict[str, str]:
    return bot_environment(standin, f"sqlite:///{tmp_path}/run.db", BOT_TOKEN="123456:RUN-TEST")


async def test_run_serves_a_self_hosted_bot_api(tmp_path: Path) -> None:
    async with BotAPIStandin() as standin:
        standin.add_user(7001, "Li", language_code="zh-hans")
        process = await start_bot("run", _environment(standin, tmp_path), tmp_path)
        try:
            standin.send_text(7001, "/start")
            reply = await standin.wait_for_message(7001, timeout=60)
            assert "欢迎" in reply.plain_text
            assert standin.commands("zh") and standin.commands("en")
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, output.decode()
        assert b"Traceback" not in output


async def test_a_second_run_on_the_same_bot_and_database_refuses_to_start(
    tmp_path: Path,
) -> None:
    async with BotAPIStandin() as standin:
        standin.add_user(7001, "Li", language_code="zh-hans")
        env = _environment(standin, tmp_path)
        first = await start_bot("run", env, tmp_path)
        try:
            standin.send_text(7001, "/start")
            await standin.wait_for_message(7001, timeout=60)
            second = await start_bot("run", env, tmp_path)
            output, _ = await asyncio.wait_for(second.communicate(), timeout=60)
            assert second.returncode == 2, output.decode()
            text = output.decode()
            assert "already polling" in text and f"process {first.pid}" in text
            assert "Traceback" not in text
            # The first one still has every update.
            mark = standin.mark(7001)
            standin.send_text(7001, "/help")
            reply = await standin.wait_for_message(7001, timeout=30, after=mark)
            assert "/help" in reply.plain_text  # the list of what they may do
        finally:
            first.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(first.communicate(), timeout=30)
        assert first.returncode == 0, output.decode()
