"""Registration: language, name, phone, home station, skills, age group, guardian,
privacy notice, summary. The same steps edit one field of a saved profile."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router, html
from aiogram.filters import CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import phones, stations, users, volunteers
from services.errors import DomainError, InvalidInput, NotFound
from services.volunteers import Draft
from storage.models import AgeGroup, User, VolunteerStatus
from ui import labels
from ui.callbacks import AgeCb, ConsentCb, LanguageCb, SkillCb, StationCb, SummaryCb
from ui.format import display_phone, join, profile_text, station_path
from ui.keyboards import registration as kb
from ui.settings import Settings
from ui.states import Registration

# Modes of the dialog: a new registration, an edit from its summary, or a profile edit.
NEW, EDIT, PROFILE = "new", "edit", "profile"


def error_text(error: DomainError) -> str:
    """A translated sentence for each input error the dialog can meet."""
    texts = {
        "name_too_short": _("Please type your full real name (at least 2 characters)."),
        "name_too_long": _("That is too long: at most {max} characters, please."),
        "name_has_digits": _("A name should not contain digits. Please type your real name."),
        "name_no_letters": _("Please type your real name in letters."),
        "phone_invalid": _(
            "That does not look like a mainland mobile number. Type 11 digits such as "
            "13812345678 (spaces, dashes and +86 are fine), or use the button."
        ),
        "age_under_14": _(
            "Thank you for wanting to help! Volunteers under 14 cannot register themselves. "
            "Please take part together with a parent or guardian, who can register as a "
            "volunteer. Nothing has been saved."
        ),
        "station_not_found": _("That station no longer exists. Please choose again."),
    }
    return texts.get(error.code, _("That did not work. Please try again.")).format(**error.params)


async def _draft(state: FSMContext) -> tuple[Draft, str]:
    data = await state.get_data()
    return Draft.from_dict(data.get("draft")), str(data.get("mode", NEW))


async def _store(state: FSMContext, draft: Draft) -> None:
    await state.update_data(draft=draft.to_dict())


async def begin(bot: Bot, chat_id: int, state: FSMContext, *, locale: str) -> None:
    """Start a new registration with the language step."""
    await state.set_state(Registration.language)
    await state.set_data({"draft": Draft().to_dict(), "mode": NEW})
    await bot.send_message(
        chat_id,
        _(
            "Welcome to the volunteer station! Let's register you as a volunteer. "
            "It takes about two minutes; send /cancel at any time to stop.\n\n"
            "First, choose your language:"
        ),
        reply_markup=kb.languages(current=locale),
    )


async def begin_profile_edit(
    bot: Bot, chat_id: int, state: FSMContext, session: AsyncSession, *, field: str, locale: str
) -> None:
    """Edit one field of a saved profile with the same step as registration."""
    volunteer = await volunteers.get(session, chat_id)
    if volunteer is None:
        await bot.send_message(chat_id, _("You are not registered yet. Send /start to register."))
        return
    draft = volunteers.draft_of(volunteer)
    await state.set_data({"draft": draft.to_dict(), "mode": PROFILE})
    await ask(field, bot, chat_id, state, session, draft, locale)


async def ask(
    step: str,
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    session: AsyncSession,
    draft: Draft,
    locale: str,
) -> None:
    """Ask for one step and move the dialog to its state."""
    if step == "name":
        await state.set_state(Registration.name)
        await bot.send_message(
            chat_id,
            _("What is your real name? Staff use it for attendance and service certificates."),
            reply_markup=ReplyKeyboardRemove(),
        )
    elif step == "phone":
        await state.set_state(Registration.phone)
        await bot.send_message(
            chat_id,
            _(
                "Your mobile phone number, so station staff can reach you about "
                "activities. Tap the button below, or type it."
            ),
            reply_markup=kb.share_phone(),
        )
    elif step == "station":
        await state.set_state(Registration.station)
        text, markup = await _station_view(session, None, 0, locale)
        await bot.send_message(chat_id, text, reply_markup=markup)
    elif step == "skills":
        await state.set_state(Registration.skills)
        await bot.send_message(
            chat_id,
            _(
                "Which skills can you offer? Tap all that apply, then Done. "
                "You can also skip with Done."
            ),
            reply_markup=kb.skills(draft.skills),
        )
    elif step == "age":
        await state.set_state(Registration.age)
        await bot.send_message(chat_id, _("Your age group:"), reply_markup=kb.age_groups())
    elif step == "guardian_name":
        await state.set_state(Registration.guardian_name)
        await bot.send_message(
            chat_id,
            _(
                "Volunteers aged 14 to 17 need a parent's or guardian's consent. "
                "What is your guardian's full name?"
            ),
            reply_markup=ReplyKeyboardRemove(),
        )
    elif step == "guardian_phone":
        await state.set_state(Registration.guardian_phone)
        await bot.send_message(chat_id, _("Your guardian's mobile phone number:"))
    elif step == "guardian_consent":
        await state.set_state(Registration.guardian_consent)
        await bot.send_message(
            chat_id,
            _(
                "Please show this to your guardian. By pressing the button, your guardian "
                "{name} agrees that you take part in volunteer activities of the station "
                "and that the station keeps the data described in the privacy notice."
            ).format(name=html.quote(draft.guardian_name or "")),
            reply_markup=kb.guardian_consent(),
        )
    elif step == "privacy":
        await state.set_state(Registration.privacy)
        await bot.send_message(chat_id, privacy_notice(), reply_markup=kb.privacy())
    else:
        await show_summary(bot, chat_id, state, session, draft, locale)


def privacy_notice() -> str:
    return _(
        "<b>Privacy notice</b>\n\n"
        "<b>What we keep:</b> your Telegram user id, real name, mobile number, home "
        "station, skills and age group (for volunteers aged 14 to 17 also the guardian's "
        "name, number and consent), the activities you join, your attendance and hours, "
        "and any donation pledges. We never ask for ID-card numbers.\n"
        "<b>Why:</b> to organise volunteer activities, record service hours, issue "
        "service certificates and count the station's work.\n"
        "<b>Who sees it:</b> the staff of your station and the coordinators above it. "
        "Figures reported upward are totals without names.\n"
        "<b>Telegram:</b> messages with this bot pass through Telegram's servers.\n"
        "<b>Your rights:</b> /mydata sends you a copy of everything kept about you; "
        "/delete_me erases it, leaving only anonymous counts.\n\n"
        "Do you agree?"
    )


async def _station_view(
    session: AsyncSession, node_id: int | None, page: int, locale: str
) -> tuple[str, Any]:
    current = await stations.get(session, node_id) if node_id else None
    nodes = await stations.children(session, node_id)
    if current is None:
        text = _(
            "Choose your home station. Tap a name to open it; choose your community "
            "or, if it is not listed, your street."
        )
    else:
        text = _("Choose your home station: {path}").format(
            path=await station_path(session, current.id, locale)
        )
    if not nodes and current is None:
        text = _(
            "No stations have been set up yet. Please ask your station's staff, "
            "then send /start again."
        )
    return text, kb.stations(nodes, current=current, page=page, locale=locale)


async def show_summary(
    bot: Bot, chat_id: int, state: FSMContext, session: AsyncSession, draft: Draft, locale: str
) -> None:
    await state.set_state(Registration.summary)
    await state.update_data(mode=EDIT)
    body = await profile_text(session, draft, locale)
    await bot.send_message(
        chat_id,
        _("<b>Please check your registration</b>") + "\n\n" + body,
        reply_markup=kb.summary(),
    )


async def advance(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    session: AsyncSession,
    draft: Draft,
    mode: str,
    locale: str,
) -> None:
    """After a step: the next missing step, the summary, or, for a profile edit, save."""
    await _store(state, draft)
    missing = draft.missing()
    if missing:
        await ask(missing[0], bot, chat_id, state, session, draft, locale)
    elif mode == PROFILE:
        await _save_profile(bot, chat_id, state, session, draft, locale)
    else:
        await show_summary(bot, chat_id, state, session, draft, locale)


async def _save_profile(
    bot: Bot, chat_id: int, state: FSMContext, session: AsyncSession, draft: Draft, locale: str
) -> None:
    try:
        volunteer = await volunteers.save(session, user_id=chat_id, draft=draft)
    except (InvalidInput, NotFound) as error:
        await bot.send_message(chat_id, error_text(error))
        return
    await state.clear()
    body = await profile_text(session, draft, locale, volunteer.status)
    await bot.send_message(
        chat_id,
        _("Saved. Your profile now reads:") + "\n\n" + body,
        reply_markup=ReplyKeyboardRemove(),
    )


async def start(
    message: Message, bot: Bot, state: FSMContext, session: AsyncSession, i18n: I18n
) -> None:
    assert message.from_user is not None
    volunteer = await volunteers.get(session, message.from_user.id)
    if volunteer is not None:
        await state.clear()
        await message.answer(
            _("Welcome back, {name}! Send /help to see what you can do.").format(
                name=html.quote(volunteer.real_name or "")
            ),
            reply_markup=ReplyKeyboardRemove(),
        )
        return
    await begin(bot, message.chat.id, state, locale=i18n.current_locale)


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
    await users.set_locale(session, user, callback_data.code)
    i18n.current_locale = callback_data.code
    await callback.answer(labels.LANGUAGES[callback_data.code])
    draft, mode = await _draft(state)
    if callback.message is not None:
        await bot.edit_message_reply_markup(
            chat_id=callback.from_user.id, message_id=callback.message.message_id
        )
    await advance(bot, callback.from_user.id, state, session, draft, mode, callback_data.code)


async def name_typed(
    message: Message, bot: Bot, state: FSMContext, session: AsyncSession, i18n: I18n
) -> None:
    assert message.text is not None and message.from_user is not None
    try:
        name = volunteers.clean_name(message.text)
    except InvalidInput as error:
        await message.answer(error_text(error))
        return
    draft, mode = await _draft(state)
    draft.real_name = name
    await advance(bot, message.chat.id, state, session, draft, mode, i18n.current_locale)


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
    parse: Any,
) -> None:
    assert message.from_user is not None
    try:
        phone = parse()
    except InvalidInput as error:
        await message.answer(error_text(error), reply_markup=kb.share_phone())
        return
    draft, mode = await _draft(state)
    draft.phone = phone
    await message.answer(
        _("Phone number noted: {phone}").format(phone=display_phone(phone)),
        reply_markup=ReplyKeyboardRemove(),
    )
    await advance(bot, message.chat.id, state, session, draft, mode, i18n.current_locale)


async def station_walk(
    callback: CallbackQuery,
    callback_data: StationCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    locale = i18n.current_locale
    message = callback.message
    try:
        if callback_data.action == "p":
            node = await stations.get(session, callback_data.id)
            if node.children and node.level not in kb.PICKABLE:
                await callback.answer(_("Please choose a street or community."))
                return
            await callback.answer()
            draft, mode = await _draft(state)
            draft.station_id = node.id
            if message is not None:
                await bot.edit_message_text(
                    _("Home station: {path}").format(
                        path=await station_path(session, node.id, locale)
                    ),
                    chat_id=callback.from_user.id,
                    message_id=message.message_id,
                )
            if mode == NEW:  # skills come right after the station in a new registration
                await _store(state, draft)
                await ask("skills", bot, callback.from_user.id, state, session, draft, locale)
            else:
                await advance(bot, callback.from_user.id, state, session, draft, mode, locale)
            return
        target: int | None = callback_data.id or None
        if callback_data.action == "u" and target is not None:
            target = (await stations.get(session, target)).parent_id
        text, markup = await _station_view(session, target, callback_data.page, locale)
    except NotFound as error:
        await callback.answer(error_text(error), show_alert=True)
        return
    await callback.answer()
    if message is not None:
        await bot.edit_message_text(
            text,
            chat_id=callback.from_user.id,
            message_id=message.message_id,
            reply_markup=markup,
        )


async def skill_toggled(
    callback: CallbackQuery,
    callback_data: SkillCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    draft, mode = await _draft(state)
    message = callback.message
    if callback_data.code == "done":
        await callback.answer()
        if message is not None:
            chosen = join(str(labels.SKILLS[s]) for s in draft.skills) or _("none chosen")
            await bot.edit_message_text(
                _("Skills: {skills}").format(skills=chosen),
                chat_id=callback.from_user.id,
                message_id=message.message_id,
            )
        await advance(bot, callback.from_user.id, state, session, draft, mode, i18n.current_locale)
        return
    if callback_data.code not in labels.SKILLS:
        await callback.answer()
        return
    chosen_set = set(draft.skills) ^ {callback_data.code}
    draft.skills = [s for s in volunteers.SKILLS if s in chosen_set]
    await _store(state, draft)
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
    await callback.answer()
    draft, mode = await _draft(state)
    if draft.age_group != group.value:
        draft.guardian_consent = False
    draft.age_group = group.value
    if callback.message is not None:
        await bot.edit_message_text(
            _("Age group: {age}").format(age=labels.AGE_GROUPS[group]),
            chat_id=callback.from_user.id,
            message_id=callback.message.message_id,
        )
    if group is not AgeGroup.TEEN:
        draft.guardian_name = draft.guardian_phone = None
        draft.guardian_consent = False
    await advance(bot, callback.from_user.id, state, session, draft, mode, i18n.current_locale)


async def guardian_name_typed(
    message: Message, bot: Bot, state: FSMContext, session: AsyncSession, i18n: I18n
) -> None:
    assert message.from_user is not None
    try:
        name = volunteers.clean_name(message.text or "")
    except InvalidInput:
        await message.answer(
            _("Please type your guardian's full name: 2 to 40 characters, without digits.")
        )
        return
    draft, mode = await _draft(state)
    draft.guardian_name = name
    await advance(bot, message.chat.id, state, session, draft, mode, i18n.current_locale)


async def guardian_phone_typed(
    message: Message, bot: Bot, state: FSMContext, session: AsyncSession, i18n: I18n
) -> None:
    assert message.from_user is not None
    try:
        phone = phones.normalize_mobile(message.text or "")
    except InvalidInput:
        await message.answer(
            _(
                "That does not look like a mainland mobile number. Please type your "
                "guardian's 11 digits, such as 13912345678."
            )
        )
        return
    draft, mode = await _draft(state)
    draft.guardian_phone = phone
    await advance(bot, message.chat.id, state, session, draft, mode, i18n.current_locale)


async def guardian_agreed(
    callback: CallbackQuery, bot: Bot, state: FSMContext, session: AsyncSession, i18n: I18n
) -> None:
    await callback.answer()
    draft, mode = await _draft(state)
    draft.guardian_consent = True
    if callback.message is not None:
        await bot.edit_message_reply_markup(
            chat_id=callback.from_user.id, message_id=callback.message.message_id
        )
    await advance(bot, callback.from_user.id, state, session, draft, mode, i18n.current_locale)


async def privacy_answered(
    callback: CallbackQuery,
    callback_data: ConsentCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    await callback.answer()
    if callback.message is not None:
        await bot.edit_message_reply_markup(
            chat_id=callback.from_user.id, message_id=callback.message.message_id
        )
    if callback_data.what != "privacy_yes":
        await state.clear()
        await bot.send_message(
            callback.from_user.id,
            _(
                "Understood. Without your consent we cannot register you, and nothing "
                "has been saved. Send /start if you change your mind."
            ),
        )
        return
    draft, mode = await _draft(state)
    draft.privacy_consent = True
    await advance(bot, callback.from_user.id, state, session, draft, mode, i18n.current_locale)


async def summary_action(
    callback: CallbackQuery,
    callback_data: SummaryCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    await callback.answer()
    chat_id = callback.from_user.id
    message = callback.message
    if message is not None:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message.message_id)
    draft, _mode = await _draft(state)
    if callback_data.action == "cancel":
        await state.clear()
        await bot.send_message(chat_id, _("Registration cancelled. Nothing has been saved."))
        return
    if callback_data.action != "ok":
        await state.update_data(mode=EDIT)
        await ask(callback_data.action, bot, chat_id, state, session, draft, i18n.current_locale)
        return
    try:
        volunteer = await volunteers.save(
            session, user_id=chat_id, draft=draft, admin_ids=settings.admin_ids
        )
    except (InvalidInput, NotFound) as error:
        await bot.send_message(chat_id, error_text(error))
        await ask(
            "station" if error.code == "station_not_found" else "summary",
            bot,
            chat_id,
            state,
            session,
            draft,
            i18n.current_locale,
        )
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
    await bot.send_message(chat_id, text.format(name=html.quote(volunteer.real_name or "")))


# Typed answers; a command is never taken as an answer.
ANSWER = F.text & ~F.text.startswith("/")


def make_router() -> Router:
    router = Router(name="registration")
    router.message.filter(F.chat.type == "private")
    router.message.register(start, CommandStart())
    router.callback_query.register(language_chosen, Registration.language, LanguageCb.filter())
    router.message.register(name_typed, Registration.name, ANSWER)
    router.message.register(phone_shared, Registration.phone, F.contact)
    router.message.register(phone_typed, Registration.phone, ANSWER)
    router.callback_query.register(station_walk, Registration.station, StationCb.filter())
    router.callback_query.register(skill_toggled, Registration.skills, SkillCb.filter())
    router.callback_query.register(age_chosen, Registration.age, AgeCb.filter())
    router.message.register(guardian_name_typed, Registration.guardian_name, ANSWER)
    router.message.register(guardian_phone_typed, Registration.guardian_phone, ANSWER)
    router.callback_query.register(
        guardian_agreed, Registration.guardian_consent, ConsentCb.filter(F.what == "guardian_yes")
    )
    router.callback_query.register(privacy_answered, Registration.privacy, ConsentCb.filter())
    router.callback_query.register(summary_action, Registration.summary, SummaryCb.filter())
    return router
