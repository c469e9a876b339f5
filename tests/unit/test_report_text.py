"""The report's text: the summary paragraph in the words of the stations' reports
(本季度共开展志愿服务活动…场，同比增长…%), 同比 and 环比 with "—" where the base is
zero, plural forms in English, HTML escaping, and Telegram's length limit however
many stations and pledges there are."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from reports import report_text, report_xlsx
from services.coordinator_reports import Busy, OnTime, Pledged, Report
from services.report_periods import ReportPeriod, Span
from services.tallies import Figures
from storage.models import ActivityKind, Station, StationLevel, TargetGroup
from ui.i18n import make_i18n


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


def station(n: int, name: str = "西园街道社工站", name_en: str | None = None) -> Station:
    return Station(id=n, code=f"s{n}", name=name, name_en=name_en, level=StationLevel.STREET)


def figures(activities: int, participations: int, volunteers: int, minutes: int) -> Figures:
    return Figures(
        activities_by_kind={ActivityKind.HOME_VISIT: activities} if activities else {},
        participations=participations,
        volunteers=volunteers,
        minutes=minutes,
        beneficiaries_by_group={TargetGroup.ELDERLY: 30, TargetGroup.CHILDREN: 10}
        if activities
        else {},
        pledges=2 if activities else 0,
        pledged_fen=325_000 if activities else 0,
    )


def a_report(
    span: Span = Span.QUARTER,
    *,
    previous: Figures | None = None,
    on_time: list[OnTime] | None = None,
    pledged: list[Pledged] | None = None,
) -> Report:
    root = station(1, "蜀山区社会工作服务指导中心", "Shushan <District>")
    return Report(
        station=root,
        period=ReportPeriod(span, 2026, 3 if span is Span.QUARTER else 1),
        figures=figures(120, 860, 312, 152_400),
        previous=previous if previous is not None else figures(125, 860, 300, 0),
        year_ago=figures(96, 1000, 1, 152_400),
        busiest=[Busy(station(2), 12, 80, 600)],
        on_time=on_time or [],
        on_time_total=OnTime(root, on_time=17, late=3, pending=2),
        pledged=pledged or [],
        today=date(2026, 11, 20),
        zone=ZoneInfo("Asia/Shanghai"),
    )


def test_the_paragraph_in_chinese(chinese: None) -> None:
    text = report_text.summary_paragraph(a_report(), "zh_CN")
    assert text == (
        "本季度共开展志愿服务活动120场，同比增长25.0%，环比下降4.0%；"
        "参与志愿者860人次（312人），同比下降14.0%，环比持平；"
        "服务时长2,540小时，同比持平，环比 —（上期为零）；"
        "受益群众40人次（老年人30人次和儿童10人次），同比持平，环比持平；"
        "慈善认捐2笔，共¥3,250.00，同比持平，环比持平。"
        "85.0%的到期活动在结束后10个工作日内完成台账。"
    )


def test_the_paragraph_in_english_with_plurals(english: None) -> None:
    one = figures(1, 1, 1, 60)
    report = a_report(Span.MONTH, previous=Figures())
    report = Report(**{**report.__dict__, "figures": one})
    text = report_text.summary_paragraph(report, "en")
    assert text.startswith(
        "This month, 1 volunteer activity was held, down 99.0% year on year and on the "
        "period before — (nothing then); 1 volunteer participation by 1 volunteer, "
    )
    assert "1 h of service, down 100.0% year on year" in text
    a_year = report_text.summary_paragraph(a_report(Span.YEAR), "en")
    assert a_year.startswith(
        "This year, 120 volunteer activities were held, up 25.0% year on year;"
    )
    assert "period before" not in a_year  # for a year, 环比 is 同比


def test_figures_show_a_dash_where_the_base_is_zero(english: None) -> None:
    text = report_text.report_text(a_report(), locale="en")
    assert "<b>📋 Report: Shushan &lt;District&gt;</b>\nQ3 2026\n" in text
    assert "Compared with Q3 2025 (year on year) and Q2 2026 (the period before)" in text
    assert "Activities: 120 (year on year +25.0%, on the period before -4.0%)" in text
    assert "Service time: 2,540 h (year on year 0.0%, on the period before —)" in text
    assert "1. 西园街道社工站: 12 activities · 80 participations · 10 h" in text
    assert "All stations: 85.0% (17 of 20 on time) · 2 still within their time" in text


def test_many_stations_and_pledges_fit_one_message(english: None) -> None:
    many = [OnTime(station(n, f"站点{n:04d}<>"), on_time=n % 7, late=3) for n in range(2, 2002)]
    pledged = [
        Pledged(
            activity_id=n,
            station=station(n),
            title=f"活动 <{n}>",
            starts_at=datetime(2026, 8, 1, tzinfo=UTC),
            pledges=1,
            pledged_fen=10_000,
            received_fen=0,
            beneficiaries_by_group={TargetGroup.CHILDREN: n + 1},
        )
        for n in range(500)
    ]
    report = a_report(on_time=many, pledged=pledged)
    text = report_text.report_text(report, locale="en")
    assert len(text.encode("utf-16-le")) // 2 <= 4096
    assert "the lowest first" in text and "more: see the spreadsheet." in text
    # the lowest rates first (then in the tree's order), and as many pledges as fit
    assert "the lowest first\n• 站点0007&lt;&gt;: 0.0% (0 of 3 on time)\n• 站点0014" in text
    assert "• 活动 &lt;0&gt; (西园街道社工站): 1 pledge, CN¥100.00 → children 1\n" in text
    plain = report_text.report_text(report, locale="en", markup=False, limit=10**9)
    assert plain.count("\n• 站点") == len(many) and "&lt;" not in plain
    assert plain.count("→ children") == len(pledged)
    book = load_workbook(io.BytesIO(report_xlsx.render_xlsx(report, locale="en")))
    rows = list(book["Records on time"].iter_rows(values_only=True))
    assert len(rows) == 1 + len(many) + 1  # header, every station, the total
    assert rows[-1][2:5] == (17, 3, 2) and rows[-1][5] == pytest.approx(0.85)
    pledges = list(book["Pledges at work"].iter_rows(values_only=True))[1:]
    assert len(pledges) == 500 and pledges[7][0] == "活动 <7>"
