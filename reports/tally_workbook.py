"""The tally's workbook drawn with openpyxl (which loads numpy and PIL): imported
with the first spreadsheet, through ``reports.tally_xlsx``.

A tally as a spreadsheet (XLSX, openpyxl): a summary sheet with the figures and
the previous period's beside them, one row per child station, and the records
behind the figures (the activities held, the attendance that counts, the
pledges). The rows of the detail sheets add up to the summary: the attendance
sheet has one row per participation, and so on. Service time is given in whole
minutes, as it is kept, and in exact hours (shown with two decimals, never rounded
in the cell), so that any column adds up to the minute.

Headers and labels are written with gettext in the reader's locale; times are
the station's local times. Write-only mode keeps a city's year of records cheap."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from reports.tally_text import line_name, period_title, summary_sentence
from services.tallies import Figures, Tally
from services.tally_details import Details
from storage.models import AttendanceMark, PledgeStatus, Station
from ui import labels
from ui.durations import hours_value

Number = TypeVar("Number", int, float, Decimal)  # a figure and the previous one alike
MONEY = '"¥"#,##0.00'
HOURS = "#,##0.00"
WHEN = "yyyy-mm-dd hh:mm"
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


def _title(text: str) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of []:*?/\\."""
    return _BAD_TITLE.sub(" ", text)[:31] or "Sheet"


def _yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """Excel keeps no time zone: the station's wall-clock time."""
    return moment.astimezone(zone).replace(tzinfo=None)


class _Sheet:
    """A write-only sheet with a bold header row and column widths."""

    def __init__(self, book: Workbook, title: str, headers: Sequence[str], widths: Sequence[int]):
        self.sheet = book.create_sheet(_title(title))
        for column, width in enumerate(widths, start=1):
            self.sheet.column_dimensions[get_column_letter(column)].width = width
        self.sheet.freeze_panes = "A2"
        self.row([self.bold(h) for h in headers])

    def bold(self, value: Any) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet, value=value)
        cell.font = Font(bold=True)
        return cell

    def formatted(self, value: Any, number_format: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet, value=value)
        cell.number_format = number_format
        return cell

    def row(self, values: Sequence[Any]) -> None:
        self.sheet.append(list(values))


def _summary(book: Workbook, tally: Tally, *, locale: str, today: date) -> None:
    sheet = _Sheet(
        book,
        _("Summary"),
        [_("Figure"), _("This period"), _("Previous period"), _("Change")],
        [34, 18, 18, 18],
    )
    now, before = tally.figures, tally.previous

    def figure(label: str, a: Number, b: Number, fmt: str = "#,##0") -> None:
        sheet.row(
            [
                label,
                sheet.formatted(a, fmt),
                sheet.formatted(b, fmt),
                sheet.formatted(a - b, fmt),
            ]
        )

    def indented(label: str) -> str:
        return "    " + label

    figure(_("Activities"), now.activities, before.activities)
    for kind, name in labels.KINDS.items():
        figure(
            indented(str(name)),
            now.activities_by_kind.get(kind, 0),
            before.activities_by_kind.get(kind, 0),
        )
    figure(_("Volunteer participations"), now.participations, before.participations)
    figure(_("Volunteers (people)"), now.volunteers, before.volunteers)
    figure(_("Service hours"), hours_value(now.minutes), hours_value(before.minutes), HOURS)
    figure(_("Service time (minutes)"), now.minutes, before.minutes)
    figure(_("Beneficiaries"), now.beneficiaries, before.beneficiaries)
    for group, name in labels.TARGETS.items():
        figure(
            indented(str(name)),
            now.beneficiaries_by_group.get(group, 0),
            before.beneficiaries_by_group.get(group, 0),
        )
    figure(_("New volunteers"), now.new_volunteers, before.new_volunteers)
    figure(_("Pledges"), now.pledges, before.pledges)
    figure(_("Amount pledged"), _yuan(now.pledged_fen), _yuan(before.pledged_fen), MONEY)
    figure(_("Amount received"), _yuan(now.received_fen), _yuan(before.received_fen), MONEY)
    sheet.row([])
    sheet.row([_("Station"), labels.station_name(tally.station, locale)])
    sheet.row([_("This period"), period_title(tally.period, locale)])
    sheet.row([_("Previous period"), period_title(tally.period.previous(), locale)])
    sheet.row([])
    note = WriteOnlyCell(
        sheet.sheet,
        value=summary_sentence(tally.figures, tally.period, today=today, locale=locale),
    )
    note.alignment = Alignment(wrap_text=False)
    sheet.row([note])


def _station_row(sheet: _Sheet, name: str, code: str, f: Figures) -> None:
    sheet.row(
        [
            name,
            code,
            f.activities,
            f.participations,
            f.volunteers,
            sheet.formatted(hours_value(f.minutes), HOURS),
            f.minutes,
            f.beneficiaries,
            f.new_volunteers,
            f.pledges,
            sheet.formatted(_yuan(f.pledged_fen), MONEY),
            sheet.formatted(_yuan(f.received_fen), MONEY),
        ]
    )


def _per_station(book: Workbook, tally: Tally, *, locale: str) -> None:
    sheet = _Sheet(
        book,
        _("Per station"),
        [
            _("Station"),
            _("Station code"),
            _("Activities"),
            _("Volunteer participations"),
            _("Volunteers (people)"),
            _("Service hours"),
            _("Service time (minutes)"),
            _("Beneficiaries"),
            _("New volunteers"),
            _("Pledges"),
            _("Amount pledged"),
            _("Amount received"),
        ],
        [32, 16, 12, 14, 14, 12, 14, 12, 12, 10, 16, 16],
    )
    for line in tally.lines:
        _station_row(
            sheet, line_name(line.station, line.own, locale), line.station.code, line.figures
        )
    _station_row(
        sheet,
        _("Total: {station}").format(station=labels.station_name(tally.station, locale)),
        tally.station.code,
        tally.figures,
    )


def _station(stations: dict[int, Station], station_id: int, locale: str) -> str:
    station = stations.get(station_id)
    return labels.station_name(station, locale) if station is not None else str(station_id)


def _cut_note(sheet: _Sheet, shown: int, total: int) -> None:
    sheet.row(
        [
            _("Only the first {shown} of {total} rows are listed here.").format(
                shown=shown, total=total
            )
        ]
    )


def _activities(book: Workbook, details: Details, *, locale: str, zone: ZoneInfo) -> None:
    sheet = _Sheet(
        book,
        _("Activities"),
        [
            _("No."),
            _("Activity No."),
            _("Station"),
            _("Kind"),
            _("Title"),
            _("Place"),
            _("Start"),
            _("End"),
            _("For"),
            _("Records closed"),
            _("Volunteer participations"),
            _("Service hours"),
            _("Service time (minutes)"),
            _("Beneficiaries"),
        ],
        [6, 10, 28, 16, 30, 24, 17, 17, 20, 10, 14, 12, 14, 12],
    )
    yes, no = _("yes"), _("no")
    for row_number, a in enumerate(details.activities, start=1):
        sheet.row(
            [
                row_number,
                a.id,
                _station(details.stations, a.station_id, locale),
                str(labels.KINDS[a.kind]),
                a.title,
                a.place,
                sheet.formatted(_local(a.starts_at, zone), WHEN),
                sheet.formatted(_local(a.ends_at, zone), WHEN),
                str(labels.TARGETS[a.target_group]),
                yes if a.closed else no,
                a.participations,
                sheet.formatted(hours_value(a.minutes), HOURS),
                a.minutes,
                a.beneficiaries,
            ]
        )
    if details.cut("activities"):
        _cut_note(sheet, len(details.activities), details.totals["activities"])


def _attendance(book: Workbook, details: Details, *, locale: str, zone: ZoneInfo) -> None:
    sheet = _Sheet(
        book,
        _("Attendance"),
        [
            _("Activity No."),
            _("Activity"),
            _("Station"),
            _("Start"),
            _("Volunteer No."),
            _("Mark"),
            _("Service time (minutes)"),
            _("Service hours"),
        ],
        [12, 30, 28, 17, 14, 14, 10, 12],
    )
    marks = {
        None: _("not marked"),
        AttendanceMark.PRESENT: _("present"),
        AttendanceMark.LATE: _("late"),
        AttendanceMark.ABSENT: _("absent"),
    }
    for p in details.attendance:
        sheet.row(
            [
                p.activity_id,
                p.title,
                _station(details.stations, p.station_id, locale),
                sheet.formatted(_local(p.starts_at, zone), WHEN),
                p.volunteer_id,
                marks[p.mark],
                p.minutes,
                sheet.formatted(hours_value(p.minutes), HOURS),
            ]
        )
    if details.cut("attendance"):
        _cut_note(sheet, len(details.attendance), details.totals["attendance"])


def _pledges(book: Workbook, details: Details, *, locale: str, zone: ZoneInfo) -> None:
    sheet = _Sheet(
        book,
        _("Pledges"),
        [_("Receipt"), _("Made"), _("Station"), _("Activity No."), _("Amount"), _("Status")],
        [16, 17, 28, 12, 14, 22],
    )
    statuses = {
        PledgeStatus.OPEN: _("pledged, not received yet"),
        PledgeStatus.RECEIVED: _("received"),
        PledgeStatus.CANCELLED: _("cancelled"),
    }
    for p in details.pledges:
        sheet.row(
            [
                p.receipt,
                sheet.formatted(_local(p.created_at, zone), WHEN),
                _station(details.stations, p.station_id, locale),
                p.activity_id,
                sheet.formatted(_yuan(p.amount_fen), MONEY),
                statuses[p.status],
            ]
        )
    if details.cut("pledges"):
        _cut_note(sheet, len(details.pledges), details.totals["pledges"])


def render_xlsx(
    tally: Tally, details: Details, *, locale: str, zone: ZoneInfo, today: date
) -> bytes:
    """The workbook's bytes: summary, per station, activities, attendance, pledges."""
    book = Workbook(write_only=True)
    _summary(book, tally, locale=locale, today=today)
    _per_station(book, tally, locale=locale)
    _activities(book, details, locale=locale, zone=zone)
    _attendance(book, details, locale=locale, zone=zone)
    _pledges(book, details, locale=locale, zone=zone)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
