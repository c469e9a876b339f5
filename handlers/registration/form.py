"""The registration form: language, name, phone, home station, skills, age group,
guardian, privacy notice, then the summary. The same steps edit one field of a
saved profile (mode EDIT), which saves when complete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram import Bot, html
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import phones, stations, volunteers
from services.access import Actor
from services.errors import InvalidInput, NotFound
from services.scopes import TOP, ScopeView
from services.volunteers import Draft
from storage.models import AgeGroup
from ui import station_picker
from ui.callbacks import StationCb
from ui.errors import error_text
from ui.form import EDIT, Form, Markup, Run, Step
from ui.format import profile_text, station_path
from ui.keyboards import registration as kb
from ui.states import Registration


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


async def station_view(
    session: AsyncSession, node_id: int | None, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    """One level of the station tree, to walk down to one's home station."""
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
    view = ScopeView(current, list(nodes), current.parent_id or TOP if current else TOP)
    markup = station_picker.keyboard(
        view,
        StationCb,
        page=page,
        locale=locale,
        pickable=lambda node: node.level in kb.PICKABLE,
    )
    return text, markup


# --- the steps ------------------------------------------------------------------------


def _welcome(run: Run[Draft]) -> tuple[str, Markup]:
    return _(
        "Welcome to the volunteer station! Let's register you as a volunteer. "
        "It takes about two minutes; send /cancel at any time to stop.\n\n"
        "First, choose your language:"
    ), kb.languages(current=run.locale)


def _set_name(run: Run[Draft], text: str) -> None:
    run.draft.real_name = volunteers.clean_name(text)


def _set_guardian_name(run: Run[Draft], text: str) -> None:
    run.draft.guardian_name = volunteers.clean_name(text)


def _set_guardian_phone(run: Run[Draft], text: str) -> None:
    run.draft.guardian_phone = phones.normalize_mobile(text)


def _guardian_consent(run: Run[Draft]) -> str:
    return _(
        "Please show this to your guardian. By pressing the button, your guardian "
        "{name} agrees that you take part in volunteer activities of the station "
        "and that the station keeps the data described in the privacy notice."
    ).format(name=html.quote(run.draft.guardian_name or ""))


async def _station(run: Run[Draft]) -> tuple[str, Markup]:
    return await station_view(run.session, None, 0, run.locale)


def _teen(draft: Draft) -> bool:
    return draft.age_group == AgeGroup.TEEN


STEPS: tuple[Step[Draft], ...] = (
    Step(
        "language",
        Registration.language,
        question=_welcome,
        optional=True,
        answered=lambda draft: True,
    ),
    Step(
        "name",
        Registration.name,
        question=lambda run: _(
            "What is your real name? Staff use it for attendance and service certificates."
        ),
        keyboard=lambda run: ReplyKeyboardRemove(),
        parse=_set_name,
        answered=lambda draft: bool(draft.real_name),
    ),
    Step(
        "phone",  # answered by its own handlers (a shared contact, or typed)
        Registration.phone,
        question=lambda run: _(
            "Your mobile phone number, so station staff can reach you about "
            "activities. Tap the button below, or type it."
        ),
        keyboard=lambda run: kb.share_phone(),
        retry_keyboard=True,
        answered=lambda draft: bool(draft.phone),
    ),
    Step(
        "station",
        Registration.station,
        question=_station,
        answered=lambda draft: draft.station_id is not None,
    ),
    Step(
        "skills",
        Registration.skills,
        question=lambda run: _(
            "Which skills can you offer? Tap all that apply, then Done. "
            "You can also skip with Done."
        ),
        keyboard=lambda run: kb.skills(run.draft.skills),
        optional=True,
    ),
    Step(
        "age",
        Registration.age,
        question=lambda run: _("Your age group:"),
        keyboard=lambda run: kb.age_groups(),
        answered=lambda draft: draft.age_group is not None,
    ),
    Step(
        "guardian_name",
        Registration.guardian_name,
        question=lambda run: _(
            "Volunteers aged 14 to 17 need a parent's or guardian's consent. "
            "What is your guardian's full name?"
        ),
        keyboard=lambda run: ReplyKeyboardRemove(),
        parse=_set_guardian_name,
        when=_teen,
        answered=lambda draft: bool(draft.guardian_name),
        error=lambda error: _(
            "Please type your guardian's full name: 2 to 40 characters, without digits."
        ),
    ),
    Step(
        "guardian_phone",
        Registration.guardian_phone,
        question=lambda run: _("Your guardian's mobile phone number:"),
        parse=_set_guardian_phone,
        when=_teen,
        answered=lambda draft: bool(draft.guardian_phone),
        error=lambda error: _(
            "That does not look like a mainland mobile number. Please type your "
            "guardian's 11 digits, such as 13912345678."
        ),
    ),
    Step(
        "guardian_consent",
        Registration.guardian_consent,
        question=_guardian_consent,
        keyboard=lambda run: kb.guardian_consent(),
        when=_teen,
        answered=lambda draft: draft.guardian_consent,
    ),
    Step(
        "privacy",
        Registration.privacy,
        question=lambda run: privacy_notice(),
        keyboard=lambda run: kb.privacy(),
        answered=lambda draft: draft.privacy_consent,
    ),
)


async def _summary(run: Run[Draft]) -> tuple[str, Markup]:
    body = await profile_text(run.session, run.draft, run.locale)
    return _("<b>Please check your registration</b>") + "\n\n" + body, kb.summary()


async def _save_profile(run: Run[Draft]) -> None:
    """A profile field edited (and any step it made necessary): save it."""
    try:
        volunteer = await volunteers.save(
            run.session, actor=run.actor or Actor(run.chat_id), draft=run.draft
        )
    except (InvalidInput, NotFound) as error:
        await run.send(error_text(error))
        return
    await run.state.clear()
    body = await profile_text(run.session, run.draft, run.locale, volunteer.status)
    await run.send(_("Saved. Your profile now reads:") + "\n\n" + body, ReplyKeyboardRemove())


def _load(data: Mapping[str, Any] | None) -> Draft:
    return Draft.from_dict(dict(data or {}))


REGISTRATION: Form[Draft] = Form(
    name="registration",
    steps=STEPS,
    load=_load,
    dump=Draft.to_dict,
    preview_state=Registration.summary,
    preview=_summary,
    finish=_save_profile,
)


async def begin(
    bot: Bot, chat_id: int, state: FSMContext, session: AsyncSession, *, locale: str
) -> None:
    """Start a new registration with the language step."""
    await REGISTRATION.start(bot, chat_id, state, session, locale=locale, draft=Draft())


async def begin_profile_edit(
    bot: Bot, chat_id: int, state: FSMContext, session: AsyncSession, *, field: str, locale: str
) -> None:
    """Edit one field of a saved profile with the same step as registration."""
    volunteer = await volunteers.get(session, chat_id)
    if volunteer is None:
        await bot.send_message(chat_id, _("You are not registered yet. Send /start to register."))
        return
    await REGISTRATION.start(
        bot,
        chat_id,
        state,
        session,
        locale=locale,
        draft=volunteers.draft_of(volunteer),
        mode=EDIT,
        field=field,
    )
