"""The bot as deployed, in processes of its own against the Bot API stand-in: one
`volunteer-bot run` or `serve`, or several `serve` workers on one database behind the
stand-in's stand-in of a load balancer (its webhook pusher's ``targets``)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import IO

from standin.server import BotAPIStandin

ROOT = Path(__file__).resolve().parents[2]
SECRET = "workers-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_environment(standin: BotAPIStandin, database_url: str, **settings: str) -> dict[str, str]:
    """This process's environment for a bot of the stand-in on ``database_url``, with
    ``settings`` (BOT_TOKEN among them) on top."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return env | {
        "TELEGRAM_API_BASE": standin.base_url,
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT),
        **settings,
    }


async def start_bot(
    verb: str, env: dict[str, str], cwd: Path, output: IO[bytes] | int = asyncio.subprocess.PIPE
) -> asyncio.subprocess.Process:
    """``python -m bot VERB``; its stdout and stderr together to ``output``."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        verb,
        cwd=cwd,
        env=env,
        stdout=output,
        stderr=asyncio.subprocess.STDOUT if output == asyncio.subprocess.PIPE else output,
    )


async def all_taken(standin: BotAPIStandin, within: float = 10.0) -> None:
    """Until the bot has answered every webhook post (a handler's reply goes out just
    before its post is answered)."""
    for _ in range(int(within / 0.05)):
        if len(standin.updates) == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{len(standin.updates)} updates were never taken")


class Workers:
    def __init__(
        self,
        standin: BotAPIStandin,
        database_url: str,
        workdir: Path,
        *,
        token: str,
        count: int = 3,
        env: dict[str, str] | None = None,
    ) -> None:
        self.standin, self.database_url, self.workdir = standin, database_url, workdir
        self.token, self.extra = token, env or {}
        self.ports = [free_port() for _ in range(count)]
        self.processes: list[asyncio.subprocess.Process] = []

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}/hook"

    def environment(self, port: int) -> dict[str, str]:
        return bot_environment(
            self.standin,
            self.database_url,
            BOT_TOKEN=self.token,
            WEBHOOK_URL=self.url(self.ports[0]),  # the public address: one for all
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_LISTEN_PORT=str(port),
            DATA_DIR=str(self.workdir / "data"),
            QUIET_HOURS="off",
            LOG_LEVEL="WARNING",
            **self.extra,
        )

    async def start(self) -> None:
        """Start every worker and wait until each has set the webhook."""
        for port in self.ports:
            log = (self.workdir / f"worker-{port}.log").open("wb")
            self.processes.append(
                await start_bot("serve", self.environment(port), self.workdir, log)
            )
        self.standin.webhook_pusher.targets = [self.url(port) for port in self.ports]
        for _ in range(1200):
            set_by = sum(1 for name, _ in self.standin.requests if name == "setWebhook")
            if set_by >= len(self.ports):
                return
            if any(p.returncode is not None for p in self.processes):
                break
            await asyncio.sleep(0.05)
        raise AssertionError(f"the workers did not start:\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.workdir.glob("worker-*.log"))
        )

    async def stop(self) -> list[int | None]:
        """SIGTERM to those still running; their exit statuses."""
        for process in self.processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), timeout=30)
            except TimeoutError:
                process.kill()
        return [process.returncode for process in self.processes]
