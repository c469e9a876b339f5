"""The sign-in sheet's files: the PDF (fpdf2) and the XLSX (openpyxl). Imported with
the first sheet made, so the bot does not hold those libraries until then;
``reports.signin_sheet`` holds the words and the rows."""

from __future__ import annotations

import io

from aiogram.utils.i18n import gettext as _
from fpdf import FPDF
from fpdf.enums import Align, WrapMode, XPos, YPos
from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from reports.certificate_pdf import CjkFont
from reports.signin_sheet import (
    COLUMNS,
    FAMILY,
    INK,
    MARGIN,
    MUTED,
    ROW_HEIGHT,
    SPARE_ROWS,
    XLSX_WIDTHS,
    head_lines,
    headings,
    rows,
    station_text,
)
from services.signin_sheet import SigninSheet

# --- PDF ------------------------------------------------------------------------------


class _SheetDocument(FPDF):
    """A4 pages headed by the sign-in sheet's title and the activity, numbered at the
    foot."""

    def __init__(self, head: list[str]) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.head = head

    def header(self) -> None:
        self.set_text_color(*INK)
        self.set_font(FAMILY, "B", 16)
        self.cell(0, 9, _("Sign-in sheet"), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)
        self.set_font(FAMILY, size=10)
        half = self.epw / 2
        for index, line in enumerate(self.head):
            self.multi_cell(
                self.epw if index % 2 else half,
                5.5,
                line,
                align=Align.L,
                wrapmode=WrapMode.CHAR,
                new_x=XPos.LMARGIN if index % 2 else XPos.RIGHT,
                new_y=YPos.NEXT if index % 2 else YPos.TOP,
                max_line_height=5.5,
            )
        self.ln(3)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, size=8)
        self.set_text_color(*MUTED)
        page = _("Page {page} of {pages}").format(page=self.page_no(), pages="{nb}")
        self.cell(0, 5, page, align=Align.C)
        self.set_text_color(*INK)


def sheet_pdf(sheet: SigninSheet, *, locale: str, font: CjkFont) -> bytes:
    """The sign-in sheet as a PDF to print: A4, the head and the column headings on
    every page."""
    pdf = _SheetDocument(head_lines(sheet, locale))
    pdf.add_font(FAMILY, "", str(font.regular.path), collection_font_number=font.regular.index)
    pdf.add_font(FAMILY, "B", str(font.bold.path), collection_font_number=font.bold.index)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_lang("zh-CN" if locale.startswith("zh") else "en")
    pdf.set_title(f"{_('Sign-in sheet')} · {sheet.title}")
    pdf.set_author(station_text(sheet, locale))
    pdf.set_creator("volunteer-station-bot")
    pdf.add_page()
    pdf.set_font(FAMILY, size=10)
    pdf.set_draw_color(120, 120, 120)
    pdf.set_line_width(0.2)
    body = rows(sheet)
    spare: list[list[str | int]] = [
        [len(body) + n, "", "", "", "", ""] for n in range(1, SPARE_ROWS + 1)
    ]
    with pdf.table(
        col_widths=COLUMNS,
        width=sum(COLUMNS),
        headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
        line_height=ROW_HEIGHT - 2,
        padding=1,
        text_align=("CENTER", "LEFT", "CENTER", "CENTER", "CENTER", "LEFT"),
        v_align="MIDDLE",
        wrapmode=WrapMode.CHAR,
        repeat_headings=1,
    ) as table:
        table.row(headings())
        for values in [*body, *spare]:
            table.row([str(value) for value in values])
    return bytes(pdf.output())


# --- XLSX -----------------------------------------------------------------------------


def sheet_xlsx(sheet: SigninSheet, *, locale: str) -> bytes:
    """The sign-in sheet as a spreadsheet: the head, then the numbered rows; printed
    on A4 to the paper's width with the column headings repeated on every page."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = _("Sign-in sheet")[:31]
    thin = Side(style="thin", color="888888")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.append([_("Sign-in sheet")])
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(XLSX_WIDTHS))
    for line in head_lines(sheet, locale):
        ws.append([line])
        ws.merge_cells(
            start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=len(XLSX_WIDTHS)
        )
    ws.append([])
    ws.append(headings())
    header = ws.max_row
    for cell in next(ws.iter_rows(min_row=header, max_row=header)):
        cell.font = Font(bold=True)
        cell.border = box
        cell.alignment = Alignment(horizontal="center", vertical="center")
    centred = {1, 3, 4, 5}
    for values in rows(sheet):
        ws.append(values)
        ws.row_dimensions[ws.max_row].height = 24
        [line] = ws.iter_rows(min_row=ws.max_row, max_row=ws.max_row)
        for column, cell in enumerate(line, start=1):
            cell.border = box
            cell.alignment = Alignment(
                horizontal="center" if column in centred else "left", vertical="center"
            )
    for column, width in enumerate(XLSX_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.freeze_panes = ws.cell(row=header + 1, column=1)
    ws.print_title_rows = f"{header}:{header}"
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddHeader.center.text = f"{station_text(sheet, locale)} · {sheet.title}"
    ws.oddFooter.center.text = "&P / &N"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
