"""The Monday tally: every coordinator gets last week's tally of each station they
coordinate, through the outbox.

A periodic job (every 15 minutes) queues one row per (coordinator, station, ISO
week), keyed ``tally:{user_id}:{station_id}:{year}-W{week}``, once it is Monday
09:00 or later in the station's time zone. Only the week just ended is ever
queued: a job that was down for a while sends the latest tally, not a backlog.
The row carries no figures; the renderer computes the tally when it is sent.

Before queueing, the same job keeps the week just ended (in every time zone the
stations use) in the tally roll-ups and builds again the kept weeks a late change
made stale (``services.tally_rollups.refresh``), so the tallies it queues, and any
asked for that week later, read a handful of kept rows."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from services import outbox, stations, tally_rollups
from services.outbox import Message
from storage.db import SessionMaker, write_transaction
from storage.queries import tallies as queries
from storage.types import utcnow

log = logging.getLogger(__name__)

KIND = "weekly_tally"
SEND_AT = time(9, 0)  # Monday, station time


class WeeklySettings(Protocol):
    @property
    def timezone(self) -> str: ...


def weekly_key(user_id: int, station_id: int, year: int, week: int) -> str:
    return f"tally:{user_id}:{station_id}:{year}-W{week}"


def due_week(now: datetime, zone: ZoneInfo) -> tuple[int, int] | None:
    """The ISO week whose tally is due at ``now`` in ``zone``: the week before the
    current one, from Monday 09:00 on; None earlier on a Monday."""
    local = now.astimezone(zone)
    monday: date = local.date() - timedelta(days=local.weekday())
    if local < datetime.combine(monday, SEND_AT, zone):
        return None
    year, week, _ = (monday - timedelta(days=7)).isocalendar()
    return year, week


async def plan_weekly_tallies(
    *, sessionmaker: SessionMaker, settings: WeeklySettings, now: datetime | None = None
) -> int:
    """Periodic job: queue last week's tally for every coordinator role whose
    station's Monday 09:00 has come. Queues nothing twice; returns how many rows
    were new."""
    now = now or utcnow()
    async with sessionmaker() as session:
        tree = await stations.tree(session)
    zones = {settings.timezone: tree.zone(None, settings.timezone)}
    for station_id in tree.stations:
        zone = tree.zone(station_id, settings.timezone)
        zones.setdefault(zone.key, zone)
    try:
        await tally_rollups.refresh(sessionmaker=sessionmaker, zones=list(zones.values()), now=now)
    except Exception:  # the tallies then count live or build the week when asked
        log.exception("keeping the tally roll-ups failed")
    async with sessionmaker() as session:
        messages = []
        for user_id, station_id in await queries.coordinator_roles(session):
            if station_id not in tree.stations:
                continue
            due = due_week(now, tree.zone(station_id, settings.timezone))
            if due is None:
                continue
            year, week = due
            messages.append(
                Message(
                    user_id=user_id,
                    kind=KIND,
                    key=weekly_key(user_id, station_id, year, week),
                    payload={
                        "user_id": user_id,
                        "station_id": station_id,
                        "year": year,
                        "week": week,
                        "tz": settings.timezone,
                    },
                    priority=outbox.BULK,
                    station_id=station_id,
                )
            )
        if not messages:
            return 0
        async with write_transaction(session):
            return await outbox.enqueue(session, messages)
