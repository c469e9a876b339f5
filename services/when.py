"""Dates and times as station staff type them, read in the station's time zone.

Start: ``2026-11-28 09:00``, ``2026/11/28 9:00``, ``11/28 9:00``, ``11-28 9:30``,
``11月28日 9:00``, ``11月28日9点``, ``11月28日 上午9点``, ``11月28日 下午3点半``,
``明天 9:00``, ``后天 14:00``, ``今天 19:30``, ``周六 9:00``, ``星期六 9:00``,
``下周六 9:00``, ``今晚8点``, ``今晚8点40``, ``明早9点``, ``后天晚上8点``,
``下个月3号 9点``, ``本月28号``, ``月底``, ``下个月底``, ``11月底``, ``tomorrow 9am``,
``9:00 tomorrow``, ``tonight 8pm``, ``Sat 3pm``; full-width digits and colons too. A
date without a year is the next such date that is not in the past; a weekday is the
next such day whose time is still ahead (``下周`` is the next ISO week).

End: the same forms, a bare time on the start's day (``11:30``, ``11点半``), or a
duration after the start (``2小时``, ``2h``, ``90分钟``, ``1.5小时``); with ``到``/``至``/
``until`` before or ``结束``/``为止`` after (``到11:30``, ``11:30结束``). After a start in
the afternoon or evening, a bare hour that would fall before it is read as the
afternoon's (start 今晚8点, end ``10点``: 22:00).

Everything returns aware UTC datetimes; bad input raises ``InvalidInput``.
"""

from __future__ import annotations

import re
import unicodedata
from calendar import monthrange
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
# 今晚, 明早, 明晨, 今夜: the day is taken here, the part of the day stays for the time.
_RELATIVE_RE = re.compile(
    r"大后天|后天|明天|明日|今天|今日|[今明](?=[早晚晨夜])|\btoday\b|\btomorrow\b|\btonight\b"
)
_RELATIVE = {"今天": 0, "今日": 0, "今": 0, "today": 0, "tonight": 0}
_RELATIVE |= {"明天": 1, "明日": 1, "明": 1, "tomorrow": 1, "后天": 2, "大后天": 3}
# 下个月3号, 下月底, 本月28号, 这个月30号, 下下个月1号; 月底 and 11月底 on their own.
_MONTHS_AHEAD = {"本": 0, "这": 0, "下": 1, "下下": 2}
_MONTH_RELATIVE_RE = re.compile(r"(下下|下|本|这)个?月\s*(?:(\d{1,2})\s*[日号]|[底末])")
_MONTH_END_RE = re.compile(r"(?<![\d个下本这])(?:(\d{1,2})\s*)?月\s*[底末]")
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

    kind: str  # exact, month_day, day, weekday, month
    year: int = 0
    month: int = 0
    day: int = 0  # 0 with month_day or month: the month's last day
    weekday: int = 0
    weeks_ahead: int | None = None  # None: the next such weekday; else ISO weeks ahead
    months_ahead: int = 0  # month: calendar months after this one


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
        if match.group(0) == "tonight":
            rest = rest[: match.start()] + " 晚 " + rest[match.start() :]
        return _Date("exact", when.year, when.month, when.day), rest
    match, rest = _take(_MONTH_RELATIVE_RE, text)
    if match is not None:
        ahead = _MONTHS_AHEAD[match.group(1)]
        return _Date("month", day=int(match.group(2) or 0), months_ahead=ahead), rest
    match, rest = _take(_MONTH_END_RE, text)
    if match is not None:
        if match.group(1) is None:
            return _Date("month"), rest
        return _Date("month_day", month=int(match.group(1))), rest
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


def _day_of_month(year: int, month: int, day: int) -> date:
    """The day (0: the last) of a month; InvalidInput for a day the month lacks."""
    try:
        return date(year, month, day or monthrange(year, month)[1])
    except ValueError:
        raise InvalidInput("when_bad_date") from None


def _resolve(typed: _Date, clock: time, now_local: datetime) -> date:
    today = now_local.date()
    if typed.kind == "exact":
        try:
            return date(typed.year, typed.month, typed.day)
        except ValueError:
            raise InvalidInput("when_bad_date") from None
    if typed.kind == "month":
        index = today.year * 12 + today.month - 1 + typed.months_ahead
        return _day_of_month(index // 12, index % 12 + 1, typed.day)
    if typed.kind == "month_day":
        if not (1 <= typed.month <= 12 and 0 <= typed.day <= 31):
            raise InvalidInput("when_bad_date")
        for year in range(today.year, today.year + 9):  # 29 February waits for a leap year
            try:
                found = _day_of_month(year, typed.month, typed.day)
            except InvalidInput:
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

# Parts of the day; the one-character forms come from 今晚, 明早, 明晨, 今夜, 晚8点.
_PERIODS = "上午|早上|早晨|清晨|凌晨|中午|下午|午后|傍晚|晚上|夜里|夜间|早|晚|晨|夜"
_PERIOD = f"({_PERIODS})?"
_PERIOD_ALONE_RE = re.compile(_PERIODS)
_AMPM = r"(am|pm|a\.m\.|p\.m\.)?"
_CLOCK_RE = re.compile(_PERIOD + r"\s*(\d{1,2})\s*:\s*(\d{2})\s*" + _AMPM + r"(?!\d)")
_CN_CLOCK_RE = re.compile(
    _PERIOD
    + r"\s*(\d{1,2})\s*[点點时](?:钟)?\s*(?:(半)|([1-3])\s*刻|(\d{1,2})\s*分?)?"
    + r"\s*"
    + _AMPM
)
_HOUR_AMPM_RE = re.compile(_PERIOD + r"\s*(?<![\d.:])(\d{1,2})\s*(am|pm|a\.m\.|p\.m\.)")
_AFTERNOON = {"下午", "午后", "傍晚", "晚上", "夜里", "夜间", "晚", "夜"}
_NIGHT = {"晚上", "夜里", "夜间", "晚", "夜"}
_MORNING = {"上午", "早上", "早晨", "清晨", "凌晨"}


@dataclass(frozen=True)
class _Clock:
    """A time of day as typed; ``bare``: an hour from 1 to 11 with no part of the day
    (上午, 下午, am, pm), which may mean the afternoon's."""

    at: time
    bare: bool
    day_after: bool = False  # 晚上12点: midnight, at the end of the day named

    @property
    def latest(self) -> time:
        """The time to compare with now when choosing the day (midnight is at its end)."""
        return time(23, 59) if self.day_after else self.at


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


def _typed_clock(hour: int, minute: int, period: str | None, ampm: str | None) -> _Clock:
    if hour == 12 and period in _NIGHT and not ampm:
        return _Clock(_clock(0, minute, None, None), bare=False, day_after=True)
    return _Clock(_clock(hour, minute, period, ampm), not (period or ampm) and 1 <= hour <= 11)


def _extract_time(text: str) -> tuple[_Clock | None, str]:
    match, rest = _take(_CLOCK_RE, text)
    if match is not None:
        period, hour, minute, ampm = match.groups()
        return _typed_clock(int(hour), int(minute), period, ampm), rest
    match, rest = _take(_CN_CLOCK_RE, text)
    if match is not None:
        period, hour, half, quarters, minute, ampm = match.groups()
        minutes = 30 if half else 15 * int(quarters) if quarters else int(minute or 0)
        return _typed_clock(int(hour), minutes, period, ampm), rest
    match, rest = _take(_HOUR_AMPM_RE, text)
    if match is not None:
        period, hour, ampm = match.groups()
        return _typed_clock(int(hour), 0, period, ampm), rest
    # 明天晚上 without an hour: the part of the day alone is no time.
    return None, _PERIOD_ALONE_RE.sub(" ", text)


# Words that may stand around a date and a time without changing them.
_FILLER = re.compile(r"(?:\s|[,，、@]|的|从|于|在|开始|起|\bat\b|\bon\b)+")


def _leftover(text: str) -> bool:
    return bool(_FILLER.sub("", text))


def _to_utc(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def _moment(day: date, clock: _Clock, tz: ZoneInfo) -> datetime:
    return _to_utc(day + timedelta(days=int(clock.day_after)), clock.at, tz)


def _check_text(text: str) -> str:
    cleaned = _normalise(text)
    if not cleaned:
        raise InvalidInput("when_empty")
    if len(cleaned) > _TEXT_MAX:
        raise InvalidInput("when_unreadable")
    return cleaned


def _parse(cleaned: str, now: datetime, tz: ZoneInfo) -> tuple[_Date | None, _Clock | None]:
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
        day = _resolve(typed, clock.latest if clock else time(23, 59), now_local)
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
    return _moment(_resolve(typed, clock.latest, now.astimezone(tz)), clock, tz)


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


# 到11:30, 至12点, until 11:30; 11:30结束, 12点为止.
_END_BEFORE_RE = re.compile(r"^(?:直到|到|至|(?:until|till|to)\b)\s*")
_END_AFTER_RE = re.compile(r"\s*(?:结束|为止|止)$")


def parse_end(text: str, *, start: datetime, now: datetime, tz: ZoneInfo) -> datetime:
    """An end as typed: a duration after ``start``, a bare time on the start's day,
    or a full date and time; aware UTC."""
    cleaned = _END_AFTER_RE.sub("", _END_BEFORE_RE.sub("", _check_text(text)))
    if not cleaned:
        raise InvalidInput("when_unreadable")
    duration = parse_duration(cleaned)
    if duration is not None:
        return start + duration
    typed, clock = _parse(cleaned, now, tz)
    if clock is None:
        raise InvalidInput("when_unreadable" if typed is None else "when_no_time")
    if typed is not None:
        return _moment(_resolve(typed, clock.latest, now.astimezone(tz)), clock, tz)
    day = start.astimezone(tz).date()
    end = _moment(day, clock, tz)
    if clock.bare and end <= start and start.astimezone(tz).hour >= 12:
        afternoon = _to_utc(day, clock.at.replace(hour=clock.at.hour + 12), tz)
        if afternoon > start:  # start 今晚8点, end 10点: 22:00
            return afternoon
    return end


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
