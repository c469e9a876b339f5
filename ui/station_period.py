"""What /tally and /report share: who may see a station's figures, the station walk
that leads to them (straight to the only station when there is one), the period
asked under it (buttons, or typed after a button), the result as a new message, and
its chart and spreadsheet sent as files. Each command brings its kind of period (a
week or dates; a month, quarter or year), its words and its screens (``Figures``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Generic, Protocol, TypeVar

from aiogram import Bot, html
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import scopes, stations, tallies
from services.access import Actor, Permission
from services.errors import DomainError, NotAllowed, NotFound
from services.scopes import ScopeView
from storage.models import Station
from storage.types import utcnow
from ui import labels, prompt, screen, station_picker
from ui.errors import no_longer_active, no_permission, refuse
from ui.format import station_path
from ui.settings import Settings

P = TypeVar("P")  # a command's kind of period
F = TypeVar("F")  # the chart's font

Screen = tuple[str, InlineKeyboardMarkup]


class StationPress(Protocol):
    """A button's data that names a station."""

    station: int


@dataclass(frozen=True)
class Figures(Generic[P]):
    """A command that shows a station's figures over a period, as the shared steps
    need it."""

    question: station_picker.Question  # the walk's question
    station_data: Callable[..., CallbackData]  # the walk's buttons: (action=, id=[, page=])
    heading: Callable[[], str]  # over the period's buttons; ``{path}`` names the station
    keyboard: Callable[..., InlineKeyboardMarkup]  # the period's buttons (``period_picker``)
    pick: Callable[[int, P], CallbackData]  # a period's button: station, period
    typed: Callable[[int], CallbackData]  # the button that asks for a period typed
    dialog: State  # while a period is typed
    key: str  # where the station waits in that dialog's data
    ask: Callable[[], str]  # asks for a period typed
    read: Callable[[str, date], P]  # a period typed, read on a day
    explain: Callable[[DomainError], str]  # what was wrong with it
    view: Callable[[AsyncSession, int, P, str, str], Awaitable[Screen]]
    """The result's screen: (session, station, period, locale, default zone); raises
    NotFound for a station gone."""

    async def scope(
        self, message: Message, state: FSMContext, session: AsyncSession, actor: Actor
    ) -> ScopeView | None:
        """The top of the stations whose figures the actor may see, or None after refusing
        them; a period being typed is dropped, as the command starts afresh."""
        try:
            view = await scopes.view(session, actor=actor, permission=Permission.VIEW_TALLIES)
        except NotAllowed:
            await refuse(message)
            return None
        if await state.get_state() == self.dialog.state:
            await state.clear()
        return view

    async def lead(
        self,
        message: Message,
        bot: Bot,
        session: AsyncSession,
        settings: Settings,
        actor: Actor,
        view: ScopeView,
        chosen: P | None,
        factory: Callable[..., CallbackData],
    ) -> None:
        """Straight to the only station in scope (its figures over ``chosen``, or the
        period asked), else the walk from the top with ``factory``'s buttons."""
        if view.current is None and not view.nodes:
            await message.answer(station_picker.empty())
            return
        if view.current is None and len(view.nodes) == 1:
            only = view.nodes[0]
            if chosen is not None:
                await self.send(
                    bot, message.chat.id, session, settings, only.id, chosen, actor.locale
                )
            else:
                await self.ask_period(
                    bot, message.chat.id, session, settings, only.id, actor.locale
                )
            return
        text, markup = await self._walk(session, actor, scopes.TOP, 0, factory)
        await message.answer(text, reply_markup=markup)

    async def _walk(
        self,
        session: AsyncSession,
        actor: Actor,
        station_id: int,
        page: int,
        factory: Callable[..., CallbackData],
    ) -> Screen:
        return await station_picker.walk(
            session,
            actor=actor,
            permission=Permission.VIEW_TALLIES,
            station_id=station_id,
            page=page,
            factory=factory,
            question=self.question,
        )

    async def walked(
        self,
        callback: CallbackQuery,
        bot: Bot,
        session: AsyncSession,
        settings: Settings,
        actor: Actor,
        *,
        action: str,
        station_id: int,
        page: int,
        chosen: P | None,
        factory: Callable[..., CallbackData],
    ) -> None:
        """A press on the walk: "p" picks the station (its figures over ``chosen``, or
        the period asked), else the walk goes on at ``station_id``."""
        if action == "p":
            if refusal := await problem(session, actor, station_id):
                await callback.answer(refusal, show_alert=True)
                return
            if chosen is None:
                await self.ask_period(
                    bot, actor.id, session, settings, station_id, actor.locale, callback=callback
                )
                return
            try:
                text, markup = await self.view(
                    session, station_id, chosen, actor.locale, settings.timezone
                )
            except NotFound:
                await callback.answer(gone(), show_alert=True)
                return
            await screen.replace(callback, bot, text, markup)
            return
        try:
            text, markup = await self._walk(session, actor, station_id, page, factory)
        except NotAllowed:
            await refuse(callback)
            return
        except NotFound:
            await callback.answer(gone(), show_alert=True)
            return
        await screen.replace(callback, bot, text, markup)

    async def ask_period(
        self,
        bot: Bot,
        chat_id: int,
        session: AsyncSession,
        settings: Settings,
        station_id: int,
        locale: str,
        callback: CallbackQuery | None = None,
    ) -> None:
        """The period's buttons for a station picked, and back to the walk when it has
        stations under it."""
        day = await today(session, station_id, settings.timezone)
        tree = await stations.tree(session)
        text = self.heading().format(path=await station_path(session, station_id, locale))
        extra = []
        if tree.children.get(station_id):
            extra.append((_("🏢 Another station"), self.station_data(action="o", id=station_id)))
        markup = self.keyboard(
            day,
            locale,
            pick=lambda chosen: self.pick(station_id, chosen),
            typed=self.typed(station_id),
            extra=extra,
        )
        await screen.show(bot, chat_id, text, markup, callback=callback)

    async def send(
        self,
        bot: Bot,
        chat_id: int,
        session: AsyncSession,
        settings: Settings,
        station_id: int,
        chosen: P,
        locale: str,
    ) -> None:
        """The figures as a new message."""
        try:
            text, markup = await self.view(session, station_id, chosen, locale, settings.timezone)
        except NotFound:
            await bot.send_message(chat_id, gone())
            return
        await bot.send_message(chat_id, text, reply_markup=markup)

    async def type_asked(
        self,
        callback: CallbackQuery,
        callback_data: StationPress,
        bot: Bot,
        state: FSMContext,
        session: AsyncSession,
        actor: Actor,
    ) -> None:
        """The handler of the button that asks for a period typed."""
        station_id = callback_data.station
        if refusal := await problem(session, actor, station_id):
            await callback.answer(refusal, show_alert=True)
            return
        await callback.answer()
        await state.set_state(self.dialog)
        await state.update_data({self.key: station_id})
        await bot.send_message(actor.id, self.ask())

    async def period_typed(
        self,
        message: Message,
        bot: Bot,
        state: FSMContext,
        session: AsyncSession,
        settings: Settings,
        actor: Actor,
    ) -> None:
        """The handler of a period typed."""
        station_id = await prompt.kept(
            message, state, lambda data: _station(data.get(self.key)), lost=no_longer_active
        )
        if station_id is None:
            return
        day = await today(session, station_id, settings.timezone)
        chosen = await prompt.take(message, lambda text: self.read(text, day), explain=self.explain)
        if chosen is None:
            return
        await state.clear()
        if refusal := await problem(session, actor, station_id):
            await message.answer(refusal)
            return
        await self.send(bot, actor.id, session, settings, station_id, chosen, actor.locale)


def gone() -> str:
    return _("That station no longer exists.")


def no_font() -> str:
    return _(
        "The chart is not available: no Chinese font is installed on the server. "
        "The text and the spreadsheet are."
    )


async def problem(session: AsyncSession, actor: Actor, station_id: int) -> str | None:
    """None when the actor may see the station's tallies now; else what to tell them
    (whether the station exists is told only to those who may see tallies somewhere)."""
    try:
        await tallies.require(session, actor=actor, station_id=station_id)
    except NotAllowed:
        return no_permission()
    except NotFound:
        return gone()
    return None


async def today(session: AsyncSession, station_id: int | None, default_zone: str) -> date:
    """Today at the station (``None``: in the default zone)."""
    zone = await stations.zone(session, station_id, default_zone)
    return utcnow().astimezone(zone).date()


def _station(value: object) -> int:
    if not isinstance(value, int):
        raise TypeError(value)
    return value


# --- the files ----------------------------------------------------------------------


@dataclass(frozen=True)
class File:
    """A result as a file: its bytes, its name and the caption under it."""

    data: bytes
    name: str
    caption: str


def caption(heading: str, station: Station, period: str, locale: str) -> str:
    """A file's caption: ``heading`` names the station (``{station}``), the period's
    name goes under it."""
    name = html.quote(labels.station_name(station, locale))
    return heading.format(station=name) + "\n" + period


async def send_chart(
    callback: CallbackQuery,
    bot: Bot,
    find_font: Callable[[], F | None],
    draw: Callable[[F], Awaitable[File]],
) -> None:
    """The chart ``draw`` makes with the font ``find_font`` finds, as a photo; without
    a font, says so."""
    font = await asyncio.to_thread(find_font)
    if font is None:
        await callback.answer(no_font(), show_alert=True)
        return
    await callback.answer()
    chart = await draw(font)
    await bot.send_photo(
        callback.from_user.id,
        BufferedInputFile(chart.data, filename=chart.name),
        caption=chart.caption,
    )


async def send_sheet(
    callback: CallbackQuery, bot: Bot, fill: Callable[[], Awaitable[File]]
) -> None:
    """The spreadsheet ``fill`` makes, as a document."""
    await callback.answer()
    sheet = await fill()
    await bot.send_document(
        callback.from_user.id,
        BufferedInputFile(sheet.data, filename=sheet.name),
        caption=sheet.caption,
    )
