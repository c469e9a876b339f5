"""Catch-alls: every private update that no feature router took gets a short, helpful
answer (groups are handlers.groups's). This router must be included last."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from ui.errors import no_longer_active


async def edited(message: Message) -> None:
    if message.chat.type == "private":
        await message.answer(_("I do not read edited messages. Please send it again."))


async def unknown_command(message: Message, state: FSMContext) -> None:
    if await state.get_state() is not None:
        await message.answer(
            _(
                "That command is not available here. Answer the question above, "
                "or send /cancel to leave this dialog."
            )
        )
        return
    await message.answer(_("I do not know that command. /help lists what you can do."))


async def anything_else(message: Message, state: FSMContext) -> None:
    if await state.get_state() is not None:
        await message.answer(
            _(
                "Please answer the question above, using its buttons where it has them, "
                "or send /cancel to leave this dialog."
            )
        )
    elif message.text:
        await message.answer(_("Send /help to see what I can do."))
    else:
        await message.answer(
            _("I can only read text messages and buttons. /help lists what you can do.")
        )


async def stale_button(callback: CallbackQuery) -> None:
    await callback.answer(no_longer_active(), show_alert=False)


def make_router() -> Router:
    router = Router(name="fallback")
    router.edited_message.register(edited)
    router.message.register(unknown_command, F.text.startswith("/"))
    router.message.register(anything_else)
    router.callback_query.register(stale_button)
    return router
