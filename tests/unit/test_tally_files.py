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

from bot.i18n import make_i18n
from handlers import tally_chart, tally_xlsx
from handlers.tally_text import hours_of
from services import tallies, tally_details
from services.tallies import Figures, Line, Period, Tally, iso_week
from storage.db import SessionMaker
from storage.models import ActivityKind, Station, StationLevel, TargetGroup
from tests.conftest import load_example_tree
from tests.storage.test_tallies import NOW, ZONE, _populate


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
            assert Decimal(str(summary["Service hours"][0])) == hours_of(f.minutes)
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
            assert sum(r[9] for r in activities) == f.participations
            assert sum(r[11] for r in activities) == f.beneficiaries
            attendance = _rows(book, "Attendance")
            assert len(attendance) == f.participations
            assert sum(r[6] for r in attendance) == f.minutes
            assert len({r[4] for r in attendance}) == f.volunteers
            assert {r[0] for r in attendance} <= {r[0] for r in activities}
            pledges = _rows(book, "Pledges")
            assert len(pledges) == f.pledges
            assert sum(Decimal(str(r[4])) for r in pledges) == Decimal(f.pledged_fen) / 100
            received = [r for r in pledges if r[5] == "received"]
            assert sum(Decimal(str(r[4])) for r in received) == Decimal(f.received_fen) / 100


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
