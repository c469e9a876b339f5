"""Callback data of the volunteer's activity screens (prefixes beginning with "j")."""

from aiogram.filters.callback_data import CallbackData

from bot.callbacks import CbInt


class ListCb(CallbackData, prefix="jl"):
    page: CbInt


class DetailCb(CallbackData, prefix="jd"):
    activity: CbInt
    page: CbInt = 0


class JoinCb(CallbackData, prefix="jj"):
    activity: CbInt
    overlap_ok: bool = False


class LeaveCb(CallbackData, prefix="jc"):
    activity: CbInt
    confirm: bool = False


class OfferCb(CallbackData, prefix="jo"):
    activity: CbInt
    accept: bool
