"""The spreadsheet template for importing historical hours: one sheet to fill in
(name, phone, activity date, title, hours; the header on row 1, one row per person
and activity) and one that says how. openpyxl is imported only when it is made."""

from __future__ import annotations

import io

from aiogram.utils.i18n import gettext as _

from services.backfill import MAX_ROWS


def headers() -> list[str]:
    return [_("Name"), _("Phone"), _("Activity date"), _("Activity title"), _("Hours")]


def render_template() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Hours")
    sheet.append(headers())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDE", (14, 16, 14, 30, 8), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in range(2, MAX_ROWS + 2):
        sheet.cell(row=row, column=2).number_format = "@"  # phones stay text
        sheet.cell(row=row, column=3).number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    help_sheet = book.create_sheet(_("How to fill in"))
    for line in (
        _("One row per person and activity, from row 2 of the first sheet; keep row 1."),
        _("Name: as the person is known at the station (required)."),
        _("Phone: an 11-digit mainland mobile number; leave it empty for someone without one."),
        _("Activity date: like 2026-11-03 (not in the future)."),
        _("Activity title: the same title for everyone at the same activity."),
        _("Hours: like 2 or 2.5 (at most 24 a row)."),
        _("At most {rows} rows. A file with any bad row is refused as a whole.").format(
            rows=MAX_ROWS
        ),
        _("A row sent again is not counted twice."),
    ):
        help_sheet.append([line])
    help_sheet.column_dimensions["A"].width = 90
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
