"""aiogram FSM storage kept in the database, so a dialog survives a restart."""

from __future__ import annotations

from collections.abc import Mapping
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


class DatabaseStorage(BaseStorage):
    """One ``dialog_state`` row per chat and user: the state name and its data."""

    def __init__(self, sessionmaker: SessionMaker, key_builder: KeyBuilder | None = None) -> None:
        self._sessionmaker = sessionmaker
        self._keys = key_builder or DefaultKeyBuilder(prefix="fsm")

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._save(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._sessionmaker() as session:
            row = await queries.load_dialog(session, self._keys.build(key))
            return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._save(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._sessionmaker() as session:
            row = await queries.load_dialog(session, self._keys.build(key))
            return dict(row.data) if row else {}

    async def close(self) -> None:
        return None

    async def _save(self, key: StorageKey, **fields: Any) -> None:
        async with self._sessionmaker() as session, write_transaction(session):
            await queries.save_dialog(session, self._keys.build(key), **fields)
