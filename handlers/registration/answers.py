"""The registration's answers given with buttons or a shared contact (typed answers
go through the form kit), and its summary: confirm, edit one field, or cancel."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot, html
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.registration.form import REGISTRATION, begin
from services import phones, users, volunteers
from services.access import Actor
from services.errors import InvalidInput, NotFound
from storage.models import AgeGroup, User, VolunteerStatus
from ui import labels, screen
from ui.callbacks import AgeCb, ConsentCb, LanguageCb, SkillCb, SummaryCb
from ui.errors import error_text
from ui.format import display_phone, join
from ui.keyboards import registration as kb
from ui.settings import Settings


async def start(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
    actor: Actor,
) -> None:
    volunteer = await volunteers.get(session, actor.id)
    if volunteer is not None:
        await state.clear()
        await message.answer(
            _("Welcome back, {name}! Send /help to see what you can do.").format(
                name=html.quote(volunteer.real_name or "")
            ),
            reply_markup=ReplyKeyboardRemove(),
        )
        return
    await begin(bot, message.chat.id, state, session, locale=i18n.current_locale)


async def language_chosen(
    callback: CallbackQuery,
    callback_data: LanguageCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    i18n: I18n,
) -> None:
    if callback_data.code not in labels.LANGUAGES:
        await callback.answer()
        return
    run = await REGISTRATION.resume(callback, bot, state, session, i18n)
    if run is None:
        return
    await users.set_locale(session, user, callback_data.code)
    i18n.current_locale = run.locale = callback_data.code
    await callback.answer(labels.LANGUAGES[callback_data.code])
    await screen.strip(bot, callback)
    await run.advance("language")


async def phone_shared(
    message: Message, bot: Bot, state: FSMContext, session: AsyncSession, i18n: I18n
) -> None:
    assert message.contact is not None and message.from_user is not None
    if message.contact.user_id != message.from_user.id:
        await message.answer(
            _("Please share your own number with the button, or type it."),
            reply_markup=kb.share_phone(),
        )
        return
    phone_number = message.contact.phone_number
    await _phone_accepted(
        message, bot, state, session, i18n, lambda: phones.normalize_contact(phone_number)
    )


async def phone_typed(
    message: Message, bot: Bot, state: FSMContext, session: AsyncSession, i18n: I18n
) -> None:
    await _phone_accepted(
        message, bot, state, session, i18n, lambda: phones.normalize_mobile(message.text or "")
    )


async def _phone_accepted(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
    parse: Callable[[], str],
) -> None:
    run = await REGISTRATION.resume(message, bot, state, session, i18n)
    if run is None:
        return
    try:
        phone = parse()
    except InvalidInput as error:
        step = REGISTRATION.step("phone")
        assert step is not None
        await run.ask_again(step, error)
        return
    run.draft.phone = phone
    await message.answer(
        _("Phone number noted: {phone}").format(phone=display_phone(phone)),
        reply_markup=ReplyKeyboardRemove(),
    )
    await run.advance("phone")


async def skill_toggled(
    callback: CallbackQuery,
    callback_data: SkillCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    run = await REGISTRATION.resume(callback, bot, state, session, i18n)
    if run is None:
        return
    draft = run.draft
    message = callback.message
    if callback_data.code == "done":
        await callback.answer()
        chosen = join(str(labels.SKILLS[s]) for s in draft.skills) or _("none chosen")
        await screen.strip(bot, callback, _("Skills: {skills}").format(skills=chosen))
        await run.advance("skills")
        return
    if callback_data.code not in labels.SKILLS:
        await callback.answer()
        return
    chosen_set = set(draft.skills) ^ {callback_data.code}
    draft.skills = [s for s in volunteers.SKILLS if s in chosen_set]
    await run.store()
    await callback.answer()
    if message is not None:
        await bot.edit_message_reply_markup(
            chat_id=callback.from_user.id,
            message_id=message.message_id,
            reply_markup=kb.skills(draft.skills),
        )


async def age_chosen(
    callback: CallbackQuery,
    callback_data: AgeCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    try:
        group = volunteers.check_age_group(callback_data.group)
    except InvalidInput as error:
        await callback.answer()
        if error.code == "age_under_14":
            await state.clear()
            await bot.send_message(callback.from_user.id, error_text(error))
        return
    run = await REGISTRATION.resume(callback, bot, state, session, i18n)
    if run is None:
        return
    await callback.answer()
    draft = run.draft
    if draft.age_group != group.value:
        draft.guardian_consent = False
    draft.age_group = group.value
    await screen.strip(bot, callback, _("Age group: {age}").format(age=labels.AGE_GROUPS[group]))
    if group is not AgeGroup.TEEN:
        draft.guardian_name = draft.guardian_phone = None
        draft.guardian_consent = False
    await run.advance("age")


async def guardian_agreed(
    callback: CallbackQuery, bot: Bot, state: FSMContext, session: AsyncSession, i18n: I18n
) -> None:
    run = await REGISTRATION.resume(callback, bot, state, session, i18n)
    if run is None:
        return
    await callback.answer()
    run.draft.guardian_consent = True
    await screen.strip(bot, callback)
    await run.advance("guardian_consent")


async def privacy_answered(
    callback: CallbackQuery,
    callback_data: ConsentCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    run = await REGISTRATION.resume(callback, bot, state, session, i18n)
    if run is None:
        return
    await callback.answer()
    await screen.strip(bot, callback)
    if callback_data.what != "privacy_yes":
        await state.clear()
        await run.send(
            _(
                "Understood. Without your consent we cannot register you, and nothing "
                "has been saved. Send /start if you change your mind."
            )
        )
        return
    run.draft.privacy_consent = True
    await run.advance("privacy")


async def summary_action(
    callback: CallbackQuery,
    callback_data: SummaryCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    actor: Actor,
) -> None:
    run = await REGISTRATION.resume(callback, bot, state, session, i18n)
    if run is None:
        return
    await callback.answer()
    await screen.strip(bot, callback)
    if callback_data.action == "cancel":
        await state.clear()
        await run.send(_("Registration cancelled. Nothing has been saved."))
        return
    if callback_data.action != "ok":
        await run.edit(callback_data.action)
        return
    try:
        volunteer = await volunteers.save(
            session, actor=actor, draft=run.draft, admin_ids=settings.admin_ids
        )
    except (InvalidInput, NotFound) as error:
        await run.send(error_text(error))
        await run.ask("station" if error.code == "station_not_found" else "summary")
        return
    await state.clear()
    if volunteer.status is VolunteerStatus.PENDING:
        text = _(
            "Thank you, {name}! Your registration is saved. Your station approves new "
            "volunteers first; you will get a message here once you are approved."
        )
    else:
        text = _(
            "Thank you, {name}! You are now registered as a volunteer. "
            "Send /help to see what you can do."
        )
    await run.send(text.format(name=html.quote(volunteer.real_name or "")))
