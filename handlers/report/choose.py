"""/report: which station (the station walk, straight to the only one when there is
one) and which month, quarter or year (buttons, or typed; a period typed with the
command, ``/report 2026-Q3``, rides along the walk)."""

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

from handlers.report.screen import report_view, view_data
from services.access import Actor
from services.errors import InvalidInput
from services.report_periods import ReportPeriod
from ui import period_picker, station_period, station_picker
from ui.callbacks import ReportStationCb, ReportTypeCb
from ui.settings import Settings
from ui.states import ReportDialog

FIGURES: station_period.Figures[ReportPeriod] = station_period.Figures(
    question=station_picker.Question(
        top=lambda: _(
            "The report of which station? It counts every station under it too. "
            "Tap a name to open it."
        ),
        at=lambda: _("The report of which station? {path}"),
    ),
    station_data=ReportStationCb,
    heading=lambda: _("The report of {path}. Which month, quarter or year?"),
    keyboard=period_picker.calendar_keyboard,
    pick=lambda station_id, chosen: view_data("t", station_id, chosen),
    typed=lambda station_id: ReportTypeCb(station=station_id),
    dialog=ReportDialog.period,
    key="report_station",
    ask=period_picker.ask_calendar,
    read=period_picker.read_calendar,
    explain=period_picker.calendar_error,
    view=report_view,
)


def _riding(chosen: ReportPeriod | None) -> Callable[..., CallbackData]:
    """The walk's buttons, with the period typed with the command riding along."""
    riding = (
        {"span": chosen.span.value, "year": chosen.year, "number": chosen.number} if chosen else {}
    )
    return functools.partial(ReportStationCb, **riding)


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
    chosen: ReportPeriod | None = None
    if command.args and command.args.strip():
        try:
            chosen = period_picker.read_calendar(
                command.args, await station_period.today(session, None, settings.timezone)
            )
        except InvalidInput as error:
            await message.answer(period_picker.calendar_error(error))
            return
    await FIGURES.lead(message, bot, session, settings, actor, view, chosen, _riding(chosen))


async def station_walked(
    callback: CallbackQuery,
    callback_data: ReportStationCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    chosen = (
        period_picker.from_calendar_button(
            callback_data.span, callback_data.year, callback_data.number
        )
        if callback_data.span
        else None
    )
    await FIGURES.walked(
        callback,
        bot,
        session,
        settings,
        actor,
        action=callback_data.action,
        station_id=callback_data.id,
        page=callback_data.page,
        chosen=chosen,
        factory=_riding(chosen),
    )


async def not_text(message: Message) -> None:
    await message.answer(period_picker.unreadable_calendar())
