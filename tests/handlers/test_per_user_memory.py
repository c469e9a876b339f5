"""Nothing kept per person after their update is answered: the event-isolation lock
goes, and the dialog cache stays within its bound."""

from __future__ import annotations

from aiogram import Dispatcher

from bot.fsm_storage import DatabaseStorage
from bot.isolation import IdleDroppingIsolation
from tests.mocked_bot import Conversation, MockedBot


async def test_no_lock_kept_per_person_and_dialog_cache_bounded(
    dp: Dispatcher, bot: MockedBot
) -> None:
    storage = dp.fsm.storage
    assert isinstance(storage, DatabaseStorage)
    storage._cache_size = 5
    for user_id in range(5001, 5021):
        sent = await Conversation(dp, bot, user_id=user_id).send("你好")
        assert sent, "every one is answered"
    # aiogram's SimpleEventIsolation kept all 20 locks, forever.
    isolation = dp.fsm.events_isolation
    assert isinstance(isolation, IdleDroppingIsolation)
    assert isolation.held() == 0
    assert len(storage._cache) == 5
    # Those in no dialog share one cached value instead of a tuple and dict each.
    assert len({id(entry) for entry in storage._cache.values()}) == 1
