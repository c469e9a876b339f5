"""Messages the bot sends on its own to someone other than the person writing:
in the recipient's language, best effort (a blocked bot or a gone chat is logged)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.utils.i18n import I18n
from sqlmodel.ext.asyncio.session import AsyncSession

from services import users

log = logging.getLogger(__name__)
Render = Callable[[], tuple[str, Any]]


async def tell(bot: Bot, session: AsyncSession, i18n: I18n, user_id: int, render: Render) -> bool:
    """Send ``render()`` (text and reply markup), built in the recipient's language."""
    locale = await users.locale_of(session, user_id, i18n.default_locale)
    with i18n.context(), i18n.use_locale(locale):
        text, markup = render()
    try:
        await bot.send_message(user_id, text, reply_markup=markup)
    except (TelegramForbiddenError, TelegramBadRequest) as exc:
        log.info("could not tell %s: %s", user_id, exc.message)
        return False
    return True
