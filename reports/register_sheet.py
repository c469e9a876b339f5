"""The volunteer register (花名册) as a spreadsheet (XLSX): one row per volunteer
listed, with the station, status, skills, star level, credited hours in total and
this year (exact hours, shown with two decimals), the last activity and the day of
registration. openpyxl is imported with the first file (it brings numpy and PIL).
Headers and labels are in the current gettext locale; dates in the station's zone."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from services.register import Entry, Standing
from storage.models import Station
from ui import labels
from ui.durations import hours_value


def standing_label(standing: Standing) -> str:
    return {
        Standing.APPROVED: _("approved"),
        Standing.PENDING: _("pending approval"),
        Standing.INACTIVE: _("inactive (no activity in 6 months)"),
        Standing.DECLINED: _("not approved"),
    }[standing]


def render_xlsx(
    entries: Sequence[Entry],
    *,
    stations: Mapping[int, Station],
    locale: str,
    zone: ZoneInfo,
    year: int,
    title: str,
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Register")[:31])
    headers = [
        _("No."),
        _("Name"),
        _("Phone"),
        _("Station"),
        _("Status"),
        _("Skills"),
        _("Stars"),
        _("Hours in total"),
        _("Hours in {year}").format(year=year),
        _("Last activity"),
        _("Registered"),
    ]
    for column, width in zip(
        "ABCDEFGHIJK", (6, 14, 16, 28, 22, 30, 7, 12, 12, 14, 14), strict=True
    ):
        sheet.column_dimensions[column].width = width
    sheet.append([title])
    bold = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = Font(bold=True)
        bold.append(cell)
    sheet.append(bold)

    def number(value: float) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "0.00"
        return cell

    def local_day(moment: datetime | None) -> date | None:
        return moment.astimezone(zone).date() if moment is not None else None

    for n, entry in enumerate(entries, start=1):
        station = stations.get(entry.station_id)
        skills = "、".join(str(labels.SKILLS[s]) for s in entry.skills if s in labels.SKILLS)
        sheet.append(
            [
                n,
                entry.name or "",
                entry.phone or "",
                labels.station_name(station, locale) if station is not None else "",
                standing_label(entry.standing),
                skills,
                entry.stars,
                number(hours_value(entry.total_minutes)),
                number(hours_value(entry.year_minutes)),
                local_day(entry.last_activity),
                local_day(entry.registered_at),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
