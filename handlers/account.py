"""Profile, language, help, a copy of one's data, and erasure."""

from __future__ import annotations

import json

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import registration
from handlers.activities import rules
from services import personal_data, users, volunteers
from services import roles as roles_service
from services.access import Permission, stations_where
from storage.models import User, Volunteer
from storage.types import utcnow
from ui import labels
from ui.callbacks import EraseCb, LanguageCb, ProfileCb
from ui.format import join, profile_text
from ui.keyboards import registration as kb
from ui.menus import set_chat_menu
from ui.settings import Settings
from ui.states import Erasure


async def cancel(message: Message, state: FSMContext) -> None:
    if await state.get_state() is None:
        await message.answer(_("There is nothing to cancel."), reply_markup=ReplyKeyboardRemove())
        return
    await state.clear()
    await message.answer(
        _("Cancelled. Nothing from this dialog was saved."), reply_markup=ReplyKeyboardRemove()
    )


async def show_help(
    message: Message, session: AsyncSession, user: User, settings: Settings
) -> None:
    registered = await volunteers.get(session, user.id) is not None
    lines = [_("<b>What you can do</b>")]
    if not registered:
        lines.append(_("/start — register as a volunteer"))
    lines += [
        _("/activities — upcoming activities to join"),
        _("/my — your activities, to check or cancel"),
        _("/checkin CODE — check in at an activity; /checkout CODE — check out"),
        _("/hours — your service hours and star level"),
        _("/certificate — a service certificate (PDF)"),
        _("/verify CODE — check whether a certificate is genuine"),
        _("/pledge — pledge a small donation (the bot takes no money)"),
        _("/mypledges — your pledges and their receipts"),
        _("/settings — the weekly digest and other settings"),
        _("/profile — see and edit your profile"),
        _("/language — 中文 / English"),
        _("/mydata — get a copy of the data kept about you"),
        _("/delete_me — erase your data"),
        _("/cancel — leave the current dialog"),
        _("/help — show this list"),
    ]
    roles = await roles_service.held_by(session, user.id)
    if roles:
        lines.append("")
        lines.append(
            _("You also hold these roles: {roles}.").format(
                roles=join(sorted({str(labels.ROLES[r.role]) for r in roles}))
            )
        )
    lines += await _staff_help(session, user, settings)
    await message.answer("\n".join(lines))


async def _staff_help(session: AsyncSession, user: User, settings: Settings) -> list[str]:
    """The staff commands, for those who hold their permission on some station."""

    async def somewhere(permission: Permission) -> bool:
        return user.id in settings.admin_ids or bool(
            await stations_where(
                session, user_id=user.id, admin_ids=settings.admin_ids, permission=permission
            )
        )

    staff: list[str] = []
    if await somewhere(Permission.MANAGE_ACTIVITIES):
        staff += [
            _("/new_activity — publish an activity"),
            _("/manage — edit or cancel your station's activities"),
            _("/roster — attendance, check-in code, hours, beneficiaries, closing"),
            _("/pledges — open pledges: mark received or cancelled"),
        ]
    if await somewhere(Permission.VIEW_TALLIES):
        staff.append(_("/tally — figures of your stations: text, chart and spreadsheet"))
    if await somewhere(Permission.BROADCAST):
        staff.append(_("/broadcast — send a message to your station's volunteers"))
    if await somewhere(Permission.MANAGE_TEAM):
        staff += [
            _("/invite — make an invitation link for staff or a coordinator"),
            _("/team — see a station's staff and coordinators, revoke a role"),
        ]
    if await somewhere(Permission.APPROVE_VOLUNTEERS):
        staff.append(_("/pending — approve or decline new volunteers"))
    return ["", _("<b>For station staff</b>"), *staff] if staff else []


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
    await callback.answer()
    if callback.message is not None:
        await bot.edit_message_text(
            _("Language set: {language}").format(language=labels.LANGUAGES[callback_data.code]),
            chat_id=callback.from_user.id,
            message_id=callback.message.message_id,
        )
    await set_chat_menu(bot, callback.from_user.id)


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


async def my_data(message: Message, session: AsyncSession, user: User) -> None:
    data = await personal_data.export_data(session, user.id)
    document = json.dumps(data, ensure_ascii=False, indent=2).encode()
    await message.answer_document(
        BufferedInputFile(document, filename=f"my-data-{user.id}.json"),
        caption=_("Everything the station bot keeps about you, as a JSON file."),
    )


async def ask_erase(message: Message, state: FSMContext) -> None:
    await state.set_state(Erasure.confirm)
    await message.answer(
        "\n\n".join(
            [
                _("<b>Erase your data?</b>"),
                _(
                    "Your name, phone number, skills, age group, guardian details, roles "
                    "and language will be deleted for good."
                ),
                _(
                    "Your places at upcoming activities and on their waitlists are "
                    "cancelled; each seat goes to the next person waiting. Messages not "
                    "yet sent to you are withdrawn."
                ),
                _(
                    "Certificates issued to you stop stating your name and hours: anyone "
                    "who checks one is told it was issued on its date and withdrawn when "
                    "its holder erased their data."
                ),
                _(
                    "Only anonymous counts stay (for example, that a volunteer registered "
                    "at your station and served some hours). This cannot be undone."
                ),
            ]
        ),
        reply_markup=kb.erase(),
    )


async def erase(
    callback: CallbackQuery,
    callback_data: EraseCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
) -> None:
    await callback.answer()
    await state.clear()
    chat_id = callback.from_user.id
    if callback.message is not None:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=callback.message.message_id)
    if not callback_data.confirm:
        await bot.send_message(chat_id, _("Nothing was erased."))
        return
    await personal_data.erase(session, chat_id, now=utcnow(), rules=rules(settings))
    await bot.send_message(
        chat_id,
        _(
            "Your data has been erased. Thank you for your service. "
            "Send /start if you ever want to register again."
        ),
    )


def make_router() -> Router:
    router = Router(name="account")
    router.message.filter(F.chat.type == "private")
    router.message.register(cancel, Command("cancel"))
    router.message.register(show_help, Command("help"))
    router.message.register(choose_language, Command("language"))
    router.callback_query.register(language_set, StateFilter(None), LanguageCb.filter())
    router.message.register(show_profile, Command("profile"))
    router.callback_query.register(edit_profile, ProfileCb.filter())
    router.message.register(my_data, Command("mydata"))
    router.message.register(ask_erase, Command("delete_me"))
    router.callback_query.register(erase, Erasure.confirm, EraseCb.filter())
    return router
