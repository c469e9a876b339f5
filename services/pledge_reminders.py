"""The one reminder of a pledge still open after PLEDGE_REMINDER_DAYS (kind
``pledge_reminder``, key ``pledge:{id}:reminder``), queued by an hourly job."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from services import outbox
from services.outbox import Message
from services.pledges import REMINDER, PledgeView, reminder_key, view_of
from storage.db import SessionMaker, write_transaction
from storage.models import PledgeStatus
from storage.queries import pledges as pledge_queries
from storage.types import utcnow

_REMINDER_BATCH = 500


class PledgeSettings(Protocol):
    """What the reminder job reads from the settings."""

    @property
    def pledge_reminder_days(self) -> float: ...

    @property
    def timezone(self) -> str: ...


async def remind_open_pledges(
    *, sessionmaker: SessionMaker, settings: PledgeSettings, now: datetime | None = None
) -> int:
    """Periodic job (hourly): queue one reminder to the volunteer of each pledge open
    for more than PLEDGE_REMINDER_DAYS and not reminded yet, marking it reminded in
    the same transaction. Returns how many reminders were queued."""
    now = now or utcnow()
    cutoff = now - timedelta(days=settings.pledge_reminder_days)
    queued = 0
    while True:
        async with sessionmaker() as session, write_transaction(session):
            rows = await pledge_queries.reminders_due(session, cutoff, _REMINDER_BATCH)
            if not rows:
                break
            messages = []
            for pledge, user_id in rows:
                assert pledge.id is not None
                messages.append(
                    Message(
                        user_id=user_id,
                        kind=REMINDER,
                        key=reminder_key(pledge.id),
                        payload={"pledge_id": pledge.id, "tz": settings.timezone},
                        priority=outbox.REMINDER,
                        station_id=pledge.station_id,
                    )
                )
            queued += await outbox.enqueue(session, messages)
            ids = [pledge.id for pledge, _user in rows if pledge.id is not None]
            await pledge_queries.mark_reminded(session, ids, now)
        if len(rows) < _REMINDER_BATCH:
            break
    return queued


async def reminder_view(session: AsyncSession, pledge_id: int) -> PledgeView | None:
    """The pledge a reminder is about, or None when it is no longer open (or its
    volunteer erased)."""
    view = await view_of(session, pledge_id)
    if view is None or view.pledge.status is not PledgeStatus.OPEN or view.user_id is None:
        return None
    return view
