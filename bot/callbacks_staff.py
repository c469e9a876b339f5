"""Typed callback data of the staff features: invites, the team, pending volunteers.
Prefixes begin with i, t or p; every payload stays under 64 bytes."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.callbacks import CbInt


class InviteStationCb(CallbackData, prefix="iv"):
    """Walk the stations one may manage: open (o), up (u) or pick (p); 0 is the top."""

    action: str
    id: CbInt
    page: CbInt = 0


class InviteRoleCb(CallbackData, prefix="ir"):
    station: CbInt
    role: str  # a RoleKind value


class InviteConfirmCb(CallbackData, prefix="ic"):
    station: CbInt
    role: str
    ok: bool


class TeamStationCb(CallbackData, prefix="ts"):
    """The same walk for /team; picking (p) shows the team, a page of it at a time."""

    action: str
    id: CbInt
    page: CbInt = 0


class TeamRevokeCb(CallbackData, prefix="tr"):
    """Revoke one role: first ask (confirm false), then do it (confirm true)."""

    role: CbInt
    confirm: bool = False


class PendingCb(CallbackData, prefix="pd"):
    volunteer: CbInt
    approve: bool
    page: CbInt = 0


class PendingNoticeCb(CallbackData, prefix="pn"):
    """Approve or decline from the notice that a volunteer is waiting."""

    volunteer: CbInt
    approve: bool


class PendingPageCb(CallbackData, prefix="pp"):
    page: CbInt
