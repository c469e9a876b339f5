"""Typed callback data of pledges: the volunteer's dialog (/pledge), their own list
(/mypledges) and the staff's list (/pledges). Prefixes begin with "g"; every payload
stays under 64 bytes. Every handler checks the presser against the database again."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.callbacks import CbInt


class PledgePurposeCb(CallbackData, prefix="gp"):
    """The purpose: an activity's id, or 0 for the home station's community fund."""

    activity: CbInt


class PledgePurposePageCb(CallbackData, prefix="gq"):
    page: CbInt


class PledgeAmountCb(CallbackData, prefix="ga"):
    """A quick amount in fen, or 0 to type another amount."""

    fen: CbInt


class PledgeAnonymousCb(CallbackData, prefix="gn"):
    anonymous: bool


class PledgeConfirmCb(CallbackData, prefix="gc"):
    action: str  # "ok" or "cancel"


class PledgeListCb(CallbackData, prefix="gl"):
    """A page of the staff's list of open pledges."""

    page: CbInt


class PledgeDecideCb(CallbackData, prefix="gd"):
    """Staff on one pledge: received, ask (to cancel), cancel (confirmed), keep."""

    pledge: CbInt
    action: str
    page: CbInt = 0


class MyPledgesCb(CallbackData, prefix="gm"):
    """A page of the volunteer's own pledges."""

    page: CbInt


class MyPledgeWithdrawCb(CallbackData, prefix="gw"):
    """The volunteer on their own open pledge: ask (to withdraw), yes, keep."""

    pledge: CbInt
    action: str
    page: CbInt = 0
