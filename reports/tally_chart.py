"""A tally as a chart (PNG): this period beside the previous one for activities,
participations, hours and beneficiaries, and a bar per child station.

matplotlib (Agg, no display) draws it with a Chinese font found on the server:
the usual files first (Debian's fonts-noto-cjk, WenQuanYi, macOS, Windows), then
any CJK face matplotlib's font manager knows. A face must have the Chinese
glyphs the chart needs; none found means no chart (``find_chart_font`` is None),
never a chart of empty boxes.

Labels are built with gettext in the reader's locale (``chart_data``); drawing
(``render_png``) takes plain values and may run in a worker thread."""

from __future__ import annotations

import functools
import io
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from reports.tally_text import line_name, number, period_title
from services.tallies import Tally
from ui import labels
from ui.durations import duration, hours_value

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

KNOWN_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian, Ubuntu
    "/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",  # Fedora
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Arch
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",  # macOS
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "C:/Windows/Fonts/msyh.ttc",  # Windows
    "C:/Windows/Fonts/simhei.ttf",
)
# Face names that say Simplified Chinese, best first; then any CJK face.
PREFERRED = ("CJK SC", "Source Han Sans SC", "Micro Hei", "Zen Hei", "YaHei", "Heiti", "GB")
CJK_HINTS = ("CJK", "Han Sans", "Hei", "Song", "Kai", "Fang", "Ming", "Droid Sans Fallback")
# A face must draw these: the chart's own words in Chinese, and digits.
SAMPLE = "志愿服务活动参与人次时长受益街道社区站周年月日合肥市蜀山区0123456789"
MAX_STATIONS = 25  # bars in the station panel; the rest are counted

_drawing = threading.Lock()  # pyplot-free, but rcParams are global: one chart at a time


@dataclass(frozen=True)
class ChartFont:
    path: str
    index: int  # the face in a collection (.ttc)
    name: str


@dataclass(frozen=True)
class Metric:
    label: str
    now: float
    before: float
    now_text: str
    before_text: str
    counts: bool = True  # a count of things: whole numbers on the axis


@dataclass(frozen=True)
class ChartData:
    """Everything the chart shows, already translated and formatted."""

    title: str
    subtitle: str
    now_label: str
    before_label: str
    metrics: list[Metric]
    stations_title: str
    stations: list[tuple[str, int, str]]  # name, activities, activities shown
    more: str | None
    empty: str

    def texts(self) -> Iterable[str]:
        """Every string drawn, to check the font has their glyphs."""
        yield from (self.title, self.subtitle, self.now_label, self.before_label)
        for m in self.metrics:
            yield from (m.label, m.now_text, m.before_text)
        yield self.stations_title
        for name, _n, shown in self.stations:
            yield from (name, shown)
        if self.more:
            yield self.more
        yield self.empty


def _covers(path: str, index: int, text: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        face = FT2Font(path, face_index=index)
    except (OSError, RuntimeError, ValueError):
        return False
    return all(face.get_char_index(ord(c)) for c in set(text) if not c.isspace())


def _candidates() -> list[ChartFont]:
    from matplotlib import font_manager

    manager = font_manager.fontManager
    known = {entry.fname for entry in manager.ttflist}
    for path in KNOWN_FONTS:
        if Path(path).is_file() and path not in known:
            try:
                manager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                log.info("matplotlib cannot read %s", path)
    entries = [
        ChartFont(entry.fname, int(getattr(entry, "index", 0) or 0), entry.name)
        for entry in manager.ttflist
        if any(hint.lower() in entry.name.lower() for hint in CJK_HINTS)
        and "mono" not in entry.name.lower()
    ]
    order = {path: i for i, path in enumerate(KNOWN_FONTS)}

    def rank(font: ChartFont) -> tuple[int, int, int, str]:
        preferred = next((i for i, p in enumerate(PREFERRED) if p.lower() in font.name.lower()), 99)
        bold = int("bold" in font.path.lower())
        return (bold, order.get(font.path, len(order)), preferred, font.name)

    return sorted(entries, key=rank)


@functools.cache
def find_chart_font() -> ChartFont | None:
    """A face that draws Chinese, once per process (a font installed later needs a
    restart)."""
    try:
        candidates = _candidates()
    except Exception:  # matplotlib's font cache unreadable: no chart, not a crash
        log.exception("cannot list fonts")
        return None
    for font in candidates:
        if _covers(font.path, font.index, SAMPLE):
            return font
    log.warning("no Chinese font found: tally charts are not available")
    return None


def chart_data(tally: Tally, locale: str) -> ChartData:
    """The chart's words and numbers in the current locale."""
    now, before = tally.figures, tally.previous

    def metric(label: str, a: int, b: int) -> Metric:
        return Metric(label, float(a), float(b), number(a, locale), number(b, locale))

    busiest = sorted(
        tally.lines, key=lambda line: (-line.figures.activities, -line.figures.participations)
    )
    shown = busiest[:MAX_STATIONS]
    rest = len(busiest) - len(shown)
    return ChartData(
        title=_("Tally: {station}").format(station=labels.station_name(tally.station, locale)),
        subtitle=period_title(tally.period, locale),
        now_label=_("This period"),
        before_label=_("Previous period"),
        metrics=[
            metric(_("Activities"), now.activities, before.activities),
            metric(_("Volunteer participations"), now.participations, before.participations),
            Metric(
                _("Service hours"),
                hours_value(now.minutes),
                hours_value(before.minutes),
                duration(now.minutes, locale),
                duration(before.minutes, locale),
                counts=False,
            ),
            metric(_("Beneficiaries"), now.beneficiaries, before.beneficiaries),
        ],
        stations_title=_("Activities by station"),
        stations=[
            (
                line_name(line.station, line.own, locale),
                line.figures.activities,
                number(line.figures.activities, locale),
            )
            for line in shown
        ],
        more=ngettext("and {n} more station", "and {n} more stations", rest).format(
            n=number(rest, locale)
        )
        if rest
        else None,
        empty=_("No activities in this period."),
    )


def render_png(data: ChartData, font: ChartFont) -> bytes:
    """Draw the chart. Raises nothing about glyphs itself: matplotlib warns
    ("Glyph … missing from font(s)") if a character is not in the font."""
    from matplotlib import rc_context

    families = [font.name, "DejaVu Sans"]  # Latin and symbols from DejaVu
    with _drawing, rc_context({"font.family": families, "axes.unicode_minus": False}):
        figure = draw(data)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight", pad_inches=0.25)
    return buffer.getvalue()


def draw(data: ChartData) -> Figure:
    """The chart as a matplotlib figure (in the current rc settings: ``render_png``
    sets the font)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rows = len(data.stations)
    station_height = 0.0 if not rows else 0.9 + 0.32 * rows
    height = 3.9 + station_height
    figure = Figure(figsize=(10, height), dpi=110)
    FigureCanvasAgg(figure)
    figure.suptitle(f"{data.title}\n{data.subtitle}", fontsize=13, y=1 - 0.12 / height)
    grid = figure.add_gridspec(
        2 if rows else 1,
        4,
        height_ratios=[2.6, station_height] if rows else None,
        top=1 - 0.95 / height,
        bottom=0.35 / height,
        left=0.07,
        right=0.97,
        hspace=0.9 / max(height, 1) * 3,
        wspace=0.45,
    )
    for column, item in enumerate(data.metrics):
        axes = figure.add_subplot(grid[0, column])
        bars = axes.bar([0, 1], [item.before, item.now], color=["#b8c4d6", "#c0392b"], width=0.65)
        top = max(item.before, item.now, 1.0)
        axes.set_ylim(0, top * 1.25)
        for bar, text in zip(bars, (item.before_text, item.now_text), strict=True):
            axes.annotate(
                text,
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                fontsize=9,
            )
        if item.counts:  # no 0.5 of an activity on the axis
            axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(item.label, fontsize=10)
        axes.set_xticks([0, 1], [data.before_label, data.now_label], fontsize=8)
        axes.tick_params(axis="y", labelsize=8)
        axes.spines[["top", "right"]].set_visible(False)
    if rows:
        axes = figure.add_subplot(grid[1, :])
        names = [name for name, _n, _s in reversed(data.stations)]
        values = [n for _name, n, _s in reversed(data.stations)]
        texts = [s for _name, _n, s in reversed(data.stations)]
        bars = axes.barh(range(rows), values, color="#c0392b", height=0.6)
        axes.set_yticks(range(rows), names, fontsize=9)
        axes.set_xlim(0, max([*values, 1]) * 1.15)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        for bar, text in zip(bars, texts, strict=True):
            axes.annotate(
                text,
                (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        title = data.stations_title + (f" ({data.more})" if data.more else "")
        axes.set_title(title, fontsize=10, loc="left")
        axes.tick_params(axis="x", labelsize=8)
        axes.spines[["top", "right"]].set_visible(False)
        if not any(values):
            axes.text(0.5, 0.5, data.empty, transform=axes.transAxes, ha="center")
    return figure
