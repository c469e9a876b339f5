"""How a broadcast goes: what the outbox has sent of it, which broadcasts are still
going, where the sender's progress message is, and the end (reported once)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services import outbox
from services.outbox import Message
from storage.db import write_transaction
from storage.models import Broadcast, OutboxState
from storage.queries import broadcasts as broadcast_queries
from storage.types import utcnow

# The final report to the sender when there is no progress message left to edit
# (rendered in handlers/broadcast/renderers.py): {"broadcast_id"}.
REPORT = "broadcast_report"


@dataclass(frozen=True)
class Progress:
    broadcast: Broadcast
    sent: int
    blocked: int  # skipped: the recipient blocked the bot or deleted their account
    failed: int  # Telegram refused it, or retries ran out
    withdrawn: int  # no longer wanted when its turn came (a cancelled activity, say)
    waiting: int  # pending or being sent

    @property
    def not_delivered(self) -> int:
        return self.blocked + self.failed + self.withdrawn

    @property
    def done(self) -> bool:
        return self.waiting == 0


async def get(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    return await broadcast_queries.get_broadcast(session, broadcast_id)


async def set_progress_message(
    session: AsyncSession, *, broadcast_id: int, chat_id: int, message_id: int
) -> None:
    """Where the sender's progress message is, to edit it as the broadcast goes."""
    async with write_transaction(session):
        await broadcast_queries.set_progress_message(
            session, broadcast_id=broadcast_id, chat_id=chat_id, message_id=message_id
        )


async def unfinished(session: AsyncSession) -> Sequence[Broadcast]:
    return await broadcast_queries.unfinished(session)


async def progress(session: AsyncSession, broadcast: Broadcast) -> Progress:
    assert broadcast.id is not None
    counts = await outbox.counts(session, broadcast.id)
    return Progress(
        broadcast=broadcast,
        sent=counts.get(OutboxState.SENT, 0),
        blocked=counts.get(OutboxState.SKIPPED, 0),
        failed=counts.get(OutboxState.FAILED, 0),
        withdrawn=counts.get(OutboxState.WITHDRAWN, 0),
        waiting=counts.get(OutboxState.PENDING, 0) + counts.get(OutboxState.SENDING, 0),
    )


async def finish(
    session: AsyncSession,
    broadcast_id: int,
    now: datetime | None = None,
    *,
    report_to: int | None = None,
) -> bool:
    """Mark the broadcast finished; False if it already was (reported once).
    ``report_to``: queue the final report to them in the same transaction (when the
    progress message could not be edited into it)."""
    async with write_transaction(session):
        finished = await broadcast_queries.mark_finished(session, broadcast_id, now or utcnow())
        if finished and report_to is not None:
            report = Message(
                user_id=report_to,
                kind=REPORT,
                key=f"bc-report:{broadcast_id}",
                urgent=True,  # the sender waits for it
                payload={"broadcast_id": broadcast_id},
            )
            await outbox.enqueue(session, [report])
    return finished
