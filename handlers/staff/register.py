"""/volunteers: the volunteer register (花名册) of a station and every station under
it, for staff and coordinators: a page at a time, all or approved, pending or
inactive ones, searched by name, the phone's last digits, a skill or a star level
(typed, or with the command: ``/volunteers 张 1234``), and as a spreadsheet. Every
press re-checks VIEW_VOLUNTEERS on its station: button data can be replayed."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Bot, F, Router, html
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.staff.register_search import keep_search, parse, saved_search, search_text
from reports import register_sheet
from services import register, scopes, stations
from services.access import Actor, Permission
from services.errors import DomainError, NotAllowed, NotFound
from services.register import Entry, Search, Show
from storage.types import utcnow
from ui import labels, prompt, screen, station_picker
from ui.callbacks import RegisterCb, RegisterStationCb
from ui.durations import duration
from ui.errors import error_text, no_longer_active, refuse
from ui.format import day, display_phone, station_path
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.paged import nav_row, window
from ui.settings import Settings
from ui.states import RegisterDialog

PER_PAGE = 10

QUESTION = station_picker.Question(
    top=lambda: _(
        "The volunteers of which station? Every station under it is included. "
        "Tap a name to open it."
    ),
    at=lambda: _("The volunteers of which station? {path}"),
)


def _show_label(show: Show) -> str:
    return {
        Show.ALL: _("All"),
        Show.APPROVED: _("Approved"),
        Show.PENDING: _("Pending"),
        Show.INACTIVE: _("Inactive"),
    }[show]


def _line(n: int, entry: Entry, year: int, locale: str, settings: Settings, path: str) -> str:
    zone = settings.zone
    name = html.quote(entry.name) if entry.name else _("(no name)")
    first = f"{n}. <b>{name}</b> · {display_phone(entry.phone)} · {html.quote(path)}"
    last = (
        _("last activity {date}").format(date=day(entry.last_activity, locale, zone))
        if entry.last_activity
        else _("no activity yet")
    )
    second = _("{stars}★ · {total} in all, {this_year} in {year} · {last} · {status}").format(
        stars=entry.stars,
        total=duration(entry.total_minutes, locale),
        this_year=duration(entry.year_minutes, locale),
        year=year,
        last=last,
        status=register_sheet.standing_label(entry.standing),
    )
    return f"{first}\n    {second}"


def keyboard(
    station_id: int, show: Show, page: Any, searching: bool, has_children: bool
) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for option in Show:
        mark = "• " if option is show else ""
        kb.button(
            text=mark + _show_label(option),
            callback_data=RegisterCb(action="l", station=station_id, show=option),
        )
    sizes = [len(Show)]
    row = nav_row(kb, page, lambda n: RegisterCb(action="l", station=station_id, show=show, page=n))
    if row:
        sizes.append(row)
    kb.button(
        text=_("🔍 Search"), callback_data=RegisterCb(action="s", station=station_id, show=show)
    )
    if searching:
        kb.button(
            text=_("✖️ Clear the search"),
            callback_data=RegisterCb(action="c", station=station_id, show=show),
        )
    sizes.append(2 if searching else 1)
    kb.button(
        text=_("📄 Spreadsheet"),
        callback_data=RegisterCb(action="x", station=station_id, show=show),
    )
    sizes.append(1)
    if has_children:
        kb.button(
            text=_("🏢 Another station"), callback_data=RegisterStationCb(action="o", id=station_id)
        )
        sizes.append(1)
    kb.adjust(*sizes)
    return kb.as_markup()


async def register_view(
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    station_id: int,
    show: Show,
    page: int,
    search: Search,
) -> tuple[str, InlineKeyboardMarkup]:
    """One page of the register. Raises NotAllowed / NotFound (see register.scope)."""
    where = await register.scope(
        session, actor=actor, station_id=station_id, default_zone=settings.timezone, now=utcnow()
    )
    thresholds = settings.star_thresholds
    total = await register.count(
        session, where=where, show=show, search=search, thresholds=thresholds
    )
    shown = window(page, total, PER_PAGE)
    entries = await register.entries(
        session,
        where=where,
        show=show,
        search=search,
        thresholds=thresholds,
        offset=shown.number * PER_PAGE,
        limit=PER_PAGE,
    )
    tree = await stations.tree(session)
    locale = actor.locale
    lines = [
        _("<b>Volunteers of {path}</b>").format(
            path=await station_path(session, station_id, locale)
        ),
        _("Showing: {which}").format(which=_show_label(show)),
    ]
    if not search.empty:
        lines.append(_("Search: {search}").format(search=search_text(search)))
    lines.append("")
    if not total:
        lines.append(
            _("No volunteers match.") if not search.empty else _("No volunteers here yet.")
        )
    else:
        lines.append(
            _("{total} volunteers; {first}–{last}:").format(
                total=total, first=shown.first, last=shown.last
            )
        )
    for n, entry in enumerate(entries, start=shown.first):
        home = tree.stations.get(entry.station_id)
        path = labels.station_name(home, locale) if home is not None else ""
        lines.append(_line(n, entry, where.year, locale, settings, path))
    markup = keyboard(
        station_id, show, shown, not search.empty, bool(tree.children.get(station_id))
    )
    return "\n".join(lines), markup


async def _walk(
    session: AsyncSession, actor: Actor, station_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    return await station_picker.walk(
        session,
        actor=actor,
        permission=Permission.VIEW_VOLUNTEERS,
        station_id=station_id,
        page=page,
        factory=RegisterStationCb,
        question=QUESTION,
    )


async def volunteers_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    try:
        view = await scopes.view(session, actor=actor, permission=Permission.VIEW_VOLUNTEERS)
    except NotAllowed:
        await refuse(message)
        return
    if await state.get_state() == RegisterDialog.search.state:
        await state.set_state(None)
    typed = (command.args or "").strip()
    if typed:
        try:
            parse(typed, settings)
        except DomainError as error:
            await message.answer(error_text(error))
            return
    await keep_search(state, typed or None)
    if view.current is None and not view.nodes:
        await message.answer(station_picker.empty())
        return
    if view.current is None and len(view.nodes) == 1:
        only = view.nodes[0].id
        search = await saved_search(state, settings)
        text, markup = await register_view(session, actor, settings, only, Show.ALL, 0, search)
        await message.answer(text, reply_markup=markup)
        return
    text, markup = await _walk(session, actor, scopes.TOP, 0)
    await message.answer(text, reply_markup=markup)


async def station_walked(
    callback: CallbackQuery,
    callback_data: RegisterStationCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    try:
        if callback_data.action == "p":
            station_id = callback_data.id
            search = await saved_search(state, settings)
            text, markup = await register_view(
                session, actor, settings, station_id, Show.ALL, 0, search
            )
        elif callback_data.action == "o":
            text, markup = await _walk(session, actor, callback_data.id, callback_data.page)
        else:
            await callback.answer(no_longer_active())
            return
    except NotAllowed:
        await refuse(callback)
        return
    except NotFound as error:
        await callback.answer(error_text(error, plain=True), show_alert=True)
        return
    await screen.replace(callback, bot, text, markup)


async def pressed(
    callback: CallbackQuery,
    callback_data: RegisterCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    if callback_data.show not in tuple(Show) or callback_data.action not in ("l", "x", "s", "c"):
        await callback.answer(no_longer_active())
        return
    station_id, show = callback_data.station, Show(callback_data.show)
    try:
        where = await register.scope(
            session,
            actor=actor,
            station_id=station_id,
            default_zone=settings.timezone,
            now=utcnow(),
        )
    except NotAllowed:
        await refuse(callback)
        return
    except NotFound as error:
        await callback.answer(error_text(error, plain=True), show_alert=True)
        return
    if callback_data.action == "s":
        await state.set_state(RegisterDialog.search)
        await state.update_data(register_station=station_id, register_show=int(show))
        await callback.answer()
        await bot.send_message(
            callback.from_user.id,
            _(
                "Type what to look for: part of a name, the phone's last digits (at least "
                "3), a skill, or a star level such as 3★. Words can be combined: "
                "<code>张 1234</code>. /cancel to stop."
            ),
        )
        return
    if callback_data.action == "x":
        await _send_sheet(callback, bot, state, session, settings, actor, where, show)
        return
    if callback_data.action == "c":
        await keep_search(state, None)
    search = await saved_search(state, settings)
    text, markup = await register_view(
        session, actor, settings, station_id, show, callback_data.page, search
    )
    await screen.replace(callback, bot, text, markup)


async def search_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    search = await prompt.take(message, lambda text: parse(text, settings))
    if search is None:
        return
    data = await state.get_data()
    station_id = int(data.get("register_station", 0))
    show = (
        Show(int(data.get("register_show", 0)))
        if data.get("register_show") in tuple(Show)
        else Show.ALL
    )
    await state.set_state(None)
    await keep_search(state, message.text)
    try:
        text, markup = await register_view(session, actor, settings, station_id, show, 0, search)
    except NotAllowed:
        await refuse(message)
        return
    except NotFound as error:
        await message.answer(error_text(error))
        return
    await message.answer(text, reply_markup=markup)


async def not_text(message: Message) -> None:
    await message.answer(_("Please type the search as text, or /cancel."))


async def _send_sheet(
    callback: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    where: register.Scope,
    show: Show,
) -> None:
    await callback.answer()
    assert where.station.id is not None
    search = await saved_search(state, settings)
    entries = await register.entries(
        session, where=where, show=show, search=search, thresholds=settings.star_thresholds
    )
    tree = await stations.tree(session)
    locale = actor.locale
    name = labels.station_name(where.station, locale)
    title = _("Volunteers of {station}: {which}").format(station=name, which=_show_label(show))
    if not search.empty:
        title += " · " + _("Search: {search}").format(search=search_text(search, markup=False))
    document = await asyncio.to_thread(
        register_sheet.render_xlsx,
        entries,
        stations=tree.stations,
        locale=locale,
        zone=where.zone,
        year=where.year,
        title=title,
    )
    today = utcnow().astimezone(where.zone).date().isoformat()
    await bot.send_document(
        callback.from_user.id,
        BufferedInputFile(document, filename=f"volunteers-{where.station.code}-{today}.xlsx"),
        caption=html.quote(title),
    )


def make_router() -> Router:
    router = Router(name="register")
    router.message.filter(F.chat.type == "private")
    router.message.register(volunteers_command, Command("volunteers"))
    router.message.register(search_typed, RegisterDialog.search, prompt.ANSWER)
    router.message.register(not_text, RegisterDialog.search, ~F.text)
    router.callback_query.register(station_walked, RegisterStationCb.filter())
    router.callback_query.register(pressed, RegisterCb.filter())
    return router
