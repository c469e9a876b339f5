"""/tally: the figures of a station and every station under it, for staff (their
station) and coordinators (their subtree): this week, last week, an ISO week or a
date range, with the previous period beside them, one line per child station and
the summary sentence; as a chart (PNG) and a spreadsheet (XLSX) on buttons under
the text. Also the Monday message (``services.tally_weekly``), rendered here.

Every button re-checks VIEW_TALLIES on its station: button data can be replayed."""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router, html
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from reports import tally_chart, tally_text, tally_xlsx
from services import access, scopes, stations, tallies, tally_details, tally_weekly, when
from services.access import Permission
from services.errors import DomainError, InvalidInput, NotAllowed, NotFound
from services.tallies import Period, Tally
from storage.types import utcnow
from ui import labels
from ui.callbacks import TallyStationCb, TallyTypeCb, TallyViewCb
from ui.format import station_path
from ui.keyboards import staff as staff_kb
from ui.outbox import Rendered, renderer
from ui.people import no_permission, refuse
from ui.screen import show_in_place
from ui.settings import Settings
from ui.states import TallyDialog

log = logging.getLogger(__name__)


# --- words --------------------------------------------------------------------------


def period_error(error: DomainError) -> str:
    texts = {
        "tally.bad_week": _(
            "There is no such week. ISO weeks run from 1 to 52 (or 53), for example 2026-W47."
        ),
        "tally.period_reversed": _(
            "The last day comes before the first. Please type them in order."
        ),
        "tally.period_too_long": _("That period is too long: at most {days} days, please."),
        "tally.future": _("That period has not begun yet. Please choose another."),
    }
    text = texts.get(
        error.code,
        _(
            "Please type an ISO week such as 2026-W47, or the first and the last day such "
            "as 2026-11-01 2026-11-30. Send /cancel to stop."
        ),
    )
    return text.format(**{k: html.quote(str(v)) for k, v in error.params.items()})


def stale() -> str:
    return _("This button is no longer active.")


def gone() -> str:
    return _("That station no longer exists.")


def no_font() -> str:
    return _(
        "The chart is not available: no Chinese font is installed on the server. "
        "The text and the spreadsheet are."
    )


# --- periods and places -------------------------------------------------------------


def period_of(first: int, last: int) -> Period | None:
    """A period from a button's day ordinals, or None when they make no sense."""
    try:
        period = Period(date.fromordinal(first), date.fromordinal(last))
    except (ValueError, OverflowError, InvalidInput):
        return None
    return period if period.days <= tallies.MAX_DAYS else None


async def _zone(session: AsyncSession, station_id: int, default: str) -> ZoneInfo:
    return await stations.zone(session, station_id, default)


async def _problem(
    session: AsyncSession, user_id: int, settings: Settings, station_id: int
) -> str | None:
    """None when the user may see the station's tallies now; else what to tell them
    (whether the station exists is told only to those who may see tallies somewhere)."""
    try:
        await access.require_somewhere(
            session,
            user_id=user_id,
            admin_ids=settings.admin_ids,
            permission=Permission.VIEW_TALLIES,
        )
    except NotAllowed:
        return no_permission()
    if station_id not in (await stations.tree(session)).stations:
        return gone()
    allowed = await access.allowed(
        session,
        user_id=user_id,
        admin_ids=settings.admin_ids,
        permission=Permission.VIEW_TALLIES,
        station_id=station_id,
    )
    return None if allowed else no_permission()


# --- keyboards ----------------------------------------------------------------------


def view_buttons(station_id: int, period: Period, today: date) -> InlineKeyboardMarkup:
    """Chart and spreadsheet of this tally; the previous and the next period."""

    def data(action: str, shown: Period) -> TallyViewCb:
        return TallyViewCb(
            action=action,
            station=station_id,
            first=shown.first.toordinal(),
            last=shown.last.toordinal(),
        )

    kb = InlineKeyboardBuilder()
    kb.button(text=_("📊 Chart"), callback_data=data("c", period))
    kb.button(text=_("📄 Spreadsheet"), callback_data=data("x", period))
    before = period.previous()
    after = Period(period.last + timedelta(days=1), period.last + timedelta(days=period.days))
    kb.button(text=_("‹ Previous period"), callback_data=data("t", before))
    sizes = [2, 1]
    if after.first <= today:
        kb.button(text=_("Next period ›"), callback_data=data("t", after))
        sizes = [2, 2]
    kb.adjust(*sizes)
    return kb.as_markup()


def period_buttons(
    station_id: int, today: date, locale: str, *, other_stations: bool
) -> InlineKeyboardMarkup:
    this = tallies.week_of(today)
    last = this.previous()

    def data(period: Period) -> TallyViewCb:
        return TallyViewCb(
            action="t",
            station=station_id,
            first=period.first.toordinal(),
            last=period.last.toordinal(),
        )

    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("This week ({days})").format(days=tally_text.week_days(this, locale)),
        callback_data=data(this),
    )
    kb.button(
        text=_("Last week ({days})").format(days=tally_text.week_days(last, locale)),
        callback_data=data(last),
    )
    kb.button(text=_("⌨️ Another week or dates"), callback_data=TallyTypeCb(station=station_id))
    if other_stations:
        kb.button(
            text=_("🏢 Another station"), callback_data=TallyStationCb(action="o", id=station_id)
        )
    kb.adjust(1)
    return kb.as_markup()


async def compute(
    session: AsyncSession, station_id: int, period: Period, default_zone: str
) -> tuple[Tally, ZoneInfo, datetime]:
    zone = await _zone(session, station_id, default_zone)
    now = utcnow()
    result = await tallies.tally(session, station_id=station_id, period=period, zone=zone, now=now)
    return result, zone, now


async def tally_view(
    session: AsyncSession,
    station_id: int,
    period: Period,
    locale: str,
    default_zone: str,
    heading: str | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """The tally's text and its buttons. Raises NotFound for a station gone."""
    result, zone, now = await compute(session, station_id, period, default_zone)
    today = now.astimezone(zone).date()
    text = tally_text.tally_text(result, locale=locale, today=today, heading=heading)
    return text, view_buttons(station_id, period, today)


@renderer(tally_weekly.KIND)
async def render_weekly_tally(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """Last week's tally for a coordinator, computed when it is sent; None when they
    no longer coordinate the station or it is gone."""
    station_id = int(payload["station_id"])
    user_id = payload.get("user_id")
    if user_id is not None and not await access.allowed(
        session,
        user_id=int(user_id),
        admin_ids=(),
        permission=Permission.VIEW_TALLIES,
        station_id=station_id,
    ):
        return None
    try:
        period = tallies.iso_week(int(payload["year"]), int(payload["week"]))
        return await tally_view(
            session,
            station_id,
            period,
            get_i18n().current_locale,
            str(payload.get("tz") or when.DEFAULT_ZONE),
            heading=_("🗓 Your weekly tally"),
        )
    except (NotFound, InvalidInput):
        return None


# --- /tally and its steps -----------------------------------------------------------


async def start(
    message: Message,
    command: CommandObject,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    assert message.from_user is not None
    user_id = message.from_user.id
    locale = i18n.current_locale
    try:
        view = await scopes.view(
            session,
            actor_id=user_id,
            admin_ids=settings.admin_ids,
            permission=Permission.VIEW_TALLIES,
        )
    except NotAllowed:
        await refuse(message)
        return
    if await state.get_state() == TallyDialog.period.state:
        await state.clear()
    period: Period | None = None
    if command.args and command.args.strip():
        try:
            period = tallies.parse_period(command.args)
        except InvalidInput as error:
            await message.answer(period_error(error))
            return
    if view.current is None and not view.nodes:
        await message.answer(_("No stations have been set up yet."))
        return
    if view.current is None and len(view.nodes) == 1:
        only = view.nodes[0]
        if period is not None:
            await _send_tally(bot, message.chat.id, session, settings, only.id, period, locale)
        else:
            await _ask_period(bot, message.chat.id, session, settings, only.id, locale)
        return
    first, last = (period.first.toordinal(), period.last.toordinal()) if period else (0, 0)
    text, markup = await _walk(session, user_id, settings, scopes.TOP, 0, locale, first, last)
    await message.answer(text, reply_markup=markup)


async def _walk(
    session: AsyncSession,
    user_id: int,
    settings: Settings,
    station_id: int,
    page: int,
    locale: str,
    first: int,
    last: int,
) -> tuple[str, InlineKeyboardMarkup]:
    view = await scopes.view(
        session,
        actor_id=user_id,
        admin_ids=settings.admin_ids,
        permission=Permission.VIEW_TALLIES,
        station_id=station_id,
    )
    if view.current is None:
        text = _(
            "The tally of which station? It counts every station under it too. "
            "Tap a name to open it."
        )
    else:
        text = _("The tally of which station? {path}").format(
            path=await station_path(session, view.current.id, locale)
        )
    walk = functools.partial(TallyStationCb, first=first, last=last)
    return text, staff_kb.station_walk(view, walk, page=page, locale=locale)


async def _ask_period(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    settings: Settings,
    station_id: int,
    locale: str,
    callback: CallbackQuery | None = None,
) -> None:
    zone = await _zone(session, station_id, settings.timezone)
    today = utcnow().astimezone(zone).date()
    tree = await stations.tree(session)
    text = _("The tally of {path}. Which period?").format(
        path=await station_path(session, station_id, locale)
    )
    markup = period_buttons(
        station_id, today, locale, other_stations=bool(tree.children.get(station_id))
    )
    if callback is not None:
        await show_in_place(callback, bot, text, markup)
    else:
        await bot.send_message(chat_id, text, reply_markup=markup)


async def _send_tally(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    settings: Settings,
    station_id: int,
    period: Period,
    locale: str,
) -> None:
    try:
        text, markup = await tally_view(session, station_id, period, locale, settings.timezone)
    except NotFound:
        await bot.send_message(chat_id, gone())
        return
    await bot.send_message(chat_id, text, reply_markup=markup)


async def station_walked(
    callback: CallbackQuery,
    callback_data: TallyStationCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    user_id = callback.from_user.id
    locale = i18n.current_locale
    first, last = callback_data.first, callback_data.last
    if callback_data.action == "p":
        if problem := await _problem(session, user_id, settings, callback_data.id):
            await callback.answer(problem, show_alert=True)
            return
        period = period_of(first, last) if first else None
        if period is None:
            await _ask_period(
                bot, user_id, session, settings, callback_data.id, locale, callback=callback
            )
            return
        try:
            text, markup = await tally_view(
                session, callback_data.id, period, locale, settings.timezone
            )
        except NotFound:
            await callback.answer(gone(), show_alert=True)
            return
        await show_in_place(callback, bot, text, markup)
        return
    try:
        text, markup = await _walk(
            session, user_id, settings, callback_data.id, callback_data.page, locale, first, last
        )
    except NotAllowed:
        await refuse(callback)
        return
    except NotFound:
        await callback.answer(gone(), show_alert=True)
        return
    await show_in_place(callback, bot, text, markup)


async def type_asked(
    callback: CallbackQuery,
    callback_data: TallyTypeCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
) -> None:
    if problem := await _problem(session, callback.from_user.id, settings, callback_data.station):
        await callback.answer(problem, show_alert=True)
        return
    await callback.answer()
    await state.set_state(TallyDialog.period)
    await state.update_data(tally_station=callback_data.station)
    await bot.send_message(
        callback.from_user.id,
        _(
            "Type the period: an ISO week such as 2026-W47, or the first and the last day "
            "such as 2026-11-01 2026-11-30 (or 2026-11-01 to 2026-11-30)."
        ),
    )


async def period_typed(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    assert message.from_user is not None and message.text is not None
    user_id = message.from_user.id
    station_id = (await state.get_data()).get("tally_station")
    if not isinstance(station_id, int):
        await state.clear()
        await message.answer(stale())
        return
    try:
        period = tallies.parse_period(message.text)
        zone = await _zone(session, station_id, settings.timezone)
        if period.first > utcnow().astimezone(zone).date():
            raise InvalidInput("tally.future")
    except InvalidInput as error:
        await message.answer(period_error(error))
        return
    await state.clear()
    if problem := await _problem(session, user_id, settings, station_id):
        await message.answer(problem)
        return
    await _send_tally(bot, user_id, session, settings, station_id, period, i18n.current_locale)


async def not_text(message: Message) -> None:
    await message.answer(period_error(InvalidInput("tally.bad_period")))


async def viewed(
    callback: CallbackQuery,
    callback_data: TallyViewCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    user_id = callback.from_user.id
    locale = i18n.current_locale
    period = period_of(callback_data.first, callback_data.last)
    if period is None or callback_data.action not in ("t", "c", "x"):
        await callback.answer(stale())
        return
    station_id = callback_data.station
    if problem := await _problem(session, user_id, settings, station_id):
        await callback.answer(problem, show_alert=True)
        return
    try:
        if callback_data.action == "t":
            text, markup = await tally_view(session, station_id, period, locale, settings.timezone)
            await show_in_place(callback, bot, text, markup)
        elif callback_data.action == "c":
            await _send_chart(callback, bot, session, settings, station_id, period, locale)
        else:
            await _send_sheet(callback, bot, session, settings, station_id, period, locale)
    except NotFound:
        await callback.answer(gone(), show_alert=True)


def _file_stem(result: Tally) -> str:
    week = result.period.iso_week
    when_part = (
        f"{week[0]}-W{week[1]:02d}"
        if week
        else f"{result.period.first.isoformat()}_{result.period.last.isoformat()}"
    )
    return f"tally-{result.station.code}-{when_part}"


def _caption(result: Tally, locale: str) -> str:
    station = html.quote(labels.station_name(result.station, locale))
    return (
        _("Tally: {station}").format(station=station)
        + "\n"
        + tally_text.period_title(result.period, locale)
    )


async def _send_chart(
    callback: CallbackQuery,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    station_id: int,
    period: Period,
    locale: str,
) -> None:
    font = await asyncio.to_thread(tally_chart.find_chart_font)
    if font is None:
        await callback.answer(no_font(), show_alert=True)
        return
    await callback.answer()
    result, _zone_used, _now = await compute(session, station_id, period, settings.timezone)
    data = tally_chart.chart_data(result, locale)
    png = await asyncio.to_thread(tally_chart.render_png, data, font)
    await bot.send_photo(
        callback.from_user.id,
        BufferedInputFile(png, filename=_file_stem(result) + ".png"),
        caption=_caption(result, locale),
    )


async def _send_sheet(
    callback: CallbackQuery,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    station_id: int,
    period: Period,
    locale: str,
) -> None:
    await callback.answer()
    result, zone, now = await compute(session, station_id, period, settings.timezone)
    records = await tally_details.details(
        session, station_id=station_id, period=period, zone=zone, now=now
    )
    document = await asyncio.to_thread(
        tally_xlsx.render_xlsx,
        result,
        records,
        locale=locale,
        zone=zone,
        today=now.astimezone(zone).date(),
    )
    await bot.send_document(
        callback.from_user.id,
        BufferedInputFile(document, filename=_file_stem(result) + ".xlsx"),
        caption=_caption(result, locale),
    )


# Typed answers; a command is never taken as an answer.
ANSWER = F.text & ~F.text.startswith("/")


def make_router() -> Router:
    router = Router(name="tally")
    router.message.filter(F.chat.type == "private")
    router.message.register(start, Command("tally"))
    router.message.register(period_typed, TallyDialog.period, ANSWER)
    router.message.register(not_text, TallyDialog.period, ~F.text)
    router.callback_query.register(station_walked, TallyStationCb.filter())
    router.callback_query.register(type_asked, TallyTypeCb.filter())
    router.callback_query.register(viewed, TallyViewCb.filter())
    return router
