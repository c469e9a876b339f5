"""A coordinator's report as a chart (PNG): the period beside the one before (环比)
and the same one a year earlier (同比) for activities, participations, service hours
and beneficiaries; the ten most active stations; and the beneficiaries of the
activities pledged to (五社联动), with the records-on-time rate in the subtitle.

matplotlib is imported when a chart is drawn, never with this module, and the font
is the one the tally chart finds (``reports.tally_chart.find_chart_font``). Labels
are made with gettext in the reader's locale (``chart_data``); drawing
(``render_png``) takes plain values and may run in a worker thread."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiogram.utils.i18n import gettext as _

from reports.report_text import on_time_text, period_name
from reports.tally_chart import ChartFont, _drawing
from reports.tally_text import number
from services.coordinator_reports import DUE_WORKING_DAYS, Report
from ui import labels
from ui.durations import duration, hours_value

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class Metric:
    label: str
    values: list[float]  # a year earlier, the period before (absent for a year), this one
    texts: list[str]


@dataclass(frozen=True)
class ReportChart:
    title: str
    subtitle: str
    columns: list[str]  # the names under each metric's bars
    metrics: list[Metric]
    busiest_title: str
    busiest: list[tuple[str, int, str]]
    pledged_title: str
    pledged: list[tuple[str, int, str]]
    empty: str


def chart_data(report: Report, locale: str) -> ReportChart:
    figures = [report.year_ago] + ([report.previous] if report.has_previous else [])
    figures.append(report.figures)
    columns = [period_name(report.period.year_ago(), locale)]
    if report.has_previous:
        columns.append(period_name(report.period.previous(), locale))
    columns.append(period_name(report.period, locale))

    def counted(label: str, values: list[int]) -> Metric:
        return Metric(label, [float(v) for v in values], [number(v, locale) for v in values])

    hours = [f.minutes for f in figures]
    helped = report.pledged_beneficiaries
    return ReportChart(
        title=_("Report: {station}").format(station=labels.station_name(report.station, locale)),
        subtitle=_("{period} · records on time: {rate}").format(
            period=period_name(report.period, locale),
            rate=on_time_text(report.on_time_total, locale),
        ),
        columns=columns,
        metrics=[
            counted(_("Activities"), [f.activities for f in figures]),
            counted(_("Volunteer participations"), [f.participations for f in figures]),
            Metric(
                _("Service hours"),
                [hours_value(m) for m in hours],
                [duration(m, locale) for m in hours],
            ),
            counted(_("Beneficiaries"), [f.beneficiaries for f in figures]),
        ],
        busiest_title=_("The most active stations (activities)"),
        busiest=[
            (
                labels.station_name(b.station, locale),
                b.activities,
                number(b.activities, locale),
            )
            for b in report.busiest
        ],
        pledged_title=_("Beneficiaries of the activities pledged to, by group"),
        pledged=[
            (str(name), helped.get(group, 0), number(helped.get(group, 0), locale))
            for group, name in labels.TARGETS.items()
        ],
        empty=_("No records in this period.")
        + " "
        + _("Records are due within {days} working days.").format(days=DUE_WORKING_DAYS),
    )


def render_png(data: ReportChart, font: ChartFont) -> bytes:
    from matplotlib import rc_context

    with (
        _drawing,
        rc_context({"font.family": [font.name, "DejaVu Sans"], "axes.unicode_minus": False}),
    ):
        figure = draw(data)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight", pad_inches=0.25)
    return buffer.getvalue()


def _bars(axes: object, names: list[str], values: list[int], texts: list[str], title: str) -> None:
    from matplotlib.axes import Axes
    from matplotlib.ticker import MaxNLocator

    assert isinstance(axes, Axes)
    rows = len(names)
    bars = axes.barh(range(rows), list(reversed(values)), color="#c0392b", height=0.6)
    axes.set_yticks(range(rows), list(reversed(names)), fontsize=9)
    axes.set_xlim(0, max([*values, 1]) * 1.2)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    for bar, text in zip(bars, reversed(texts), strict=True):
        axes.annotate(
            text,
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    axes.set_title(title, fontsize=10, loc="left")
    axes.tick_params(axis="x", labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)


def draw(data: ReportChart) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    busiest = max(len(data.busiest), 1)
    height = 4.0 + 0.9 + 0.32 * busiest + 0.9 + 0.32 * len(data.pledged)
    figure = Figure(figsize=(11, height), dpi=110)
    FigureCanvasAgg(figure)
    figure.suptitle(f"{data.title}\n{data.subtitle}", fontsize=13, y=1 - 0.1 / height)
    grid = figure.add_gridspec(
        3,
        4,
        height_ratios=[2.6, 0.6 + 0.32 * busiest, 0.6 + 0.32 * len(data.pledged)],
        top=1 - 0.95 / height,
        bottom=0.3 / height,
        left=0.08,
        right=0.97,
        hspace=0.6,
        wspace=0.45,
    )
    colours = ["#d5dbe5", "#8fa3bf", "#c0392b"][-len(data.columns) :]
    for column, item in enumerate(data.metrics):
        axes = figure.add_subplot(grid[0, column])
        places = list(range(len(item.values)))
        bars = axes.bar(places, item.values, color=colours, width=0.7)
        axes.set_ylim(0, max([*item.values, 1.0]) * 1.25)
        for bar, text in zip(bars, item.texts, strict=True):
            axes.annotate(
                text,
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                fontsize=8,
            )
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(item.label, fontsize=10)
        axes.set_xticks(places, data.columns, fontsize=7, rotation=20)
        axes.tick_params(axis="y", labelsize=8)
        axes.spines[["top", "right"]].set_visible(False)
    axes = figure.add_subplot(grid[1, :])
    if data.busiest:
        _bars(
            axes,
            [n for n, _v, _t in data.busiest],
            [v for _n, v, _t in data.busiest],
            [t for _n, _v, t in data.busiest],
            data.busiest_title,
        )
    else:
        axes.set_axis_off()
        axes.text(0.5, 0.5, data.empty, transform=axes.transAxes, ha="center")
    axes = figure.add_subplot(grid[2, :])
    _bars(
        axes,
        [n for n, _v, _t in data.pledged],
        [v for _n, v, _t in data.pledged],
        [t for _n, _v, t in data.pledged],
        data.pledged_title,
    )
    return figure
