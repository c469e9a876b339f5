"""The tally's chart and spreadsheet. The chart draws Chinese station names with no
missing glyph (matplotlib's "Glyph … missing" warning is an error here); the
spreadsheet's summary equals the tally and its detail sheets hold exactly the
records behind the figures, on both backends, over the generated records of
tests/storage/test_tallies.py."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from reports import tally_chart, tally_xlsx
from services import stations, tallies, tally_details
from services.tallies import Figures, Line, Period, Tally, iso_week
from storage.db import SessionMaker
from storage.models import ActivityKind, Station, StationLevel, TargetGroup
from tests.conftest import load_example_tree
from tests.storage.test_tallies import NOW, ZONE, _expected, _populate
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


def _station(n: int, name: str) -> Station:
    return Station(id=n, code=f"s{n}", name=name, level=StationLevel.STREET)


def _figures(n: int) -> Figures:
    return Figures(
        activities_by_kind={ActivityKind.ELDER_CARE: n},
        participations=n * 7,
        volunteers=n * 3,
        minutes=n * 95,
        beneficiaries_by_group={TargetGroup.CHILDREN: n * 4},
    )


# Rarer characters too: 琥珀, 荷叶地, 稻香村, 亳州, 歙县, 黟县.
NAMES = ["西园街道社工站", "琥珀街道社工站", "荷叶地社区", "稻香村街道", "亳州市谯城区", "歙县黟县"]


@pytest.mark.parametrize("count", [0, 6, 40])
def test_chart_draws_chinese_without_missing_glyphs(chinese: None, count: int) -> None:
    font = tally_chart.find_chart_font()
    if font is None:
        pytest.skip("no Chinese font on this machine")
    lines = [
        Line(_station(10 + n, NAMES[n % len(NAMES)] + ("" if n < 6 else str(n))), _figures(n))
        for n in range(count)
    ]
    tally = Tally(
        _station(1, "合肥市社会工作服务指导中心"),
        iso_week(2026, 47),
        _figures(9),
        _figures(7),
        lines,
    )
    data = tally_chart.chart_data(tally, "zh_CN")
    assert data.title.endswith("合肥市社会工作服务指导中心")
    assert len(data.stations) == min(count, tally_chart.MAX_STATIONS)
    assert (data.more is not None) == (count > tally_chart.MAX_STATIONS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" fails the test
        png = tally_chart.render_png(data, font)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_a_missing_glyph_would_be_caught(english: None) -> None:
    """The check above can fail: a character no font here has warns."""
    font = tally_chart.find_chart_font()
    if font is None:
        pytest.skip("no Chinese font on this machine")
    tally = Tally(
        _station(1, "\U000f0000 private use"), iso_week(2026, 47), _figures(1), _figures(1), []
    )
    with warnings.catch_warnings(), pytest.raises(UserWarning, match="missing from font"):
        warnings.simplefilter("error")
        tally_chart.render_png(tally_chart.chart_data(tally, "en"), font)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_count_axes_have_whole_number_ticks(locale: str) -> None:
    """Seen on a quiet week (3 activities against 1): the axes read 0.5, 1.5, 2.5
    activities. Counts get whole-number ticks; hours may have fractions."""
    i18n = make_i18n("zh_CN")
    small = Figures(
        activities_by_kind={ActivityKind.HOME_VISIT: 3},
        participations=6,
        volunteers=5,
        minutes=390,
        beneficiaries_by_group={TargetGroup.ELDERLY: 3},
    )
    before = Figures(activities_by_kind={ActivityKind.HOME_VISIT: 1}, participations=1, minutes=15)
    lines = [
        Line(_station(11, "西园街道社工站"), Figures(activities_by_kind={ActivityKind.OTHER: 2})),
        Line(_station(12, "琥珀街道社工站"), Figures(activities_by_kind={ActivityKind.OTHER: 1})),
        Line(_station(13, "南七街道社工站"), Figures()),
    ]
    tally = Tally(
        _station(1, "蜀山区社会工作服务指导中心"), iso_week(2026, 47), small, before, lines
    )
    with i18n.context(), i18n.use_locale(locale):
        data = tally_chart.chart_data(tally, locale)
    figure = tally_chart.draw(data)
    *metrics, stations = figure.axes
    assert len(metrics) == len(data.metrics) == 4
    for axes, metric in zip(metrics, data.metrics, strict=True):
        ticks = [t for t in axes.get_yticks() if 0 <= t <= axes.get_ylim()[1]]
        assert len(ticks) >= 2
        if metric.counts:
            assert all(float(t).is_integer() for t in ticks), (metric.label, ticks)
    assert not data.metrics[2].counts  # hours
    ticks = [t for t in stations.get_xticks() if 0 <= t <= stations.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    # The hours are labelled to the minute.
    assert data.metrics[2].now_text == ("6小时30分钟" if locale == "zh_CN" else "6 h 30 min")
    assert data.metrics[2].before_text == ("15分钟" if locale == "zh_CN" else "15 min")


def _rows(book: Any, name: str) -> list[tuple[Any, ...]]:
    return [row for row in book[name].iter_rows(values_only=True)][1:]


PERIODS = [iso_week(2026, 47), iso_week(2026, 46), Period(date(2026, 10, 1), date(2026, 11, 30))]


@pytest.mark.parametrize("code", ["hf", "hf-ss-xy"])
async def test_spreadsheet_adds_up_to_the_tally(
    sessionmaker: SessionMaker, english: None, code: str
) -> None:
    ids = await load_example_tree(sessionmaker)
    await _populate(sessionmaker, ids)
    async with sessionmaker() as session:
        for period in PERIODS:
            result = await tallies.tally(
                session, station_id=ids[code], period=period, zone=ZONE, now=NOW
            )
            records = await tally_details.details(
                session, station_id=ids[code], period=period, zone=ZONE, now=NOW
            )
            f = result.figures
            book = load_workbook(
                io.BytesIO(
                    tally_xlsx.render_xlsx(
                        result, records, locale="en", zone=ZONE, today=NOW.date()
                    )
                )
            )
            summary = {row[0]: row[1:] for row in _rows(book, "Summary") if row and row[0]}
            before = result.previous
            assert summary["Activities"][:3] == (
                f.activities,
                before.activities,
                f.activities - before.activities,
            )
            assert summary["    Home visits"][0] == f.activities_by_kind.get(
                ActivityKind.HOME_VISIT, 0
            )
            assert summary["Volunteer participations"][:2] == (
                f.participations,
                before.participations,
            )
            assert summary["Volunteers (people)"][0] == f.volunteers
            assert round(summary["Service hours"][0] * 60) == f.minutes
            assert summary["Service time (minutes)"][:2] == (f.minutes, before.minutes)
            assert summary["Beneficiaries"][0] == f.beneficiaries
            assert summary["New volunteers"][0] == f.new_volunteers
            assert summary["Pledges"][0] == f.pledges
            assert Decimal(str(summary["Amount pledged"][0])) == Decimal(f.pledged_fen) / 100
            assert Decimal(str(summary["Amount received"][0])) == Decimal(f.received_fen) / 100

            stations = _rows(book, "Per station")
            assert len(stations) == len(result.lines) + 1  # and the total
            assert [r[2] for r in stations[:-1]] == [
                line.figures.activities for line in result.lines
            ]
            assert stations[-1][2:5] == (f.activities, f.participations, f.volunteers)

            activities = _rows(book, "Activities")
            assert len(activities) == f.activities > 0
            assert [r[0] for r in activities] == list(range(1, len(activities) + 1))
            assert sum(r[10] for r in activities) == f.participations
            assert sum(r[13] for r in activities) == f.beneficiaries
            attendance = _rows(book, "Attendance")
            assert len(attendance) == f.participations
            assert sum(r[6] for r in attendance) == f.minutes
            assert len({r[4] for r in attendance}) == f.volunteers
            assert {r[0] for r in attendance} <= {r[1] for r in activities}
            pledges = _rows(book, "Pledges")
            assert len(pledges) == f.pledges
            assert sum(Decimal(str(r[4])) for r in pledges) == Decimal(f.pledged_fen) / 100
            received = [r for r in pledges if r[5] == "received"]
            assert sum(Decimal(str(r[4])) for r in received) == Decimal(f.received_fen) / 100


@pytest.mark.parametrize("code", ["hf", "hf-ss-xy"])
async def test_spreadsheet_minutes_add_up_to_the_database(
    sessionmaker: SessionMaker, chinese: None, code: str
) -> None:
    """Every column of service time, summed, is the minutes in the database (raw SQL,
    not the tally service), to the minute: the hours are exact (values 0.25, 1/6 …),
    never rounded to 0.1 per row so that rows no longer add up to the total."""
    ids = await load_example_tree(sessionmaker)
    await _populate(sessionmaker, ids)
    async with sessionmaker() as session:
        tree = await stations.tree(session)
        for period in PERIODS:
            result = await tallies.tally(
                session, station_id=ids[code], period=period, zone=ZONE, now=NOW
            )
            records = await tally_details.details(
                session, station_id=ids[code], period=period, zone=ZONE, now=NOW
            )
            database = (
                await _expected(session, tree.subtree(ids[code]), period.first, period.last)
            )["minutes"]
            assert database > 0
            data = tally_xlsx.render_xlsx(
                result, records, locale="zh_CN", zone=ZONE, today=NOW.date()
            )
            book = load_workbook(io.BytesIO(data))
            summary = {row[0]: row[1:] for row in _rows(book, "汇总") if row and row[0]}
            assert summary["服务时长（分钟）"][0] == database
            assert round(summary["服务时长（小时）"][0] * 60) == database
            for name, hours_at, minutes_at in (("分站点", 5, 6), ("活动场次", 11, 12)):
                header = [c.value for c in book[name][1]]
                assert (header[hours_at], header[minutes_at]) == (
                    "服务时长（小时）",
                    "服务时长（分钟）",
                )
                rows = _rows(book, name)[:-1] if name == "分站点" else _rows(book, name)
                assert sum(r[minutes_at] for r in rows) == database, (name, period)
                assert round(sum(r[hours_at] for r in rows) * 60) == database, (name, period)
            attendance = _rows(book, "考勤记录")
            assert sum(r[6] for r in attendance) == database
            assert round(sum(r[7] for r in attendance) * 60) == database
            # The row number is 序号; the activity's own number has its column.
            header = [c.value for c in book["活动场次"][1]]
            assert header[:2] == ["序号", "活动编号"]
            activities = _rows(book, "活动场次")
            assert [r[0] for r in activities] == list(range(1, len(activities) + 1))
            assert [r[1] for r in activities] == [a.id for a in records.activities]


async def test_a_cut_list_says_so(sqlite_sessionmaker: SessionMaker, english: None) -> None:
    ids = await load_example_tree(sqlite_sessionmaker)
    await _populate(sqlite_sessionmaker, ids)
    period = PERIODS[2]
    async with sqlite_sessionmaker() as session:
        result = await tallies.tally(
            session, station_id=ids["hf"], period=period, zone=ZONE, now=NOW
        )
        records = await tally_details.details(
            session, station_id=ids["hf"], period=period, zone=ZONE, now=NOW, limit=50
        )
    assert len(records.attendance) == 50 and records.cut("attendance")
    assert records.totals["attendance"] == result.figures.participations
    book = load_workbook(
        io.BytesIO(
            tally_xlsx.render_xlsx(result, records, locale="en", zone=ZONE, today=NOW.date())
        )
    )
    rows = _rows(book, "Attendance")
    assert len(rows) == 51
    assert rows[-1][0] == (
        f"Only the first 50 of {result.figures.participations} rows are listed here."
    )
