"""Several `volunteer-bot serve` workers as separate processes on one database, behind
the stand-in's stand-in of a load balancer (its webhook pusher's ``targets``)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from standin.server import BotAPIStandin

ROOT = Path(__file__).resolve().parents[2]
SECRET = "workers-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        return env | {
            "BOT_TOKEN": self.token,
            "TELEGRAM_API_BASE": self.standin.base_url,
            "DATABASE_URL": self.database_url,
            "WEBHOOK_URL": self.url(self.ports[0]),  # the public address: one for all
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_LISTEN_PORT": str(port),
            "DATA_DIR": str(self.workdir / "data"),
            "QUIET_HOURS": "off",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            **self.extra,
        }

    async def start(self) -> None:
        """Start every worker and wait until each has set the webhook."""
        for port in self.ports:
            log = (self.workdir / f"worker-{port}.log").open("wb")
            self.processes.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot",
                    "serve",
                    cwd=self.workdir,
                    env=self.environment(port),
                    stdout=log,
                    stderr=log,
                )
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
