"""Volunteers and activities: browse (/activities), the card with join and leave, the
waitlist and offered seats, /my; and how the outbox's activity notices read."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command

from handlers.activities import renderers  # noqa: F401  (the outbox's activity kinds)
from handlers.activities.common import rules
from handlers.activities.detail import join, leave, open_detail
from handlers.activities.listing import page_list, show_list, show_mine
from handlers.activities.offers import answer_offer
from ui.callbacks import DetailCb, JoinCb, LeaveCb, ListCb, OfferCb

__all__ = ["make_router", "rules"]


def make_router() -> Router:
    router = Router(name="activities")
    router.message.filter(F.chat.type == "private")
    router.message.register(show_list, Command("activities"))
    router.message.register(show_mine, Command("my"))
    router.callback_query.register(page_list, ListCb.filter())
    router.callback_query.register(open_detail, DetailCb.filter())
    router.callback_query.register(join, JoinCb.filter())
    router.callback_query.register(leave, LeaveCb.filter())
    router.callback_query.register(answer_offer, OfferCb.filter())
    return router
