"""The export for the national volunteer system under a tally: one row per person
and activity of the tally's station and period (``services.hours_export``), in the
default column layout, as XLSX or CSV. The permission is the tally's, checked by
the caller (``handlers.tally.screen.viewed``)."""

from __future__ import annotations

import asyncio

from aiogram import Bot, html
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from reports import hours_export as export_files
from services import hours_export, stations
from services.errors import NotFound
from services.periods import Period
from storage.types import utcnow
from ui import labels
from ui.settings import Settings


async def send_export(
    callback: CallbackQuery,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    station_id: int,
    period: Period,
    *,
    csv_file: bool,
    locale: str,
) -> None:
    tree = await stations.tree(session)
    station = tree.stations.get(station_id)
    if station is None:
        raise NotFound("station.not_found")
    await callback.answer()
    zone = tree.zone(station_id, settings.timezone)
    rows = await hours_export.rows(
        session, station_id=station_id, period=period, zone=zone, now=utcnow()
    )
    mapping = hours_export.default_mapping()
    with get_i18n().use_locale(mapping.language):  # the kinds in the file's language
        document = await asyncio.to_thread(export_files.render, rows, mapping, csv_file=csv_file)
    suffix = "csv" if csv_file else "xlsx"
    name = f"hours-{station.code}-{period.first.isoformat()}_{period.last.isoformat()}.{suffix}"
    caption = _(
        "Hours for the national volunteer system: {station}, {first} to {last}. "
        "{rows} rows, one per person and activity (credited hours only; no ID numbers "
        "are collected)."
    ).format(
        station=html.quote(labels.station_name(station, locale)),
        first=period.first.isoformat(),
        last=period.last.isoformat(),
        rows=len(rows),
    )
    await bot.send_document(
        callback.from_user.id, BufferedInputFile(document, filename=name), caption=caption
    )
