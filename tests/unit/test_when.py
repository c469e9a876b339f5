"""Dates and times as staff type them, read in the station's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from services import when
from services.errors import InvalidInput

SHANGHAI = ZoneInfo("Asia/Shanghai")
URUMQI = ZoneInfo("Asia/Urumqi")  # UTC+6, the zone Xinjiang's stations may keep
BERLIN = ZoneInfo("Europe/Berlin")  # with daylight saving time
# Saturday 21 November 2026, 10:00 in Shanghai.
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)


def local(text: str, *, now: datetime = NOW, tz: ZoneInfo = SHANGHAI) -> tuple[int, ...]:
    moment = when.parse_start(text, now=now, tz=tz)
    assert moment.tzinfo is UTC
    got = moment.astimezone(tz)
    return (got.year, got.month, got.day, got.hour, got.minute)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28 09:00", (2026, 11, 28, 9, 0)),
        ("2026/11/28 9:00", (2026, 11, 28, 9, 0)),
        ("2026.11.28 9:00", (2026, 11, 28, 9, 0)),
        ("2026年11月28日 9:00", (2026, 11, 28, 9, 0)),
        ("2026年11月28日9点", (2026, 11, 28, 9, 0)),
        ("11/28 9:00", (2026, 11, 28, 9, 0)),
        ("11-28 9:30", (2026, 11, 28, 9, 30)),
        ("11月28日 9:00", (2026, 11, 28, 9, 0)),
        ("11月28日9点", (2026, 11, 28, 9, 0)),
        ("11月28号 9点", (2026, 11, 28, 9, 0)),
        ("11月28日 上午9点", (2026, 11, 28, 9, 0)),
        ("11月28日 下午3点半", (2026, 11, 28, 15, 30)),
        ("11月28日下午3:30", (2026, 11, 28, 15, 30)),
        ("11月28日 晚上7点", (2026, 11, 28, 19, 0)),
        ("11月28日 中午12点", (2026, 11, 28, 12, 0)),
        ("11月28日 中午1点", (2026, 11, 28, 13, 0)),
        ("11月28日 9点15分", (2026, 11, 28, 9, 15)),
        ("11月28日 9点一刻", (2026, 11, 28, 9, 15)),
        ("十一月二十八日 九点", (2026, 11, 28, 9, 0)),
        ("28号 9点", (2026, 11, 28, 9, 0)),
        ("明天 9:00", (2026, 11, 22, 9, 0)),
        ("明天上午9点", (2026, 11, 22, 9, 0)),
        ("后天 14:00", (2026, 11, 23, 14, 0)),
        ("大后天 14:00", (2026, 11, 24, 14, 0)),
        ("今天 19:30", (2026, 11, 21, 19, 30)),
        ("今天晚上7点半", (2026, 11, 21, 19, 30)),
        # Today is Saturday and 9:00 has passed: the next Saturday.
        ("周六 9:00", (2026, 11, 28, 9, 0)),
        ("星期六 9:00", (2026, 11, 28, 9, 0)),
        ("周六 14:00", (2026, 11, 21, 14, 0)),  # still ahead today
        ("周日 9:00", (2026, 11, 22, 9, 0)),
        ("星期天 9:00", (2026, 11, 22, 9, 0)),
        ("礼拜一 9:00", (2026, 11, 23, 9, 0)),
        ("下周六 9:00", (2026, 11, 28, 9, 0)),
        ("下周一 9:00", (2026, 11, 23, 9, 0)),
        ("下星期三 下午2点", (2026, 11, 25, 14, 0)),
        ("本周日 9:00", (2026, 11, 22, 9, 0)),
        ("11月28日 周六 09:00", (2026, 11, 28, 9, 0)),
        ("１１月２８日　９：００", (2026, 11, 28, 9, 0)),
        ("２０２６－１１－２８　０９：００", (2026, 11, 28, 9, 0)),
        ("明天 ９：３０", (2026, 11, 22, 9, 30)),
        ("tomorrow 9am", (2026, 11, 22, 9, 0)),
        ("Tomorrow 9:00", (2026, 11, 22, 9, 0)),
        ("9:00 tomorrow", (2026, 11, 22, 9, 0)),
        ("today 19:30", (2026, 11, 21, 19, 30)),
        ("tomorrow 2:30pm", (2026, 11, 22, 14, 30)),
        ("tomorrow 12am", (2026, 11, 22, 0, 0)),
        ("sat 9:00", (2026, 11, 28, 9, 0)),
        ("next Monday 9:00", (2026, 11, 23, 9, 0)),
        ("  明天   9:00  ", (2026, 11, 22, 9, 0)),
        ("从明天9点开始", (2026, 11, 22, 9, 0)),
    ],
)
def test_start_forms(text: str, expected: tuple[int, ...]) -> None:
    assert local(text) == expected


@pytest.mark.parametrize(
    ("now_local", "text", "expected"),
    [
        # A date without a year is the next such date that is not in the past.
        ((2026, 12, 30, 10), "1月3日 9:00", (2027, 1, 3, 9, 0)),
        ((2026, 12, 30, 10), "1/3 9:00", (2027, 1, 3, 9, 0)),
        ((2026, 12, 30, 10), "12月31日 9:00", (2026, 12, 31, 9, 0)),
        ((2026, 12, 31, 22, 0), "明天 9:00", (2027, 1, 1, 9, 0)),
        ((2026, 12, 31, 22, 0), "周五 9:00", (2027, 1, 1, 9, 0)),
        ((2026, 12, 30, 10), "3号 9点", (2027, 1, 3, 9, 0)),
        ((2026, 12, 30, 10), "12月30日 9:00", (2026, 12, 30, 9, 0)),  # today: in the past
        ((2027, 3, 1, 10), "2月29日 9:00", (2028, 2, 29, 9, 0)),  # the next leap year
        ((2026, 11, 21, 10), "11月20日 9:00", (2027, 11, 20, 9, 0)),
    ],
)
def test_year_rollover(now_local: tuple[int, ...], text: str, expected: tuple[int, ...]) -> None:
    now = datetime(*now_local, tzinfo=SHANGHAI).astimezone(UTC)  # type: ignore[misc]
    assert local(text, now=now) == expected


def test_relative_days_follow_the_station_day_not_utc() -> None:
    # 01:00 on Sunday in Shanghai is still Saturday in UTC: "tomorrow" is Monday.
    now = datetime(2026, 11, 22, 1, 0, tzinfo=SHANGHAI).astimezone(UTC)
    assert now.day == 21
    assert local("明天 9:00", now=now) == (2026, 11, 23, 9, 0)
    assert local("今天 9:00", now=now) == (2026, 11, 22, 9, 0)


def test_result_is_utc_for_the_station_zone() -> None:
    assert when.parse_start("2026-11-28 09:00", now=NOW, tz=SHANGHAI) == datetime(
        2026, 11, 28, 1, 0, tzinfo=UTC
    )
    assert when.parse_start("2026-11-28 09:00", now=NOW, tz=URUMQI) == datetime(
        2026, 11, 28, 3, 0, tzinfo=UTC
    )
    assert local("明天 9:00", tz=URUMQI) == (2026, 11, 22, 9, 0)


def test_zone_with_daylight_saving_keeps_the_wall_clock() -> None:
    now = datetime(2027, 3, 20, 12, 0, tzinfo=BERLIN).astimezone(UTC)
    before = when.parse_start("2027-03-27 09:00", now=now, tz=BERLIN)
    after = when.parse_start("2027-03-29 09:00", now=now, tz=BERLIN)
    assert before.hour == 8 and after.hour == 7  # UTC+1, then UTC+2
    starts = when.weekly(before, 3, BERLIN)
    assert [s.astimezone(BERLIN).hour for s in starts] == [9, 9, 9]
    assert starts[1] - starts[0] == timedelta(weeks=1, hours=-1)


def test_weekly_in_shanghai_is_exactly_a_week_apart() -> None:
    start = when.parse_start("2026-11-28 09:00", now=NOW, tz=SHANGHAI)
    starts = when.weekly(start, 12, SHANGHAI)
    assert len(starts) == 12
    assert all(b - a == timedelta(weeks=1) for a, b in pairwise(starts))


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "when_empty"),
        ("   ", "when_empty"),
        ("hello", "when_unreadable"),
        ("hello 9:00 明天", "when_unreadable"),
        ("明天", "when_no_time"),
        ("11月28日", "when_no_time"),
        ("9:00", "when_no_date"),
        ("下午3点半", "when_no_date"),
        ("明天 25:00", "when_bad_time"),
        ("明天 9:75", "when_bad_time"),
        ("明天 13pm", "when_bad_time"),
        ("2月30日 9:00", "when_bad_date"),
        ("13/01 9:00", "when_bad_date"),
        ("2026-13-01 09:00", "when_bad_date"),
        ("32号 9点", "when_bad_date"),
        ("11月29日 周六 9:00", "when_weekday_mismatch"),
        ("明天 9:00 后天 10:00", "when_unreadable"),
        ("x" * 100, "when_unreadable"),
    ],
)
def test_bad_start(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        when.parse_start(text, now=NOW, tz=SHANGHAI)
    assert caught.value.code == code


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        when.parse_start("明天 9:00", now=datetime(2026, 11, 21, 10), tz=SHANGHAI)


START = datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11:30", (28, 11, 30)),
        ("１１：３０", (28, 11, 30)),
        ("11点半", (28, 11, 30)),
        ("下午5点", (28, 17, 0)),
        ("2小时", (28, 11, 0)),
        ("两小时", (28, 11, 0)),
        ("2个小时", (28, 11, 0)),
        ("2h", (28, 11, 0)),
        ("+2h", (28, 11, 0)),
        ("2 hours", (28, 11, 0)),
        ("90分钟", (28, 10, 30)),
        ("90 min", (28, 10, 30)),
        ("1.5小时", (28, 10, 30)),
        ("1小时30分", (28, 10, 30)),
        ("1h30m", (28, 10, 30)),
        ("半小时", (28, 9, 30)),
        ("1个半小时", (28, 10, 30)),
        ("11月28日 12:00", (28, 12, 0)),
        ("11月29日 1:00", (29, 1, 0)),
    ],
)
def test_end_forms(text: str, expected: tuple[int, int, int]) -> None:
    end = when.parse_end(text, start=START, now=NOW, tz=SHANGHAI).astimezone(SHANGHAI)
    assert (end.day, end.hour, end.minute) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "when_empty"), ("soon", "when_unreadable"), ("11月29日", "when_no_time")],
)
def test_bad_end(text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        when.parse_end(text, start=START, now=NOW, tz=SHANGHAI)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("start_h", "end_h", "code"),
    [
        (9, 11, None),
        (9, 9, "end_before_start"),
        (11, 9, "end_before_start"),
        (-1, 1, "in_the_past"),
        (9, 9 + 24, None),
        (9, 9 + 25, "too_long"),
    ],
)
def test_validate_schedule(start_h: int, end_h: int, code: str | None) -> None:
    start = NOW + timedelta(hours=start_h)
    end = NOW + timedelta(hours=end_h)
    if code is None:
        when.validate_schedule(start, end, NOW)
        return
    with pytest.raises(InvalidInput) as caught:
        when.validate_schedule(start, end, NOW)
    assert caught.value.code == code


def test_quick_pick_helpers() -> None:
    tomorrow = when.local_at(NOW, SHANGHAI, days=1, hour=9).astimezone(SHANGHAI)
    assert (tomorrow.day, tomorrow.hour) == (22, 9)
    # Saturday at 10:00: Saturday 09:00 has passed, so the next one; 14:00 is today.
    saturday = when.next_weekday_at(NOW, SHANGHAI, weekday=5, hour=9).astimezone(SHANGHAI)
    assert saturday.day == 28
    today = when.next_weekday_at(NOW, SHANGHAI, weekday=5, hour=14).astimezone(SHANGHAI)
    assert today.day == 21


def test_zone_falls_back_to_the_default() -> None:
    assert when.zone("Asia/Urumqi").key == "Asia/Urumqi"
    assert when.zone(None).key == "Asia/Shanghai"
    assert when.zone("Mars/Olympus", "Asia/Urumqi").key == "Asia/Urumqi"


@pytest.mark.parametrize(
    ("text", "digits"), [("１２人", "12人"), ("十二周", "12周"), ("二十", "20")]
)
def test_plain_digits(text: str, digits: str) -> None:
    assert when.plain_digits(text) == digits


# --- as people write them: 今晚8点, 明早9点, 下个月3号, 月底; 到11:30, 11:30结束 ----------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今晚8点", (2026, 11, 21, 20, 0)),
        ("今晚8点40", (2026, 11, 21, 20, 40)),
        ("今晚8点40分", (2026, 11, 21, 20, 40)),
        ("今晚 8:40", (2026, 11, 21, 20, 40)),
        ("今晚八点半", (2026, 11, 21, 20, 30)),
        ("今天晚上8点", (2026, 11, 21, 20, 0)),
        ("今晚上8点", (2026, 11, 21, 20, 0)),
        ("今早11点", (2026, 11, 21, 11, 0)),
        ("今夜9点", (2026, 11, 21, 21, 0)),
        ("明早9点", (2026, 11, 22, 9, 0)),
        ("明早 9:30", (2026, 11, 22, 9, 30)),
        ("明晨7点", (2026, 11, 22, 7, 0)),
        ("明晚7点半", (2026, 11, 22, 19, 30)),
        ("明晚 19:00", (2026, 11, 22, 19, 0)),
        ("后天晚上8点", (2026, 11, 23, 20, 0)),
        ("后天早上8点", (2026, 11, 23, 8, 0)),
        ("下个月3号 9点", (2026, 12, 3, 9, 0)),
        ("下个月3号9点", (2026, 12, 3, 9, 0)),
        ("下月3号 9:00", (2026, 12, 3, 9, 0)),
        ("下个月三号上午九点", (2026, 12, 3, 9, 0)),
        ("下个月3日 下午2点", (2026, 12, 3, 14, 0)),
        ("下下个月1号 9点", (2027, 1, 1, 9, 0)),
        ("本月28号 9点", (2026, 11, 28, 9, 0)),
        ("这个月30号 9:00", (2026, 11, 30, 9, 0)),
        ("月底 9点", (2026, 11, 30, 9, 0)),
        ("本月底 9点", (2026, 11, 30, 9, 0)),
        ("月末 下午3点", (2026, 11, 30, 15, 0)),
        ("下个月底 14:00", (2026, 12, 31, 14, 0)),
        ("下月底14点", (2026, 12, 31, 14, 0)),
        ("tonight 8pm", (2026, 11, 21, 20, 0)),
        ("tonight 8:40", (2026, 11, 21, 20, 40)),
        ("Sat 3pm", (2026, 11, 21, 15, 0)),
        ("tomorrow 9:00", (2026, 11, 22, 9, 0)),
    ],
)
def test_start_as_people_write_it(text: str, expected: tuple[int, ...]) -> None:
    assert local(text) == expected


@pytest.mark.parametrize(
    ("now_local", "text", "expected"),
    [
        ((2026, 12, 30, 10), "下个月3号 9点", (2027, 1, 3, 9, 0)),
        ((2026, 12, 30, 10), "月底 9点", (2026, 12, 31, 9, 0)),
        ((2026, 12, 30, 10), "下个月底 9点", (2027, 1, 31, 9, 0)),
        ((2027, 1, 5, 10), "下个月底 9点", (2027, 2, 28, 9, 0)),
        ((2027, 12, 31, 22, 0), "明早9点", (2028, 1, 1, 9, 0)),
    ],
)
def test_month_words_roll_over_the_year(
    now_local: tuple[int, ...], text: str, expected: tuple[int, ...]
) -> None:
    now = datetime(*now_local, tzinfo=SHANGHAI).astimezone(UTC)  # type: ignore[misc]
    assert local(text, now=now) == expected


@pytest.mark.parametrize(
    ("now_local", "text", "code"),
    [
        ((2026, 11, 21, 10), "下个月32号 9点", "when_bad_date"),
        ((2027, 1, 5, 10), "下个月30号 9点", "when_bad_date"),  # no 30 February
        ((2026, 11, 21, 10), "下个月 9点", "when_unreadable"),
        ((2026, 11, 21, 10), "今晚", "when_no_time"),
        ((2026, 11, 21, 10), "月底", "when_no_time"),
    ],
)
def test_month_words_refused(now_local: tuple[int, ...], text: str, code: str) -> None:
    now = datetime(*now_local, tzinfo=SHANGHAI).astimezone(UTC)  # type: ignore[misc]
    with pytest.raises(InvalidInput) as caught:
        when.parse_start(text, now=now, tz=SHANGHAI)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("到11:30", (28, 11, 30)),
        ("11:30结束", (28, 11, 30)),
        ("到 11:30", (28, 11, 30)),
        ("至11:30", (28, 11, 30)),
        ("到11点半", (28, 11, 30)),
        ("11点半结束", (28, 11, 30)),
        ("到下午5点", (28, 17, 0)),
        ("下午5点结束", (28, 17, 0)),
        ("到12点结束", (28, 12, 0)),
        ("12点为止", (28, 12, 0)),
        ("until 11:30", (28, 11, 30)),
        ("till 11:30am", (28, 11, 30)),
        ("到11月28日 12:00", (28, 12, 0)),
    ],
)
def test_end_as_people_write_it(text: str, expected: tuple[int, int, int]) -> None:
    end = when.parse_end(text, start=START, now=NOW, tz=SHANGHAI).astimezone(SHANGHAI)
    assert (end.day, end.hour, end.minute) == expected


EVENING = datetime(2026, 11, 28, 20, 0, tzinfo=SHANGHAI).astimezone(UTC)  # 今晚8点


@pytest.mark.parametrize(
    ("start", "text", "expected"),
    [
        # After an evening start, a bare "10点" is 22:00, as people mean it.
        (EVENING, "10点", (28, 22, 0)),
        (EVENING, "到10点", (28, 22, 0)),
        (EVENING, "10点结束", (28, 22, 0)),
        (EVENING, "9:30", (28, 21, 30)),
        (EVENING, "22:00", (28, 22, 0)),
        (EVENING, "晚上10点", (28, 22, 0)),
        # A morning start keeps the clock as typed.
        (START, "11点", (28, 11, 0)),
    ],
)
def test_a_bare_end_hour_follows_an_afternoon_start(
    start: datetime, text: str, expected: tuple[int, int, int]
) -> None:
    end = when.parse_end(text, start=start, now=NOW, tz=SHANGHAI).astimezone(SHANGHAI)
    assert (end.day, end.hour, end.minute) == expected


@pytest.mark.parametrize(
    ("start", "text"),
    [(START, "8:00"), (START, "8点"), (EVENING, "上午9点"), (EVENING, "19:00"), (START, "到")],
)
def test_an_end_before_the_start_stays_before_it(start: datetime, text: str) -> None:
    """Validation refuses these (end_before_start) or the text is unreadable; nothing
    is silently moved past the start."""
    try:
        end = when.parse_end(text, start=start, now=NOW, tz=SHANGHAI)
    except InvalidInput as error:
        assert error.code in {"when_unreadable", "when_empty"}
        return
    assert end <= start


@pytest.mark.parametrize(
    ("zone", "locale", "name"),
    [
        ("Asia/Shanghai", "zh_CN", "北京时间"),
        ("Asia/Shanghai", "en", "Beijing time"),
        ("PRC", "zh_CN", "北京时间"),
        ("Asia/Chongqing", "en", "Beijing time"),
        ("Asia/Urumqi", "zh_CN", "中国（乌鲁木齐）时间"),
        ("Europe/Berlin", "en", "Germany (Berlin) Time"),
    ],
)
def test_zone_names_as_people_say_them(zone: str, locale: str, name: str) -> None:
    from ui.format import zone_name
    from ui.i18n import make_i18n

    i18n = make_i18n("zh_CN")
    with i18n.context(), i18n.use_locale(locale):
        assert zone_name(ZoneInfo(zone), locale) == name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今晚12点", (2026, 11, 22, 0, 0)),  # midnight at the end of today
        ("周六晚上12点", (2026, 11, 22, 0, 0)),  # still ahead on Saturday morning
        ("11月底 9点", (2026, 11, 30, 9, 0)),
        ("2月底 9点", (2027, 2, 28, 9, 0)),
        ("周六晚8点", (2026, 11, 21, 20, 0)),
        ("明天晚8点半", (2026, 11, 22, 20, 30)),
        ("明天中午12点", (2026, 11, 22, 12, 0)),  # noon stays noon
    ],
)
def test_night_and_month_end_edges(text: str, expected: tuple[int, ...]) -> None:
    assert local(text) == expected


def test_an_end_at_midnight_is_the_next_day() -> None:
    end = when.parse_end("到晚上12点", start=EVENING, now=NOW, tz=SHANGHAI).astimezone(SHANGHAI)
    assert (end.day, end.hour, end.minute) == (29, 0, 0)
