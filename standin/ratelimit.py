"""Telegram-like flood limits for sending messages."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from standin.errors import too_many_requests

__all__ = ["RateLimiter", "TokenBucket"]


@dataclass
class TokenBucket:
    """``capacity`` tokens, refilled at ``rate`` tokens per second."""

    capacity: float
    rate: float
    tokens: float = -1.0
    updated: float = 0.0

    def refill(self, now: float) -> None:
        """Add the tokens earned since the last refill."""
        if self.tokens < 0:
            self.tokens = self.capacity
        else:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self) -> float:
        """Seconds until one token is available (0 if one is)."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass
class RateLimiter:
    """30 messages/s overall; 1/s per private chat (burst of a few); 20/min per group."""

    global_rate: float = 30.0
    private_rate: float = 1.0
    private_burst: float = 3.0
    group_per_minute: float = 20.0
    clock: Callable[[], float] = time.monotonic
    _global: TokenBucket | None = None
    _chats: dict[int, TokenBucket] = field(default_factory=dict)

    def check(self, chat_id: int, *, private: bool) -> None:
        """Take a token for one message to ``chat_id`` or raise a 429 ApiError."""
        now = self.clock()
        if self._global is None:
            self._global = TokenBucket(self.global_rate, self.global_rate)
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = (
                TokenBucket(self.private_burst, self.private_rate)
                if private
                else TokenBucket(self.group_per_minute, self.group_per_minute / 60)
            )
        buckets = (self._global, chat)
        for bucket in buckets:
            bucket.refill(now)
        wait = max(bucket.wait_time() for bucket in buckets)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        for bucket in buckets:
            bucket.tokens -= 1
