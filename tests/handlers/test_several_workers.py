"""Two `serve` workers on one database and one Redis (REDIS_URL), as two dispatchers
in this process: one person's updates posted to both at once are handled one after
the other, two people's side by side; wrong check-in codes typed to either are
counted together; no worker acts on a dialog state another has changed."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram import Dispatcher
from aiogram.types import Chat, Message, TelegramObject, Update, User

from bot.app import build_dispatcher
from storage.db import SessionMaker
from tests.conftest import load_example_tree, settings_for
from tests.dbtools import REDIS_URL
from tests.handlers.test_checkin import attendance_rows, prepare
from tests.mocked_bot import Conversation, MockedBot

Workers = tuple[Dispatcher, Dispatcher]


async def _workers(
    url: str, maker: SessionMaker, tmp_path: Path, **settings: Any
) -> AsyncIterator[Workers]:
    await load_example_tree(maker)
    base = settings_for(url, data_dir=tmp_path / "data").model_copy(update=settings)
    workers = (
        build_dispatcher(settings=base, sessionmaker=maker, elect_sender=True),
        build_dispatcher(settings=base, sessionmaker=maker, elect_sender=True),
    )
    yield workers
    for worker in workers:
        redis = worker["redis"]
        if redis is not None:
            await redis.aclose()


@pytest.fixture
async def workers(
    sqlite_url: str, sqlite_sessionmaker: SessionMaker, tmp_path: Path, redis_prefix: str
) -> AsyncIterator[Workers]:
    """Two workers sharing the database and REDIS_URL."""
    async for pair in _workers(
        sqlite_url,
        sqlite_sessionmaker,
        tmp_path,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
    ):
        yield pair


@pytest.fixture
async def workers_without_redis(
    sqlite_url: str, sqlite_sessionmaker: SessionMaker, tmp_path: Path
) -> AsyncIterator[Workers]:
    """Two workers sharing the database only."""
    async for pair in _workers(sqlite_url, sqlite_sessionmaker, tmp_path):
        yield pair


class Probe:
    """Counts, per person, the updates at work at once, inside the person's lock (an
    outer middleware registered after aiogram's): each stays long enough for another
    worker's update of the same person to arrive meanwhile."""

    def __init__(self, hold: float = 0.3) -> None:
        self.hold = hold
        self.inside: dict[int, int] = {}
        self.most: dict[int, int] = {}
        self.most_people = 0

    def install(self, dispatcher: Dispatcher) -> None:
        dispatcher.update.outer_middleware(self)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user_id = data["event_from_user"].id
        self.inside[user_id] = self.inside.get(user_id, 0) + 1
        self.most[user_id] = max(self.most.get(user_id, 0), self.inside[user_id])
        self.most_people = max(self.most_people, sum(1 for n in self.inside.values() if n))
        try:
            await asyncio.sleep(self.hold)
            return await handler(event, data)
        finally:
            self.inside[user_id] -= 1


_ids = itertools.count(1)


def update(user_id: int, text: str) -> Update:
    user = User(id=user_id, is_bot=False, first_name="Li", language_code="en")
    message = Message(
        message_id=next(_ids),
        date=datetime.now(UTC),
        chat=Chat(id=user_id, type="private"),
        from_user=user,
        text=text,
    )
    return Update(update_id=next(_ids), message=message)


async def feed_at_once(workers: Workers, bot: MockedBot, updates: list[tuple[int, Update]]) -> None:
    await asyncio.gather(*(workers[n].feed_update(bot, u) for n, u in updates))


async def test_one_persons_updates_to_two_workers_are_handled_one_after_the_other(
    workers: Workers, bot: MockedBot
) -> None:
    probe = Probe()
    for worker in workers:
        probe.install(worker)
    started = asyncio.get_running_loop().time()
    await feed_at_once(workers, bot, [(0, update(2101, "hello")), (1, update(2101, "hello"))])
    assert probe.most == {2101: 1}
    assert asyncio.get_running_loop().time() - started >= 2 * probe.hold
    # Two people at once, each on both workers: side by side, each one at a time.
    await feed_at_once(
        workers,
        bot,
        [
            (0, update(2102, "a")),
            (1, update(2103, "b")),
            (1, update(2102, "c")),
            (0, update(2103, "d")),
        ],
    )
    assert probe.most_people == 2
    assert probe.most[2102] == 1 and probe.most[2103] == 1


async def test_without_redis_each_worker_locks_only_its_own_updates(
    workers_without_redis: Workers, bot: MockedBot
) -> None:
    """What REDIS_URL is for: without it, the person's lock is each process's own."""
    probe = Probe()
    for worker in workers_without_redis:
        probe.install(worker)
    await feed_at_once(
        workers_without_redis, bot, [(0, update(2101, "hello")), (1, update(2101, "hello"))]
    )
    assert probe.most == {2101: 2}


async def test_wrong_codes_typed_to_either_worker_count_together(
    workers: Workers, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    first, second = workers
    activity_id, code, (on_first,) = await prepare(first, bot, sqlite_sessionmaker, seats=[2201])
    assert code is not None
    on_second = Conversation(second, bot, user_id=2201, language_code="en")
    on_second._ids = itertools.count(5000)  # other update ids than the first's
    wrong = "000000" if code != "000000" else "111111"
    expected = ["(4 tries left)", "(3 tries left)", "(2 tries left)", "(1 try left)"]
    for n, left in enumerate(expected):
        out = await (on_first if n % 2 == 0 else on_second).send(f"/checkin {wrong}")
        assert left in out[-1].text
    out = await on_second.send(f"/checkin {wrong}")
    assert "Too many wrong codes. Please try again in 10 minutes." in out[-1].text
    # Blocked on both: the right code is refused too, and nothing is recorded.
    for conversation in (on_first, on_second):
        out = await conversation.send(f"/checkin {code}")
        assert "Too many wrong codes" in out[-1].text
    assert await attendance_rows(sqlite_sessionmaker, activity_id) == []


async def no_worker_acts_on_a_dialog_another_has_ended(
    workers: Workers, bot: MockedBot, maker: SessionMaker
) -> None:
    first, second = workers
    activity_id, code, (on_first,) = await prepare(first, bot, maker, seats=[2301])
    assert code is not None
    on_second = Conversation(second, bot, user_id=2301, language_code="en")
    on_second._ids = itertools.count(5000)
    out = await on_first.send("/checkin")
    assert "Type the 6-digit check-in code" in out[-1].text
    out = await on_second.send(code)  # the dialog goes on on the other worker, and ends
    assert "Checked in to" in out[-1].text
    # The first worker knows the dialog is over: the code is not taken as an answer.
    out = await on_first.send(code)
    assert "Checked in" not in out[-1].text and "already" not in out[-1].text.lower()
    assert len(await attendance_rows(maker, activity_id)) == 1


async def test_no_worker_acts_on_a_dialog_another_has_ended(
    workers: Workers, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    await no_worker_acts_on_a_dialog_another_has_ended(workers, bot, sqlite_sessionmaker)


async def test_no_serve_worker_acts_on_a_dialog_another_has_ended_without_redis(
    workers_without_redis: Workers, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    await no_worker_acts_on_a_dialog_another_has_ended(
        workers_without_redis, bot, sqlite_sessionmaker
    )
