"""An activity's record sheet (活动台账): the page a station files for its assessments.
The words and rows; ``reports.record_sheet_files`` draws the PDF (fpdf2), imported
with the first sheet made.

It is a plain function of a ``services.activity_records.RecordSheet``: the activity's
details (title, kind, station, date and time, place, organiser), the attendance (one
numbered row per person: name, mark, check-in, check-out, minutes credited), the
people served by target group, the summary and the photos.

Texts go through gettext in the current locale: render inside the reader's locale
(a handler already is; elsewhere ``with i18n.context(), i18n.use_locale(...)``)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from services.activity_records import RecordSheet, SheetLine
from storage.models import ActivityStatus, AttendanceMark, TargetGroup
from ui import labels
from ui.durations import duration
from ui.format import format_moment, format_when

FAMILY = "cjk"
MARGIN = 15.0
# No., name, mark, check-in, check-out, time: the 180 mm between the margins.
COLUMNS = (12.0, 58.0, 26.0, 26.0, 26.0, 32.0)
DETAIL_COLUMNS = (36.0, 144.0)
BENEFICIARY_COLUMNS = (120.0, 60.0)
PHOTOS_PER_ROW = 3
PHOTO_GAP = 4.0
PHOTO_HEIGHT = 44.0
INK = (33, 37, 41)
MUTED = (108, 117, 125)


def station_text(sheet: RecordSheet, locale: str) -> str:
    if locale == "en" and sheet.station_name_en:
        return sheet.station_name_en
    return sheet.station_name


def title() -> str:
    return _("Activity record")


def _clock(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M") if moment is not None else ""


def _mark(line: SheetLine) -> str:
    if line.mark is AttendanceMark.PRESENT:
        return _("present")
    if line.mark is AttendanceMark.LATE:
        return _("late")
    if line.mark is AttendanceMark.ABSENT:
        return _("absent")
    if line.checked_in_at is not None:
        return _("checked in")
    return _("not recorded")


def _records_state(sheet: RecordSheet, locale: str) -> str:
    if sheet.status is ActivityStatus.CANCELLED:
        return _("cancelled")
    if sheet.closed_at is not None:
        return _("closed {at}").format(at=format_moment(sheet.closed_at, sheet.zone, locale))
    return _("not closed yet")


def details(sheet: RecordSheet, locale: str) -> list[tuple[str, str]]:
    """The activity's details, label and value."""
    return [
        (_("Activity"), sheet.title),
        (_("Kind"), str(labels.KINDS[sheet.kind])),
        (_("Station"), station_text(sheet, locale)),
        (_("When"), format_when(sheet.starts_at, sheet.ends_at, sheet.zone, locale)),
        (_("Place"), sheet.place),
        (_("Organiser"), sheet.organiser or station_text(sheet, locale)),
        (_("Records"), _records_state(sheet, locale)),
    ]


def attendance_counts(sheet: RecordSheet) -> str:
    return _(
        "{people} on the roster · {present} present · {absent} absent · {time} credited"
    ).format(
        people=len(sheet.lines),
        present=sheet.present,
        absent=sheet.absent,
        time=duration(sheet.minutes),
    )


def headings() -> list[str]:
    return [_("No."), _("Name"), _("Mark"), _("Check-in"), _("Check-out"), _("Time")]


def rows(sheet: RecordSheet) -> list[list[str]]:
    """One row per person, numbered from 1, times in the station's zone."""
    return [
        [
            str(number),
            f"{line.name} {_('(walk-in)')}" if line.walk_in else line.name,
            _mark(line),
            _clock(line.checked_in_at, sheet.zone),
            _clock(line.checked_out_at, sheet.zone),
            duration(line.minutes) if line.minutes is not None else "",
        ]
        for number, line in enumerate(sheet.lines, start=1)
    ]


def beneficiary_rows(sheet: RecordSheet) -> list[list[str]]:
    """Each target group with its count (groups not recorded show a dash), then the
    total."""
    found = [
        [
            str(labels.TARGETS[group]),
            str(sheet.beneficiaries[group]) if group in sheet.beneficiaries else "—",
        ]
        for group in TargetGroup
    ]
    return [*found, [_("Total"), str(sheet.served)]]


def made_line(sheet: RecordSheet, locale: str) -> str:
    return _("Made by the station's bot on {at}.").format(
        at=format_moment(sheet.made_at, sheet.zone, locale)
    )
