"""The bot's update queue with getUpdates semantics (offsets, long polling, filters)."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from itertools import islice
from typing import Any

from standin.errors import ApiError
from standin.notify import Signal

__all__ = ["QueuedUpdate", "UpdateQueue"]

NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


@dataclass(frozen=True)
class QueuedUpdate:
    """One update; ``kind`` is its field name (``message``, ``callback_query``...)."""

    update_id: int
    kind: str
    payload: dict[str, Any]
    chat_id: int | None

    def as_json(self) -> dict[str, Any]:
        """The Bot API ``Update`` object."""
        return {"update_id": self.update_id, self.kind: self.payload}


class UpdateQueue:
    """Updates waiting to be confirmed by the bot."""

    def __init__(self, first_update_id: int = 1) -> None:
        self._items: deque[QueuedUpdate] = deque()
        self._next_id = first_update_id
        self._allowed: frozenset[str] | None = None
        self._signal = Signal()
        self._generation = 0
        self._closed = False

    def __len__(self) -> int:
        return len(self._items)

    def allows(self, kind: str) -> bool:
        """Whether the bot's current allowed_updates setting lets ``kind`` through."""
        if self._allowed is None:
            return kind not in NOT_BY_DEFAULT
        return kind in self._allowed

    def push(self, kind: str, payload: dict[str, Any], chat_id: int | None) -> int | None:
        """Queue an update (dropped if not allowed); return its update_id."""
        if not self.allows(kind):
            return None
        update = QueuedUpdate(self._next_id, kind, payload, chat_id)
        self._next_id += 1
        self._items.append(update)
        self._signal.notify()
        return update.update_id

    def pending_for(self, chat_id: int) -> bool:
        """Whether an update from ``chat_id`` has not been delivered yet."""
        return any(update.chat_id == chat_id for update in self._items)

    def waiting(self, limit: int) -> list[QueuedUpdate]:
        """The first ``limit`` updates not confirmed yet, oldest first (the webhook
        pusher's view; getUpdates reads the same queue)."""
        return list(islice(self._items, limit))

    def remove(self, update_id: int) -> None:
        """Confirm one update: the webhook took it."""
        self._items = deque(update for update in self._items if update.update_id != update_id)

    def nudge(self) -> None:
        """Wake whoever waits for updates (the webhook was set)."""
        self._signal.notify()

    async def wait_for_more(self, within: float) -> bool:
        """Wait until an update is queued (or the queue is closed); False after
        ``within`` seconds without one."""
        return await self._signal.wait(within)

    def drop_all(self) -> None:
        """Forget every pending update (deleteWebhook with drop_pending_updates)."""
        self._items.clear()

    def close(self) -> None:
        """Release every long poll with an empty answer."""
        self._closed = True
        self._signal.notify()

    async def get(
        self, offset: int, limit: int, poll_seconds: float, allowed: list[str] | None
    ) -> list[QueuedUpdate]:
        """Answer one getUpdates call."""
        self._generation += 1
        generation = self._generation
        self._signal.notify()  # an older long poll is terminated with a conflict
        if allowed is not None:
            self.set_allowed(allowed)
        self._confirm(offset)
        limit = min(max(limit, 1), 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(poll_seconds, 0.0)
        while True:
            if self._items or self._closed:
                return list(islice(self._items, limit))
            woke = await self._signal.wait(deadline - loop.time())
            if generation != self._generation:
                raise ApiError(409, _CONFLICT)
            if not woke:
                return []

    def set_allowed(self, allowed: list[str]) -> None:
        """The bot's allowed_updates (getUpdates or setWebhook); an empty list: the default."""
        self._allowed = frozenset(allowed) if allowed else None
        if any(not self.allows(update.kind) for update in self._items):
            self._items = deque(update for update in self._items if self.allows(update.kind))

    def _confirm(self, offset: int) -> None:
        items = self._items
        if offset > 0:
            while items and items[0].update_id < offset:
                items.popleft()
        elif offset < 0:
            while len(items) > -offset:
                items.popleft()
