"""Lengths of service as people read them: one way of writing them everywhere.

Hours are kept as integer minutes and shown exact to the minute, so that what a
screen, a tally, a chart's label and a certificate say adds up: 15 minutes is
``15分钟`` / ``15 min`` (never ``0.3小时``), and the total on /hours plus the time
to the next star is the threshold exactly. Spreadsheets and charts take the
exact number of hours (``hours_value``), never a rounded one."""

from __future__ import annotations

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from babel.numbers import format_decimal

from ui.format import babel_locale


def duration(minutes: int, locale: str | None = None, *, signed: bool = False) -> str:
    """``15分钟``, ``2小时``, ``2小时30分钟``, ``1,254小时5分钟`` / ``15 min``, ``2 h``,
    ``2 h 30 min``; ``signed`` puts + before a gain (a change between periods); a
    loss always has its -. ``locale`` defaults to the current gettext locale."""
    where = babel_locale(locale or get_i18n().current_locale)
    hours, rest = divmod(abs(minutes), 60)
    if not hours:
        text = _("{minutes} min").format(minutes=rest)
    elif not rest:
        text = _("{hours} h").format(hours=format_decimal(hours, locale=where))
    else:
        text = _("{hours} h {minutes} min").format(
            hours=format_decimal(hours, locale=where), minutes=rest
        )
    if minutes < 0:
        return "-" + text
    return "+" + text if signed and minutes > 0 else text


def hours_value(minutes: int) -> float:
    """The exact number of hours, for a chart's bar or a spreadsheet's cell (which
    rounds only what it shows): 15 -> 0.25, 10 -> 0.1666…"""
    return minutes / 60
