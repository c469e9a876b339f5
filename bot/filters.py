"""aiogram runs every synchronous filter in a worker thread (``asyncio.to_thread``):
``F.chat.type == "private"`` on a router, a bare dialog State, ``F.text`` on a
handler. Each is a few attribute reads, but a thread hop costs far more than that,
and an update passes dozens of them on its way to its handler. Here those cheap
filters (magic filters and States, nothing else) are run on the event loop."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.filters import Command, Filter, StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message


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


# Gates: the commands and dialog states a router's text handlers can take.
#
# An update is tried against every router in order, and against every handler of
# each, until one takes it: a text no feature takes (the fallback's) passed some
# forty handler checks in twenty routers. Every feature's message handler starts
# from a command or a dialog state, so what a router can take is known from its
# filters: a message that is neither one of its commands nor in one of its states
# is refused by the router as a whole, before its handlers and sub-routers are
# tried (aiogram's router-level filter). The gate is derived from the handlers'
# own filters, so it can only refuse what each of them would refuse; a router
# with any handler it cannot read (a pattern command, ``F.text``, any state) gets
# no gate and is tried as before.


@dataclass(frozen=True)
class MessageGate(Filter):
    """Lets through a message that is one of ``commands`` (any of ``prefixes``,
    case ignored, mention ignored) or that comes while the sender is in one of
    ``states``."""

    commands: frozenset[str]
    prefixes: frozenset[str]
    states: frozenset[str]

    async def __call__(self, message: Message, raw_state: str | None = None) -> bool:
        if raw_state is not None and raw_state in self.states:
            return True
        words = (message.text or message.caption or "").split(maxsplit=1)
        if not words or words[0][0] not in self.prefixes:  # as aiogram's Command reads it
            return False
        return words[0][1:].partition("@")[0].casefold() in self.commands

    def __or__(self, other: MessageGate) -> MessageGate:
        return MessageGate(
            self.commands | other.commands,
            self.prefixes | other.prefixes,
            self.states | other.states,
        )


_NOTHING = MessageGate(frozenset(), frozenset(), frozenset())


def _state_names(state: Any) -> frozenset[str] | None:
    """The raw states a State filter lets through; None for "any" or "none"."""
    if isinstance(state, State):
        return None if state.state in (None, "*") else frozenset({state.state})
    if isinstance(state, StatesGroup):
        state = type(state)
    if isinstance(state, type) and issubclass(state, StatesGroup):
        return frozenset(state.__all_states_names__)
    return None  # a plain string, "*" or None: not read here


def _key(filter_object: FilterObject) -> MessageGate | None:
    """What one filter requires of a message, if it is a command or a state."""
    callback = getattr(filter_object.callback, "__wrapped__", filter_object.callback)
    if isinstance(callback, Command):
        if not all(isinstance(c, str) for c in callback.commands):
            return None
        commands = frozenset(str(c).casefold() for c in callback.commands)
        return MessageGate(commands, frozenset(callback.prefix), frozenset())
    states: tuple[Any, ...]
    if isinstance(callback, StateFilter):
        states = tuple(callback.states)
    elif isinstance(callback, State | StatesGroup):
        states = (callback,)
    else:
        return None
    names: set[str] = set()
    for state in states:
        found = _state_names(state)
        if found is None:
            return None
        names |= found
    return MessageGate(frozenset(), frozenset(), frozenset(names))


def _handler_key(handler: HandlerObject) -> MessageGate | None:
    for filter_object in handler.filters or []:
        key = _key(filter_object)
        if key is not None:
            return key
    return None


def message_gate(router: Router) -> MessageGate | None:
    """The gate of everything ``router`` and its sub-routers take as messages, or
    None if some handler has neither a command nor a state to read."""
    gate = _NOTHING
    for handler in router.observers["message"].handlers:
        key = _handler_key(handler)
        if key is None:
            return None
        gate |= key
    for sub in router.sub_routers:
        inner = message_gate(sub)
        if inner is None:
            return None
        gate |= inner
    return gate


def gate_routers(router: Router) -> list[str]:
    """Give ``router``'s sub-routers (and theirs) the message gate each can have;
    returns the names of the routers gated."""
    gated = []
    for sub in router.sub_routers:
        gate = message_gate(sub)
        if gate is not None and gate != _NOTHING:
            sub.message.filter(gate)
            gated.append(sub.name)
        gated += gate_routers(sub)
    return gated
