"""The rules of attendance as plain values: when check-in and check-out are open,
the minutes of service, and what staff type (minutes, people served, target groups).

Rules (see docs/PRODUCT.md):

- Check-in is accepted from ``OPENS_BEFORE`` before the start to the end; check-out
  until ``CHECKOUT_GRACE`` after the end.
- Minutes of service are the actual time between check-in and check-out, capped at
  the activity's length, never negative. A check-in with a check-out is confirmed on
  its own; one without a check-out is flagged and never credited until staff confirm
  (proposed: from the check-in to the end, capped) or correct it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from services import when, workdays
from services.errors import InvalidInput
from storage.models import Activity, Attendance, TargetGroup

# Check-in opens this long before the start and closes at the end.
OPENS_BEFORE = timedelta(minutes=30)
# Check-out (with the code, the button or /checkout) is accepted until this long after
# the end: people tidy up, and forget. Later, staff confirm or correct the hours.
CHECKOUT_GRACE = timedelta(hours=2)
BENEFICIARIES_MAX = 100_000
NAMES_SHOWN = 30

_COUNT_RE = re.compile(r"^(\d+)(?:人次|人|名|位|个|people|persons?)?$")
_HOURS = r"(?:h|hr|hrs|hours?|小时|钟头|時)"
_MINUTES = r"(?:m|min|mins|minutes?|分钟|分鐘|分)"
_HOURS_RE = re.compile(r"^(\d+(?:\.\d+)?)" + _HOURS + "?$")
_MINUTES_RE = re.compile(r"^(\d+)" + _MINUTES + "$")
_BOTH_RE = re.compile(r"^(\d+)" + _HOURS + r"(\d+)" + _MINUTES + "?$")
_CLOCK_RE = re.compile(r"^(\d+):(\d{2})$")


def length_minutes(activity: Activity) -> int:
    """The activity's length in whole minutes: the most anyone is credited."""
    return max(0, int((activity.ends_at - activity.starts_at).total_seconds() // 60))


def served_minutes(activity: Activity, start: datetime, end: datetime) -> int:
    """Actual time from ``start`` to ``end``, capped at the activity's length, never
    negative."""
    actual = int((end - start).total_seconds() // 60)
    return max(0, min(actual, length_minutes(activity)))


def is_flagged(row: Attendance) -> bool:
    """Checked in, not checked out, not confirmed by staff: never credited as it is."""
    return row.checked_in_at is not None and row.checked_out_at is None and not row.confirmed


def proposed_minutes(activity: Activity, row: Attendance) -> int | None:
    """For a check-in without a check-out: from the check-in to the end, capped."""
    if row.checked_in_at is None:
        return None
    return served_minutes(activity, row.checked_in_at, activity.ends_at)


def window(activity: Activity) -> tuple[datetime, datetime, datetime]:
    """When check-in opens, when it closes, and when check-out closes."""
    return activity.starts_at - OPENS_BEFORE, activity.ends_at, activity.ends_at + CHECKOUT_GRACE


def parse_minutes(text: str, *, maximum: int) -> int:
    """Minutes of service as staff type them: ``2.5`` or ``2.5小时`` (hours), ``150分钟``,
    ``90 min``, ``1小时30分``, ``1h30m``, ``1:30``, ``两个半小时``, ``半小时``. From 0 to
    ``maximum`` (the activity's length)."""
    cleaned = when.plain_digits(text).replace(" ", "").replace(",", ".").replace("个", "")
    cleaned = cleaned.replace("。", ".")
    if cleaned.startswith("半"):
        cleaned = "0.5" + cleaned[1:]
    cleaned = re.sub(r"^(\d+)半(小时|钟头)$", r"\1.5\2", cleaned)
    cleaned = re.sub(r"^(\d+)(小时|钟头)半$", r"\1.5\2", cleaned)
    minutes: float
    if match := _HOURS_RE.match(cleaned):
        minutes = float(match.group(1)) * 60
    elif match := _MINUTES_RE.match(cleaned):
        minutes = int(match.group(1))
    elif (match := _BOTH_RE.match(cleaned)) or (match := _CLOCK_RE.match(cleaned)):
        minutes = int(match.group(1)) * 60 + int(match.group(2))
    else:
        raise InvalidInput("minutes_unreadable", max=maximum)
    result = round(minutes)
    if not 0 <= result <= maximum:
        raise InvalidInput("minutes_out_of_range", max=maximum)
    return result


def check_minutes(value: int, *, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise InvalidInput("minutes_out_of_range", max=maximum)
    return value


def parse_count(text: str) -> int:
    """People served as typed: ``35``, ``３５人``, ``三十五人次``; 0 to 100000."""
    match = _COUNT_RE.match(when.plain_digits(text).replace(" ", "").replace(",", ""))
    if match is None:
        raise InvalidInput("count_unreadable", max=BENEFICIARIES_MAX)
    return check_count(int(match.group(1)))


def check_count(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("count_unreadable", max=BENEFICIARIES_MAX)
    if not 0 <= value <= BENEFICIARIES_MAX:
        raise InvalidInput("count_out_of_range", max=BENEFICIARIES_MAX)
    return value


def check_group(value: str) -> TargetGroup:
    try:
        return TargetGroup(value)
    except ValueError:
        raise InvalidInput("target_unknown") from None


# ``days`` working days after a day, on China's official calendar (services.workdays).
add_working_days = workdays.add_working_days
