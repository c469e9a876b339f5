"""The tally screen: a station's figures over a period as text, with the chart (PNG)
and the spreadsheet (XLSX) on buttons under it, and the previous and next period.
Every button re-checks VIEW_TALLIES on its station: button data can be replayed."""

from __future__ import annotations

import asyncio
import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.tally.export import send_export
from reports import tally_chart, tally_text, tally_xlsx
from reports.tally_chart import ChartFont
from services import stations, tallies, tally_details
from services.access import Actor
from services.errors import NotFound
from services.periods import Period
from services.tallies import Tally
from storage.types import utcnow
from ui import period_picker, screen, station_period
from ui.callbacks import TallyViewCb
from ui.errors import no_longer_active
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.settings import Settings
from ui.station_period import File, gone, problem


def view_data(action: str, station_id: int, period: Period) -> TallyViewCb:
    first, last = period_picker.ordinals(period)
    return TallyViewCb(action=action, station=station_id, first=first, last=last)


def view_buttons(station_id: int, period: Period, today: date) -> InlineKeyboardMarkup:
    """Chart and spreadsheet of this tally, the hours for the national system; the
    previous and the next period."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📊 Chart"), callback_data=view_data("c", station_id, period))
    kb.button(text=_("📄 Spreadsheet"), callback_data=view_data("x", station_id, period))
    kb.button(text=_("⬆️ National system (XLSX)"), callback_data=view_data("n", station_id, period))
    kb.button(text=_("⬆️ National system (CSV)"), callback_data=view_data("v", station_id, period))
    steps = period_picker.step_row(
        kb, period, today, lambda shown: view_data("t", station_id, shown)
    )
    kb.adjust(2, 2, steps)
    return kb.as_markup()


async def compute(
    session: AsyncSession, station_id: int, period: Period, default_zone: str
) -> tuple[Tally, ZoneInfo, datetime]:
    zone = await stations.zone(session, station_id, default_zone)
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


async def viewed(
    callback: CallbackQuery,
    callback_data: TallyViewCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    period = period_picker.from_button(callback_data.first, callback_data.last)
    if period is None or callback_data.action not in ("t", "c", "x", "n", "v"):
        await callback.answer(no_longer_active())
        return
    station_id = callback_data.station
    if refusal := await problem(session, actor, station_id):
        await callback.answer(refusal, show_alert=True)
        return
    try:
        if callback_data.action == "t":
            text, markup = await tally_view(
                session, station_id, period, actor.locale, settings.timezone
            )
            await screen.replace(callback, bot, text, markup)
        elif callback_data.action in ("n", "v"):
            await send_export(
                callback,
                bot,
                session,
                settings,
                station_id,
                period,
                csv_file=callback_data.action == "v",
                locale=actor.locale,
            )
        elif callback_data.action == "c":
            await station_period.send_chart(
                callback,
                bot,
                tally_chart.find_chart_font,
                functools.partial(_chart, session, settings, station_id, period, actor.locale),
            )
        else:
            await station_period.send_sheet(
                callback,
                bot,
                functools.partial(_sheet, session, settings, station_id, period, actor.locale),
            )
    except NotFound:
        await callback.answer(gone(), show_alert=True)


# --- the files ----------------------------------------------------------------------


def _file_stem(result: Tally) -> str:
    week = result.period.iso_week
    when_part = (
        f"{week[0]}-W{week[1]:02d}"
        if week
        else f"{result.period.first.isoformat()}_{result.period.last.isoformat()}"
    )
    return f"tally-{result.station.code}-{when_part}"


def _caption(result: Tally, locale: str) -> str:
    return station_period.caption(
        _("Tally: {station}"),
        result.station,
        tally_text.period_title(result.period, locale),
        locale,
    )


async def _chart(
    session: AsyncSession,
    settings: Settings,
    station_id: int,
    period: Period,
    locale: str,
    font: ChartFont,
) -> File:
    result, _zone_used, _now = await compute(session, station_id, period, settings.timezone)
    data = tally_chart.chart_data(result, locale)
    png = await asyncio.to_thread(tally_chart.render_png, data, font)
    return File(png, _file_stem(result) + ".png", _caption(result, locale))


async def _sheet(
    session: AsyncSession, settings: Settings, station_id: int, period: Period, locale: str
) -> File:
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
    return File(document, _file_stem(result) + ".xlsx", _caption(result, locale))
