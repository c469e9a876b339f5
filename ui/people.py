"""What the staff features share: the one refusal, names, dates."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from ui.format import babel_locale

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
