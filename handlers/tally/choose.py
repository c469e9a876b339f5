"""/tally: which station (the station walk, straight to the only one when there is
one) and which period (this week, last week, or a week or dates typed; a period
typed with the command, ``/tally 2026-W47``, rides along the walk)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from aiogram import Bot
from aiogram.filters import CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.tally.screen import tally_view, view_data
from services.access import Actor
from services.errors import InvalidInput
from services.periods import Period, parse_period
from ui import period_picker, station_period, station_picker
from ui.callbacks import TallyStationCb, TallyTypeCb
from ui.settings import Settings
from ui.states import TallyDialog

FIGURES: station_period.Figures[Period] = station_period.Figures(
    question=station_picker.Question(
        top=lambda: _(
            "The tally of which station? It counts every station under it too. "
            "Tap a name to open it."
        ),
        at=lambda: _("The tally of which station? {path}"),
    ),
    station_data=TallyStationCb,
    heading=lambda: _("The tally of {path}. Which period?"),
    keyboard=period_picker.keyboard,
    pick=lambda station_id, period: view_data("t", station_id, period),
    typed=lambda station_id: TallyTypeCb(station=station_id),
    dialog=TallyDialog.period,
    key="tally_station",
    ask=period_picker.ask,
    read=period_picker.read,
    explain=period_picker.error,
    view=tally_view,
)


def _riding(first: int, last: int) -> Callable[..., CallbackData]:
    """The walk's buttons, with the period typed with the command riding along."""
    return functools.partial(TallyStationCb, first=first, last=last)


async def start(
    message: Message,
    command: CommandObject,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    view = await FIGURES.scope(message, state, session, actor)
    if view is None:
        return
    period: Period | None = None
    if command.args and command.args.strip():
        try:
            period = parse_period(command.args)
        except InvalidInput as error:
            await message.answer(period_picker.error(error))
            return
    first, last = period_picker.ordinals(period) if period else (0, 0)
    await FIGURES.lead(message, bot, session, settings, actor, view, period, _riding(first, last))


async def station_walked(
    callback: CallbackQuery,
    callback_data: TallyStationCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    first, last = callback_data.first, callback_data.last
    await FIGURES.walked(
        callback,
        bot,
        session,
        settings,
        actor,
        action=callback_data.action,
        station_id=callback_data.id,
        page=callback_data.page,
        chosen=period_picker.from_button(first, last) if first else None,
        factory=_riding(first, last),
    )


async def not_text(message: Message) -> None:
    await message.answer(period_picker.unreadable())
