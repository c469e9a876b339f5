"""/tally: which station (the station walk, straight to the only one when there is
one) and which period (this week, last week, or a week or dates typed; a period
typed with the command, ``/tally 2026-W47``, rides along the walk)."""

from __future__ import annotations

import functools

from aiogram import Bot
from aiogram.filters import CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.tally.screen import gone, problem, send_tally, tally_view, view_data
from services import scopes, stations
from services.access import Actor, Permission
from services.errors import InvalidInput, NotAllowed, NotFound
from services.periods import Period, parse_period
from storage.types import utcnow
from ui import period_picker, prompt, screen, station_picker
from ui.callbacks import TallyStationCb, TallyTypeCb
from ui.errors import no_longer_active, refuse
from ui.format import station_path
from ui.settings import Settings
from ui.states import TallyDialog

QUESTION = station_picker.Question(
    top=lambda: _(
        "The tally of which station? It counts every station under it too. Tap a name to open it."
    ),
    at=lambda: _("The tally of which station? {path}"),
)


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
    if await state.get_state() == TallyDialog.period.state:
        await state.clear()
    period: Period | None = None
    if command.args and command.args.strip():
        try:
            period = parse_period(command.args)
        except InvalidInput as error:
            await message.answer(period_picker.error(error))
            return
    if view.current is None and not view.nodes:
        await message.answer(station_picker.empty())
        return
    if view.current is None and len(view.nodes) == 1:
        only = view.nodes[0]
        if period is not None:
            await send_tally(bot, message.chat.id, session, settings, only.id, period, actor.locale)
        else:
            await ask_period(bot, message.chat.id, session, settings, only.id, actor.locale)
        return
    first, last = period_picker.ordinals(period) if period else (0, 0)
    text, markup = await _walk(session, actor, scopes.TOP, 0, first, last)
    await message.answer(text, reply_markup=markup)


async def _walk(
    session: AsyncSession, actor: Actor, station_id: int, page: int, first: int, last: int
) -> tuple[str, InlineKeyboardMarkup]:
    return await station_picker.walk(
        session,
        actor=actor,
        permission=Permission.VIEW_TALLIES,
        station_id=station_id,
        page=page,
        factory=functools.partial(TallyStationCb, first=first, last=last),
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
    zone = await stations.zone(session, station_id, settings.timezone)
    today = utcnow().astimezone(zone).date()
    tree = await stations.tree(session)
    text = _("The tally of {path}. Which period?").format(
        path=await station_path(session, station_id, locale)
    )
    extra = []
    if tree.children.get(station_id):
        extra.append((_("🏢 Another station"), TallyStationCb(action="o", id=station_id)))
    markup = period_picker.keyboard(
        today,
        locale,
        pick=lambda period: view_data("t", station_id, period),
        typed=TallyTypeCb(station=station_id),
        extra=extra,
    )
    await screen.show(bot, chat_id, text, markup, callback=callback)


async def station_walked(
    callback: CallbackQuery,
    callback_data: TallyStationCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    first, last = callback_data.first, callback_data.last
    if callback_data.action == "p":
        if refusal := await problem(session, actor, callback_data.id):
            await callback.answer(refusal, show_alert=True)
            return
        period = period_picker.from_button(first, last) if first else None
        if period is None:
            await ask_period(
                bot, actor.id, session, settings, callback_data.id, actor.locale, callback=callback
            )
            return
        try:
            text, markup = await tally_view(
                session, callback_data.id, period, actor.locale, settings.timezone
            )
        except NotFound:
            await callback.answer(gone(), show_alert=True)
            return
        await screen.replace(callback, bot, text, markup)
        return
    try:
        text, markup = await _walk(
            session, actor, callback_data.id, callback_data.page, first, last
        )
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
    callback_data: TallyTypeCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
) -> None:
    if refusal := await problem(session, actor, callback_data.station):
        await callback.answer(refusal, show_alert=True)
        return
    await callback.answer()
    await state.set_state(TallyDialog.period)
    await state.update_data(tally_station=callback_data.station)
    await bot.send_message(actor.id, period_picker.ask())


async def period_typed(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    station_id = (await state.get_data()).get("tally_station")
    if not isinstance(station_id, int):
        await state.clear()
        await message.answer(no_longer_active())
        return
    zone = await stations.zone(session, station_id, settings.timezone)
    today = utcnow().astimezone(zone).date()
    period = await prompt.take(
        message, lambda text: period_picker.read(text, today), explain=period_picker.error
    )
    if period is None:
        return
    await state.clear()
    if refusal := await problem(session, actor, station_id):
        await message.answer(refusal)
        return
    await send_tally(bot, actor.id, session, settings, station_id, period, actor.locale)


async def not_text(message: Message) -> None:
    await message.answer(period_picker.unreadable())
