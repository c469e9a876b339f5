"""Ranges of days as people read them on certificates and tallies: 至 in Chinese, "to"
in English, written by our own code so that a new Babel (CLDR) release cannot change
what a certificate or a tally says. Babel 2.19 did: its Chinese intervals became
``2026年1月1日 – 6月30日``. The certificate (its period, in the PDF and in chat) calls
``date_range`` itself; the tally through the functions below. Whatever Babel is installed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from reports import tally_text
from services.tallies import Period, iso_week
from ui.date_range import date_range
from ui.i18n import make_i18n


@pytest.fixture(autouse=True)
def translations() -> Iterator[None]:
    i18n = make_i18n("zh_CN")
    with i18n.context(), i18n.use_locale("en"):
        yield


@pytest.mark.parametrize(
    ("first", "last", "chinese", "english"),
    [
        (date(2026, 3, 5), date(2026, 3, 5), "2026年3月5日", "Mar 5, 2026"),
        (date(2026, 11, 1), date(2026, 11, 30), "2026年11月1日至30日", "Nov 1 to 30, 2026"),
        (date(2026, 1, 1), date(2026, 6, 30), "2026年1月1日至6月30日", "Jan 1 to Jun 30, 2026"),
        (
            date(2025, 12, 1),
            date(2026, 1, 31),
            "2025年12月1日至2026年1月31日",
            "Dec 1, 2025 to Jan 31, 2026",
        ),
    ],
)
def test_a_certificate_period_reads_the_same_whatever_babel(
    first: date, last: date, chinese: str, english: str
) -> None:
    assert date_range(first, last, "zh_CN") == chinese
    assert date_range(first, last, "en") == english


def test_tally_periods_read_the_same_whatever_babel() -> None:
    month = Period(date(2026, 11, 1), date(2026, 11, 30))
    assert tally_text.period_name(month, "zh_CN") == "2026年11月1日至30日"
    assert tally_text.period_name(month, "en") == "Nov 1 to 30, 2026"
    week = iso_week(2026, 47)
    assert tally_text.week_days(week, "zh_CN") == "11月16日至22日"
    assert tally_text.week_days(week, "en") == "Nov 16 to 22"
    assert tally_text.period_title(week, "en") == "Week 47, 2026 (Nov 16 to 22)"
    # A week across the turn of the year and one across two months.
    assert tally_text.week_days(iso_week(2026, 53), "zh_CN") == "12月28日至1月3日"
    assert tally_text.week_days(iso_week(2026, 53), "en") == "Dec 28 to Jan 3"
    assert tally_text.week_days(iso_week(2026, 49), "zh_CN") == "11月30日至12月6日"
