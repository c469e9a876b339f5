"""`volunteer-bot run` as deployed: a separate process, a token, a self-hosted API base."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from standin.server import BotAPIStandin

ROOT = Path(__file__).resolve().parents[2]


async def test_run_serves_a_self_hosted_bot_api(tmp_path: Path) -> None:
    async with BotAPIStandin() as standin:
        standin.add_user(7001, "Li", language_code="zh-hans")
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env |= {
            "BOT_TOKEN": "123456:RUN-TEST",
            "TELEGRAM_API_BASE": standin.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
            "PYTHONPATH": str(ROOT),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
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
