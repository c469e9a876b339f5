"""/profile: one's profile as registered, with buttons to change a field (the change
goes through registration's form) or the language."""

from __future__ import annotations

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import registration
from services import volunteers
from storage.models import Volunteer
from ui.callbacks import ProfileCb
from ui.format import profile_text
from ui.keyboards import registration as kb


async def show_profile(
    message: Message, session: AsyncSession, volunteer: Volunteer | None, i18n: I18n
) -> None:
    if volunteer is None:
        await message.answer(_("You are not registered yet. Send /start to register."))
        return
    body = await profile_text(
        session, volunteers.draft_of(volunteer), i18n.current_locale, volunteer.status
    )
    await message.answer(_("<b>Your profile</b>") + "\n\n" + body, reply_markup=kb.profile())


async def edit_profile(
    callback: CallbackQuery,
    callback_data: ProfileCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    await callback.answer()
    chat_id = callback.from_user.id
    if callback_data.action == "lang":
        await bot.send_message(
            chat_id, _("Choose your language:"), reply_markup=kb.languages(i18n.current_locale)
        )
        return
    if callback_data.action not in ("name", "phone", "station", "skills", "age"):
        return
    await registration.begin_profile_edit(
        bot, chat_id, state, session, field=callback_data.action, locale=i18n.current_locale
    )
