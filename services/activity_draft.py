"""An activity being written: each field's limits and parsers (typed text in
Chinese or English, or a quick pick), and the draft a dialog keeps between steps.
Plain Python: returns values, raises InvalidInput."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from services import plain_text, when
from services.errors import InvalidInput
from storage.models import Activity, ActivityKind, TargetGroup

TITLE_MAX = 80
DESCRIPTION_MAX = 1000
PLACE_MAX = 120
CAPACITY_MIN, CAPACITY_MAX = 1, 1000
REPEAT_MAX = 11  # extra weekly occurrences: up to 12 in all

_CAPACITY_RE = re.compile(r"^(\d+)\s*(?:人|名|位|个|people|persons?)?$")
_REPEAT_RE = re.compile(r"^(\d+)\s*(?:周|次|个星期|个礼拜|weeks?|times?|x)?$")
_NO_REPEAT = {"no", "none", "once", "不", "否", "不重复", "无", "一次", "0"}


# --- one field at a time ------------------------------------------------------------


def clean_title(text: str) -> str:
    title = plain_text.one_line(text)
    if not title:
        raise InvalidInput("title_empty")
    if len(title) > TITLE_MAX:
        raise InvalidInput("title_too_long", max=TITLE_MAX)
    return title


def clean_description(text: str) -> str:
    """Line breaks kept, at most one blank line in a row; may be empty."""
    description = re.sub(r"\n{3,}", "\n\n", "\n".join(plain_text.lines(text))).strip()
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput("description_too_long", max=DESCRIPTION_MAX)
    return description


def clean_place(text: str) -> str:
    place = plain_text.one_line(text)
    if not place:
        raise InvalidInput("place_empty")
    if len(place) > PLACE_MAX:
        raise InvalidInput("place_too_long", max=PLACE_MAX)
    return place


def check_capacity(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("capacity_not_a_number")
    if not CAPACITY_MIN <= value <= CAPACITY_MAX:
        raise InvalidInput("capacity_out_of_range", min=CAPACITY_MIN, max=CAPACITY_MAX)
    return value


def parse_capacity(text: str) -> int:
    """``20``, ``２０``, ``20人``, ``二十``."""
    match = _CAPACITY_RE.match(when.plain_digits(text))
    if match is None:
        raise InvalidInput("capacity_not_a_number")
    return check_capacity(int(match.group(1)))


def check_repeat(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("repeat_out_of_range", max=REPEAT_MAX + 1)
    if not 0 <= value <= REPEAT_MAX:
        raise InvalidInput("repeat_out_of_range", max=REPEAT_MAX + 1)
    return value


def parse_repeat(text: str) -> int:
    """How many weeks in all, as typed (``8``, ``8周``, ``八次``, ``no``), as the number
    of extra weekly occurrences: ``8`` -> 7."""
    cleaned = when.plain_digits(text)
    if cleaned in _NO_REPEAT:
        return 0
    match = _REPEAT_RE.match(cleaned)
    if match is None:
        raise InvalidInput("repeat_not_a_number", max=REPEAT_MAX + 1)
    weeks = int(match.group(1))
    if not 1 <= weeks <= REPEAT_MAX + 1:
        raise InvalidInput("repeat_out_of_range", max=REPEAT_MAX + 1)
    return weeks - 1


def check_kind(value: str) -> ActivityKind:
    try:
        return ActivityKind(value)
    except ValueError:
        raise InvalidInput("kind_unknown") from None


def check_target(value: str) -> TargetGroup:
    try:
        return TargetGroup(value)
    except ValueError:
        raise InvalidInput("target_unknown") from None


def aware(value: object, code: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput(code)
    return value


# --- the draft ----------------------------------------------------------------------


@dataclass
class ActivityDraft:
    """An activity being written, kept in the dialog state between steps. A field is
    None until it is answered; a skipped description is the empty string."""

    kind: ActivityKind | None = None
    title: str | None = None
    description: str | None = None
    place: str | None = None
    starts_at: datetime | None = None  # aware UTC
    ends_at: datetime | None = None  # aware UTC
    capacity: int | None = None
    target_group: TargetGroup | None = None
    repeat_weeks: int | None = None  # extra weekly occurrences, 0..11

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, ActivityKind | TargetGroup):
                value = value.value
            out[item.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ActivityDraft:
        data = data or {}
        draft = cls()
        if data.get("kind"):
            draft.kind = check_kind(str(data["kind"]))
        if data.get("target_group"):
            draft.target_group = check_target(str(data["target_group"]))
        for name in ("title", "description", "place"):
            if data.get(name) is not None:
                setattr(draft, name, str(data[name]))
        for name in ("starts_at", "ends_at"):
            if data.get(name):
                setattr(draft, name, datetime.fromisoformat(str(data[name])))
        for name in ("capacity", "repeat_weeks"):
            if data.get(name) is not None:
                setattr(draft, name, int(data[name]))
        return draft

    @classmethod
    def of(cls, activity: Activity) -> ActivityDraft:
        """A saved activity as a draft, to edit it with the same steps."""
        return cls(
            kind=activity.kind,
            title=activity.title,
            description=activity.description,
            place=activity.place,
            starts_at=activity.starts_at,
            ends_at=activity.ends_at,
            capacity=activity.capacity,
            target_group=activity.target_group,
            repeat_weeks=0,
        )

    def missing(self) -> list[str]:
        """Unanswered fields, in the order the dialog asks them."""
        return [item.name for item in fields(self) if getattr(self, item.name) is None]

    def validate(self, now: datetime) -> None:
        """Every field present and within its limits, and a schedule that can happen."""
        missing = self.missing()
        if missing:
            raise InvalidInput("draft_incomplete", fields=", ".join(missing))
        assert self.kind is not None and self.target_group is not None
        check_kind(self.kind)
        check_target(self.target_group)
        clean_title(self.title or "")
        clean_description(self.description or "")
        clean_place(self.place or "")
        check_capacity(self.capacity)  # type: ignore[arg-type]
        check_repeat(self.repeat_weeks)  # type: ignore[arg-type]
        start = aware(self.starts_at, "when_unreadable")
        end = aware(self.ends_at, "when_unreadable")
        when.validate_schedule(start, end, now)

    def occurrences(self) -> int:
        return (self.repeat_weeks or 0) + 1
