"""What the staff features share: the one refusal, names, dates, best-effort notes."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import Bot, html
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import notify
from handlers.views import babel_locale

log = logging.getLogger(__name__)


def no_permission() -> str:
    return _("You do not have permission for this.")


async def refuse(event: Message | CallbackQuery) -> None:
    """The same answer everywhere someone presses or sends what they may not."""
    if isinstance(event, CallbackQuery):
        await event.answer(no_permission(), show_alert=True)
    else:
        await event.answer(no_permission())


def person(name: str | None, user_id: int) -> str:
    """A person for a list, as HTML: their volunteer name, else their Telegram id."""
    if name:
        return html.quote(name)
    return _("Telegram user {id}").format(id=user_id)


def plain_person(name: str | None, user_id: int) -> str:
    """The same for a button label, which is plain text."""
    return name or _("Telegram user {id}").format(id=user_id)


def day(moment: datetime, locale: str, zone: ZoneInfo) -> str:
    local_day = moment.astimezone(zone).date()
    return format_date(local_day, format="medium", locale=babel_locale(locale))


async def tell(
    bot: Bot, chat_id: int, text: str, *, session: AsyncSession, key: str | None = None
) -> bool:
    """Queue a note, already written in the recipient's language, for someone who did
    not just write to us (see ``handlers.notify.tell``); the deliverer sends it, and
    skips them if they blocked the bot. ``key`` makes it idempotent. Returns whether a
    note was queued."""
    i18n = I18n.get_current(no_error=False)
    return await notify.tell(bot, session, i18n, chat_id, lambda: (text, None), key=key)
