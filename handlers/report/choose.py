"""/report: which station (the station walk, straight to the only one when there is
one) and which month, quarter or year (buttons, or typed; a period typed with the
command, ``/report 2026-Q3``, rides along the walk)."""

from __future__ import annotations

import functools
from datetime import date

from aiogram import Bot
from aiogram.filters import CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.report.screen import report_view, send_report, view_data
from handlers.tally.screen import gone, problem
from services import scopes, stations
from services.access import Actor, Permission
from services.errors import InvalidInput, NotAllowed, NotFound
from services.report_periods import ReportPeriod
from storage.types import utcnow
from ui import period_picker, prompt, screen, station_picker
from ui.callbacks import ReportStationCb, ReportTypeCb
from ui.errors import no_longer_active, refuse
from ui.format import station_path
from ui.settings import Settings
from ui.states import ReportDialog

QUESTION = station_picker.Question(
    top=lambda: _(
        "The report of which station? It counts every station under it too. Tap a name to open it."
    ),
    at=lambda: _("The report of which station? {path}"),
)


async def _today(session: AsyncSession, station_id: int | None, settings: Settings) -> date:
    zone = await stations.zone(session, station_id, settings.timezone)
    return utcnow().astimezone(zone).date()


async def start(
    message: Message,
    command: CommandObject,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    try:
        view = await scopes.view(session, actor=actor, permission=Permission.VIEW_TALLIES)
    except NotAllowed:
        await refuse(message)
        return
    if await state.get_state() == ReportDialog.period.state:
        await state.clear()
    chosen: ReportPeriod | None = None
    if command.args and command.args.strip():
        try:
            chosen = period_picker.read_calendar(
                command.args, await _today(session, None, settings)
            )
        except InvalidInput as error:
            await message.answer(period_picker.calendar_error(error))
            return
    if view.current is None and not view.nodes:
        await message.answer(station_picker.empty())
        return
    if view.current is None and len(view.nodes) == 1:
        only = view.nodes[0]
        if chosen is not None:
            await send_report(
                bot, message.chat.id, session, settings, only.id, chosen, actor.locale
            )
        else:
            await ask_period(bot, message.chat.id, session, settings, only.id, actor.locale)
        return
    text, markup = await _walk(session, actor, scopes.TOP, 0, chosen)
    await message.answer(text, reply_markup=markup)


async def _walk(
    session: AsyncSession,
    actor: Actor,
    station_id: int,
    page: int,
    chosen: ReportPeriod | None,
) -> tuple[str, InlineKeyboardMarkup]:
    riding = (
        {"span": chosen.span.value, "year": chosen.year, "number": chosen.number} if chosen else {}
    )
    return await station_picker.walk(
        session,
        actor=actor,
        permission=Permission.VIEW_TALLIES,
        station_id=station_id,
        page=page,
        factory=functools.partial(ReportStationCb, **riding),
        question=QUESTION,
    )


async def ask_period(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    settings: Settings,
    station_id: int,
    locale: str,
    callback: CallbackQuery | None = None,
) -> None:
    today = await _today(session, station_id, settings)
    tree = await stations.tree(session)
    text = _("The report of {path}. Which month, quarter or year?").format(
        path=await station_path(session, station_id, locale)
    )
    extra = []
    if tree.children.get(station_id):
        extra.append((_("🏢 Another station"), ReportStationCb(action="o", id=station_id)))
    markup = period_picker.calendar_keyboard(
        today,
        locale,
        pick=lambda chosen: view_data("t", station_id, chosen),
        typed=ReportTypeCb(station=station_id),
        extra=extra,
    )
    await screen.show(bot, chat_id, text, markup, callback=callback)


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
    if callback_data.action == "p":
        if refusal := await problem(session, actor, callback_data.id):
            await callback.answer(refusal, show_alert=True)
            return
        if chosen is None:
            await ask_period(
                bot, actor.id, session, settings, callback_data.id, actor.locale, callback=callback
            )
            return
        try:
            text, markup = await report_view(
                session, callback_data.id, chosen, actor.locale, settings.timezone
            )
        except NotFound:
            await callback.answer(gone(), show_alert=True)
            return
        await screen.replace(callback, bot, text, markup)
        return
    try:
        text, markup = await _walk(session, actor, callback_data.id, callback_data.page, chosen)
    except NotAllowed:
        await refuse(callback)
        return
    except NotFound:
        await callback.answer(gone(), show_alert=True)
        return
    await screen.replace(callback, bot, text, markup)


# --- a period typed -----------------------------------------------------------------


async def type_asked(
    callback: CallbackQuery,
    callback_data: ReportTypeCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
) -> None:
    if refusal := await problem(session, actor, callback_data.station):
        await callback.answer(refusal, show_alert=True)
        return
    await callback.answer()
    await state.set_state(ReportDialog.period)
    await state.update_data(report_station=callback_data.station)
    await bot.send_message(actor.id, period_picker.ask_calendar())


async def period_typed(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    station_id = (await state.get_data()).get("report_station")
    if not isinstance(station_id, int):
        await state.clear()
        await message.answer(no_longer_active())
        return
    today = await _today(session, station_id, settings)
    chosen = await prompt.take(
        message,
        lambda text: period_picker.read_calendar(text, today),
        explain=period_picker.calendar_error,
    )
    if chosen is None:
        return
    await state.clear()
    if refusal := await problem(session, actor, station_id):
        await message.answer(refusal)
        return
    await send_report(bot, actor.id, session, settings, station_id, chosen, actor.locale)


async def not_text(message: Message) -> None:
    await message.answer(period_picker.unreadable_calendar())
