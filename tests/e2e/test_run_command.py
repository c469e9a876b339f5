"""`volunteer-bot run` as deployed: a separate process, a token, a self-hosted API base."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from standin.server import BotAPIStandin

ROOT = Path(__file__).resolve().parents[2]


def _environment(standin: BotAPIStandin, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return env | {
        "BOT_TOKEN": "123456:RUN-TEST",
        "TELEGRAM_API_BASE": standin.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
        "PYTHONPATH": str(ROOT),
    }


async def _start_run(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def test_run_serves_a_self_hosted_bot_api(tmp_path: Path) -> None:
    async with BotAPIStandin() as standin:
        standin.add_user(7001, "Li", language_code="zh-hans")
        process = await _start_run(_environment(standin, tmp_path), tmp_path)
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
        first = await _start_run(env, tmp_path)
        try:
            standin.send_text(7001, "/start")
            await standin.wait_for_message(7001, timeout=60)
            second = await _start_run(env, tmp_path)
            output, _ = await asyncio.wait_for(second.communicate(), timeout=60)
            assert second.returncode == 2, output.decode()
            text = output.decode()
            assert "already polling" in text and f"process {first.pid}" in text
            assert "Traceback" not in text
            # The first one still has every update.
            mark = standin.mark(7001)
            standin.send_text(7001, "/help")
            reply = await standin.wait_for_message(7001, timeout=30, after=mark)
            assert reply.plain_text
        finally:
            first.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(first.communicate(), timeout=30)
        assert first.returncode == 0, output.decode()
