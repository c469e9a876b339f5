"""What several workers share through Redis (REDIS_URL): each person's updates one at
a time across workers (aiogram's ``RedisEventIsolation``), and the count of wrong
check-in codes (``SharedAttemptLimiter``).

Only ``bot.app`` imports this module, and only when REDIS_URL is set: a bot without
Redis never loads the redis package."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisEventIsolation
from redis.asyncio import Redis

from services.checkin import ATTEMPT_WINDOW

# Seconds a person's lock is held at most: an update still at work after this lets
# the next one of the same person in rather than holding it up for good (a worker
# that died holding the lock frees it this way). The update that outlived its lock
# still finishes; the lock it no longer owns is logged, not raised, so the finished
# update is not reported as failed (and posted again by Telegram).
LOCK_SECONDS = 60
# Seconds to connect, and to wait for an answer, before Redis counts as away.
SOCKET_SECONDS = 5.0


def connect(url: str) -> Redis:
    """A client of REDIS_URL; it connects on first use. Close it with ``aclose()``."""
    client: Redis = Redis.from_url(
        url, socket_connect_timeout=SOCKET_SECONDS, socket_timeout=SOCKET_SECONDS
    )
    return client


def event_isolation(redis: Redis, prefix: str) -> RedisEventIsolation:
    """One update at a time per person across every worker on this Redis: the lock of
    a chat and person is the key ``PREFIX:fsm:CHAT:USER:lock``."""
    return RedisEventIsolation(
        redis,
        key_builder=DefaultKeyBuilder(prefix=f"{prefix}:fsm"),
        lock_kwargs={"timeout": LOCK_SECONDS, "raise_on_release_error": False},
    )


# A sorted set per person: one member per wrong code, scored by its time in ms.
# Both scripts first drop the codes at least a window old, as AttemptLimiter does.
_FAIL = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return redis.call('ZCARD', KEYS[1])
"""
# The time of the wrong code whose ageing out lets the person try again, or -1.
_BLOCKED = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  return -1
end
local at = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return tonumber(at[2])
"""


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class SharedAttemptLimiter:
    """``AttemptLimiter`` kept in Redis (a ``services.checkin.WrongCodeLimiter``):
    the same sliding window and limit, the wrong codes typed to every worker counted
    together. Each step is one script, so two workers counting at once miss nothing."""

    def __init__(self, redis: Redis, prefix: str, window: timedelta = ATTEMPT_WINDOW) -> None:
        self.window = window
        self._prefix = f"{prefix}:checkin"
        self._fail = redis.register_script(_FAIL)
        self._blocked = redis.register_script(_BLOCKED)

    def _key(self, user_id: int) -> str:
        return f"{self._prefix}:{user_id}"

    def _window_ms(self) -> int:
        return int(self.window.total_seconds() * 1000)

    async def blocked_for(self, user_id: int, now: datetime, *, limit: int) -> timedelta | None:
        """How long the person must wait before trying again, or None."""
        at = int(
            await self._blocked(
                keys=[self._key(user_id)], args=[_ms(now), self._window_ms(), limit]
            )
        )
        if at < 0:
            return None
        return timedelta(milliseconds=at + self._window_ms() - _ms(now))

    async def fail(self, user_id: int, now: datetime, *, limit: int) -> int:
        """Count a wrong code; returns how many tries are left."""
        count = int(
            await self._fail(
                keys=[self._key(user_id)],
                args=[_ms(now), self._window_ms(), f"{_ms(now)}:{uuid.uuid4().hex}"],
            )
        )
        return max(0, limit - count)
