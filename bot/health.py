"""A small web server for operators beside long polling (``HEALTH_PORT``):

- ``GET /healthz``: 200 ``ok`` while the process runs;
- ``GET /readyz``: 200 ``ok`` when the database answers ``SELECT 1`` (and with
  REDIS_URL set, Redis answers ``PING``) within ``READY_TIMEOUT`` seconds, else 503
  with the reason in one line;
- ``GET /metrics``: the Prometheus text format (``bot.metrics``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, cast

from aiogram import Dispatcher
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.database import UsageError
from bot.metrics import Metrics
from storage.db import SessionMaker, first_line, ping
from ui.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

READY_TIMEOUT = 2.0  # seconds the database (and Redis) have to answer /readyz


class HealthServer:
    def __init__(
        self,
        *,
        sessionmaker: SessionMaker,
        metrics: Metrics,
        host: str = "127.0.0.1",
        port: int = 0,
        ready_timeout: float = READY_TIMEOUT,
        redis: Redis | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.redis = redis
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
        checks = [self._database()]
        if self.redis is not None:
            checks.append(self._redis(self.redis))
        reasons = [r for r in await asyncio.gather(*checks) if r is not None]
        if not reasons:
            return web.Response(text="ok")
        reason = "; ".join(reasons)
        log.warning("not ready: %s", reason)
        return web.Response(status=503, text=reason)

    async def _database(self) -> str | None:
        """Why the database is not ready, or None."""
        try:
            async with asyncio.timeout(self.ready_timeout), self.sessionmaker() as session:
                await ping(session)
        except TimeoutError:
            return f"database: no answer within {self.ready_timeout:g} s"
        except Exception as exc:
            return f"database: {first_line(exc)}"
        return None

    async def _redis(self, redis: Redis) -> str | None:
        """Why Redis is not ready, or None."""
        try:
            async with asyncio.timeout(self.ready_timeout):
                # redis-py types the asyncio client's commands as maybe not awaitable.
                await cast("Awaitable[bool]", redis.ping())
        except TimeoutError:
            return f"redis: no answer within {self.ready_timeout:g} s"
        except Exception as exc:
            return f"redis: {first_line(exc)}"
        return None

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
        redis=dispatcher.get("redis"),
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
