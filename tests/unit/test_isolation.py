"""One update at a time per person, and no lock kept for a person with nothing at work."""

from __future__ import annotations

import asyncio

from aiogram.fsm.storage.base import StorageKey

from bot.isolation import IdleDroppingIsolation


def key(user_id: int) -> StorageKey:
    return StorageKey(bot_id=42, chat_id=user_id, user_id=user_id)


async def test_one_at_a_time_per_person_and_no_lock_kept_after() -> None:
    isolation = IdleDroppingIsolation()
    order: list[str] = []
    inside: dict[int, int] = {}
    most: dict[int, int] = {}

    async def update(user_id: int, name: str) -> None:
        async with isolation.lock(key(user_id)):
            inside[user_id] = inside.get(user_id, 0) + 1
            most[user_id] = max(most.get(user_id, 0), inside[user_id])
            order.append(name)
            await asyncio.sleep(0.01)
            inside[user_id] -= 1

    await asyncio.gather(*(update(user, f"{user}-{n}") for n in range(3) for user in (1, 2)))
    assert most == {1: 1, 2: 1}  # never two updates of one person at once
    assert [n for n in order if n.startswith("1-")] == ["1-0", "1-1", "1-2"]  # in turn
    assert isolation.held() == 0

    # 10,000 people, one update each: nothing is left behind.
    await asyncio.gather(*(update(user, "x") for user in range(100, 10_100)))
    assert isolation.held() == 0


async def test_a_waiter_cancelled_keeps_the_lock_for_the_holder() -> None:
    isolation = IdleDroppingIsolation()
    holding = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with isolation.lock(key(1)):
            holding.set()
            await release.wait()

    async def waiter() -> None:
        async with isolation.lock(key(1)):
            raise AssertionError("the cancelled waiter never gets the lock")

    first = asyncio.create_task(holder())
    await holding.wait()
    second = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    assert isolation.held() == 1  # the holder's lock, still held
    # A third update of the same person still waits for the holder.
    third_in = asyncio.Event()

    async def third() -> None:
        async with isolation.lock(key(1)):
            third_in.set()

    later = asyncio.create_task(third())
    await asyncio.sleep(0.01)
    assert not third_in.is_set()
    release.set()
    await asyncio.gather(first, later)
    assert third_in.is_set() and isolation.held() == 0


async def test_every_update_runs_once_under_many_people_and_failures() -> None:
    """The memory benchmark's load, in small: many people at once, some with a burst,
    some updates failing inside the lock. Every update runs exactly once, one at a time
    per person, and nothing is held afterwards."""
    isolation = IdleDroppingIsolation()
    ran: list[tuple[int, int]] = []
    inside: set[int] = set()

    async def update(user_id: int, n: int) -> None:
        for _ in range(n):  # a burst arrives while the earlier ones hold or wait
            await asyncio.sleep(0)
        try:
            async with isolation.lock(key(user_id)):
                assert user_id not in inside, "two updates of one person at once"
                inside.add(user_id)
                try:
                    await asyncio.sleep(0)
                    ran.append((user_id, n))
                    if n % 7 == 3:
                        raise RuntimeError("a handler failed")
                    await asyncio.sleep(0)
                finally:
                    inside.discard(user_id)
        except RuntimeError:
            pass

    jobs = [(user_id, n) for user_id in range(2000) for n in range(1 + user_id % 3)]
    await asyncio.gather(*(update(u, n) for u, n in jobs))
    assert sorted(ran) == sorted(jobs)
    assert isolation.held() == 0
