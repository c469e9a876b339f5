"""Outer middlewares: a database session per update, the user, and their language."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, TelegramObject, Update
from aiogram.types import User as TgUser
from aiogram.utils.i18n import I18n, I18nMiddleware

from services import users
from services.access import Actor
from storage.db import SessionMaker
from storage.models import User
from ui.reply_scope import DEFAULT_RETRY_SECONDS, ReplyScope, current, within

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DbSessionMiddleware(BaseMiddleware):
    """One session per update. Services own their write transactions; whatever is
    left open when the handler returns is rolled back and the session closed."""

    def __init__(self, sessionmaker: SessionMaker) -> None:
        self.sessionmaker = sessionmaker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.sessionmaker() as session:
            data["session"] = session
            scope = current()
            if scope is not None:
                scope.session = session
            return await handler(event, data)


class UserMiddleware(BaseMiddleware):
    """Loads (or, the first time, creates) the stored user behind an update, with their
    volunteer profile as it was when the update arrived (``user``, ``volunteer``).
    Not for updates from groups: writing in a group is not writing to the bot, and
    nothing is kept about the people there."""

    def __init__(self, default_locale: str) -> None:
        self.default_locale = default_locale

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: TgUser | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        private = chat is None or chat.type == ChatType.PRIVATE
        if tg_user is not None and not tg_user.is_bot and private:
            client = users.locale_for_client(tg_user.language_code, self.default_locale)
            data["user"], data["volunteer"] = await users.visit(data["session"], tg_user.id, client)
        return await handler(event, data)


class LocaleMiddleware(I18nMiddleware):
    """The chosen language, else the Telegram client's, else the default; and the
    person acting, as the services see them (``actor``: id, admin or not, locale)."""

    def __init__(self, i18n: I18n, admin_ids: Collection[int] = ()) -> None:
        super().__init__(i18n=i18n)
        self.admin_ids = frozenset(admin_ids)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("user")
        tg_user: TgUser | None = data.get("event_from_user")
        if user is not None and user.locale in self.i18n.available_locales:
            locale = user.locale
        else:
            locale = users.locale_for_client(
                tg_user.language_code if tg_user else None, self.i18n.default_locale
            )
        data["locale"] = locale  # for the error handler, which runs outside this context
        if tg_user is not None:
            data["actor"] = Actor.of(tg_user.id, self.admin_ids, locale)
        return locale


class RetryAfterMiddleware(BaseRequestMiddleware):
    """Telegram's 429 on a request: wait the ``retry_after`` it names and try again, a
    bounded number of times and never longer than ``max_wait`` seconds at once."""

    def __init__(self, *, attempts: int = 3, max_wait: float = 30.0) -> None:
        self.attempts = attempts
        self.max_wait = max_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt == self.attempts or exc.retry_after > self.max_wait:
                    raise
                log.warning("429 on %s: waiting %s s", type(method).__name__, exc.retry_after)
                await asyncio.sleep(exc.retry_after)
        raise AssertionError("unreachable")


class ReplyScopeMiddleware(BaseMiddleware):
    """Outer middleware of the Dispatcher: a fresh ``ReplyScope`` per update, also
    given to handlers as ``reply_scope``."""

    def __init__(
        self,
        *,
        sessionmaker: SessionMaker,
        wake: Callable[[], None],
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.wake = wake
        self.retry_seconds = retry_seconds

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        sender = data.get("event_from_user")
        scope = ReplyScope(
            update_id=event.update_id if isinstance(event, Update) else 0,
            sessionmaker=self.sessionmaker,
            wake=self.wake,
            retry_seconds=self.retry_seconds,
            user_id=sender.id if sender is not None else None,
        )
        data["reply_scope"] = scope
        with within(scope):
            return await handler(event, data)


class WorkSlotMiddleware(BaseMiddleware):
    """At most ``slots`` updates at work at once, each slot taken only once the
    person's own lock is held (aiogram's event isolation runs before this
    middleware). Polling reads further ahead than this (``READ_AHEAD`` times), so a
    burst from one chat waits on that chat's lock without holding the slots that
    everyone else's updates need."""

    def __init__(self, slots: int) -> None:
        self._slots = asyncio.Semaphore(slots)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self._slots:
            return await handler(event, data)
