"""Screens that change in place: a button press answered and its message replaced."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup


async def show_in_place(
    callback: CallbackQuery, bot: Bot, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Answer the button press and show ``text`` in place of the message it was on."""
    await callback.answer()
    if callback.message is not None:
        await bot.edit_message_text(
            text,
            chat_id=callback.from_user.id,
            message_id=callback.message.message_id,
            reply_markup=markup,
        )
