"""One update at a time per person, without keeping a lock per person forever.

aiogram's ``SimpleEventIsolation`` keeps every key's lock in a dict it never empties:
one ``asyncio.Lock`` (and its key) per person who ever wrote, about 320 bytes each,
for as long as the process runs. Here a key's lock lives only while someone holds it
or waits for it; the last one out removes it."""

from __future__ import annotations

from asyncio import Lock
from collections.abc import AsyncGenerator, Hashable
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey


class _Held:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = Lock()
        self.users = 0  # holding it or waiting for it


class IdleDroppingIsolation(BaseEventIsolation):
    """``SimpleEventIsolation`` whose locks are dropped once nobody holds or awaits them."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, _Held] = {}

    def held(self) -> int:
        """Keys with a lock now: people with an update at work or waiting. (Not
        ``__len__``: aiogram takes an isolation that is false for none at all.)"""
        return len(self._locks)

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        held = self._locks.get(key)
        if held is None:
            held = self._locks[key] = _Held()
        held.users += 1
        try:
            async with held.lock:
                yield
        finally:
            # Also when cancelled while waiting: nobody else can still need this lock
            # once the count is zero, and a later update makes a new one.
            held.users -= 1
            if not held.users and self._locks.get(key) is held:
                del self._locks[key]

    async def close(self) -> None:
        self._locks.clear()
