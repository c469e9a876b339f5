"""aiogram FSM storage kept in the database, so a dialog survives a restart.

Reads are served from a bounded write-through cache: Telegram hands a bot's updates
to one polling process only, so this process is the only writer of its dialogs, and
every update would otherwise cost a database round trip just to learn that the
person is in no dialog at all. The database stays the source of truth.

Several workers (``serve``) share the table with ``cache_size=0``: each read goes to
the database, so no worker acts on a state another has since changed. One person's
updates are handled one at a time across workers when they share Redis (REDIS_URL,
bot.redis_shared), so a dialog's read and write are never interleaved."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from copy import deepcopy
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)

from storage import queries
from storage.db import SessionMaker, write_transaction

Entry = tuple[str | None, dict[str, Any]]
# Most people are in no dialog: their cache entries share this one value (never
# changed: get_data hands out copies, and a save replaces the entry).
_NO_DIALOG: Entry = (None, {})


class DatabaseStorage(BaseStorage):
    """One ``dialog_state`` row per chat and user: the state name and its data."""

    def __init__(
        self,
        sessionmaker: SessionMaker,
        key_builder: KeyBuilder | None = None,
        *,
        cache_size: int = 10_000,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._keys = key_builder or DefaultKeyBuilder(prefix="fsm")
        self._cache: OrderedDict[str, Entry] = OrderedDict()
        self._cache_size = cache_size

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._save(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._load(key))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._save(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return deepcopy((await self._load(key))[1])

    async def close(self) -> None:
        self._cache.clear()

    async def _load(self, key: StorageKey) -> Entry:
        name = self._keys.build(key)
        entry = self._cache.get(name)
        if entry is None:
            async with self._sessionmaker() as session:
                row = await queries.load_dialog(session, name)
                entry = (row.state, dict(row.data)) if row else _NO_DIALOG
            self._remember(name, entry)
        else:
            self._cache.move_to_end(name)
        return entry

    async def _save(self, key: StorageKey, **fields: Any) -> None:
        name = self._keys.build(key)
        self._cache.pop(name, None)  # if the write fails, the next read goes to the database
        async with self._sessionmaker() as session, write_transaction(session):
            row = await queries.save_dialog(session, name, **fields)
            entry = (row.state, deepcopy(row.data)) if row else _NO_DIALOG
        self._remember(name, entry)

    def _remember(self, name: str, entry: Entry) -> None:
        self._cache[name] = entry
        self._cache.move_to_end(name)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
