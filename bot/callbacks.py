"""Typed callback data. Prefixes are short; every payload stays under 64 bytes."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class LanguageCb(CallbackData, prefix="lg"):
    code: str


class StationCb(CallbackData, prefix="st"):
    """Walk the station tree: open a node (o), pick it (p), or page its children."""

    action: str
    id: int
    page: int = 0


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
