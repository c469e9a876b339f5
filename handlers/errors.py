"""The last line: an unexpected error is logged and the user is told, never silence."""

from __future__ import annotations

import contextlib
import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from services import users
from ui.reply_scope import ReplyScope, answered, within

log = logging.getLogger(__name__)


async def on_error(
    event: ErrorEvent,
    bot: Bot,
    i18n: I18n | None = None,
    locale: str | None = None,
    reply_scope: ReplyScope | None = None,
) -> None:
    log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    update = event.update
    chat_id: int | None = None
    code: str | None = None  # the sender's Telegram client language
    # The update's replies were made in its scope; so are these (retried, or put in
    # the outbox when Telegram is down), and a button already answered is not again.
    with within(reply_scope):
        if update.message is not None and update.message.chat.type == "private":
            chat_id = update.message.chat.id
            sender = update.message.from_user
            code = sender.language_code if sender is not None else None
        elif update.callback_query is not None:
            query = update.callback_query
            chat_id = query.from_user.id
            code = query.from_user.language_code
            if not answered(reply_scope, query.id):
                with contextlib.suppress(TelegramAPIError):
                    await query.answer()
        if chat_id is None or i18n is None:
            return
        if locale is None:
            # The failure came before the language was known (loading or creating the
            # person behind the update): their Telegram client's language then.
            locale = users.locale_for_client(code, i18n.default_locale)
        try:
            with i18n.context(), i18n.use_locale(locale):
                text = _(
                    "Sorry, something went wrong on our side. Please try again; "
                    "what you entered before this step is kept."
                )
            await bot.send_message(chat_id, text)
        except TelegramAPIError:
            log.warning("could not tell chat %s about the error", chat_id)


def make_router() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router
