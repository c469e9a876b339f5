"""Dates and times as station staff type them, read in the station's time zone.

Start: ``2026-11-28 09:00``, ``2026/11/28 9:00``, ``11/28 9:00``, ``11-28 9:30``,
``11月28日 9:00``, ``11月28日9点``, ``11月28日 上午9点``, ``11月28日 下午3点半``,
``明天 9:00``, ``后天 14:00``, ``今天 19:30``, ``周六 9:00``, ``星期六 9:00``,
``下周六 9:00``, ``tomorrow 9am``, ``9:00 tomorrow``; full-width digits and colons
too. A date without a year is the next such date that is not in the past; a weekday
is the next such day whose time is still ahead (``下周`` is the next ISO week).

End: the same forms, a bare time on the start's day (``11:30``, ``11点半``), or a
duration after the start (``2小时``, ``2h``, ``90分钟``, ``1.5小时``).

Everything returns aware UTC datetimes; bad input raises ``InvalidInput``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.errors import InvalidInput

DEFAULT_ZONE = "Asia/Shanghai"
MAX_LENGTH = timedelta(hours=24)
_TEXT_MAX = 60


def zone(name: str | None, default: str = DEFAULT_ZONE) -> ZoneInfo:
    """The named zone, or the default when the name is empty or unknown."""
    for candidate in (name, default, DEFAULT_ZONE):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    raise AssertionError("the default zone is always known")


# --- normalising --------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile("[零〇一二两三四五六七八九十]+")


def _cn_value(run: str) -> str:
    if "十" not in run:
        return "".join(str(_CN_DIGITS[c]) for c in run)
    tens, _, ones = run.partition("十")
    if "十" in ones or len(tens) > 1 or len(ones) > 1:
        return run  # not a number we read; left for the parser to refuse
    return str((_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0))


def _normalise(text: str) -> str:
    """Full-width to half-width, lower case, one space between words."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("：", ":").replace("－", "-").replace("—", "-").replace("～", "-")
    return " ".join(text.split())


def _arabic(text: str) -> str:
    return _CN_NUMBER.sub(lambda m: _cn_value(m.group(0)), text)


def plain_digits(text: str) -> str:
    """Full-width and Chinese numerals as ASCII digits, lower case, spaces collapsed:
    ``１２人`` -> ``12人``, ``十二周`` -> ``12周``."""
    return _arabic(_normalise(text))


# --- dates --------------------------------------------------------------------------

_WEEKDAY_CN = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAY_CN |= {str(i + 1): i for i in range(7)}
_WEEKDAY_EN = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}

_WEEKDAY_CN_RE = re.compile(r"(下下|下个?|这个?|本)?\s*(?:周|星期|礼拜)([一二三四五六日天1-7])")
_WEEKDAY_EN_RE = re.compile(
    r"\b(next\s+|this\s+)?(mon|tue|wed|thu|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?\b"
)
_RELATIVE_RE = re.compile(r"大后天|后天|明天|明日|今天|今日|\btoday\b|\btomorrow\b")
_RELATIVE = {"今天": 0, "今日": 0, "today": 0, "明天": 1, "明日": 1, "tomorrow": 1}
_RELATIVE |= {"后天": 2, "大后天": 3}
_FULL_DATE_RE = re.compile(
    r"(?<!\d)(\d{4})\s*"
    r"(?:[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?![\d:])"
    r"|年\s*(\d{1,2})\s*月\s*(\d{1,2})(?:\s*[日号]|(?![\d:])))"
)
_MONTH_DAY_RE = re.compile(
    r"(?<![\d.:])(\d{1,2})\s*"
    r"(?:[-/]\s*(\d{1,2})(?![\d:])|月\s*(\d{1,2})(?:\s*[日号]|(?![\d:])))"
)
_DAY_RE = re.compile(r"(?<![\d.:])(\d{1,2})\s*[日号]")


@dataclass(frozen=True)
class _Date:
    """A date as typed: exact, without a year, a day of the month, or a weekday."""

    kind: str  # exact, month_day, day, weekday
    year: int = 0
    month: int = 0
    day: int = 0
    weekday: int = 0
    weeks_ahead: int | None = None  # None: the next such weekday; else ISO weeks ahead


def _take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    match = pattern.search(text)
    if match is None:
        return None, text
    return match, text[: match.start()] + " " + text[match.end() :]


def _extract_weekday(text: str) -> tuple[_Date | None, str]:
    match, rest = _take(_WEEKDAY_CN_RE, text)
    if match is not None:
        prefix = (match.group(1) or "").rstrip("个")
        ahead = {"": None, "这": 0, "本": 0, "下": 1, "下下": 2}[prefix]
        return _Date("weekday", weekday=_WEEKDAY_CN[match.group(2)], weeks_ahead=ahead), rest
    match, rest = _take(_WEEKDAY_EN_RE, text)
    if match is not None:
        ahead = {"": None, "this": 0, "next": 1}[(match.group(1) or "").strip()]
        return _Date("weekday", weekday=_WEEKDAY_EN[match.group(2)], weeks_ahead=ahead), rest
    return None, text


def _extract_date(text: str, today: date) -> tuple[_Date | None, str]:
    """The date in ``text`` (weekdays already taken out) and what is left."""
    match, rest = _take(_RELATIVE_RE, text)
    if match is not None:
        when = today + timedelta(days=_RELATIVE[match.group(0)])
        return _Date("exact", when.year, when.month, when.day), rest
    match, rest = _take(_FULL_DATE_RE, text)
    if match is not None:
        year, m1, d1, m2, d2 = match.groups()
        return _Date("exact", int(year), int(m1 or m2), int(d1 or d2)), rest
    match, rest = _take(_MONTH_DAY_RE, text)
    if match is not None:
        month, d1, d2 = match.groups()
        return _Date("month_day", month=int(month), day=int(d1 or d2)), rest
    match, rest = _take(_DAY_RE, text)
    if match is not None:
        return _Date("day", day=int(match.group(1))), rest
    return None, text


def _resolve(typed: _Date, clock: time, now_local: datetime) -> date:
    today = now_local.date()
    if typed.kind == "exact":
        try:
            return date(typed.year, typed.month, typed.day)
        except ValueError:
            raise InvalidInput("when_bad_date") from None
    if typed.kind == "month_day":
        if not (1 <= typed.month <= 12 and 1 <= typed.day <= 31):
            raise InvalidInput("when_bad_date")
        for year in range(today.year, today.year + 9):  # 29 February waits for a leap year
            try:
                found = date(year, typed.month, typed.day)
            except ValueError:
                continue
            if found >= today:
                return found
        raise InvalidInput("when_bad_date")
    if typed.kind == "day":
        if not 1 <= typed.day <= 31:
            raise InvalidInput("when_bad_date")
        year, month = today.year, today.month
        for _ in range(13):
            try:
                if date(year, month, typed.day) >= today:
                    return date(year, month, typed.day)
            except ValueError:
                pass  # no such day in this month: try the next
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        raise InvalidInput("when_bad_date")
    # a weekday
    if typed.weeks_ahead is None:
        found = today + timedelta(days=(typed.weekday - today.weekday()) % 7)
        if found == today and clock <= now_local.time().replace(tzinfo=None):
            found += timedelta(days=7)
        return found
    monday = today - timedelta(days=today.weekday())
    return monday + timedelta(days=7 * typed.weeks_ahead + typed.weekday)


# --- times --------------------------------------------------------------------------

_PERIOD = r"(上午|早上|早晨|清晨|凌晨|中午|下午|午后|傍晚|晚上|夜里|夜间)?"
_AMPM = r"(am|pm|a\.m\.|p\.m\.)?"
_CLOCK_RE = re.compile(_PERIOD + r"\s*(\d{1,2})\s*:\s*(\d{2})\s*" + _AMPM + r"(?!\d)")
_CN_CLOCK_RE = re.compile(
    _PERIOD
    + r"\s*(\d{1,2})\s*[点點时](?:钟)?\s*(?:(半)|([1-3])\s*刻|(\d{1,2})\s*分?)?"
    + r"\s*"
    + _AMPM
)
_HOUR_AMPM_RE = re.compile(r"(?<![\d.:])(\d{1,2})\s*(am|pm|a\.m\.|p\.m\.)")
_AFTERNOON = {"下午", "午后", "傍晚", "晚上", "夜里", "夜间"}
_MORNING = {"上午", "早上", "早晨", "清晨", "凌晨"}


def _clock(hour: int, minute: int, period: str | None, ampm: str | None) -> time:
    if ampm:
        if not 1 <= hour <= 12:
            raise InvalidInput("when_bad_time")
        hour = hour % 12 + (12 if ampm.startswith("p") else 0)
    elif period in _MORNING and hour > 12:
        raise InvalidInput("when_period_mismatch")  # 上午13点
    elif period in _AFTERNOON:
        if hour < 12:
            hour += 12
    elif period == "中午":
        if hour <= 3:
            hour += 12
    elif period == "凌晨" and hour == 12:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise InvalidInput("when_bad_time")
    return time(hour, minute)


def _extract_time(text: str) -> tuple[time | None, str]:
    match, rest = _take(_CLOCK_RE, text)
    if match is not None:
        period, hour, minute, ampm = match.groups()
        return _clock(int(hour), int(minute), period, ampm), rest
    match, rest = _take(_CN_CLOCK_RE, text)
    if match is not None:
        period, hour, half, quarters, minute, ampm = match.groups()
        minutes = 30 if half else 15 * int(quarters) if quarters else int(minute or 0)
        return _clock(int(hour), minutes, period, ampm), rest
    match, rest = _take(_HOUR_AMPM_RE, text)
    if match is not None:
        return _clock(int(match.group(1)), 0, None, match.group(2)), rest
    return None, text


# Words that may stand around a date and a time without changing them.
_FILLER = re.compile(r"(?:\s|[,，、@]|的|从|于|在|开始|起|\bat\b|\bon\b)+")


def _leftover(text: str) -> bool:
    return bool(_FILLER.sub("", text))


def _to_utc(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def _check_text(text: str) -> str:
    cleaned = _normalise(text)
    if not cleaned:
        raise InvalidInput("when_empty")
    if len(cleaned) > _TEXT_MAX:
        raise InvalidInput("when_unreadable")
    return cleaned


def _parse(cleaned: str, now: datetime, tz: ZoneInfo) -> tuple[_Date | None, time | None]:
    now_local = now.astimezone(tz)
    weekday, rest = _extract_weekday(cleaned)
    rest = _arabic(rest)
    typed, rest = _extract_date(rest, now_local.date())
    clock, rest = _extract_time(rest)
    if _leftover(rest):
        raise InvalidInput("when_unreadable")
    if typed is None:
        return weekday, clock
    if weekday is not None:  # 11月28日 周六: the date counts, and the weekday must fit it
        day = _resolve(typed, clock or time(23, 59), now_local)
        if day.weekday() != weekday.weekday:
            raise InvalidInput("when_weekday_mismatch")
    return typed, clock


def parse_start(text: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    """A start as typed, read in ``tz`` relative to ``now`` (aware); aware UTC."""
    if now.tzinfo is None:
        raise ValueError("now must be aware")
    typed, clock = _parse(_check_text(text), now, tz)
    if typed is None and clock is None:
        raise InvalidInput("when_unreadable")
    if typed is None:
        raise InvalidInput("when_no_date")
    if clock is None:
        raise InvalidInput("when_no_time")
    return _to_utc(_resolve(typed, clock, now.astimezone(tz)), clock, tz)


_HOURS = r"(?:个)?\s*(?:小时|钟头|hours?|hrs?|h)"
_MINUTES = r"(?:分钟|分|minutes?|mins?|m)"
_DURATION_RE = re.compile(
    r"^\+?\s*(?:(\d+(?:\.\d+)?)\s*" + _HOURS + r")?\s*(?:(\d+)\s*" + _MINUTES + r")?$"
)
_HALF_HOUR_RE = re.compile(r"^\+?\s*(\d+)?\s*(?:个)?\s*半\s*(?:个)?\s*(?:小时|钟头)$")


def parse_duration(text: str) -> timedelta | None:
    """``2小时``, ``2h``, ``90分钟``, ``1.5小时``, ``1小时30分``, ``半小时``, ``1个半小时``;
    None when the text is not a duration; more than ``MAX_LENGTH`` raises ``too_long``."""
    cleaned = _arabic(_normalise(text))
    half = _HALF_HOUR_RE.match(cleaned)
    if half is not None:
        return _bounded(float(half.group(1) or 0) + 0.5, 0)
    match = _DURATION_RE.match(cleaned)
    if match is None or not (match.group(1) or match.group(2)):
        return None
    return _bounded(float(match.group(1) or 0), int(match.group(2) or 0))


def _bounded(hours: float, minutes: int) -> timedelta:
    """A typed length; longer than an activity may last raises ``too_long`` (before
    ``timedelta`` could overflow on ``9999999999小时``)."""
    if hours * 60 + minutes > MAX_LENGTH.total_seconds() / 60:
        raise InvalidInput("too_long", hours=int(MAX_LENGTH.total_seconds() // 3600))
    return timedelta(hours=hours, minutes=minutes)


def parse_end(text: str, *, start: datetime, now: datetime, tz: ZoneInfo) -> datetime:
    """An end as typed: a duration after ``start``, a bare time on the start's day,
    or a full date and time; aware UTC."""
    cleaned = _check_text(text)
    duration = parse_duration(cleaned)
    if duration is not None:
        return start + duration
    typed, clock = _parse(cleaned, now, tz)
    if clock is None:
        raise InvalidInput("when_unreadable" if typed is None else "when_no_time")
    if typed is None:
        return _to_utc(start.astimezone(tz).date(), clock, tz)
    return _to_utc(_resolve(typed, clock, now.astimezone(tz)), clock, tz)


def validate_schedule(start: datetime, end: datetime, now: datetime) -> None:
    """End after start, start not in the past, at most 24 hours long."""
    if end <= start:
        raise InvalidInput("end_before_start")
    if start < now:
        raise InvalidInput("in_the_past")
    if end - start > MAX_LENGTH:
        raise InvalidInput("too_long", hours=int(MAX_LENGTH.total_seconds() // 3600))


def local_at(now: datetime, tz: ZoneInfo, *, days: int, hour: int, minute: int = 0) -> datetime:
    """``days`` after today in ``tz`` at the given wall-clock time; aware UTC."""
    day = now.astimezone(tz).date() + timedelta(days=days)
    return _to_utc(day, time(hour, minute), tz)


def next_weekday_at(now: datetime, tz: ZoneInfo, *, weekday: int, hour: int) -> datetime:
    """The next such weekday (Monday 0) at ``hour`` that is still ahead; aware UTC."""
    now_local = now.astimezone(tz)
    typed = _Date("weekday", weekday=weekday)
    clock = time(hour)
    return _to_utc(_resolve(typed, clock, now_local), clock, tz)


def weekly(start: datetime, count: int, tz: ZoneInfo) -> list[datetime]:
    """``count`` starts one week apart at the same local wall-clock time; aware UTC."""
    local = start.astimezone(tz).replace(tzinfo=None)
    return [(local + timedelta(weeks=i)).replace(tzinfo=tz).astimezone(UTC) for i in range(count)]
