"""The service certificate drawn as a PDF (fpdf2). Imported where the first
certificate is made, so the bot does not hold fpdf2 (with numpy and PIL) in memory
until someone asks for one; ``reports.certificate_pdf`` finds the font and holds the
words."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import segno
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from fpdf import FPDF
from fpdf.enums import Align, WrapMode, XPos, YPos
from fpdf.fonts import FontFace as TableStyle

from reports.certificate_pdf import (
    CjkFont,
    activities_text,
    format_day,
    format_hours,
    hours_text,
    station_label,
)
from services.certificates import Statement, StationNames, display_code, issuers
from ui.date_range import date_range

# --- the document -----------------------------------------------------------------

FAMILY = "cjk"
MARGIN = 20.0
QR_SIZE = 32.0
INK = (33, 37, 41)
MUTED = (108, 117, 125)
ACCENT = (176, 42, 55)  # a seal's red, for the title rule
COLUMNS = (30.0, 62.0, 50.0, 28.0)  # date, activity, station, hours: the 170 mm between margins
PADDING = 1.5
ISSUER_WIDTH = 90.0  # the issuer's block at the right, where the seal goes
SEAL_SPACE = 26.0  # blank height between the issuing stations and the date, for the seal

# Babel puts thin and narrow no-break spaces in dates; CJK fonts lack them.
_SPACES = str.maketrans({"\u2009": " ", "\u202f": " ", "\u200a": " "})
# Line breaking for mixed Chinese and Latin text: a line may break before any Chinese
# character and between words, never inside a word, a number or a code, never before
# closing punctuation and never after opening punctuation.
_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_OPENING = "（《「『【〈〔“‘"  # never at the end of a line: kept with what follows
_TOKENS = re.compile(f"[{_OPENING}]*(?:[^\\s{_CJK}]+ *| +|.)", re.DOTALL)
_NO_LINE_START = set("，。、；：！？）》」』】〉〕”’,.;:!?)%")


def _plain(text: str) -> str:
    return text.translate(_SPACES)


def _wrap(pdf: FPDF, text: str, width: float) -> str:
    """``text`` with line breaks where it must break to fit ``width`` in the current font."""
    lines: list[str] = []
    for paragraph in _plain(text).split("\n"):
        line = ""
        for token in _TOKENS.findall(paragraph):
            fits = pdf.get_string_width((line + token).rstrip()) <= width
            if fits or not line.strip() or token[0] in _NO_LINE_START:
                line += token
            else:
                lines.append(line.rstrip())
                line = token.lstrip()
        lines.append(line.rstrip())
    return "\n".join(lines)


def _write(pdf: FPDF, width: float, height: float, text: str, align: Align = Align.L) -> None:
    """A paragraph in the current font, wrapped by ``_wrap``, then on the next line."""
    pdf.multi_cell(
        width,
        height,
        _wrap(pdf, text, width - 2 * pdf.c_margin),
        align=align,
        wrapmode=WrapMode.CHAR,  # only for a single word wider than the line
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )


class _Document(FPDF):
    """A4 pages with the holder, the verification code and the page number at the foot."""

    def __init__(self, foot: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.foot = foot

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FAMILY, size=8)
        self.set_text_color(*MUTED)
        page = _("Page {page} of {pages}").format(page=self.page_no(), pages="{nb}")
        self.cell(0, 5, _plain(f"{self.foot} · {page}"), align=Align.C)


def _qr_png(url: str) -> io.BytesIO:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
    buffer.seek(0)
    return buffer


def render(
    statement: Statement,
    *,
    locale: str,
    font: CjkFont,
    verify_url: str,
    bot_username: str | None = None,
) -> bytes:
    """The certificate: who, how many hours in how many activities, the activities of
    the period (continued on further pages when they do not fit), "特此证明", the
    stations that ran the activities as its issuers with room for their seal above
    the date, and a footnote saying it is the station's own record of service and how
    to verify it (the command, and a QR code of ``verify_url``)."""
    code = display_code(statement.code)
    home = station_label(statement.station, locale)
    issuing = [station_label(names, locale) for names in issuers(statement)]
    foot = _("{name} · verification code {code}").format(name=statement.holder_name, code=code)
    pdf = _Document(foot)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=22)
    pdf.add_font(FAMILY, "", str(font.regular.path), collection_font_number=font.regular.index)
    pdf.add_font(FAMILY, "B", str(font.bold.path), collection_font_number=font.bold.index)
    pdf.set_lang("zh-CN" if locale.startswith("zh") else "en")
    pdf.set_title(_("Volunteer service certificate"))
    pdf.set_author(" ".join(issuing))
    pdf.set_subject(code)
    pdf.set_creator("volunteer-station-bot")
    pdf.add_page()
    width = pdf.epw

    # Title, and whose record this is
    pdf.set_text_color(*INK)
    pdf.set_font(FAMILY, "B", 24)
    pdf.cell(width, 14, _("Volunteer service certificate"), align=Align.C)
    pdf.ln(14)
    pdf.set_font(FAMILY, size=10)
    pdf.set_text_color(*MUTED)
    pdf.cell(width, 6, _plain(_("The station's record of volunteer service")), align=Align.C)
    pdf.ln(8)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.8)
    pdf.line(MARGIN + width / 2 - 30, pdf.get_y(), MARGIN + width / 2 + 30, pdf.get_y())
    pdf.ln(8)

    # The statement, beside the QR code
    top = pdf.get_y()
    text_width = width - QR_SIZE - 8
    pdf.set_font(FAMILY, size=12)
    period = date_range(statement.first_day, statement.last_day, locale)
    sentence = ngettext(
        "This certifies that {name}, a volunteer of {station}, served {hours} in "
        "{count} activity from {period}.",
        "This certifies that {name}, a volunteer of {station}, served {hours} in "
        "{count} activities from {period}.",
        statement.activity_count,
    ).format(
        name=statement.holder_name,
        station=home,
        hours=hours_text(statement.period_minutes, locale),
        count=statement.activity_count,
        period=period,
    )
    _write(pdf, text_width, 7, sentence)
    pdf.ln(3)
    facts = [
        (_("Name"), statement.holder_name),
        (_("Home station"), home),
        (_("Period"), period),
        (_("Hours in the period"), hours_text(statement.period_minutes, locale)),
        (_("Activities in the period"), activities_text(statement.activity_count)),
        (_("Total hours"), hours_text(statement.total_minutes, locale)),
    ]
    _facts(pdf, facts, text_width)
    bottom = pdf.get_y()
    pdf.image(_qr_png(verify_url), x=MARGIN + width - QR_SIZE, y=top, w=QR_SIZE, h=QR_SIZE)
    pdf.set_xy(MARGIN + width - QR_SIZE - 4, top + QR_SIZE + 1)
    pdf.set_font(FAMILY, size=7)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(QR_SIZE + 8, 3.5, _plain(_("Scan to verify")) + "\n" + code, align=Align.C)
    pdf.set_text_color(*INK)
    pdf.set_xy(MARGIN, max(bottom, pdf.get_y()) + 6)

    # The activities
    pdf.set_font(FAMILY, "B", 13)
    pdf.cell(width, 8, _("Activities in the period"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    _activity_table(pdf, statement, locale)
    pdf.ln(4)

    # 特此证明, the issuers with room for their seal, the date; then the footnote
    issued = format_day(statement.issued_at.astimezone(statement.zone).date(), locale)
    note = _footnote_text(code, bot_username)
    _closing(pdf, issuing, issued, _footnote_height(pdf, note))
    _footnote(pdf, note)
    return bytes(pdf.output())


LINE = 7.0
NOTE_SIZE = 8.5
NOTE_LINE = 4.5


def _closing(pdf: FPDF, issuing: Sequence[str], issued: str, note_height: float) -> None:
    """The closing line (特此证明), then at the right the issuing stations, one a line,
    a blank space for the seal and the date; kept together with the footnote."""
    pdf.set_font(FAMILY, size=12)
    names = [_wrap(pdf, name, ISSUER_WIDTH - 2 * pdf.c_margin) for name in issuing]
    lines = 1 + sum(name.count("\n") + 1 for name in names)
    if pdf.will_page_break(LINE + 4 + lines * LINE + SEAL_SPACE + LINE + 6 + note_height):
        pdf.add_page()
    _write(pdf, pdf.epw, LINE, _("Hereby certified."))
    pdf.ln(4)
    left = pdf.l_margin + pdf.epw - ISSUER_WIDTH
    pdf.set_x(left)
    pdf.cell(ISSUER_WIDTH, LINE, _plain(_("Issued by (seal):")), align=Align.C)
    pdf.ln(LINE)
    pdf.set_font(FAMILY, "B", 12)
    for name in names:
        pdf.set_x(left)
        pdf.multi_cell(ISSUER_WIDTH, LINE, name, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(SEAL_SPACE)
    pdf.set_font(FAMILY, size=12)
    pdf.set_x(left)
    pdf.cell(ISSUER_WIDTH, LINE, _plain(issued), align=Align.C)
    pdf.ln(LINE + 6)


def _footnote_text(code: str, bot_username: str | None) -> str:
    """Whose record this is (not the national system's), and how to verify it."""
    what = _(
        "This certificate is the station's own record of service, issued from the records "
        "of the stations named above that ran the activities. It is not a Volunteer Service "
        "Record Certificate of the national volunteer service information system."
    )
    if bot_username:
        how = _(
            "To verify it, send /verify {code} to @{bot} in Telegram, or scan the QR code."
        ).format(code=code, bot=bot_username)
    else:
        how = _(
            "To verify it, send /verify {code} to the station's bot in Telegram, or scan "
            "the QR code."
        ).format(code=code)
    return what + " " + how


def _footnote_height(pdf: FPDF, text: str) -> float:
    pdf.set_font(FAMILY, size=NOTE_SIZE)
    wrapped = _wrap(pdf, text, pdf.epw - 2 * pdf.c_margin)
    return 2 + NOTE_LINE * (wrapped.count("\n") + 1)


def _footnote(pdf: FPDF, text: str) -> None:
    pdf.set_draw_color(200, 200, 200)
    pdf.set_line_width(0.2)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.ln(2)
    pdf.set_font(FAMILY, size=NOTE_SIZE)
    pdf.set_text_color(*MUTED)
    _write(pdf, pdf.epw, NOTE_LINE, text)
    pdf.set_text_color(*INK)


def _facts(pdf: FPDF, facts: Sequence[tuple[str, str]], width: float) -> None:
    label_width = 42.0
    for label, value in facts:
        pdf.set_font(FAMILY, size=10)
        pdf.set_text_color(*MUTED)
        pdf.cell(label_width, 7, _plain(label))
        pdf.set_font(FAMILY, "B", 11)
        pdf.set_text_color(*INK)
        pdf.set_x(pdf.l_margin + label_width)
        pdf.multi_cell(
            width - label_width,
            7,
            _wrap(pdf, value, width - label_width - 2 * pdf.c_margin),
            align=Align.L,
            wrapmode=WrapMode.CHAR,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )


def _activity_table(pdf: FPDF, statement: Statement, locale: str) -> None:
    pdf.set_font(FAMILY, size=10)
    pdf.set_draw_color(200, 200, 200)
    pdf.set_line_width(0.2)
    rows: list[tuple[str, ...]] = [(_("Date"), _("Activity"), _("Station"), _("Hours"))]
    for item in statement.activities:
        names = StationNames(item.station_name, item.station_name_en)
        rows.append(
            (
                format_day(item.day, locale, "medium"),
                item.title + (" " + _("(recorded by staff)") if item.by_staff else ""),
                station_label(names, locale),
                format_hours(item.minutes, locale),
            )
        )
    rows.append(("", _("Total"), "", format_hours(statement.period_minutes, locale)))
    total = TableStyle(emphasis="BOLD")
    with pdf.table(
        col_widths=COLUMNS,
        width=sum(COLUMNS),
        headings_style=TableStyle(emphasis="BOLD", fill_color=(240, 240, 240)),
        line_height=6,
        padding=PADDING,
        text_align=("LEFT", "LEFT", "LEFT", "RIGHT"),
        wrapmode=WrapMode.CHAR,  # only for a single word wider than its column
        repeat_headings=1,
    ) as table:
        for index, values in enumerate(rows):
            row = table.row()
            for value, column in zip(values, COLUMNS, strict=True):
                # Measured in the body font; a bold heading or total has room to spare.
                inner = column - 2 * PADDING - 2 * pdf.c_margin - 0.5
                row.cell(_wrap(pdf, value, inner), style=total if index == len(rows) - 1 else None)
