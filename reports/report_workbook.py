"""The report's workbook drawn with openpyxl (which loads numpy and PIL): imported
with the first spreadsheet, through ``reports.report_xlsx``.

Sheets: the figures with the same period a year earlier (同比) and the period
before (环比), as numbers and as percentage changes ("—" where the base is zero),
and the summary paragraph; the most active stations; every station's records on
time; the activities pledged to with their beneficiaries by group (五社联动)."""

from __future__ import annotations

import io
from decimal import Decimal

from aiogram.utils.i18n import gettext as _
from openpyxl import Workbook

from reports.report_text import NO_BASE, period_name, summary_paragraph
from reports.tally_workbook import HOURS, MONEY, _Sheet, _yuan
from services.coordinator_reports import DUE_WORKING_DAYS, Report, change
from services.tallies import Figures
from ui import labels
from ui.durations import hours_value

PERCENT = "0.0%"


def _change_cell(sheet: _Sheet, now: float, base: float) -> object:
    value = change(now, base)
    return NO_BASE if value is None else sheet.formatted(value / 100, PERCENT)


def _summary(book: Workbook, report: Report, locale: str) -> None:
    headers = [
        _("Figure"),
        period_name(report.period, locale),
        period_name(report.period.year_ago(), locale),
        _("Year on year"),
    ]
    widths = [30, 18, 18, 14]
    if report.has_previous:
        headers += [period_name(report.period.previous(), locale), _("On the period before")]
        widths += [18, 16]
    sheet = _Sheet(book, _("Summary"), headers, widths)
    now, ago, before = report.figures, report.year_ago, report.previous

    def figure(label: str, pick: str, fmt: str = "#,##0") -> None:
        values = [_pick(f, pick) for f in (now, ago, before)]
        row: list[object] = [
            label,
            sheet.formatted(values[0], fmt),
            sheet.formatted(values[1], fmt),
            _change_cell(sheet, float(values[0]), float(values[1])),
        ]
        if report.has_previous:
            row += [
                sheet.formatted(values[2], fmt),
                _change_cell(sheet, float(values[0]), float(values[2])),
            ]
        sheet.row(row)

    figure(_("Activities"), "activities")
    figure(_("Volunteer participations"), "participations")
    figure(_("Volunteers (people)"), "volunteers")
    figure(_("Service hours"), "hours", HOURS)
    figure(_("Service time (minutes)"), "minutes")
    figure(_("Beneficiaries"), "beneficiaries")
    for group, name in labels.TARGETS.items():
        figure("    " + str(name), f"group:{group.value}")
    figure(_("New volunteers"), "new_volunteers")
    figure(_("Pledges"), "pledges")
    figure(_("Amount pledged"), "pledged", MONEY)
    figure(_("Amount received"), "received", MONEY)
    sheet.row([])
    sheet.row([_("Station"), labels.station_name(report.station, locale)])
    total = report.on_time_total
    sheet.row(
        [
            _("Records on time (closed within {days} working days)").format(days=DUE_WORKING_DAYS),
            NO_BASE if total.rate is None else sheet.formatted(total.rate / 100, PERCENT),
        ]
    )
    sheet.row([])
    sheet.row([summary_paragraph(report, locale)])


def _pick(figures: Figures, pick: str) -> int | float | Decimal:
    if pick.startswith("group:"):
        return next(
            (n for g, n in figures.beneficiaries_by_group.items() if g.value == pick[6:]), 0
        )
    if pick == "hours":
        return hours_value(figures.minutes)
    if pick == "pledged":
        return _yuan(figures.pledged_fen)
    if pick == "received":
        return _yuan(figures.received_fen)
    value: int = getattr(figures, pick)
    return value


def _busiest(book: Workbook, report: Report, locale: str) -> None:
    sheet = _Sheet(
        book,
        _("Most active stations"),
        [
            _("Rank"),
            _("Station"),
            _("Station code"),
            _("Activities"),
            _("Volunteer participations"),
            _("Service hours"),
        ],
        [8, 32, 16, 12, 14, 12],
    )
    for rank, busy in enumerate(report.busiest, start=1):
        sheet.row(
            [
                rank,
                labels.station_name(busy.station, locale),
                busy.station.code,
                busy.activities,
                busy.participations,
                sheet.formatted(hours_value(busy.minutes), HOURS),
            ]
        )


def _on_time(book: Workbook, report: Report, locale: str) -> None:
    sheet = _Sheet(
        book,
        _("Records on time"),
        [
            _("Station"),
            _("Station code"),
            _("Closed on time"),
            _("Late"),
            _("Still within their time"),
            _("On-time rate"),
        ],
        [32, 16, 14, 10, 16, 12],
    )
    for item in [*report.on_time, report.on_time_total]:
        name = labels.station_name(item.station, locale)
        if item is report.on_time_total:
            name = _("Total: {station}").format(station=name)
        sheet.row(
            [
                name,
                item.station.code,
                item.on_time,
                item.late,
                item.pending,
                NO_BASE if item.rate is None else sheet.formatted(item.rate / 100, PERCENT),
            ]
        )


def _pledged(book: Workbook, report: Report, locale: str) -> None:
    groups = list(labels.TARGETS.items())
    sheet = _Sheet(
        book,
        _("Pledges at work"),
        [
            _("Activity"),
            _("Station"),
            _("Date"),
            _("Pledges"),
            _("Amount pledged"),
            _("Amount received"),
            *(str(name) for _group, name in groups),
            _("Beneficiaries"),
        ],
        [30, 28, 12, 10, 16, 16, *([14] * len(groups)), 12],
    )
    for item in report.pledged:
        sheet.row(
            [
                item.title,
                labels.station_name(item.station, locale),
                item.starts_at.astimezone(report.zone).date().isoformat(),
                item.pledges,
                sheet.formatted(_yuan(item.pledged_fen), MONEY),
                sheet.formatted(_yuan(item.received_fen), MONEY),
                *(item.beneficiaries_by_group.get(group, 0) for group, _name in groups),
                item.beneficiaries,
            ]
        )


def render_xlsx(report: Report, *, locale: str) -> bytes:
    book = Workbook(write_only=True)
    _summary(book, report, locale)
    _busiest(book, report, locale)
    _on_time(book, report, locale)
    _pledged(book, report, locale)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
