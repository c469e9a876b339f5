"""Typed callback data of broadcasts, reminders and /settings. Prefixes begin with
"d"; every payload stays under 64 bytes."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.callbacks import CbInt


class BcStationCb(CallbackData, prefix="db"):
    """Walk the stations one may broadcast to: open (o) or pick (p); 0 is the top."""

    action: str
    id: CbInt
    page: CbInt = 0


class BcSkillCb(CallbackData, prefix="dk"):
    code: str  # a skill code to toggle, or "done"


class BcPreviewCb(CallbackData, prefix="dp"):
    action: str  # send, text (type it again), cancel


class AnnounceCb(CallbackData, prefix="da"):
    """Announce a published activity: ask first (ask), then do it (yes) or not (no)."""

    activity: CbInt
    action: str = "ask"


class ComingCb(CallbackData, prefix="dr"):
    """A reminder's answer: yes (I'll come), no (asks), drop (gives up the seat),
    keep (changed their mind)."""

    signup: CbInt
    action: str


class SettingsCb(CallbackData, prefix="ds"):
    """/settings: set the weekly digest on or off (a value, not a toggle, so a replayed
    button does what it said)."""

    digest: bool
