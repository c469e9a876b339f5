"""The answer to a seat held for a volunteer from the waitlist: Yes, I'll come, or
No, pass it on."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.activities.common import rules
from services import activities
from services.access import Actor
from services.errors import DomainError
from storage.types import utcnow
from ui import screen
from ui.callbacks import OfferCb
from ui.errors import error_text
from ui.settings import Settings


async def answer_offer(
    callback: CallbackQuery,
    callback_data: OfferCb,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    try:
        await activities.answer_offer(
            session,
            user_id=actor.id,
            activity_id=callback_data.activity,
            accept=callback_data.accept,
            now=utcnow(),
            rules=rules(settings),
        )
    except DomainError as error:
        await callback.answer(error_text(error, plain=True), show_alert=True)
        return
    await callback.answer()
    await screen.strip(bot, callback)
    if callback_data.accept:
        await bot.send_message(actor.id, _("✅ The seat is yours. See you there!"))
    else:
        await bot.send_message(
            actor.id, _("Thank you for letting us know; the seat goes to the next person waiting.")
        )
