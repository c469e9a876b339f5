"""Posting updates to the bot's webhook, as Telegram does after setWebhook.

Each queued update is posted as JSON to the webhook URL with the secret token in the
``X-Telegram-Bot-Api-Secret-Token`` header, oldest first, at most ``max_connections``
at once. An update is confirmed (taken off the queue) when the bot answers 2xx; any
other answer or a failed connection leaves it queued, and it is posted again after a
pause, as Telegram retries. Every non-2xx answer is kept in ``rejections``.

``targets``, when set, stands for a load balancer in front of several workers: the
posts go to these addresses in turn instead of the webhook URL (which stays the
public address the bot set), and a post that fails is tried again at the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp

from standin.updates import QueuedUpdate
from standin.world import World

__all__ = ["WebhookPusher"]

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
RETRY_SECONDS = 0.5


class WebhookPusher:
    def __init__(self, world: World) -> None:
        self.world = world
        self.rejections: list[tuple[int, int | None]] = []  # (update_id, HTTP status or None)
        self.posted = 0  # updates the bot took
        self.posted_to: dict[str, int] = {}  # per address posted to
        self.targets: list[str] = []
        self._turn = 0
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        while True:
            world = self.world
            if world.webhook_url:
                room = world.webhook_max_connections - len(self._in_flight)
                for update in world.updates.waiting(world.webhook_max_connections):
                    if room <= 0:
                        break
                    if update.update_id in self._in_flight:
                        continue
                    self._in_flight.add(update.update_id)
                    room -= 1
                    task = asyncio.create_task(self._post(self._next_address(), update))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            # Set or not, a new update or setWebhook wakes it (nudge).
            await world.updates.wait_for_more(RETRY_SECONDS / 5 if world.webhook_url else 3600)

    def _next_address(self) -> str:
        if not self.targets:
            return self.world.webhook_url
        self._turn += 1
        return self.targets[self._turn % len(self.targets)]

    async def _post(self, url: str, update: QueuedUpdate) -> None:
        assert self._session is not None
        headers = {SECRET_HEADER: self.world.webhook_secret} if self.world.webhook_secret else {}
        status: int | None = None
        try:
            async with self._session.post(url, json=update.as_json(), headers=headers) as answer:
                status = answer.status
                await answer.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.debug("webhook post of update %s failed: %s", update.update_id, exc)
        try:
            if status is not None and 200 <= status < 300:
                self.world.updates.remove(update.update_id)
                if update.chat_id is not None:
                    self.world.touch_delivered({update.chat_id})
                self.posted += 1
                self.posted_to[url] = self.posted_to.get(url, 0) + 1
                return
            self.rejections.append((update.update_id, status))
            await asyncio.sleep(RETRY_SECONDS)
        finally:
            self._in_flight.discard(update.update_id)
            self.world.updates.nudge()
