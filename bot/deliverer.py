"""The deliverer: the one sender of everything the bot sends on its own.

It runs as one asyncio task. Each pass claims due outbox rows in batches
(``services.delivery.claim``), renders each in its recipient's language through
``ui.outbox.RENDERERS`` and sends it, until nothing is due; then it sleeps
until ``wake()`` (the scheduler calls it every few seconds, handlers may call it
after queueing). Pacing, for all of its traffic together:

- the global rate (``_Pacer``): one ``aiolimiter.AsyncLimiter`` spacing messages
  evenly, a slot at a time (no bursts), and a sliding window that lets no one-second
  window hold more than ``send_rate`` messages;
- at least ``send_chat_interval`` seconds between two messages to one chat,
  counted from the end of the earlier request (rows of one chat wait in a lane of
  their own, not in front of other chats);
- up to ``send_concurrency`` requests in flight.

Telegram's answers: a 429 pauses all sending for ``retry_after`` and the row is
tried again, not counted as a failure; a 403 marks the recipient unreachable and
skips their rows; a 400 fails the row with Telegram's reason; network errors and
5xx are tried again after a backoff, ``delivery_max_attempts`` times in all. A
renderer that returns None withdraws the row; one that raises fails it (logged).

Replies to people in dialogs do not pass through here (unless Telegram was down when
they were made, see ``bot.replies``): handlers send them at once with the same Bot,
and the limiter gates only the deliverer. The deliverer sends with the session's
``make_request``, bypassing the session's request middlewares (``bot.replies``), so
that their retries (which sleep and retry one request) do not hide a 429 or a 5xx
from it: a 429 must pause every send of the deliverer, not one, and a failed row is
tried again after its own backoff.

Restart safety. Each row is claimed (committed as ``sending``), sent, and committed
as ``sent`` straight after Telegram's answer, one short transaction each. If the
process dies, rows it left in ``sending`` go back to ``pending`` once their lease
(``delivery_lease_seconds``) lapses and are sent again. A row is never sent when
its claim is older than half the lease, and a deliverer never takes back rows it
still holds itself (a slow request is not a dead deliverer); across processes the
lease must outlast half itself plus a request's timeout (aiogram's default, 60 s),
which the default lease (120 s) does. The one
window that cannot be closed: a kill after Telegram accepted a message and before
``sent`` is committed sends that message twice on restart (Telegram has no
idempotency key). The window is one database commit long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiolimiter import AsyncLimiter
from sqlmodel.ext.asyncio.session import AsyncSession

from services import delivery
from services.delivery import Claimed
from storage.db import SessionMaker
from storage.types import utcnow
from ui.outbox import RENDERERS
from ui.settings import Settings

log = logging.getLogger(__name__)

# Refusals that trying again cannot fix: the row fails with Telegram's reason.
_REFUSED = (TelegramBadRequest, TelegramNotFound, TelegramMigrateToChat, TelegramEntityTooLarge)
_MAX_BATCH = 500
_IDLE_SECONDS = 10.0  # a pass runs at least this often even if nobody wakes us


@dataclass
class DeliveryStats:
    """What a deliverer did since it was made."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0  # recipient unreachable
    withdrawn: int = 0
    retried: int = 0  # network errors and 5xx put back for later
    held: int = 0  # moved to the end of quiet hours
    rate_limited: int = 0  # 429 answers
    released: int = 0  # given back unsent (stopping, held too long, long 429)
    recovered: int = 0  # lapsed leases put back to pending


class _Pacer:
    """The global rate: never more than ``rate`` messages in any one-second window,
    and never a burst.

    One ``AsyncLimiter(1, SPACING / rate)`` spaces messages evenly (a slot at a time,
    no burst), slightly closer than 1/rate; a sliding one-second window over the
    latest sends holds the count to ``rate``. The window is what keeps the average at
    the rate: a limiter alone restarts its spacing from each late wake-up, and loses
    about a millisecond per message on a busy event loop (2.5% at 25/s, measured)."""

    SPACING = 0.9

    def __init__(self, rate: float) -> None:
        # Below 2/s a one-second window cannot hold the average: exact spacing then.
        self.limiter = AsyncLimiter(1, (self.SPACING if rate >= 2 else 1.0) / rate)
        self.window = max(1, math.floor(rate))
        self.recent: deque[float] = deque(maxlen=self.window)
        self.lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self.lock:  # one waiter at a time: first come, first served
            await self.limiter.acquire()
            loop = asyncio.get_running_loop()
            if len(self.recent) == self.window:
                await asyncio.sleep(self.recent[0] + 1.0 - loop.time())
            self.recent.append(loop.time())


class _Lanes:
    """Claimed rows by chat. A chat is handed to one worker at a time, and not before
    ``interval`` seconds after its previous request ended."""

    def __init__(self, next_at: dict[int, float], interval: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.next_at = next_at
        self.interval = interval
        self.rows: dict[int, deque[Claimed]] = {}
        self.claimed_at: dict[int, float] = {}  # row id -> loop time of its claim
        self.ready: asyncio.Queue[int | None] = asyncio.Queue()
        self.busy: set[int] = set()
        self.unreachable: set[int] = set()  # answered 403 during this pass
        self.outstanding = 0
        self.changed = asyncio.Event()

    def add(self, row: Claimed) -> None:
        if row.id in self.claimed_at:
            return  # already held (cannot happen while recovery spares our rows)
        lane = self.rows.setdefault(row.user_id, deque())
        lane.append(row)
        self.claimed_at[row.id] = self.loop.time()
        self.outstanding += 1
        if len(lane) == 1 and row.user_id not in self.busy:
            self._schedule(row.user_id)

    def _schedule(self, chat: int) -> None:
        at = self.next_at.get(chat, 0.0)
        if at <= self.loop.time():
            self.ready.put_nowait(chat)
        else:
            self.loop.call_at(at, self.ready.put_nowait, chat)

    def take(self, chat: int) -> Claimed:
        self.busy.add(chat)
        return self.rows[chat].popleft()

    def done(self, row: Claimed, ended: float | None) -> None:
        chat = row.user_id
        self.busy.discard(chat)
        self.claimed_at.pop(row.id, None)
        self.outstanding -= 1
        if ended is not None:
            self.next_at[chat] = ended + self.interval
        if self.rows.get(chat):
            self._schedule(chat)
        else:
            self.rows.pop(chat, None)
        self.changed.set()

    def drain(self) -> list[Claimed]:
        """Rows never handed to a worker."""
        left = [row for lane in self.rows.values() for row in lane]
        self.rows.clear()
        self.outstanding -= len(left)
        return left


class Deliverer:
    """Sends due outbox rows, paced; see the module docstring."""

    def __init__(
        self,
        *,
        sessionmaker: SessionMaker,
        i18n: I18n,
        settings: Settings,
        bot: Bot | None = None,
        now: Callable[[], datetime] = utcnow,
        batch_size: int | None = None,
        on_send: Callable[[str], None] | None = None,
    ) -> None:
        self.bot = bot
        # Told what each request to Telegram came to: ok, 403, 429, 5xx or other
        # (the metrics' send counter).
        self.on_send = on_send or _ignore
        self.sessionmaker = sessionmaker
        self.i18n = i18n
        self.settings = settings
        self.now = now
        self.stats = DeliveryStats()
        rate = settings.send_rate
        # Rows should be sent well within half their lease: about one second of work,
        # or a quarter of the lease when that is shorter.
        work = min(1.0, settings.delivery_lease_seconds / 4)
        self.batch_size = batch_size or max(
            2 * settings.send_concurrency, min(_MAX_BATCH, math.ceil(rate * work))
        )
        self._pacer: _Pacer | None = None
        self._chat_next: dict[int, float] = {}
        self._resume_at = 0.0  # loop time until which a 429 paused everything
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_recovery = -math.inf

    # --- running --------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, bot: Bot | None = None) -> None:
        """Run in the background until ``stop()``."""
        if bot is not None:
            self.bot = bot
        if self.bot is None:
            raise RuntimeError("the deliverer needs a Bot")
        if self.running:
            return
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="deliverer")

    def wake(self) -> None:
        """Something may be due: look now rather than at the next interval."""
        self._wake.set()

    async def stop(self) -> None:
        """Finish the sends in flight, give back claimed rows not yet sent, and end."""
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def _run(self) -> None:
        while not self.stopping:
            self._wake.clear()
            try:
                await self.run_pass()
            except Exception:
                log.exception("delivery pass failed")
                await self._sleep(1.0)
                continue
            if self.stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=_IDLE_SECONDS)

    async def _sleep(self, seconds: float) -> bool:
        """Sleep, but return at once (False) when told to stop."""
        if seconds <= 0:
            return not self.stopping
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        return not self.stopping

    # --- one pass -------------------------------------------------------------------

    async def run_pass(self) -> int:
        """Send everything due now. Returns how many rows it claimed, held or skipped."""
        if self.bot is None:
            raise RuntimeError("the deliverer needs a Bot")
        if self._pacer is None:
            self._pacer = _Pacer(self.settings.send_rate)
        loop = asyncio.get_running_loop()
        self._chat_next = {c: t for c, t in self._chat_next.items() if t > loop.time()}
        lanes = _Lanes(self._chat_next, self.settings.send_chat_interval)
        workers = [
            asyncio.create_task(self._work(lanes), name=f"deliverer-{n}")
            for n in range(self.settings.send_concurrency)
        ]
        handled = 0
        low_water = self.batch_size // 2
        try:
            async with self.sessionmaker() as session:
                while not self.stopping:
                    await self._recover(session, lanes)
                    if lanes.outstanding > low_water:
                        await self._until(lanes, lambda: lanes.outstanding <= low_water)
                        continue
                    batch = await delivery.claim(
                        session=session,
                        limit=self.batch_size - lanes.outstanding,
                        default_timezone=self.settings.timezone,
                        quiet=self.settings.quiet_window,
                        now=self.now(),
                    )
                    self.stats.held += batch.held
                    self.stats.skipped += batch.skipped
                    handled += batch.touched
                    for row in batch.rows:
                        lanes.add(row)
                    if not batch.touched:
                        break
            await self._until(lanes, lambda: lanes.outstanding == 0)
        finally:
            for _ in workers:
                lanes.ready.put_nowait(None)
            await asyncio.gather(*workers, return_exceptions=True)
            left = lanes.drain()
            if left:
                await self._release(left)
        return handled

    async def _until(self, lanes: _Lanes, condition: Callable[[], bool]) -> None:
        while not condition() and not self.stopping:
            lanes.changed.clear()
            waiters = [asyncio.ensure_future(lanes.changed.wait())]
            waiters.append(asyncio.ensure_future(self._stop.wait()))
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    async def _recover(self, session: AsyncSession, lanes: _Lanes) -> None:
        lease = self.settings.delivery_lease_seconds
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_recovery < min(lease / 3, 30.0):
            return
        self._last_recovery = loop.time()
        recovered = await delivery.recover(
            session=session, lease_seconds=lease, now=self.now(), keep=set(lanes.claimed_at)
        )
        if recovered:
            log.warning("%s outbox rows lapsed in sending: they will be sent again", recovered)
            self.stats.recovered += recovered

    async def _work(self, lanes: _Lanes) -> None:
        async with self.sessionmaker() as session:
            while True:
                chat = await lanes.ready.get()
                if chat is None or self.stopping:
                    return
                row = lanes.take(chat)
                ended: float | None = None
                try:
                    if chat in lanes.unreachable:
                        self.stats.skipped += 1
                        error = "recipient unreachable"
                        await self._settle(delivery.mark_skipped, session, row, error=error)
                    else:
                        ended = await self._deliver(session, row, lanes)
                except Exception:
                    log.exception("delivering outbox row %s failed", row.id)
                finally:
                    lanes.done(row, ended)

    # --- one row --------------------------------------------------------------------

    def _locale(self, row: Claimed) -> str:
        if row.locale in self.i18n.available_locales:
            return row.locale
        return self.i18n.default_locale

    async def _render(
        self, session: AsyncSession, row: Claimed
    ) -> tuple[str, InlineKeyboardMarkup | None] | Exception | None:
        renderer = RENDERERS.get(row.kind)
        if renderer is None:
            return LookupError(f"no renderer for outbox kind {row.kind!r}")
        try:
            with self.i18n.context(), self.i18n.use_locale(self._locale(row)):
                return await renderer(session, row.payload)
        except Exception as exc:
            log.exception("rendering outbox row %s (%s) failed", row.id, row.kind)
            return exc

    async def _deliver(self, session: AsyncSession, row: Claimed, lanes: _Lanes) -> float | None:
        """Render, send and settle one row. Returns the loop time its last request
        ended, or None when nothing was sent to Telegram."""
        claimed = lanes.claimed_at[row.id]
        rendered = await self._render(session, row)
        if isinstance(rendered, Exception):
            self.stats.failed += 1
            await self._settle(delivery.mark_failed, session, row, error=f"render: {rendered!r}")
            return None
        if rendered is None:
            self.stats.withdrawn += 1
            await self._settle(delivery.mark_withdrawn, session, row)
            return None
        text, markup = rendered
        assert self.bot is not None and self._pacer is not None
        loop = asyncio.get_running_loop()
        deadline = claimed + self.settings.delivery_lease_seconds / 2
        ended: float | None = None
        while True:
            if not await self._sleep(self._resume_at - loop.time()):
                await self._release([row])
                return ended
            if loop.time() > deadline:
                # Claimed too long ago (a long 429 pause, a slow pass): a lapsed lease
                # must never race another deliverer, so give it back instead.
                await self._release([row])
                return ended
            await self._pacer.acquire()
            if self._resume_at > loop.time():
                continue
            if self.stopping:  # not in flight yet: give it back
                await self._release([row])
                return ended
            try:
                message = await self.bot.session.make_request(
                    self.bot, SendMessage(chat_id=row.user_id, text=text, reply_markup=markup)
                )
            except TelegramRetryAfter as exc:
                ended = loop.time()
                self.on_send("429")
                self.stats.rate_limited += 1
                self._resume_at = max(self._resume_at, ended + exc.retry_after)
                log.warning("429: all sending paused for %s s", exc.retry_after)
                continue
            except TelegramForbiddenError as exc:
                self.on_send("403")
                self.stats.skipped += 1
                lanes.unreachable.add(row.user_id)  # their other claimed rows: skipped
                await self._settle(
                    delivery.mark_unreachable, session, row, error=exc.message, now=self.now()
                )
                return loop.time()
            except _REFUSED as exc:
                self.on_send("other")
                self.stats.failed += 1
                log.info("outbox row %s refused: %s", row.id, exc.message)
                await self._settle(delivery.mark_failed, session, row, error=exc.message)
                return loop.time()
            except Exception as exc:  # network errors, 5xx, and anything unforeseen
                self.on_send("5xx" if isinstance(exc, TelegramServerError) else "other")
                await self._retry(session, row, exc)
                return loop.time()
            ended = loop.time()
            self.on_send("ok")
            self.stats.sent += 1
            await self._settle(
                delivery.mark_sent,
                session,
                row,
                message_id=message.message_id,
                now=self.now(),
            )
            return ended

    async def _retry(self, session: AsyncSession, row: Claimed, exc: Exception) -> None:
        error = getattr(exc, "message", None) or repr(exc)
        if row.attempts >= self.settings.delivery_max_attempts:
            self.stats.failed += 1
            log.warning("outbox row %s failed after %s attempts: %s", row.id, row.attempts, error)
            await self._settle(
                delivery.mark_failed,
                session,
                row,
                error=f"{error} (after {row.attempts} attempts)",
            )
            return
        self.stats.retried += 1
        due = self.now() + delivery.backoff(row.attempts)
        log.info("outbox row %s: %s; trying again at %s", row.id, error, due.isoformat())
        await self._settle(delivery.retry_later, session, row, due_at=due, error=error)

    async def _settle(
        self, settle: Callable[..., Any], session: AsyncSession, row: Claimed, **kwargs: Any
    ) -> None:
        try:
            if not await settle(session=session, row=row, **kwargs):
                log.warning("outbox row %s was claimed again before it was settled", row.id)
        except Exception:
            # The row stays in sending and is tried again when its lease lapses.
            log.exception("settling outbox row %s failed", row.id)

    async def _release(self, rows: list[Claimed]) -> None:
        try:
            async with self.sessionmaker() as session:
                self.stats.released += await delivery.release(session=session, rows=rows)
        except Exception:
            log.exception("giving back %s outbox rows failed", len(rows))


def _ignore(result: str) -> None:
    pass


async def deliver_due(deliverer: Deliverer, *, passes: int = 100) -> DeliveryStats:
    """Run passes until one finds nothing due (tests, the sandbox, scripts)."""
    for _ in range(passes):
        if not await deliverer.run_pass():
            break
    return deliverer.stats
