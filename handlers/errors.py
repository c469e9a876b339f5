"""The last line: an unexpected error is logged and the user is told, never silence."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

log = logging.getLogger(__name__)
router = Router(name="errors")


@router.errors()
async def on_error(event: ErrorEvent, bot: Bot) -> None:
    log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    update = event.update
    chat_id: int | None = None
    if update.message is not None and update.message.chat.type == "private":
        chat_id = update.message.chat.id
    elif update.callback_query is not None:
        chat_id = update.callback_query.from_user.id
        try:
            await update.callback_query.answer()
        except TelegramAPIError:
            pass
    if chat_id is None:
        return
    try:
        await bot.send_message(
            chat_id,
            _("Sorry, something went wrong on our side. Please try again; "
              "what you entered before this step is kept."),
        )
    except TelegramAPIError:
        log.warning("could not tell chat %s about the error", chat_id)
