"""Metrics for operators (``GET /metrics``, served by ``bot.health``), in a registry of
the dispatcher's own: tests build several bots in one process.

The update path pays for a clock read and two label lookups (``UpdateMetricsMiddleware``);
the outbox is counted only when someone scrapes, with one grouped query under a short
time limit."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import ErrorEvent, TelegramObject, Update
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.logs import update_context
from services import delivery
from services.delivery import OutboxSummary
from storage.db import SessionMaker, first_line
from storage.models import OutboxState
from storage.types import utcnow

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

PREFIX = "volunteer_bot"
# What a send of the deliverer came to (``Metrics.record_send``).
SEND_RESULTS = ("ok", "403", "429", "5xx", "other")
UPDATE_OUTCOMES = ("handled", "unhandled", "error")
# Seconds; an update served from the caches takes a few milliseconds, a document tens
# of seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# A scrape waits at most this long for the outbox to be counted.
OUTBOX_TIMEOUT = 2.0


class _OutboxCollector(Collector):
    """The outbox as the last scrape's query found it; nothing while the query fails."""

    def __init__(self) -> None:
        self.summary: OutboxSummary | None = None
        self.ok = False

    def collect(self) -> Iterator[Metric]:
        ok = GaugeMetricFamily(
            f"{PREFIX}_outbox_query_ok",
            "1 when this scrape counted the outbox, 0 when the query failed or timed out",
        )
        ok.add_metric([], 1.0 if self.ok else 0.0)
        yield ok
        summary = self.summary
        if summary is None:
            return
        rows = GaugeMetricFamily(f"{PREFIX}_outbox_rows", "Outbox rows by state", labels=["state"])
        for state in OutboxState:
            rows.add_metric([state.value], float(summary.counts.get(state, 0)))
        yield rows
        yield GaugeMetricFamily(
            f"{PREFIX}_outbox_oldest_due_seconds",
            "How long the oldest due pending outbox row has waited (0: none waiting)",
            value=summary.oldest_due_seconds,
        )


class Metrics:
    """The bot's metrics and the registry they are kept in."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.updates = Counter(
            f"{PREFIX}_updates",
            "Updates handled, by type and outcome (handled, unhandled, error)",
            ["type", "outcome"],
            registry=self.registry,
        )
        self.update_seconds = Histogram(
            f"{PREFIX}_update_seconds",
            "Time an update spent in its handlers, from its work slot on, by type",
            ["type"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.sends = Counter(
            f"{PREFIX}_sends",
            "Messages the deliverer sent to Telegram, by answer (ok, 403, 429, 5xx, other)",
            ["result"],
            registry=self.registry,
        )
        self._sends = {result: self.sends.labels(result) for result in SEND_RESULTS}
        self._outbox = _OutboxCollector()
        self.registry.register(self._outbox)
        # Label children by (type, outcome) and type: found once, then a dict lookup.
        self._counted: dict[tuple[str, str], Any] = {}
        self._timed: dict[str, Any] = {}

    def observe_update(self, kind: str, outcome: str, seconds: float) -> None:
        counter = self._counted.get((kind, outcome))
        if counter is None:
            counter = self._counted[kind, outcome] = self.updates.labels(kind, outcome)
        timer = self._timed.get(kind)
        if timer is None:
            timer = self._timed[kind] = self.update_seconds.labels(kind)
        counter.inc()
        timer.observe(seconds)

    def record_send(self, result: str) -> None:
        """One request of the deliverer answered: ``result`` is one of SEND_RESULTS."""
        self._sends.get(result, self._sends["other"]).inc()

    async def refresh_outbox(
        self, sessionmaker: SessionMaker, *, within: float = OUTBOX_TIMEOUT
    ) -> None:
        """Count the outbox for the next ``render``; on failure it is left out and
        ``outbox_query_ok`` is 0."""
        try:
            async with asyncio.timeout(within), sessionmaker() as session:
                summary = await delivery.summary(session=session, now=utcnow())
        except Exception as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else first_line(exc)
            log.warning("metrics: the outbox was not counted: %s", reason)
            self._outbox.summary, self._outbox.ok = None, False
            return
        self._outbox.summary, self._outbox.ok = summary, True

    def render(self) -> bytes:
        """The Prometheus text format."""
        return generate_latest(self.registry)


def update_type(update: Update) -> str:
    try:
        return update.event_type
    except LookupError:  # a type newer than this aiogram
        return "unknown"


class UpdateMetricsMiddleware(BaseMiddleware):
    """Outer middleware of the dispatcher's updates: counts each update by type and
    outcome, times it, and names it and its sender on every log line logged while it is
    handled (``bot.logs``)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        sender = data.get("event_from_user")
        update_id = event.update_id if isinstance(event, Update) else None
        kind = update_type(event) if isinstance(event, Update) else type(event).__name__
        outcome = "error"
        started = time.perf_counter()
        with update_context(update_id, sender.id if sender is not None else None):
            try:
                result = await handler(event, data)
                outcome = "unhandled" if result is UNHANDLED else "handled"
                return result
            finally:
                self.metrics.observe_update(kind, outcome, time.perf_counter() - started)


class ErrorContextMiddleware(BaseMiddleware):
    """Outer middleware of the dispatcher's errors: the error handler runs outside the
    update's middlewares, and its lines name the update and sender too."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        sender = data.get("event_from_user")
        update_id = event.update.update_id if isinstance(event, ErrorEvent) else None
        with update_context(update_id, sender.id if sender is not None else None):
            return await handler(event, data)
