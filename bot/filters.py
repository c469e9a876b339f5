"""aiogram runs every synchronous filter in a worker thread (``asyncio.to_thread``):
``F.chat.type == "private"`` on a router, a bare dialog State, ``F.text`` on a
handler. Each is a few attribute reads, but a thread hop costs far more than that,
and an update passes dozens of them on its way to its handler. Here those cheap
filters (magic filters and States, nothing else) are run on the event loop."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.fsm.state import State


def _cheap(filter_object: FilterObject) -> bool:
    return filter_object.magic is not None or isinstance(filter_object.callback, State)


def _inline(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    return run


def _filters(router: Router) -> Iterator[FilterObject]:
    for observer in router.observers.values():
        own = getattr(observer, "_handler", None)  # the router's own filters
        yield from (own.filters or []) if own is not None else []
        for handler in observer.handlers:
            yield from handler.filters or []
    for sub in router.sub_routers:
        yield from _filters(sub)


def inline_cheap_filters(router: Router) -> int:
    """Run the cheap synchronous filters of ``router`` and everything below it on the
    event loop; returns how many were changed."""
    changed = 0
    for filter_object in _filters(router):
        if not filter_object.awaitable and _cheap(filter_object):
            filter_object.callback = _inline(filter_object.callback)
            filter_object.awaitable = True
            changed += 1
    return changed


def threaded_filters(router: Router) -> list[FilterObject]:
    """The filters that would still run in a worker thread (for the tests)."""
    return [f for f in _filters(router) if not f.awaitable]
