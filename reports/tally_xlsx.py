"""A tally as a spreadsheet (XLSX). The workbook is drawn by
``reports.tally_workbook``, imported with the first spreadsheet: openpyxl brings numpy
and PIL, which the bot does not hold in memory until someone asks for a file."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from services.tallies import Tally
from services.tally_details import Details


def render_xlsx(
    tally: Tally, details: Details, *, locale: str, zone: ZoneInfo, today: date
) -> bytes:
    """The workbook's bytes: summary, per station, activities, attendance, pledges."""
    from reports import tally_workbook

    return tally_workbook.render_xlsx(tally, details, locale=locale, zone=zone, today=today)
