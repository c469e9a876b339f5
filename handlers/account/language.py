"""/language: 中文 or English, kept for the person and used at once."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import users
from storage.models import User
from ui import labels, screen
from ui.callbacks import LanguageCb
from ui.keyboards import registration as kb
from ui.menus import set_chat_menu


async def choose_language(message: Message, i18n: I18n) -> None:
    await message.answer(_("Choose your language:"), reply_markup=kb.languages(i18n.current_locale))


async def language_set(
    callback: CallbackQuery,
    callback_data: LanguageCb,
    bot: Bot,
    session: AsyncSession,
    user: User,
    i18n: I18n,
) -> None:
    if callback_data.code not in labels.LANGUAGES:
        await callback.answer()
        return
    await users.set_locale(session, user, callback_data.code)
    i18n.current_locale = callback_data.code
    text = _("Language set: {language}").format(language=labels.LANGUAGES[callback_data.code])
    await screen.replace(callback, bot, text)
    await set_chat_menu(bot, callback.from_user.id)
