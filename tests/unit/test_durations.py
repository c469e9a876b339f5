"""One way of writing a length of service, exact to the minute, in both languages."""

from __future__ import annotations

import pytest

from ui.durations import duration, hours_value
from ui.i18n import make_i18n


@pytest.mark.parametrize(
    ("minutes", "zh", "en"),
    [
        (15, "15分钟", "15 min"),  # not 0.3小时
        (0, "0分钟", "0 min"),
        (60, "1小时", "1 h"),
        (95, "1小时35分钟", "1 h 35 min"),
        (5985, "99小时45分钟", "99 h 45 min"),
        (90_030, "1,500小时30分钟", "1,500 h 30 min"),
    ],
)
def test_exact_to_the_minute(minutes: int, zh: str, en: str) -> None:
    i18n = make_i18n("zh_CN")
    with i18n.context():
        with i18n.use_locale("zh_CN"):
            assert duration(minutes, "zh_CN") == zh
            assert duration(minutes) == zh  # the current locale
        with i18n.use_locale("en"):
            assert duration(minutes, "en") == en


def test_signed_changes() -> None:
    i18n = make_i18n("zh_CN")
    with i18n.context(), i18n.use_locale("en"):
        assert duration(330, "en", signed=True) == "+5 h 30 min"
        assert duration(-15, "en", signed=True) == "-15 min"
        assert duration(-15, "en") == "-15 min"  # a loss is never shown as a gain
        assert duration(0, "en", signed=True) == "0 min"


def test_hours_value_is_exact() -> None:
    assert hours_value(15) == 0.25
    assert round(sum(hours_value(m) for m in (10, 10, 10, 7)) * 60) == 37
