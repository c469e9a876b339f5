"""The service certificate's font and words; ``reports.certificate_drawing`` draws
its PDF (fpdf2).

Chinese needs a CJK font on the server: ``find_cjk_font`` looks in the usual places
(Debian and Ubuntu fonts-noto-cjk or WenQuanYi, Fedora, Arch, macOS, Windows) and
asks fontconfig, and keeps only a face that covers Chinese and that fpdf2 can embed.
fpdf2 embeds only the glyphs used, so a certificate stays small.

Texts go through gettext in the current locale; render inside the reader's locale
(a handler already is; elsewhere ``with i18n.context(), i18n.use_locale(...)``)."""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from aiogram.utils.i18n import ngettext
from babel import Locale
from babel.dates import format_date
from fontTools.ttLib import TTCollection, TTFont  # type: ignore[import-untyped]

from services.certificates import StationNames
from ui.durations import duration

log = logging.getLogger(__name__)

# Characters a usable face must have: the certificate's own words and digits.
SAMPLE = "志愿服务证明时长社区街道站年月日0123456789"

# Well-known places, best first. A collection (.ttc) holds several faces; the one
# for Simplified Chinese is picked by its name.
KNOWN_FONTS = (
    # Debian, Ubuntu: fonts-noto-cjk (CFF outlines in a collection)
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    # Fedora: google-noto-sans-cjk-fonts (older: google-noto-cjk-fonts)
    "/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    # Arch: noto-fonts-cjk
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    # WenQuanYi: Debian fonts-wqy-microhei / fonts-wqy-zenhei, Fedora wqy-*-fonts
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    # Droid fallback (Debian fonts-droid-fallback)
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    # macOS
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    # Windows
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/simsun.ttc",
)
# A bold companion next to the regular face, where there is one.
BOLD_NAMES = {
    "NotoSansCJK-Regular.ttc": "NotoSansCJK-Bold.ttc",
    "NotoSerifCJK-Regular.ttc": "NotoSerifCJK-Bold.ttc",
    "msyh.ttc": "msyhbd.ttc",
}
FC_PATTERNS = ("Noto Sans CJK SC", ":lang=zh-cn")
SIMPLIFIED_HINTS = (" SC", "GB", "HANS", "SIMPLIFIED", "MICRO HEI", "ZEN HEI", "YAHEI")


@dataclass(frozen=True)
class FontFile:
    """One face: a font file and, in a collection, the face's number."""

    path: Path
    index: int = 0


@dataclass(frozen=True)
class CjkFont:
    regular: FontFile
    bold: FontFile


# --- finding a font ---------------------------------------------------------------


def _faces(path: Path) -> list[tuple[int, TTFont]]:
    if path.suffix.lower() in (".ttc", ".otc"):
        collection = TTCollection(str(path), lazy=True)
        return list(enumerate(collection.fonts))
    return [(0, TTFont(str(path), lazy=True))]


def _family(font: TTFont) -> str:
    name = font["name"]
    return str(name.getDebugName(16) or name.getDebugName(1) or "")


def _covers(font: TTFont, text: str) -> bool:
    cmap = font.getBestCmap() or {}
    return all(ord(c) in cmap for c in text)


def _pick_face(path: Path, index: int | None = None) -> FontFile | None:
    """The face of ``path`` for Simplified Chinese that covers the sample, if any."""
    try:
        faces = _faces(path)
    except Exception:  # unreadable, or not a font fontTools knows
        log.debug("not a usable font: %s", path, exc_info=True)
        return None
    if index is not None:
        faces = [(i, f) for i, f in faces if i == index] or faces
    usable = [(i, f) for i, f in faces if _covers(f, SAMPLE)]
    if not usable:
        return None
    for i, font in usable:
        family = _family(font).upper()
        if any(hint in family for hint in SIMPLIFIED_HINTS) and "MONO" not in family:
            return FontFile(path, i)
    return FontFile(path, usable[0][0])


def _embeds(face: FontFile) -> bool:
    """Whether fpdf2 can embed the face and write a page with it."""
    from fpdf import FPDF  # loaded with the first document, not at startup

    try:
        pdf = FPDF()
        pdf.add_font("probe", fname=str(face.path), collection_font_number=face.index)
        pdf.add_page()
        pdf.set_font("probe", size=12)
        pdf.cell(text=SAMPLE)
        pdf.output()
    except Exception:
        log.warning("fpdf2 cannot embed %s (face %s)", face.path, face.index, exc_info=True)
        return False
    return True


def _fc_match(pattern: str) -> tuple[Path, int] | None:
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        done = subprocess.run(
            [fc_match, "-f", "%{file}|%{index}", pattern],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    file, _sep, index = done.stdout.strip().partition("|")
    if done.returncode != 0 or not file:
        return None
    return Path(file), int(index) if index.isdigit() else 0


def _candidates(known: Iterable[str | Path]) -> Iterable[tuple[Path, int | None]]:
    for path in known:
        yield Path(path), None
    for pattern in FC_PATTERNS:
        found = _fc_match(pattern)
        if found is not None:
            yield found


def _bold_for(regular: FontFile) -> FontFile:
    name = BOLD_NAMES.get(regular.path.name)
    if name is not None:
        path = regular.path.with_name(name)
        if path.is_file():
            bold = _pick_face(path, regular.index)
            if bold is not None and _embeds(bold):
                return bold
    return regular


def find_font(known: Iterable[str | Path] = KNOWN_FONTS) -> CjkFont | None:
    """The first usable CJK font among ``known`` and what fontconfig suggests."""
    seen: set[Path] = set()
    for path, index in _candidates(known):
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        face = _pick_face(path, index)
        if face is not None and _embeds(face):
            log.info("certificates use %s (face %s)", face.path, face.index)
            return CjkFont(face, _bold_for(face))
    return None


def font_installed(known: Iterable[str | Path] = KNOWN_FONTS) -> bool:
    """Whether a Chinese font file is there at all: a cheap look for the startup log,
    without reading the font (``find_cjk_font`` reads and tries it, when a document
    is first made)."""
    return any(path.is_file() for path, _index in _candidates(known))


@functools.cache
def find_cjk_font() -> CjkFont | None:
    """``find_font`` once per process (a font installed later needs a restart)."""
    font = find_font()
    if font is None:
        log.warning("no CJK font found: certificates are not available")
    return font


# --- formatting -------------------------------------------------------------------


@functools.cache
def _babel(locale: str) -> Locale:
    return Locale.parse(locale)


def format_hours(minutes: int, locale: str) -> str:
    """A length of service exact to the minute, as everywhere (``ui.durations``):
    1小时30分钟 / 1 h 30 min; so the rows of the table add up to its total."""
    return duration(minutes, locale)


def hours_text(minutes: int, locale: str) -> str:
    """The total in a sentence: ``254小时30分钟`` / ``254 h 30 min``."""
    return duration(minutes, locale)


def activities_text(count: int) -> str:
    """``3 activities`` / ``3场``, translated."""
    return ngettext("{count} activity", "{count} activities", count).format(count=count)


def format_day(day: date, locale: str, form: str = "long") -> str:
    """2026年3月5日 / March 5, 2026 (long) or Mar 5, 2026 (medium)."""
    return format_date(day, form, locale=_babel(locale))


def station_label(station: StationNames, locale: str) -> str:
    if locale == "en" and station.name_en:
        return station.name_en
    return station.name
