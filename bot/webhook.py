"""`volunteer-bot serve`: updates posted by Telegram to a webhook (aiogram's aiohttp
server) instead of long polling.

Each update is handled before Telegram's post is answered, so a worker that dies
mid-update leaves the update with Telegram, which posts it again (to any worker
behind the address). A post without the right secret token is refused with 401 and
logged. On start the webhook is set (its URL, secret, the update types our routers
use, the connections Telegram may open); it is left set on stop, for the other
workers behind the same address.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.app import settle_startup_objects
from bot.health import serving
from ui.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class CheckedRequestHandler(SimpleRequestHandler):
    """aiogram's handler, logging the posts it refuses."""

    async def handle(self, request: web.Request) -> web.Response:
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), self.bot):
            log.warning(
                "webhook: refused a post to %s from %s: %s secret token",
                request.path,
                request.remote,
                "a wrong" if SECRET_HEADER in request.headers else "no",
            )
            return web.Response(text="Unauthorized", status=401)
        return await super().handle(request)


def webhook_path(url: str) -> str:
    """The path the bot listens on: the webhook URL's, ``/`` when it has none."""
    return urlsplit(url).path or "/"


def build_app(dispatcher: Dispatcher, bot: Bot, settings: Settings) -> web.Application:
    """The web application: the webhook route, the dispatcher's startup and shutdown
    (the deliverer, the scheduler) with the application's, and setting the webhook."""
    url, secret = _webhook(settings)
    app = web.Application()
    CheckedRequestHandler(
        dispatcher=dispatcher, bot=bot, secret_token=secret, handle_in_background=False
    ).register(app, path=webhook_path(url))
    setup_application(app, dispatcher, bot=bot)

    async def set_webhook(_app: web.Application) -> None:
        await bot.set_webhook(
            url,
            secret_token=secret,
            allowed_updates=dispatcher.resolve_used_update_types(),
            max_connections=settings.webhook_max_connections,
        )
        log.info("webhook: Telegram posts updates to %s", url)

    app.on_startup.append(set_webhook)  # after the dispatcher's startup
    return app


async def serve(
    dispatcher: Dispatcher, bot: Bot, settings: Settings, *, stop: asyncio.Event | None = None
) -> None:
    """Serve the webhook until ``stop`` is set (by default: until SIGINT or SIGTERM),
    and with HEALTH_PORT set the health checks and metrics beside it (bot.health).
    Raises OSError when the listen address cannot be taken, and what Telegram
    answers to getMe or setWebhook when it refuses."""
    app = build_app(dispatcher, bot, settings)
    settle_startup_objects()
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    async with serving(dispatcher, settings):  # HEALTH_PORT's checks and metrics
        await runner.setup()  # the dispatcher's startup and setWebhook
        try:
            site = web.TCPSite(runner, settings.webhook_listen_host, settings.webhook_listen_port)
            await site.start()
            log.info(
                "webhook: listening on %s:%s%s",
                settings.webhook_listen_host,
                settings.webhook_listen_port,
                webhook_path(_webhook(settings)[0]),
            )
            await (stop or _signalled()).wait()
        finally:
            await runner.cleanup()  # lets the updates at work finish, then shuts down


def _webhook(settings: Settings) -> tuple[str, str]:
    if settings.webhook_url is None or settings.webhook_secret is None:
        raise ValueError("serving a webhook needs WEBHOOK_URL and WEBHOOK_SECRET")
    return settings.webhook_url, settings.webhook_secret.get_secret_value()


def _signalled() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C still stops it
            loop.add_signal_handler(signum, stop.set)
    return stop
