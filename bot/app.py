"""Builds the Bot and the Dispatcher from settings; nothing happens at import time."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramNetworkError
from aiogram.fsm.storage.base import BaseEventIsolation, DefaultKeyBuilder
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import leader, replies
from bot.deliverer import Deliverer
from bot.filters import inline_cheap_filters
from bot.fsm_storage import DatabaseStorage
from bot.gates import gate_routers
from bot.health import serving
from bot.isolation import IdleDroppingIsolation
from bot.metrics import ErrorContextMiddleware, Metrics, UpdateMetricsMiddleware
from bot.middlewares import (
    DbSessionMiddleware,
    LocaleMiddleware,
    ReplyScopeMiddleware,
    UserMiddleware,
    WorkSlotMiddleware,
)
from bot.scheduler import build_scheduler
from handlers import get_routers
from reports import certificate_pdf
from services.checkin import AttemptLimiter, WrongCodeLimiter
from storage.db import SessionMaker, make_engine
from ui.i18n import CatalogI18n, make_i18n
from ui.menus import set_menus
from ui.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

# Dialogs whose state and data a process keeps in memory (bot.fsm_storage), when it is
# the only one serving the bot.
DIALOG_CACHE_SIZE = 10_000


class ProxiedSession(AiohttpSession):
    """aiogram's session through TELEGRAM_PROXY (aiohttp-socks, imported by aiogram
    only when a proxy is given). A proxy that cannot be reached, times out or refuses
    the tunnel is a network error like any other: retried where those are, and
    reported by `run` and `serve` as the Bot API being out of reach."""

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        from aiohttp_socks import ProxyConnectionError, ProxyError, ProxyTimeoutError

        try:
            return await super().make_request(bot, method, timeout)
        except (ProxyConnectionError, ProxyTimeoutError, ProxyError) as exc:
            raise TelegramNetworkError(method=method, message=f"proxy: {exc}") from exc


def build_bot(token: str, api_base: str, *, proxy: str | None = None) -> Bot:
    """The Bot with our request middlewares; ``proxy`` (TELEGRAM_PROXY) for `run` and
    `serve` only, never the sandbox's local stand-in."""
    api = TelegramAPIServer.from_base(api_base)
    session = AiohttpSession(api=api) if proxy is None else ProxiedSession(proxy, api=api)
    replies.install(session)
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def make_app_engine(settings: Settings) -> AsyncEngine:
    return make_engine(
        settings.database_url,
        concurrency=settings.update_concurrency,
        user_cache_size=settings.user_cache_size,
    )


# Updates read ahead of the ones at work, as a multiple of UPDATE_CONCURRENCY: they
# wait for their person's turn and a work slot (WorkSlotMiddleware), not in polling.
READ_AHEAD = 8


async def poll(dispatcher: Dispatcher, bot: Bot, settings: Settings, **kwargs: Any) -> None:
    """Long polling with the update types our routers use. At most
    ``UPDATE_CONCURRENCY`` updates are at work at once (WorkSlotMiddleware); polling
    reads further ahead, so one chat's burst does not hold up the others. With
    ``HEALTH_PORT`` set, the health checks and metrics are served as long as polling
    runs (``bot.health``)."""
    settle_startup_objects()
    async with serving(dispatcher, settings):
        await dispatcher.start_polling(
            bot,
            allowed_updates=dispatcher.resolve_used_update_types(),
            tasks_concurrency_limit=settings.update_concurrency * READ_AHEAD,
            **kwargs,
        )


def settle_startup_objects() -> None:
    """What startup made (aiogram's and our models, routers, the catalogs: some 290,000
    objects) lives as long as the process. A full collection walks every tracked
    object, so each one cost tens of milliseconds in the middle of some update;
    frozen, they are left out of every collection."""
    gc.collect()
    gc.freeze()


def _check_fonts() -> None:
    """Log at startup when no Chinese font is installed; certificates and tally
    charts need one. Only looks for the files: reading a font (tens of MiB) waits
    for the first document."""
    if not certificate_pdf.font_installed():
        log.warning(
            "no Chinese font found: certificates and tally charts are not available "
            "(install fonts-noto-cjk)"
        )


def _shared(
    settings: Settings,
) -> tuple[Redis | None, BaseEventIsolation, WrongCodeLimiter]:
    """The person's lock and the wrong-code count: in Redis when REDIS_URL is set (the
    redis package is imported only then), else in this process."""
    if settings.redis_url is None:
        # One update at a time per user, so a double tap cannot race a dialog; the
        # lock is dropped when nobody waits for it, so memory does not grow per user.
        return None, IdleDroppingIsolation(), AttemptLimiter()
    from bot import redis_shared

    redis = redis_shared.connect(settings.redis_url)
    return (
        redis,
        redis_shared.event_isolation(redis, settings.redis_prefix),
        redis_shared.SharedAttemptLimiter(redis, settings.redis_prefix),
    )


def build_dispatcher(
    *,
    settings: Settings,
    sessionmaker: SessionMaker,
    i18n: CatalogI18n | None = None,
    elect_sender: bool = False,
) -> Dispatcher:
    """The dispatcher with our middlewares and routers; from its startup to its
    shutdown it runs the deliverer and the scheduler, or with ``elect_sender`` (several
    workers on one database) only while it holds the sender lock (bot.leader).

    With REDIS_URL set, each person's updates are handled one at a time across every
    worker on that Redis, and wrong check-in codes are counted there (bot.redis_shared);
    the client is in the workflow data as ``redis`` and closed at shutdown."""
    i18n = i18n or make_i18n(settings.default_locale)
    redis, isolation, checkin_limiter = _shared(settings)
    # Dialog state is in the database, which every worker shares. Its read cache is
    # kept only by a process that serves the bot alone: another worker's write would
    # leave it stale.
    several = elect_sender or redis is not None
    # The operators' metrics (bot.metrics), in a registry of this dispatcher's own.
    metrics = Metrics()
    # The one sender of everything queued in the outbox; handlers get it as
    # ``deliverer`` and may call ``deliverer.wake()`` after queueing. It runs from
    # startup to shutdown (in tests driven by feed_update it never starts).
    deliverer = Deliverer(
        sessionmaker=sessionmaker, i18n=i18n, settings=settings, on_send=metrics.record_send
    )
    dispatcher = Dispatcher(
        storage=DatabaseStorage(
            sessionmaker,
            DefaultKeyBuilder(prefix="fsm"),
            cache_size=0 if several else DIALOG_CACHE_SIZE,
        ),
        events_isolation=isolation,
        settings=settings,
        sessionmaker=sessionmaker,
        deliverer=deliverer,
        metrics=metrics,
        # Wrong check-in codes per person (handlers.attendance.checkin).
        checkin_limiter=checkin_limiter,
        redis=redis,
        # Also for the error handler when an update fails before LocaleMiddleware
        # (loading the person behind it): it still answers, never silence.
        i18n=i18n,
    )
    # First of ours: after aiogram's event isolation (the person's lock), before any
    # work is done or a database session is taken.
    dispatcher.update.outer_middleware(WorkSlotMiddleware(settings.update_concurrency))
    # Counts and times the update once it has a slot, and names it and its sender on
    # every log line logged while it is handled; the error handler's lines too.
    dispatcher.update.outer_middleware(UpdateMetricsMiddleware(metrics))
    dispatcher.errors.outer_middleware(ErrorContextMiddleware())
    dispatcher.update.outer_middleware(
        ReplyScopeMiddleware(
            sessionmaker=sessionmaker,
            wake=deliverer.wake,
            retry_seconds=settings.reply_retry_seconds,
        )
    )
    dispatcher.update.outer_middleware(DbSessionMiddleware(sessionmaker))
    dispatcher.update.outer_middleware(UserMiddleware(settings.default_locale))
    dispatcher.update.outer_middleware(LocaleMiddleware(i18n, settings.admin_ids))
    dispatcher.include_routers(*get_routers())
    inline_cheap_filters(dispatcher)
    gate_routers(dispatcher)

    schedulers: list[AsyncIOScheduler] = []
    background: list[asyncio.Task[None]] = []
    leading: list[asyncio.Task[None]] = []
    stopped = asyncio.Event()

    async def on_startup(bot: Bot) -> None:
        me = await bot.get_me()
        await set_menus(bot, i18n)

        def start_sending() -> None:
            deliverer.start(bot)
            scheduler = build_scheduler(
                bot=bot,
                sessionmaker=sessionmaker,
                i18n=i18n,
                settings=settings,
                deliverer=deliverer,
            )
            scheduler.start()
            schedulers.append(scheduler)

        if elect_sender:
            stopped.clear()
            leading.append(
                asyncio.create_task(
                    leader.lead(
                        settings.database_url, bot.token, start=start_sending, stopped=stopped
                    )
                )
            )
        else:
            start_sending()
        # Looking for a Chinese font takes a few seconds: do it now, in a thread, so
        # the first certificate or chart does not wait, and a missing font is logged.
        background.append(asyncio.create_task(asyncio.to_thread(_check_fonts)))
        log.info("serving as @%s (%s)", me.username, me.id)

    async def on_shutdown() -> None:
        while background:
            background.pop().cancel()
        while schedulers:
            schedulers.pop().shutdown(wait=False)
        await deliverer.stop()  # finishes the sends in flight
        stopped.set()
        while leading:
            await leading.pop()  # lets the sender lock go
        if redis is not None:
            await redis.aclose()

    dispatcher.startup.register(on_startup)
    dispatcher.shutdown.register(on_shutdown)
    return dispatcher
