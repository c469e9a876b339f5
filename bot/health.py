"""A small web server for operators beside long polling (``HEALTH_PORT``):

- ``GET /healthz``: 200 ``ok`` while the process runs;
- ``GET /readyz``: 200 ``ok`` when the database answers ``SELECT 1`` within
  ``READY_TIMEOUT`` seconds, else 503 with the reason in one line;
- ``GET /metrics``: the Prometheus text format (``bot.metrics``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Dispatcher
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.database import UsageError
from bot.metrics import Metrics
from storage.db import SessionMaker, first_line, ping
from ui.settings import Settings

log = logging.getLogger(__name__)

READY_TIMEOUT = 2.0  # seconds the database has to answer /readyz


class HealthServer:
    def __init__(
        self,
        *,
        sessionmaker: SessionMaker,
        metrics: Metrics,
        host: str = "127.0.0.1",
        port: int = 0,
        ready_timeout: float = READY_TIMEOUT,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.metrics = metrics
        self.host, self.port = host, port
        self.ready_timeout = ready_timeout
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.scrape)
        return app

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(self, request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(self.ready_timeout), self.sessionmaker() as session:
                await ping(session)
        except TimeoutError:
            reason = f"database: no answer within {self.ready_timeout:g} s"
        except Exception as exc:
            reason = f"database: {first_line(exc)}"
        else:
            return web.Response(text="ok")
        log.warning("not ready: %s", reason)
        return web.Response(status=503, text=reason)

    async def scrape(self, request: web.Request) -> web.Response:
        await self.metrics.refresh_outbox(self.sessionmaker)
        return web.Response(
            body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def start(self) -> None:
        # No access log: a scrape every few seconds would bury everything else.
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])
        log.info("health checks and metrics on http://%s:%s/", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@asynccontextmanager
async def serving(dispatcher: Dispatcher, settings: Settings) -> AsyncIterator[HealthServer | None]:
    """The health server of ``dispatcher`` while the block runs, when HEALTH_PORT is set."""
    if settings.health_port is None:
        yield None
        return
    server = HealthServer(
        sessionmaker=dispatcher["sessionmaker"],
        metrics=dispatcher["metrics"],
        host=settings.health_host,
        port=settings.health_port,
    )
    try:
        await server.start()
    except OSError as exc:
        raise UsageError(
            f"cannot serve health checks on {settings.health_host}:{settings.health_port}: "
            f"{exc.strerror or exc}"
        ) from exc
    try:
        yield server
    finally:
        await server.stop()
