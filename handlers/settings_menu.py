"""/settings: the weekly digest on or off, and the language (changed with /language)."""

from __future__ import annotations

import contextlib

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import digest
from services.access import Actor
from services.errors import NotAllowed
from storage.models import Volunteer
from ui import labels
from ui.callbacks import SettingsCb
from ui.keyboards.builder import InlineKeyboardBuilder


def not_registered() -> str:
    return _("You are not registered yet. Send /start to register.")


def settings_view(digest_on: bool, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        _("<b>Your settings</b>"),
        "",
        _("Weekly digest of new activities: {state}").format(
            state=_("on") if digest_on else _("off")
        ),
        _("Language: {language}. Send /language to change it.").format(
            language=labels.LANGUAGES.get(locale, locale)
        ),
    ]
    kb = InlineKeyboardBuilder()
    if digest_on:
        kb.button(text=_("🔕 Turn the weekly digest off"), callback_data=SettingsCb(digest=False))
    else:
        kb.button(text=_("🔔 Turn the weekly digest on"), callback_data=SettingsCb(digest=True))
    return "\n".join(lines), kb.as_markup()


async def show_settings(message: Message, volunteer: Volunteer | None, actor: Actor) -> None:
    if volunteer is None:
        await message.answer(not_registered())
        return
    text, markup = settings_view(volunteer.weekly_digest, actor.locale)
    await message.answer(text, reply_markup=markup)


async def digest_set(
    callback: CallbackQuery,
    callback_data: SettingsCb,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
) -> None:
    try:
        volunteer = await digest.set_weekly_digest(
            session, user_id=actor.id, on=callback_data.digest
        )
    except NotAllowed:
        await callback.answer(not_registered(), show_alert=True)
        return
    await callback.answer(
        _("The weekly digest is on.") if volunteer.weekly_digest else _("The weekly digest is off.")
    )
    if callback.message is None:
        return
    text, markup = settings_view(volunteer.weekly_digest, actor.locale)
    with contextlib.suppress(TelegramBadRequest):  # a replayed button: nothing changed
        await bot.edit_message_text(
            text,
            chat_id=actor.id,
            message_id=callback.message.message_id,
            reply_markup=markup,
        )


def make_router() -> Router:
    router = Router(name="settings_menu")
    router.message.filter(F.chat.type == "private")
    router.message.register(show_settings, Command("settings"))
    router.callback_query.register(digest_set, SettingsCb.filter())
    return router
