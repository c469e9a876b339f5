"""/broadcast, second half: the text, a preview with the number of recipients (change
the text, or cancel), and send; the sender's progress message follows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.broadcast.progress import quiet_hours_line, start_progress
from handlers.broadcast.renderers import message_text, station_name
from services import broadcasts
from services.access import Actor
from services.errors import InvalidInput, NotAllowed, NotFound
from services.volunteers import SKILLS
from ui import labels, prompt, screen
from ui.callbacks import BcPreviewCb
from ui.errors import error_text, no_longer_active, refuse
from ui.format import join, station_path
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.settings import Settings
from ui.states import BroadcastDialog


async def dialog_data(state: FSMContext) -> dict[str, Any] | None:
    """The dialog's data once a station is chosen; None for a dialog gone."""
    data = await state.get_data()
    return data if "station_id" in data and "started_at" in data else None


async def ask_text(bot: Bot, chat_id: int) -> None:
    await bot.send_message(
        chat_id,
        _(
            "Type your message (at most {max} characters). It is sent as plain text, under "
            "a heading with the station's name; you will see a preview first."
        ).format(max=broadcasts.TEXT_MAX),
    )


def preview_keyboard(count: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=ngettext("📣 Send to {n} volunteer", "📣 Send to {n} volunteers", count).format(
            n=count
        ),
        callback_data=BcPreviewCb(action="send"),
    )
    kb.button(text=_("✏️ Change the text"), callback_data=BcPreviewCb(action="text"))
    kb.button(text=_("✖️ Cancel"), callback_data=BcPreviewCb(action="cancel"))
    kb.adjust(1, 2)
    return kb.as_markup()


async def text_typed(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    if await dialog_data(state) is None:
        await state.clear()
        await message.answer(no_longer_active())
        return
    text = await prompt.take(message, broadcasts.clean_text)
    if text is None:
        return
    await state.update_data(text=text)
    await show_preview(bot, actor.id, state, session, settings, actor.locale)


async def not_text(message: Message) -> None:
    await message.answer(
        _("Please type the message as text: photos, stickers and files cannot be broadcast.")
    )


async def show_preview(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    locale: str,
) -> None:
    data = await state.get_data()
    station_id = int(data["station_id"])
    skills = [s for s in data.get("skills", []) if s in SKILLS]
    count = await broadcasts.count_recipients(session, station_id=station_id, skills=skills)
    path = await station_path(session, station_id, locale)
    if skills:
        audience = ngettext(
            "<b>Preview.</b> {n} volunteer of {path} with any of these skills will get "
            "it: {skills}.",
            "<b>Preview.</b> {n} volunteers of {path} with any of these skills will get "
            "it: {skills}.",
            count,
        ).format(n=count, path=path, skills=join(str(labels.SKILLS[s]) for s in skills))
    else:
        audience = ngettext(
            "<b>Preview.</b> {n} volunteer of {path} will get it.",
            "<b>Preview.</b> {n} volunteers of {path} will get it.",
            count,
        ).format(n=count, path=path)
    station = await station_name(session, station_id, locale)
    lines = [
        audience,
        *quiet_hours_line(settings),
        "",
        "――――――",
        message_text(station, str(data["text"])),
    ]
    await state.set_state(BroadcastDialog.preview)
    await bot.send_message(chat_id, "\n".join(lines), reply_markup=preview_keyboard(count))


async def preview_action(
    callback: CallbackQuery, callback_data: BcPreviewCb, bot: Bot, state: FSMContext
) -> None:
    await callback.answer()
    await screen.strip(bot, callback)
    if callback_data.action == "text":
        await state.set_state(BroadcastDialog.text)
        await ask_text(bot, callback.from_user.id)
        return
    await state.clear()
    await bot.send_message(callback.from_user.id, _("Cancelled. Nothing was sent."))


async def send(
    callback: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    """Send in any state: a replayed or doubled button meets the checks and is told."""
    data = await dialog_data(state)
    if (
        data is None
        or "text" not in data
        or await state.get_state() != BroadcastDialog.preview.state
    ):
        await callback.answer(no_longer_active())
        return
    try:
        created = await broadcasts.create(
            session,
            actor=actor,
            station_id=int(data["station_id"]),
            skills=[str(s) for s in data.get("skills", [])],
            text=str(data["text"]),
            since=datetime.fromisoformat(str(data["started_at"])),
        )
    except NotAllowed:
        await state.clear()
        await refuse(callback)
        return
    except (InvalidInput, NotFound) as error:
        await state.clear()
        await callback.answer()
        await screen.strip(bot, callback)
        await bot.send_message(actor.id, error_text(error))
        return
    await state.clear()
    await callback.answer()
    await screen.strip(bot, callback)
    await start_progress(bot, session, settings, actor.id, created, actor.locale)
