"""Periodic jobs. The scheduler only wakes code that acts on rows in the database;
nothing it holds is lost on a restart, and no aiogram object is pickled."""

from __future__ import annotations

from aiogram import Bot
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Settings
from handlers.activities import sweep_offers
from storage.db import SessionMaker


def build_scheduler(
    *, bot: Bot, sessionmaker: SessionMaker, i18n: I18n, settings: Settings
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=settings.timezone)
    scheduler.add_job(
        sweep_offers,
        "interval",
        minutes=1,
        id="sweep_offers",
        kwargs={"bot": bot, "sessionmaker": sessionmaker, "i18n": i18n, "settings": settings},
        coalesce=True,
        max_instances=1,
        misfire_grace_time=300,
        replace_existing=True,
    )
    return scheduler
