"""The hours export for the national volunteer system as a file: the columns of a
mapping (``services.hours_export``), as CSV (UTF-8 with a byte order mark, which
Excel needs to read Chinese) or XLSX (openpyxl, imported with the first file: it
brings numpy and PIL, which the bot does not hold until someone asks for one).
Activity kinds are named in the language current when called (the mapping's)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from services.hours_export import ExportRow, Mapping, hours_value
from ui import labels


def _value(row: ExportRow, field: str, mapping: Mapping) -> Any:
    if field == "kind":
        return str(labels.KINDS[row.kind])
    if field == "date":
        return row.starts_at.strftime(mapping.date_format)
    if field == "start":
        return row.starts_at.strftime(mapping.time_format)
    if field == "end":
        return row.ends_at.strftime(mapping.time_format)
    if field == "hours":
        return hours_value(row.minutes, mapping.hours_decimals)
    if field == "station_code":
        return row.station_code
    return getattr(row, field)


def table(rows: Sequence[ExportRow], mapping: Mapping) -> list[list[Any]]:
    """The header row, then one row per person and activity."""
    out: list[list[Any]] = [[c.header for c in mapping.columns]]
    out += [[_value(row, c.field, mapping) for c in mapping.columns] for row in rows]
    return out


def to_csv(rows: Sequence[ExportRow], mapping: Mapping) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerows(table(rows, mapping))
    return text.getvalue().encode("utf-8-sig")


def to_xlsx(rows: Sequence[ExportRow], mapping: Mapping) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(mapping.sheet)
    header, *body = table(rows, mapping)
    cells = []
    for title in header:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        cells.append(cell)
    sheet.append(cells)
    for values in body:
        # Numbers stay numbers; phones and codes stay text (a leading 0 is kept).
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in values])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(rows: Sequence[ExportRow], mapping: Mapping, *, csv_file: bool) -> bytes:
    return to_csv(rows, mapping) if csv_file else to_xlsx(rows, mapping)
