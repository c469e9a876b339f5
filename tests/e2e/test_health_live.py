"""`volunteer-bot run` with HEALTH_PORT and LOG_FORMAT=json: the health checks and
metrics are served while the bot polls, and gone when it stops; its log is JSON lines."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from standin.server import BotAPIStandin
from tests.e2e.processes import bot_environment, free_port, start_bot


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def test_run_serves_health_and_metrics_beside_polling(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with BotAPIStandin() as standin:
        standin.add_user(7101, "Li", language_code="zh-hans")
        env = bot_environment(
            standin,
            f"sqlite:///{tmp_path}/run.db",
            BOT_TOKEN="123456:HEALTH-TEST",
            HEALTH_PORT=str(port),
            LOG_FORMAT="json",
        )
        process = await start_bot("run", env, tmp_path)
        try:
            standin.send_text(7101, "/start")
            reply = await standin.wait_for_message(7101, timeout=60)
            assert "欢迎" in reply.plain_text
            assert await get(base + "/healthz") == (200, "ok")
            assert await get(base + "/readyz") == (200, "ok")
            status, text = await get(base + "/metrics")
            assert status == 200
            samples = {
                (s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text)
                for s in family.samples
            }
            handled = (("outcome", "handled"), ("type", "message"))
            assert samples[("volunteer_bot_updates_total", handled)] == 1
            assert samples[("volunteer_bot_outbox_query_ok", ())] == 1
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, output.decode()
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(base + "/healthz")
    lines = [json.loads(line) for line in output.decode().splitlines() if line.strip()]
    messages = [line["message"] for line in lines]
    assert f"health checks and metrics on {base}/" in messages
    assert all(line.keys() >= {"time", "level", "logger", "message"} for line in lines)
