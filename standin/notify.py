"""A tiny broadcast notification usable from synchronous code."""

from __future__ import annotations

import asyncio


class Signal:
    """Wakes every current waiter when ``notify()`` is called."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wake all waiters; later waiters wait for the next notification."""
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, within: float) -> bool:
        """Wait for the next notification; False if ``within`` seconds passed first."""
        if within <= 0:
            return False
        try:
            async with asyncio.timeout(within):
                await self._event.wait()
        except TimeoutError:
            return False
        return True
