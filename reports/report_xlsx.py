"""A coordinator's report as a spreadsheet (XLSX). The workbook is drawn by
``reports.report_workbook``, imported with the first spreadsheet: openpyxl brings
numpy and PIL, which the bot does not hold until someone asks for a file."""

from __future__ import annotations

from services.coordinator_reports import Report


def render_xlsx(report: Report, *, locale: str) -> bytes:
    """The workbook's bytes: the figures, the most active stations, the records on
    time of every station, the pledges at work."""
    from reports import report_workbook

    return report_workbook.render_xlsx(report, locale=locale)
