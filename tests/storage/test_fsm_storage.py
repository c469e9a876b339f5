"""Dialog state lives in the database: a new storage (a restarted bot) sees it."""

from aiogram.fsm.storage.base import StorageKey

from bot.fsm_storage import DatabaseStorage
from storage.db import SessionMaker
from ui.states import Registration


async def test_state_and_data_survive_a_new_storage(sessionmaker: SessionMaker) -> None:
    key = StorageKey(bot_id=42, chat_id=7, user_id=7)
    first = DatabaseStorage(sessionmaker)
    await first.set_state(key, Registration.phone)
    await first.set_data(key, {"draft": {"real_name": "王小明"}, "mode": "new"})
    await first.update_data(key, {"mode": "edit"})
    await first.close()

    restarted = DatabaseStorage(sessionmaker)
    assert await restarted.get_state(key) == Registration.phone.state
    assert await restarted.get_data(key) == {"draft": {"real_name": "王小明"}, "mode": "edit"}
    other = StorageKey(bot_id=42, chat_id=8, user_id=8)
    assert await restarted.get_state(other) is None
    assert await restarted.get_data(other) == {}

    await restarted.set_state(key, None)
    await restarted.set_data(key, {})
    assert await restarted.get_state(key) is None
    assert await restarted.get_data(key) == {}
