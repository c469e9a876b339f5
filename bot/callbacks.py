"""Typed callback data. Prefixes are short; every payload stays under 64 bytes."""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# Every number a button carries (a row id, a page, a day ordinal, an amount, a time)
# is bounded where the data is parsed: ids are INTEGER columns (32 bits on
# PostgreSQL, and 2**63 overflows even SQLite), and dates and durations made from
# these numbers stay in range. Data out of range does not unpack, so the button is
# "no longer active" (handlers.fallback) and no handler ever sees it.
CB_INT_MAX = 2**31 - 1
CbInt = Annotated[int, Field(ge=0, le=CB_INT_MAX)]


class LanguageCb(CallbackData, prefix="lg"):
    code: str


class StationCb(CallbackData, prefix="st"):
    """Walk the station tree: open a node (o), pick it (p), or page its children."""

    action: str
    id: CbInt
    page: CbInt = 0


class SkillCb(CallbackData, prefix="sk"):
    code: str  # a skill code, or "done"


class AgeCb(CallbackData, prefix="ag"):
    group: str


class ConsentCb(CallbackData, prefix="cs"):
    what: str  # privacy_yes, privacy_no, guardian_yes


class SummaryCb(CallbackData, prefix="sm"):
    action: str  # ok, cancel, or the field to edit


class ProfileCb(CallbackData, prefix="pf"):
    action: str  # a field to edit, or "lang"


class EraseCb(CallbackData, prefix="er"):
    confirm: bool
