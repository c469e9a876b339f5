"""Text people type for others to read (names, titles, places), made plain: Unicode
composed (NFC), control characters turned into spaces, format characters (category
Cf: right-to-left overrides, zero-width spaces and joiners, invisible separators,
tags) taken out, so nothing invisible reorders or hides what the next person reads."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def without_format_characters(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def one_line(text: str) -> str:
    """One line: plain, with runs of white space as one space, trimmed."""
    plain = without_format_characters(unicodedata.normalize("NFC", _CONTROL.sub(" ", text)))
    return " ".join(plain.split())


def lines(text: str) -> list[str]:
    """Each line of ``text`` as ``one_line`` makes it (line breaks of any style)."""
    return [one_line(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
