"""Of several ``volunteer-bot serve`` workers on one database, one sends and plans.

The worker holding the ``sender`` lock (bot.locks) runs the deliverer and the
scheduler; the others only answer updates, and try for the lock every few seconds,
so when the sender stops or dies another takes over. The outbox is claimed row by
row and planned jobs queue under unique keys, so a moment with two senders (a lock
lost with its connection) sends nothing twice; one sender keeps SEND_RATE the rate
of the whole bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from bot import locks

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0


async def lead(
    database_url: str, token: str, *, start: Callable[[], None], stopped: asyncio.Event
) -> None:
    """Until ``stopped`` is set: take the sender lock as soon as it is free, then call
    ``start`` and hold the lock until ``stopped`` (whoever set it stops what ``start``
    started)."""
    while not stopped.is_set():
        try:
            async with locks.hold(database_url, "sender", token):
                if stopped.is_set():
                    return  # stopped while taking it: start nothing
                log.info("this worker sends and plans")
                start()
                await stopped.wait()
                return
        except locks.Taken:
            pass
        except Exception:  # the database is away: answering updates goes on
            log.exception("could not take the sender lock; trying again")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(RETRY_SECONDS):
                await stopped.wait()
