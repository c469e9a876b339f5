"""Outer middlewares: a database session per update, the user, and their language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from aiogram.types import User as TgUser
from aiogram.utils.i18n import I18n, I18nMiddleware

from services import users
from storage.db import SessionMaker
from storage.models import User

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DbSessionMiddleware(BaseMiddleware):
    """One session per update. Services own their write transactions; whatever is
    left open when the handler returns is rolled back and the session closed."""

    def __init__(self, sessionmaker: SessionMaker) -> None:
        self.sessionmaker = sessionmaker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.sessionmaker() as session:
            data["session"] = session
            return await handler(event, data)


class UserMiddleware(BaseMiddleware):
    """Loads (or, the first time, creates) the stored user behind an update."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: TgUser | None = data.get("event_from_user")
        if tg_user is not None and not tg_user.is_bot:
            data["user"] = await users.ensure_user(data["session"], tg_user.id)
        return await handler(event, data)


class LocaleMiddleware(I18nMiddleware):
    """The chosen language, else the Telegram client's, else the default."""

    def __init__(self, i18n: I18n) -> None:
        super().__init__(i18n=i18n)

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
        return locale
