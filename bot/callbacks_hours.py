"""Callback data of /certificate (prefix "hc"); payloads stay under 64 bytes."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.callbacks import CbInt


class CertPeriodCb(CallbackData, prefix="hc"):
    """The period of a certificate: a calendar year (kind "y" with the year), or all
    time (kind "a")."""

    kind: str
    year: CbInt = 0
