"""The tally's text: periods, numbers, the summary sentence, station lines, escaping
and Telegram's length limit. English until the lead translates the new strings;
Chinese where Babel formats (money, numbers), for date ranges (our own code, see
test_date_range) and for station names (data)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from reports import tally_text
from services.tallies import Figures, Line, Period, Tally, iso_week
from storage.models import ActivityKind, Station, StationLevel, TargetGroup
from ui.i18n import make_i18n

TODAY = date(2026, 11, 20)  # a Friday in ISO week 47


@pytest.fixture
def english() -> Iterator[None]:
    i18n = make_i18n("zh_CN")
    with i18n.context(), i18n.use_locale("en"):
        yield


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n = make_i18n("zh_CN")
    with i18n.context(), i18n.use_locale("zh_CN"):
        yield


def station(n: int, name: str, name_en: str | None = None) -> Station:
    return Station(id=n, code=f"s{n}", name=name, name_en=name_en, level=StationLevel.STREET)


def figures(
    activities: int = 12,
    participations: int = 86,
    minutes: int = 15_270,
    beneficiaries: int = 430,
    pledged_fen: int = 325_000,
) -> Figures:
    return Figures(
        activities_by_kind={ActivityKind.HOME_VISIT: activities} if activities else {},
        participations=participations,
        volunteers=participations // 2,
        minutes=minutes,
        beneficiaries_by_group={TargetGroup.ELDERLY: beneficiaries} if beneficiaries else {},
        new_volunteers=3,
        pledges=2 if pledged_fen else 0,
        pledged_fen=pledged_fen,
        received_fen=pledged_fen // 2,
    )


def a_tally(lines: list[Line] | None = None, period: Period | None = None) -> Tally:
    return Tally(
        station(1, "蜀山区社会工作服务指导中心", "Shushan District"),
        period or iso_week(2026, 47),
        figures(),
        figures(10, 80, 12_000, 400, 50_000),
        lines or [],
    )


def test_numbers(english: None) -> None:
    assert tally_text.money(325_000, "zh_CN") == "¥3,250.00"
    assert tally_text.money(325_000, "en") == "CN¥3,250.00"
    assert tally_text.number(12_345, "zh_CN") == "12,345"


def test_periods(english: None) -> None:
    week = iso_week(2026, 47)
    assert tally_text.period_title(week, "en") == "Week 47, 2026 (Nov 16 to 22)"
    assert tally_text.week_days(week, "zh_CN") == "11月16日至22日"
    assert tally_text.period_name(week, "en") == "Week 47, 2026"
    month = Period(date(2026, 11, 1), date(2026, 11, 30))
    assert tally_text.period_title(month, "en") == "Nov 1 to 30, 2026"
    assert tally_text.period_title(month, "zh_CN") == "2026年11月1日至30日"
    one_day = Period(date(2026, 11, 3), date(2026, 11, 3))
    assert tally_text.period_name(one_day, "en") == "Nov 3, 2026"
    assert tally_text.relation(week, TODAY) == "this"
    assert tally_text.relation(iso_week(2026, 46), TODAY) == "last"
    assert tally_text.relation(iso_week(2026, 45), TODAY) is None
    assert tally_text.relation(month, TODAY) is None


def test_summary_sentence(english: None) -> None:
    sentence = tally_text.summary_sentence(figures(), iso_week(2026, 47), today=TODAY, locale="en")
    assert sentence == (
        "This week: 12 volunteer activities, 86 volunteer participations, 254 h 30 min of "
        "service, 430 beneficiaries, CN¥3,250.00 in charitable pledges."
    )
    last = tally_text.summary_sentence(
        figures(1, 1, 60, 1, 100), iso_week(2026, 46), today=TODAY, locale="en"
    )
    assert last == (
        "Last week: 1 volunteer activity, 1 volunteer participation, 1 h of service, "
        "1 beneficiary, CN¥1.00 in charitable pledges."
    )
    older = tally_text.summary_sentence(
        figures(0, 0, 0, 0, 0), iso_week(2026, 40), today=TODAY, locale="en"
    )
    assert older == (
        "Week 40, 2026: 0 volunteer activities, 0 volunteer participations, 0 min of service, "
        "0 beneficiaries, CN¥0.00 in charitable pledges."
    )
    month = Period(date(2026, 10, 1), date(2026, 10, 31))
    assert tally_text.summary_sentence(figures(), month, today=TODAY, locale="en").startswith(
        "Oct 1 to 31, 2026: 12 volunteer activities,"
    )
    # Chinese money and numbers where Babel formats them
    chinese_money = tally_text.summary_sentence(
        figures(1_234, 5_678), iso_week(2026, 47), today=TODAY, locale="zh_CN"
    )
    assert "1,234" in chinese_money and "¥3,250.00" in chinese_money
    assert "CN¥" not in chinese_money


def test_the_text_compares_and_lists_children(english: None) -> None:
    lines = [
        Line(station(1, "蜀山区社会工作服务指导中心", "Shushan District"), figures(1), own=True),
        Line(station(2, "西园街道社工站", "Xiyuan <Street> & Co"), figures(5, 30, 600, 100)),
        Line(station(3, "琥珀街道社工站"), figures(0, 0, 0, 0, 0)),
    ]
    text = tally_text.tally_text(a_tally(lines), locale="en", today=TODAY)
    assert text.startswith("<b>📊 Tally: Shushan District</b>\nWeek 47, 2026 (Nov 16 to 22)")
    assert "Previous period: Week 46, 2026 (Nov 9 to 15)" in text
    assert "Activities: 12 (previous: 10, +2)" in text
    assert "Service time: 254 h 30 min (previous: 200 h, +54 h 30 min)" in text
    assert "Amount pledged: CN¥3,250.00 (previous: CN¥500.00, +CN¥2,750.00)" in text
    assert "New volunteers: 3 (previous: 3, no change)" in text
    assert "• Shushan District (its own records): activities 1" in text
    assert (
        "• Xiyuan &lt;Street&gt; &amp; Co: activities 5 · participations 30 · service 10 h · "
        "beneficiaries 100 · pledged CN¥3,250.00" in text
    )
    assert "• 琥珀街道社工站: activities 0" in text  # no English name: the Chinese one
    assert text.endswith("CN¥3,250.00 in charitable pledges.")
    worse = Tally(a_tally().station, iso_week(2026, 47), figures(8), figures(10), [])
    assert "Activities: 8 (previous: 10, -2)" in tally_text.tally_text(
        worse, locale="en", today=TODAY
    )
    plain = tally_text.tally_text(a_tally(lines), locale="en", today=TODAY, markup=False)
    assert "<b>" not in plain and "• Xiyuan <Street> & Co: activities 5" in plain


def test_chinese_names_in_chinese(chinese: None) -> None:
    lines = [Line(station(2, "西园街道社工站", "Xiyuan Street"), figures(5))]
    text = tally_text.tally_text(a_tally(lines), locale="zh_CN", today=TODAY)
    assert "蜀山区社会工作服务指导中心" in text and "西园街道社工站" in text
    assert "Xiyuan Street" not in text and "11月16日至22日" in text and "¥3,250.00" in text


@pytest.mark.parametrize("count", [100, 499])
def test_many_stations_stay_under_the_limit(english: None, count: int) -> None:
    """A district with a hundred streets, or Hefei's 499 streets under one node: the
    busiest lines are shown and the rest counted; the message stays sendable."""
    lines = [
        Line(
            station(10 + n, f"第{n}街道社会工作服务站", f"Street Social Work Station No. {n}"),
            figures(n % 37, n, n * 10, n, n * 100),
        )
        for n in range(count)
    ]
    text = tally_text.tally_text(a_tally(lines), locale="en", today=TODAY)
    assert len(text.encode("utf-16-le")) // 2 <= 4096
    shown = [line for line in text.splitlines() if line.startswith("• ")]
    assert 10 < len(shown) < count
    assert f"… and {count - len(shown)} more stations: see the spreadsheet." in text
    assert "By station (the busiest)" in text
    busiest = max(lines, key=lambda line: (line.figures.activities, line.figures.participations))
    assert f"{busiest.station.name_en}: activities 36" in text
    assert "Street Social Work Station No. 0:" not in text  # no activities at all
    assert text.endswith("in charitable pledges.")  # the summary sentence is never cut
    chinese = tally_text.tally_text(a_tally(lines), locale="zh_CN", today=TODAY)
    assert len(chinese.encode("utf-16-le")) // 2 <= 4096 and "第36街道社会工作服务站" in chinese
