"""/mydata: a copy of everything kept about one, as a JSON file; /delete_me: erasing
it, asked first."""

from __future__ import annotations

import json

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.activities import rules
from services import personal_data
from services.access import Actor
from storage.types import utcnow
from ui import confirm, screen
from ui.callbacks import EraseCb
from ui.settings import Settings
from ui.states import Erasure


async def my_data(message: Message, session: AsyncSession, actor: Actor) -> None:
    data = await personal_data.export_data(session, actor.id)
    document = json.dumps(data, ensure_ascii=False, indent=2).encode()
    await message.answer_document(
        BufferedInputFile(document, filename=f"my-data-{actor.id}.json"),
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
        reply_markup=confirm.keyboard(
            yes=EraseCb(confirm=True),
            yes_text=_("🗑 Yes, erase my data"),
            no=EraseCb(confirm=False),
            no_text=_("Keep my data"),
        ),
    )


async def erase(
    callback: CallbackQuery,
    callback_data: EraseCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    await callback.answer()
    await state.clear()
    chat_id = actor.id
    await screen.strip(bot, callback)
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
