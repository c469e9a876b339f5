"""An activity's sign-in sheet (签到表) as a printable PDF (fpdf2) and as a spreadsheet
(XLSX, openpyxl), in the reader's language.

Both are plain functions of a ``services.signin_sheet.SigninSheet`` (plain values, no
Telegram types): every page carries the station, the activity, its date and time and
its place; then one numbered row per person with the name, the phone's last four
digits, the check-in and check-out times and a column to sign in, and a few empty
numbered rows for those who come without signing up. Printed, long lists run over as
many pages as they need, with the column headings repeated on each.

Texts go through gettext in the current locale: render inside the reader's locale
(a handler already is; elsewhere ``with i18n.context(), i18n.use_locale(...)``)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from services.signin_sheet import SheetLine, SigninSheet
from ui.format import format_when

FAMILY = "cjk"
MARGIN = 15.0
# No., name, phone (last 4), check-in, check-out, signature: the 180 mm between margins.
COLUMNS = (14.0, 44.0, 26.0, 24.0, 24.0, 48.0)
ROW_HEIGHT = 9.0  # room to write a name by hand
SPARE_ROWS = 5  # empty rows for people who come without signing up
INK = (33, 37, 41)
MUTED = (108, 117, 125)
XLSX_WIDTHS = (7, 18, 12, 11, 11, 24)


def station_text(sheet: SigninSheet, locale: str) -> str:
    if locale == "en" and sheet.station_name_en:
        return sheet.station_name_en
    return sheet.station_name


def _clock(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M") if moment is not None else ""


def _phone(tail: str | None) -> str:
    return f"****{tail}" if tail else ""


def _name(line: SheetLine) -> str:
    return f"{line.name} {_('(walk-in)')}" if line.walk_in else line.name


def head_lines(sheet: SigninSheet, locale: str) -> list[str]:
    """What heads every page: the station, the activity, its time and its place."""
    return [
        _("Station: {path}").format(path=station_text(sheet, locale)),
        _("Activity: {title}").format(title=sheet.title),
        _("When: {when}").format(
            when=format_when(sheet.starts_at, sheet.ends_at, sheet.zone, locale)
        ),
        _("Place: {place}").format(place=sheet.place),
    ]


def headings() -> list[str]:
    return [
        _("No."),
        _("Name"),
        _("Phone (last 4)"),
        _("Check-in"),
        _("Check-out"),
        _("Signature"),
    ]


def rows(sheet: SigninSheet) -> list[list[str | int]]:
    """One row per person, numbered from 1, times in the station's zone."""
    return [
        [
            number,
            _name(line),
            _phone(line.phone_tail),
            _clock(line.checked_in_at, sheet.zone),
            _clock(line.checked_out_at, sheet.zone),
            "",
        ]
        for number, line in enumerate(sheet.lines, start=1)
    ]
