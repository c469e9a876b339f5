"""What people type that no activity could be: refused with the reason, never a crash."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services import when
from services.errors import InvalidInput

SHANGHAI = when.zone("Asia/Shanghai")
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)
START = datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.mark.parametrize(
    "text",
    [
        "9999999999小时",
        "99999999999分钟",
        "99999999999999999999小时",
        "9" * 58 + "h",
        "999999999个半小时",
        "24小时1分钟",
        "25h",
    ],
)
def test_a_huge_duration_is_at_most_24_hours(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        when.parse_end(text, start=START, now=NOW, tz=SHANGHAI)
    assert caught.value.code == "too_long"
    assert caught.value.params == {"hours": 24}


def test_24_hours_is_still_allowed() -> None:
    end = when.parse_end("24小时", start=START, now=NOW, tz=SHANGHAI)
    assert (end - START).total_seconds() == 24 * 3600


@pytest.mark.parametrize("text", ["明天 上午13点", "明天 早上15:00", "周六 凌晨14点"])
def test_a_morning_hour_after_noon_is_a_contradiction(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        when.parse_start(text, now=NOW, tz=SHANGHAI)
    assert caught.value.code == "when_period_mismatch"


@pytest.mark.parametrize(("text", "hour"), [("明天 上午11点", 11), ("明天 上午12点", 12)])
def test_a_morning_hour_before_or_at_noon_is_fine(text: str, hour: int) -> None:
    start = when.parse_start(text, now=NOW, tz=SHANGHAI).astimezone(SHANGHAI)
    assert start.hour == hour
