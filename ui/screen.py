"""Screens that change in place: a button press answered, its message replaced, or
its buttons taken off. An edit that changes nothing, or of a message that is gone
or too old to edit, is not an error here: the person already sees what they should
(``bot.replies.SettledMiddleware`` also settles "message is not modified")."""

from __future__ import annotations

import contextlib

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup


async def replace(
    callback: CallbackQuery,
    bot: Bot,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    note: str | None = None,
    alert: bool = False,
) -> None:
    """Answer the button press (with ``note``, a short line, or with ``alert`` a box to
    dismiss) and show ``text`` in place of the message it was on."""
    await callback.answer(note, show_alert=alert or None)
    if callback.message is not None:
        await bot.edit_message_text(
            text,
            chat_id=callback.from_user.id,
            message_id=callback.message.message_id,
            reply_markup=markup,
        )


async def strip(bot: Bot, callback: CallbackQuery, text: str | None = None) -> None:
    """Take the buttons off the message pressed (one press, one action), optionally
    replacing its text. Does not answer the press."""
    message = callback.message
    if message is None:
        return
    with contextlib.suppress(TelegramBadRequest):  # gone, or too old to edit
        if text is None:
            await bot.edit_message_reply_markup(
                chat_id=callback.from_user.id, message_id=message.message_id
            )
        else:
            await bot.edit_message_text(
                text, chat_id=callback.from_user.id, message_id=message.message_id
            )


async def show(
    bot: Bot,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    callback: CallbackQuery | None = None,
) -> None:
    """In place of the pressed message when there is one, else as a new message."""
    if callback is not None and callback.message is not None:
        await replace(callback, bot, text, markup)
    else:
        await bot.send_message(chat_id, text, reply_markup=markup)
