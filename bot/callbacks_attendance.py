"""Typed callback data of attendance: the staff's roster (prefixes beginning with
"ro") and the volunteer's check-in and check-out ("ck"). Every payload stays under
64 bytes, and every handler re-checks who pressed it against the database."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.callbacks import CbInt


class RosterListCb(CallbackData, prefix="rol"):
    """A page of the activities one may run the roster of."""

    page: CbInt = 0


class RosterCb(CallbackData, prefix="ros"):
    """One activity's roster, a page of people at a time."""

    activity: CbInt
    page: CbInt = 0


class RosterPersonCb(CallbackData, prefix="rop"):
    """One person on a roster: their attendance and what staff can do about it."""

    activity: CbInt
    volunteer: CbInt
    page: CbInt = 0


class RosterMarkCb(CallbackData, prefix="rom"):
    """A staff action on one person: present, late, absent, confirm or minutes."""

    activity: CbInt
    volunteer: CbInt
    action: str
    page: CbInt = 0


class RosterCodeCb(CallbackData, prefix="roc"):
    """Open check-in (or show its code again): the code and its QR image."""

    activity: CbInt
    page: CbInt = 0


class RosterBenCb(CallbackData, prefix="rob"):
    """The beneficiaries screen (group empty), or type one group's count."""

    activity: CbInt
    group: str = ""


class RosterCloseCb(CallbackData, prefix="rox"):
    """Close the records: first what it would do (confirm false), then do it."""

    activity: CbInt
    confirm: bool = False


class RosterSheetCb(CallbackData, prefix="roz"):
    """The sign-in sheet (签到表) of an activity as a file: PDF (p) or XLSX (x)."""

    activity: CbInt
    fmt: str


class CheckinAskCb(CallbackData, prefix="cki"):
    """From the activity card: check in, by typing the code shown on site."""

    activity: CbInt


class CheckoutCb(CallbackData, prefix="cko"):
    """Check out of one activity."""

    activity: CbInt
