"""Callback data of /tally (prefixes "ty…"); payloads stay under 64 bytes. Periods
travel as two day ordinals (``date.toordinal()``), first and last day."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.callbacks import CbInt


class TallyStationCb(CallbackData, prefix="tys"):
    """Walk the stations one may see tallies of: open (o) or pick (p); 0 is the top.
    A period typed with the command (``/tally 2026-W47``) rides along (0: none)."""

    action: str
    id: CbInt
    page: CbInt = 0
    first: CbInt = 0
    last: CbInt = 0


class TallyTypeCb(CallbackData, prefix="tyt"):
    """Type a week or dates for this station's tally."""

    station: CbInt


class TallyViewCb(CallbackData, prefix="tyv"):
    """A station's tally over a period: as text (t), chart (c) or spreadsheet (x)."""

    action: str
    station: CbInt
    first: CbInt
    last: CbInt
