"""Add someone to an activity's records after the fact, from its roster: a walk-in
recorded late, a volunteer without a phone or without Telegram. Staff type the name
(and the phone, if there is one), then the time served."""

from __future__ import annotations

from aiogram import Bot, html
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.attendance.common import fail, fail_typed, load
from handlers.attendance.roster_screen import roster_view
from services import backfill
from services.access import Actor
from services.attendance_values import length_minutes, parse_minutes
from services.errors import DomainError, InvalidInput
from storage.models import ActivityStatus
from storage.types import utcnow
from ui import prompt
from ui.callbacks import RosterAddCb
from ui.durations import duration
from ui.format import display_phone
from ui.settings import Settings
from ui.states import BackfillDialog


async def add_pressed(
    callback: CallbackQuery,
    callback_data: RosterAddCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
    actor: Actor,
) -> None:
    locale = i18n.current_locale
    try:
        found = await load(session, settings, actor, callback_data.activity)
        activity = found.activity
        if activity.status is ActivityStatus.CANCELLED:
            raise InvalidInput("activity_cancelled", title=activity.title)
        if found.now < activity.starts_at:
            raise InvalidInput(
                "activity_not_started",
                title=activity.title,
                at=activity.starts_at,
                station=activity.station_id,
            )
    except DomainError as error:
        await fail(callback, bot, error, session, settings, locale)
        return
    await callback.answer()
    await state.set_state(BackfillDialog.person)
    await state.set_data(
        {
            "activity": callback_data.activity,
            "page": callback_data.page,
            "max": length_minutes(activity),
            "title": activity.title,
        }
    )
    await bot.send_message(
        actor.id,
        _(
            "Who is to be added to the records of <b>{title}</b>? Type their name and, "
            "if they have one, their mobile number (for example: 王芳 13800138000). "
            "Someone without Telegram or without a phone can be added too. "
            "Send /cancel to stop."
        ).format(title=html.quote(activity.title)),
    )


async def person_typed(message: Message, state: FSMContext) -> None:
    person = await prompt.take(message, backfill.parse_person)
    if person is None:
        return
    name, phone = person
    remembered = await prompt.kept(
        message, state, lambda data: (int(data["max"]), str(data["title"]))
    )
    if remembered is None:
        return
    maximum, title = remembered
    await state.update_data(name=name, phone=phone)
    await state.set_state(BackfillDialog.minutes)
    who = html.quote(name) + (f" ({display_phone(phone)})" if phone else "")
    await message.answer(
        _(
            "How long did {who} serve at <b>{title}</b>? Type hours (2.5 or 2.5 h) or "
            "minutes (90 min), up to {max}. Send /cancel to stop."
        ).format(who=who, title=html.quote(title), max=duration(maximum))
    )


async def minutes_typed(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
    actor: Actor,
) -> None:
    locale = i18n.current_locale
    remembered = await prompt.kept(
        message,
        state,
        lambda data: (
            int(data["activity"]),
            int(data["page"]),
            int(data["max"]),
            str(data["name"]),
            data.get("phone"),
        ),
    )
    if remembered is None:
        return
    activity_id, page, maximum, name, phone = remembered
    minutes = await prompt.take(message, lambda text: parse_minutes(text, maximum=maximum))
    if minutes is None:
        return
    if minutes == 0:
        await message.answer(
            _("Please type a time above zero, up to {max}.").format(max=duration(maximum))
        )
        return
    try:
        done = await backfill.record_on_behalf(
            session,
            actor=actor,
            activity_id=activity_id,
            name=name,
            phone=str(phone) if phone else None,
            minutes=minutes,
            now=utcnow(),
        )
        found = await load(session, settings, actor, activity_id)
    except DomainError as error:
        await fail_typed(message, state, error, session, settings, locale)
        return
    await state.clear()
    who = html.quote(done.volunteer.real_name or name)
    if not done.changed:
        said = _("{name} was already on the records with {time}.")
    elif done.new_person:
        said = _("Added {name} to the records with {time}, as a new person at the station.")
    else:
        said = _("Added {name} to the records with {time}.")
    text, markup = roster_view(found, page, locale)
    await message.answer(
        said.format(name=who, time=duration(minutes)) + "\n\n" + text, reply_markup=markup
    )
