"""Typed callback data of the staff's activity publishing and management.
Prefixes begin with "a"; every payload stays under 64 bytes."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.callbacks import CbInt


class ActStationCb(CallbackData, prefix="as"):
    """Pick the station to publish on (id), or turn the page (id 0)."""

    id: CbInt
    page: CbInt = 0


class ActKindCb(CallbackData, prefix="ak"):
    kind: str  # an ActivityKind value


class ActTargetCb(CallbackData, prefix="at"):
    group: str  # a TargetGroup value


class ActQuickCb(CallbackData, prefix="aq"):
    """A quick pick: start (s, epoch minutes), end (e, minutes after the start),
    capacity (c), repeat (r, extra weeks), description skipped (d)."""

    step: str
    value: CbInt


class ActPreviewCb(CallbackData, prefix="ap"):
    action: str  # publish, edit, back, cancel, or a field of the draft to change


class ActManageCb(CallbackData, prefix="am"):
    page: CbInt


class ActEditCb(CallbackData, prefix="ae"):
    """Edit a published activity: the field menu (field empty), then one field."""

    id: CbInt
    field: str = ""


class ActCancelCb(CallbackData, prefix="ac"):
    """Cancel a published activity: ask, yes, or keep."""

    id: CbInt
    action: str = "ask"
