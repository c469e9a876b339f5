"""Flood limits in strict mode."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramRetryAfter

from standin import BotAPIStandin
from standin.errors import ApiError
from standin.ratelimit import RateLimiter


async def test_private_chat_burst_then_429() -> None:
    async with BotAPIStandin(strict_rate_limits=True) as standin:
        standin.add_user(1, "A")
        bot = Bot("1:T", session=AiohttpSession(api=TelegramAPIServer.from_base(standin.base_url)))
        try:
            for _ in range(3):
                await bot.send_message(1, "ok")
            with pytest.raises(TelegramRetryAfter) as caught:
                await bot.send_message(1, "too fast")
        finally:
            await bot.session.close()
        assert caught.value.retry_after >= 1
        assert standin.stats.too_many_requests == 1
        assert len(standin.messages(1)) == 3


def test_global_limit_and_refill() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    for chat_id in range(30):
        limiter.check(chat_id, private=True)
    with pytest.raises(ApiError) as caught:
        limiter.check(99, private=True)
    assert (caught.value.error_code, caught.value.retry_after) == (429, 1)
    now[0] = 1.0
    limiter.check(99, private=True)


def test_private_chat_refills_one_per_second() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    for _ in range(3):
        limiter.check(5, private=True)
    with pytest.raises(ApiError):
        limiter.check(5, private=True)
    now[0] = 1.0
    limiter.check(5, private=True)
    with pytest.raises(ApiError):
        limiter.check(5, private=True)


def test_groups_get_twenty_per_minute() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    for _ in range(20):
        limiter.check(-100, private=False)
    with pytest.raises(ApiError) as caught:
        limiter.check(-100, private=False)
    assert caught.value.retry_after == 3
