"""The record sheet's PDF (fpdf2). Imported with the first sheet made, so the bot does
not hold fpdf2 and PIL until then; ``reports.record_sheet`` holds the words and rows.

Photos come as bytes by photo id (the handler reads them from the data directory); a
photo that is missing or cannot be read is drawn as a framed note, so one bad file
never costs the station its sheet."""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping

from aiogram.utils.i18n import gettext as _
from fpdf import FPDF
from fpdf.enums import Align, WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from reports.certificate_pdf import CjkFont
from reports.record_sheet import (
    BENEFICIARY_COLUMNS,
    COLUMNS,
    DETAIL_COLUMNS,
    FAMILY,
    INK,
    MARGIN,
    MUTED,
    PHOTO_GAP,
    PHOTO_HEIGHT,
    PHOTOS_PER_ROW,
    attendance_counts,
    beneficiary_rows,
    details,
    headings,
    made_line,
    rows,
    station_text,
    title,
)
from services.activity_records import RecordSheet, SheetPhoto

log = logging.getLogger(__name__)

HEAD_FILL = (235, 235, 235)


class _RecordDocument(FPDF):
    """A4 pages headed by the sheet's title and the activity, numbered at the foot."""

    def __init__(self, running_head: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.running_head = running_head

    def header(self) -> None:
        self.set_text_color(*MUTED)
        self.set_font(FAMILY, size=8)
        self.cell(0, 5, self.running_head, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, size=8)
        self.set_text_color(*MUTED)
        page = _("Page {page} of {pages}").format(page=self.page_no(), pages="{nb}")
        self.cell(0, 5, page, align=Align.C)
        self.set_text_color(*INK)


def _section(pdf: FPDF, text: str, *, keep: float = 20) -> None:
    """A section's heading, on a new page unless ``keep`` mm fit under it."""
    pdf.ln(4)
    if pdf.will_page_break(keep + 12):
        pdf.add_page()
    pdf.set_font(FAMILY, "B", 12)
    pdf.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*MUTED)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.ln(2)
    pdf.set_font(FAMILY, size=10)


def _table(
    pdf: FPDF,
    widths: tuple[float, ...],
    head: list[str] | None,
    body: list[list[str]],
    align: tuple[str, ...],
) -> None:
    pdf.set_draw_color(120, 120, 120)
    pdf.set_line_width(0.2)
    with pdf.table(
        col_widths=widths,
        width=sum(widths),
        headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL),
        first_row_as_headings=head is not None,
        line_height=6,
        padding=1,
        text_align=align,
        v_align="MIDDLE",
        wrapmode=WrapMode.CHAR,
        repeat_headings=1,
    ) as table:
        if head is not None:
            table.row(head)
        for values in body:
            table.row(values)


def _photos(pdf: FPDF, photos: list[SheetPhoto], images: Mapping[int, bytes]) -> None:
    width = (pdf.epw - PHOTO_GAP * (PHOTOS_PER_ROW - 1)) / PHOTOS_PER_ROW
    for index, photo in enumerate(photos):
        column = index % PHOTOS_PER_ROW
        if column == 0:
            if index:
                pdf.set_y(pdf.get_y() + PHOTO_HEIGHT + PHOTO_GAP)
            if pdf.will_page_break(PHOTO_HEIGHT + 2):
                pdf.add_page()
        x = pdf.l_margin + column * (width + PHOTO_GAP)
        y = pdf.get_y()
        data = images.get(photo.id)
        drawn = False
        if data:
            try:
                pdf.image(
                    io.BytesIO(data), x=x, y=y, w=width, h=PHOTO_HEIGHT, keep_aspect_ratio=True
                )
                drawn = True
            except Exception:  # not an image fpdf2 (PIL) can read: noted in its place
                log.warning("record photo %s could not be drawn", photo.id, exc_info=True)
        if not drawn:
            pdf.set_draw_color(*MUTED)
            pdf.rect(x, y, width, PHOTO_HEIGHT)
            pdf.set_xy(x, y + PHOTO_HEIGHT / 2 - 3)
            pdf.set_text_color(*MUTED)
            note = _("Photo {number} not available").format(number=index + 1)
            pdf.cell(width, 6, note, align=Align.C)
            pdf.set_text_color(*INK)
            pdf.set_xy(pdf.l_margin, y)
    if photos:
        pdf.set_y(pdf.get_y() + PHOTO_HEIGHT + PHOTO_GAP)


def sheet_pdf(
    sheet: RecordSheet, *, locale: str, font: CjkFont, images: Mapping[int, bytes]
) -> bytes:
    """The record sheet as a PDF: A4, the details, attendance, beneficiaries, summary
    and photos, and a line to sign."""
    pdf = _RecordDocument(f"{station_text(sheet, locale)} · {sheet.title}")
    pdf.add_font(FAMILY, "", str(font.regular.path), collection_font_number=font.regular.index)
    pdf.add_font(FAMILY, "B", str(font.bold.path), collection_font_number=font.bold.index)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_lang("zh-CN" if locale.startswith("zh") else "en")
    pdf.set_title(f"{title()} · {sheet.title}")
    pdf.set_author(station_text(sheet, locale))
    pdf.set_creator("volunteer-station-bot")
    pdf.add_page()
    pdf.set_text_color(*INK)
    pdf.set_font(FAMILY, "B", 16)
    pdf.cell(0, 9, title(), align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FAMILY, size=10)
    head = [list(pair) for pair in details(sheet, locale)]
    _table(pdf, DETAIL_COLUMNS, None, head, ("LEFT", "LEFT"))

    _section(pdf, _("Attendance"))
    pdf.multi_cell(0, 6, attendance_counts(sheet), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    body = rows(sheet)
    if body:
        align = ("CENTER", "LEFT", "CENTER", "CENTER", "CENTER", "CENTER")
        _table(pdf, COLUMNS, headings(), body, align)
    else:
        pdf.cell(0, 6, _("Nobody held a seat or checked in."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    _section(pdf, _("Beneficiaries by group"))
    _table(
        pdf,
        BENEFICIARY_COLUMNS,
        [_("Target group"), _("People served")],
        beneficiary_rows(sheet),
        ("LEFT", "CENTER"),
    )

    _section(pdf, _("Activity summary"))
    summary = sheet.summary or _("No summary written.")
    pdf.multi_cell(0, 6, summary, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    keep = PHOTO_HEIGHT if sheet.photos else 8
    _section(pdf, _("Photos ({count})").format(count=len(sheet.photos)), keep=keep)
    if sheet.photos:
        _photos(pdf, sheet.photos, images)
    else:
        pdf.cell(0, 6, _("No photos attached."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.ln(6)
    if pdf.will_page_break(20):
        pdf.add_page()
    pdf.set_font(FAMILY, size=10)
    blank = "_" * 14
    filed_by, dated = _("Filed by (signature):"), _("Date:")
    pdf.cell(0, 8, f"{filed_by} {blank}    {dated} {blank}")
    pdf.ln(8)
    pdf.set_font(FAMILY, size=8)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 5, made_line(sheet, locale))
    return bytes(pdf.output())
