"""The registration's station step: walk the station tree down to one's home station
(a street or a community), a page of children at a time."""

from __future__ import annotations

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.registration.form import REGISTRATION, station_view
from services import stations
from services.errors import NotFound
from ui import screen
from ui.callbacks import StationCb
from ui.errors import error_text
from ui.format import station_path
from ui.keyboards import registration as kb


async def station_walk(
    callback: CallbackQuery,
    callback_data: StationCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    locale = i18n.current_locale
    try:
        if callback_data.action == "p":
            node = await stations.get(session, callback_data.id)
            if node.children and node.level not in kb.PICKABLE:
                await callback.answer(_("Please choose a street or community."))
                return
            run = await REGISTRATION.resume(callback, bot, state, session, i18n)
            if run is None:
                return
            await callback.answer()
            run.draft.station_id = node.id
            path = await station_path(session, node.id, locale)
            await screen.strip(bot, callback, _("Home station: {path}").format(path=path))
            await run.advance("station")
            return
        target: int | None = callback_data.id or None
        if callback_data.action == "u" and target is not None:  # "up", on older buttons
            target = (await stations.get(session, target)).parent_id
        text, markup = await station_view(session, target, callback_data.page, locale)
    except NotFound as error:
        await callback.answer(error_text(error), show_alert=True)
        return
    await screen.replace(callback, bot, text, markup)
