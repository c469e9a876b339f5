"""The report screen: a station's month, quarter or year as text, with the chart
(PNG) and the spreadsheet (XLSX) on buttons under it, and the period before and
after. Every button re-checks VIEW_TALLIES on its station: button data can be
replayed."""

from __future__ import annotations

import asyncio
import functools

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from reports import report_chart, report_text, report_xlsx, tally_chart
from reports.tally_chart import ChartFont
from services import coordinator_reports, stations
from services.access import Actor
from services.coordinator_reports import Report
from services.errors import NotFound
from services.report_periods import ReportPeriod
from storage.types import utcnow
from ui import period_picker, screen, station_period
from ui.callbacks import ReportViewCb
from ui.errors import no_longer_active
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.settings import Settings
from ui.station_period import File, gone, problem


def view_data(action: str, station_id: int, chosen: ReportPeriod) -> ReportViewCb:
    return ReportViewCb(
        action=action,
        station=station_id,
        span=chosen.span.value,
        year=chosen.year,
        number=chosen.number,
    )


def view_buttons(
    station_id: int, chosen: ReportPeriod, report: Report, locale: str
) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📊 Chart"), callback_data=view_data("c", station_id, chosen))
    kb.button(text=_("📄 Spreadsheet"), callback_data=view_data("x", station_id, chosen))
    steps = period_picker.calendar_steps(
        kb, chosen, report.today, locale, lambda shown: view_data("t", station_id, shown)
    )
    kb.adjust(2, steps)
    return kb.as_markup()


async def compute(
    session: AsyncSession, station_id: int, chosen: ReportPeriod, default_zone: str
) -> Report:
    """Raises NotFound for a station gone."""
    zone = await stations.zone(session, station_id, default_zone)
    return await coordinator_reports.report(
        session, station_id=station_id, period=chosen, zone=zone, now=utcnow()
    )


async def report_view(
    session: AsyncSession, station_id: int, chosen: ReportPeriod, locale: str, default_zone: str
) -> tuple[str, InlineKeyboardMarkup]:
    result = await compute(session, station_id, chosen, default_zone)
    text = report_text.report_text(result, locale=locale)
    return text, view_buttons(station_id, chosen, result, locale)


async def viewed(
    callback: CallbackQuery,
    callback_data: ReportViewCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
) -> None:
    chosen = period_picker.from_calendar_button(
        callback_data.span, callback_data.year, callback_data.number
    )
    if chosen is None or callback_data.action not in ("t", "c", "x"):
        await callback.answer(no_longer_active())
        return
    station_id = callback_data.station
    if refusal := await problem(session, actor, station_id):
        await callback.answer(refusal, show_alert=True)
        return
    try:
        if callback_data.action == "t":
            text, markup = await report_view(
                session, station_id, chosen, actor.locale, settings.timezone
            )
            await screen.replace(callback, bot, text, markup)
        elif callback_data.action == "c":
            await station_period.send_chart(
                callback,
                bot,
                tally_chart.find_chart_font,
                functools.partial(_chart, session, settings, station_id, chosen, actor.locale),
            )
        else:
            await station_period.send_sheet(
                callback,
                bot,
                functools.partial(_sheet, session, settings, station_id, chosen, actor.locale),
            )
    except NotFound:
        await callback.answer(gone(), show_alert=True)


def _file_name(result: Report, suffix: str) -> str:
    return f"report-{result.station.code}-{result.period.code}.{suffix}"


def _caption(result: Report, locale: str) -> str:
    return station_period.caption(
        _("Report: {station}"),
        result.station,
        period_picker.calendar_name(result.period, locale),
        locale,
    )


async def _chart(
    session: AsyncSession,
    settings: Settings,
    station_id: int,
    chosen: ReportPeriod,
    locale: str,
    font: ChartFont,
) -> File:
    result = await compute(session, station_id, chosen, settings.timezone)
    png = await asyncio.to_thread(
        report_chart.render_png, report_chart.chart_data(result, locale), font
    )
    return File(png, _file_name(result, "png"), _caption(result, locale))


async def _sheet(
    session: AsyncSession, settings: Settings, station_id: int, chosen: ReportPeriod, locale: str
) -> File:
    result = await compute(session, station_id, chosen, settings.timezone)
    document = await asyncio.to_thread(report_xlsx.render_xlsx, result, locale=locale)
    return File(document, _file_name(result, "xlsx"), _caption(result, locale))
