"""Hours for the national volunteer system (全国志愿服务信息系统, 志愿汇): one row per
person and activity of a station's subtree over a period, in a column layout read
from a small YAML mapping file (a default ships with the bot:
services/hours_export.yaml).

The rows are the credited hours (``services.hours``: confirmed, credited when the
activity closed, not absent, the activity not cancelled) at the activities held in
the period (the tally's rule: started inside it and not after now) at stations of
the subtree (the tally's). No ID numbers are collected, so none are exported; erased
volunteers have no name left and are not listed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlmodel.ext.asyncio.session import AsyncSession

from services.errors import InvalidInput
from services.periods import Period
from storage.models import ActivityKind
from storage.queries import register as queries

# What a column may hold: the field names of a mapping file.
FIELDS = {
    "name": "the volunteer's name",
    "phone": "the volunteer's phone",
    "title": "the activity's title",
    "kind": "the activity's kind, in the mapping's language",
    "date": "the activity's date (date_format)",
    "start": "the activity's start time (time_format)",
    "end": "the activity's end time (time_format)",
    "hours": "credited hours (hours_decimals)",
    "minutes": "credited minutes",
    "station": "the station's name",
    "station_code": "the station's code",
}
LANGUAGES = ("zh_CN", "en")
_KEYS = {"columns", "sheet", "date_format", "time_format", "hours_decimals", "language"}
_SAMPLE = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Column:
    header: str
    field: str


@dataclass(frozen=True)
class Mapping:
    columns: Sequence[Column]
    sheet: str = "志愿服务时长"
    date_format: str = "%Y-%m-%d"
    time_format: str = "%H:%M"
    hours_decimals: int = 2
    language: str = "zh_CN"


@dataclass(frozen=True)
class ExportRow:
    """One person at one activity. Times are the station's local times."""

    name: str
    phone: str
    title: str
    kind: ActivityKind
    starts_at: datetime
    ends_at: datetime
    minutes: int
    station: str
    station_code: str


def _bad(detail: str) -> InvalidInput:
    return InvalidInput("export.bad_mapping", detail=detail)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(f"{what} must be a text that is not empty")
    return value.strip()


def _format(value: Any, what: str) -> str:
    text = _text(value, what)
    try:
        _SAMPLE.strftime(text)
    except ValueError as exc:
        raise _bad(f"{what} {text!r} is not a date format ({exc})") from exc
    if "%" not in text:
        raise _bad(f"{what} {text!r} has no % code (such as %Y-%m-%d or %H:%M)")
    return text


def parse_mapping(text: str) -> Mapping:
    """A mapping file's text as a Mapping. Raises InvalidInput("export.bad_mapping",
    detail=...) naming what is wrong (in English: it is read by whoever runs the
    command line)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise _bad(f"not valid YAML{line}: {getattr(exc, 'problem', None) or exc}") from exc
    if not isinstance(data, dict):
        raise _bad("the file must be a mapping with a 'columns' list")
    unknown = sorted(str(k) for k in data if k not in _KEYS)
    if unknown:
        raise _bad(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")
    listed = data.get("columns")
    if not isinstance(listed, list) or not listed:
        raise _bad("'columns' must be a list of at least one column")
    columns: list[Column] = []
    for n, entry in enumerate(listed, start=1):
        if not isinstance(entry, dict) or set(entry) != {"header", "field"}:
            raise _bad(f"column {n} must have exactly 'header' and 'field'")
        header = _text(entry["header"], f"column {n}'s header")
        field = entry["field"]
        if field not in FIELDS:
            raise _bad(
                f"column {n} ({header}): unknown field {field!r} (known: {', '.join(FIELDS)})"
            )
        if any(c.header == header for c in columns):
            raise _bad(f"column {n}: the header {header!r} is used twice")
        columns.append(Column(header, field))
    decimals = data.get("hours_decimals", 2)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 2:
        raise _bad("'hours_decimals' must be 0, 1 or 2")
    language = data.get("language", "zh_CN")
    if language not in LANGUAGES:
        raise _bad(f"'language' must be one of {', '.join(LANGUAGES)}")
    return Mapping(
        columns=columns,
        sheet=_text(data.get("sheet", Mapping.sheet), "'sheet'")[:31],
        date_format=_format(data.get("date_format", Mapping.date_format), "'date_format'"),
        time_format=_format(data.get("time_format", Mapping.time_format), "'time_format'"),
        hours_decimals=decimals,
        language=str(language),
    )


def default_mapping_text() -> str:
    """The mapping file shipped with the bot."""
    return (resources.files("services") / "hours_export.yaml").read_text(encoding="utf-8")


def default_mapping() -> Mapping:
    return parse_mapping(default_mapping_text())


def hours_value(minutes: int, decimals: int) -> Decimal:
    """Minutes as hours, rounded half up to ``decimals`` places: 95, 1 -> 1.6."""
    step = Decimal(1).scaleb(-decimals)
    return (Decimal(minutes) / 60).quantize(step, rounding=ROUND_HALF_UP)


def national_phone(phone: str | None) -> str:
    """A phone as the national system takes it: a mainland number without +86
    (+8613812345678 -> 13812345678); others as kept."""
    if not phone:
        return ""
    return phone[3:] if phone.startswith("+86") and len(phone) == 14 else phone


async def rows(
    session: AsyncSession, *, station_id: int, period: Period, zone: ZoneInfo, now: datetime
) -> list[ExportRow]:
    """The credited hours at the subtree's activities held in ``period``. The caller
    checks the permission (the tally's: VIEW_TALLIES on the station)."""
    start, end = period.bounds(zone)
    found = await queries.credited_rows(session, station_id, start, end, now)
    return [
        ExportRow(
            name=name or "",
            phone=national_phone(phone),
            title=title,
            kind=ActivityKind(kind),
            starts_at=starts.astimezone(zone),
            ends_at=ends.astimezone(zone),
            minutes=int(minutes or 0),
            station=station,
            station_code=code,
        )
        for name, phone, title, kind, starts, ends, minutes, station, code in found
    ]
