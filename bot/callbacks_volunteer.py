"""Callback data of the volunteer's activity screens (prefixes beginning with "j")."""

from aiogram.filters.callback_data import CallbackData


class ListCb(CallbackData, prefix="jl"):
    page: int


class DetailCb(CallbackData, prefix="jd"):
    activity: int
    page: int = 0


class JoinCb(CallbackData, prefix="jj"):
    activity: int
    overlap_ok: bool = False


class LeaveCb(CallbackData, prefix="jc"):
    activity: int
    confirm: bool = False


class OfferCb(CallbackData, prefix="jo"):
    activity: int
    accept: bool
