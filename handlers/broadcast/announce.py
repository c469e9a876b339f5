"""Announcing a published activity: offered after publishing (``announce_button``),
asked once more with the number of recipients, then sent like a broadcast (once per
activity), with the sender's progress message."""

from __future__ import annotations

from aiogram import Bot, html
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.broadcast.progress import start_progress
from services import announcements
from services.access import Actor
from services.errors import InvalidInput, NotAllowed, NotFound
from ui import confirm, screen
from ui.callbacks import AnnounceCb
from ui.errors import error_text, refuse
from ui.format import station_path
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.settings import Settings


def announce_button(activity_id: int) -> InlineKeyboardMarkup:
    """Offered after publishing, to those who may broadcast there."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📣 Announce to volunteers"), callback_data=AnnounceCb(activity=activity_id))
    return kb.as_markup()


async def announce_pressed(
    callback: CallbackQuery,
    callback_data: AnnounceCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    """Ask first, with the number of recipients; then announce (once per activity)."""
    if callback_data.action == "no":
        await callback.answer()
        await screen.strip(bot, callback)
        await bot.send_message(actor.id, _("Not announced. Nothing was sent."))
        return
    if callback_data.action == "yes":
        await _announce(callback, callback_data.activity, bot, session, settings, actor)
        return
    try:
        activity, count = await announcements.announcement_audience(
            session, actor=actor, activity_id=callback_data.activity
        )
    except NotAllowed:
        await refuse(callback)
        return
    except (InvalidInput, NotFound) as error:
        await callback.answer(error_text(error, plain=True), show_alert=True)
        return
    await callback.answer()
    if not count:
        await bot.send_message(actor.id, error_text(InvalidInput("no_recipients")))
        return
    markup = confirm.keyboard(
        yes=AnnounceCb(activity=callback_data.activity, action="yes"),
        yes_text=ngettext(
            "📣 Announce to {n} volunteer", "📣 Announce to {n} volunteers", count
        ).format(n=count),
        no=AnnounceCb(activity=callback_data.activity, action="no"),
        no_text=_("Not now"),
    )
    path = await station_path(session, activity.station_id, actor.locale)
    await bot.send_message(
        actor.id,
        ngettext(
            "Announce <b>{title}</b> to {n} volunteer of {path}? They get the activity's "
            "details with a Join button.",
            "Announce <b>{title}</b> to {n} volunteers of {path}? They get the activity's "
            "details with a Join button.",
            count,
        ).format(title=html.quote(activity.title), n=count, path=path),
        reply_markup=markup,
    )


async def _announce(
    callback: CallbackQuery,
    activity_id: int,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    try:
        created = await announcements.announce(session, actor=actor, activity_id=activity_id)
    except NotAllowed:
        await refuse(callback)
        return
    except (InvalidInput, NotFound) as error:
        await callback.answer(error_text(error, plain=True), show_alert=True)
        await screen.strip(bot, callback)
        return
    await callback.answer()
    await screen.strip(bot, callback)
    if not created.new:
        await bot.send_message(actor.id, _("This activity has been announced already."))
        return
    await start_progress(bot, session, settings, actor.id, created, actor.locale)
