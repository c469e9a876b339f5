"""/broadcast, first half: staff choose the station (the station walk: its volunteers
and those of every station under it) and, if they like, skills (anyone with at least
one of them gets it); then the text (``compose``)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.broadcast.compose import ask_text, dialog_data
from services import broadcasts, scopes
from services.access import Actor, Permission
from services.errors import NotAllowed, NotFound
from services.volunteers import SKILLS
from storage.types import utcnow
from ui import labels, screen, station_picker
from ui.callbacks import BcSkillCb, BcStationCb
from ui.errors import error_text, no_longer_active, refuse
from ui.format import station_path
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.states import BroadcastDialog

QUESTION = station_picker.Question(
    top=lambda: _(
        "To the volunteers of which station? Those of the stations under it get it "
        "too. Tap a name to open it."
    ),
    at=lambda: _("To the volunteers of which station? {path}"),
)


def skills_keyboard(chosen: Sequence[str]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code in SKILLS:
        mark = "✅ " if code in chosen else ""
        kb.button(text=mark + str(labels.SKILLS[code]), callback_data=BcSkillCb(code=code))
    kb.button(text=_("Done ➡️") if chosen else _("Everyone ➡️"), callback_data=BcSkillCb(code="done"))
    kb.adjust(*([2] * (len(SKILLS) // 2)), 1)
    return kb.as_markup()


# The station walk's screen: walk(session, actor=, station_id=, page=).
walk = functools.partial(
    station_picker.walk, permission=Permission.BROADCAST, factory=BcStationCb, question=QUESTION
)


async def start(
    message: Message, bot: Bot, state: FSMContext, session: AsyncSession, actor: Actor
) -> None:
    try:
        view = await scopes.view(session, actor=actor, permission=Permission.BROADCAST)
    except NotAllowed:
        await refuse(message)
        return
    await state.clear()
    await state.set_state(BroadcastDialog.station)
    await state.set_data({"started_at": utcnow().isoformat()})
    if view.current is None and len(view.nodes) == 1 and not view.nodes[0].children:
        await _station_picked(bot, actor, state, session, view.nodes[0].id)
        return
    text, markup = await walk(session, actor=actor, station_id=scopes.TOP, page=0)
    await message.answer(text, reply_markup=markup)


async def station_walked(
    callback: CallbackQuery,
    callback_data: BcStationCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
) -> None:
    if callback_data.action == "p":
        if await _refused(callback, session, actor, callback_data.id):
            return
        await callback.answer()
        await screen.strip(bot, callback)
        await _station_picked(bot, actor, state, session, callback_data.id)
        return
    try:
        text, markup = await walk(
            session, actor=actor, station_id=callback_data.id, page=callback_data.page
        )
    except NotAllowed:
        await refuse(callback)
        return
    except NotFound as error:
        await callback.answer(error_text(error, plain=True), show_alert=True)
        return
    await screen.replace(callback, bot, text, markup)


async def _refused(
    callback: CallbackQuery, session: AsyncSession, actor: Actor, station_id: int
) -> bool:
    """Whether the actor may not broadcast to the station now (after telling them)."""
    try:
        await broadcasts.require(session, actor=actor, station_id=station_id)
    except NotAllowed:
        await refuse(callback)
        return True
    except NotFound as error:
        await callback.answer(error_text(error, plain=True), show_alert=True)
        return True
    return False


async def _station_picked(
    bot: Bot, actor: Actor, state: FSMContext, session: AsyncSession, station_id: int
) -> None:
    await state.update_data(station_id=station_id, skills=[])
    await state.set_state(BroadcastDialog.skills)
    await bot.send_message(
        actor.id,
        _(
            "To the volunteers of {path}.\n\nOnly those with certain skills? Tap the skills "
            "(anyone with at least one of them gets it), or go on to write to everyone."
        ).format(path=await station_path(session, station_id, actor.locale)),
        reply_markup=skills_keyboard([]),
    )


async def skill_toggled(
    callback: CallbackQuery,
    callback_data: BcSkillCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
) -> None:
    data = await dialog_data(state)
    if data is None:
        await callback.answer(no_longer_active())
        return
    station_id = int(data["station_id"])
    if await _refused(callback, session, actor, station_id):
        return
    chosen = [s for s in data.get("skills", []) if s in SKILLS]
    if callback_data.code != "done":
        if callback_data.code not in SKILLS:
            await callback.answer(no_longer_active())
            return
        if callback_data.code in chosen:
            chosen.remove(callback_data.code)
        else:
            chosen.append(callback_data.code)
        chosen = broadcasts.check_skills(chosen)
        await state.update_data(skills=chosen)
        await callback.answer()
        if callback.message is not None:
            await bot.edit_message_reply_markup(
                chat_id=actor.id,
                message_id=callback.message.message_id,
                reply_markup=skills_keyboard(chosen),
            )
        return
    count = await broadcasts.count_recipients(session, station_id=station_id, skills=chosen)
    await callback.answer()
    if not count:
        await bot.send_message(
            actor.id,
            _(
                "No active volunteers of that station match. Choose other skills above, "
                "or send /cancel."
            ),
        )
        return
    await screen.strip(bot, callback)
    await state.set_state(BroadcastDialog.text)
    await ask_text(bot, actor.id)
