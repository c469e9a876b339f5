"""Periodic jobs. The scheduler only wakes code that acts on rows in the database;
nothing it holds is lost on a restart, and no aiogram object is pickled (jobs live in
the memory job store, and every job has an explicit id)."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.deliverer import Deliverer
from handlers.activities import rules as offer_rules
from handlers.broadcast import report_progress
from services import activities
from services.broadcast_progress import unfinished as unfinished_broadcasts
from services.pledge_reminders import remind_open_pledges
from services.records_followup import escalate_overdue, remind_unclosed, tell_missing_checkouts
from services.reminders import plan_digest, plan_reminders
from services.tally_weekly import plan_weekly_tallies
from storage.db import SessionMaker
from storage.types import utcnow
from ui.settings import Settings

# Every job: a missed run is made up once (coalesce) if it is at most 5 minutes late,
# and never runs twice at once.
JOB_DEFAULTS: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
WAKE_SECONDS = 2
log = logging.getLogger(__name__)


async def wake_deliverer(deliverer: Deliverer) -> None:
    """Only wakes the deliverer, which finds the due rows itself. A coroutine, so that
    the scheduler runs it on the event loop rather than in a thread."""
    deliverer.wake()


async def sweep_offers(
    sessionmaker: SessionMaker, settings: Settings, now: datetime | None = None
) -> None:
    """Lapse unanswered offers and offer the seats on (each told through the outbox
    by the service)."""
    async with sessionmaker() as session:
        await activities.expire_offers(session, now=now or utcnow(), rules=offer_rules(settings))


async def broadcast_progress(
    *, bot: Bot, sessionmaker: SessionMaker, i18n: I18n, settings: Settings
) -> None:
    """Every 5 seconds: edit each unfinished broadcast's progress message, and, once
    nothing of it is waiting, turn it into the final report."""
    async with sessionmaker() as session:
        for broadcast in await unfinished_broadcasts(session):
            try:
                await report_progress(bot, session, i18n, settings, broadcast)
            except Exception:  # one broadcast's trouble must not stop the others
                log.exception("broadcast %s: progress update failed", broadcast.id)
                with contextlib.suppress(Exception):
                    await session.rollback()


def quiet_wake_logs() -> None:
    """The wake job runs every two seconds: its "Running job" lines would drown the
    log at INFO. Errors of jobs are still logged."""
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)


def build_scheduler(
    *,
    bot: Bot,
    sessionmaker: SessionMaker,
    i18n: I18n,
    settings: Settings,
    deliverer: Deliverer | None = None,
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=settings.timezone, job_defaults=JOB_DEFAULTS)
    if deliverer is not None:
        quiet_wake_logs()
        scheduler.add_job(
            wake_deliverer,
            "interval",
            seconds=WAKE_SECONDS,
            id="wake_deliverer",
            kwargs={"deliverer": deliverer},
            replace_existing=True,
            **JOB_DEFAULTS,
        )
    scheduler.add_job(
        sweep_offers,
        "interval",
        minutes=1,
        id="sweep_offers",
        kwargs={"sessionmaker": sessionmaker, "settings": settings},
        replace_existing=True,
        **JOB_DEFAULTS,
    )
    scheduler.add_job(
        broadcast_progress,
        "interval",
        seconds=5,
        id="broadcast_progress",
        kwargs={"bot": bot, "sessionmaker": sessionmaker, "i18n": i18n, "settings": settings},
        replace_existing=True,
        **JOB_DEFAULTS,
    )
    # Jobs that only queue rows in the outbox; their keys make a re-run queue nothing
    # twice, so the exact moment they run does not matter.
    planners: list[tuple[str, Any, dict[str, Any]]] = [
        ("plan_reminders", plan_reminders, {"minutes": 5}),
        ("remind_unclosed", remind_unclosed, {"hours": 1}),
        ("tell_missing_checkouts", tell_missing_checkouts, {"minutes": 10}),
        ("escalate_overdue", escalate_overdue, {"hours": 1}),
        ("remind_open_pledges", remind_open_pledges, {"hours": 1}),
        ("plan_weekly_tallies", plan_weekly_tallies, {"minutes": 15}),
    ]
    for job_id, function, every in planners:
        scheduler.add_job(
            function,
            "interval",
            id=job_id,
            kwargs={"sessionmaker": sessionmaker, "settings": settings},
            replace_existing=True,
            **every,
            **JOB_DEFAULTS,
        )
    scheduler.add_job(
        plan_digest,
        "cron",
        day_of_week="mon",
        hour=8,
        minute=30,
        timezone=settings.timezone,
        id="plan_digest",
        kwargs={"sessionmaker": sessionmaker, "settings": settings},
        replace_existing=True,
        **{**JOB_DEFAULTS, "misfire_grace_time": 6 * 3600},
    )
    return scheduler
