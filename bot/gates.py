"""Gates: what a router's handlers can take, read from their own filters.

An update is tried against every router in order, and against every handler of
each, until one takes it: a text no feature takes (the fallback's) passed some sixty
handler checks in twenty routers, and a button pressed in a dialog every button
handler of the routers before its own. But every feature's text handler starts from
a command or a dialog state, and every button handler from its callback data's
prefix; so a router refuses as a whole (aiogram's router-level filter, before its
handlers and sub-routers are tried) a message that is none of its commands and in
none of its states, and a button none of its prefixes.

A gate is derived from the handlers' own filters, so it only refuses what each of
them would refuse. A router with any handler it cannot read (a pattern command,
``F.text``, "any state", a button filter of its own) gets no gate and is tried as
before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.filters import Command, Filter, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message


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


@dataclass(frozen=True)
class ButtonGate(Filter):
    """Lets through a button press whose data starts with one of ``prefixes``: pairs
    of a callback data class's prefix and separator, as its ``unpack`` reads them."""

    prefixes: frozenset[tuple[str, str]]

    async def __call__(self, callback: CallbackQuery) -> bool:
        data = callback.data
        if not data:
            return False
        return any(data.split(sep, 1)[0] == prefix for prefix, sep in self.prefixes)

    def __or__(self, other: ButtonGate) -> ButtonGate:
        return ButtonGate(self.prefixes | other.prefixes)


def _unwrapped(filter_object: FilterObject) -> Any:
    return getattr(filter_object.callback, "__wrapped__", filter_object.callback)


def _state_names(state: Any) -> frozenset[str] | None:
    """The raw states a State filter lets through; None for "any" or "none"."""
    if isinstance(state, State):
        return None if state.state in (None, "*") else frozenset({state.state})
    if isinstance(state, StatesGroup):
        state = type(state)
    if isinstance(state, type) and issubclass(state, StatesGroup):
        return frozenset(state.__all_states_names__)
    return None  # a plain string, "*" or None: not read here


def message_key(filter_object: FilterObject) -> MessageGate | None:
    """What one filter requires of a message, if it is a command or a state."""
    callback = _unwrapped(filter_object)
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


def button_key(filter_object: FilterObject) -> ButtonGate | None:
    """What one filter requires of a button press, if it is a callback data filter."""
    callback = _unwrapped(filter_object)
    if not isinstance(callback, CallbackQueryFilter):
        return None
    data = callback.callback_data
    return ButtonGate(frozenset({(data.__prefix__, data.__separator__)}))


@dataclass(frozen=True)
class _Kind:
    observer: str
    key: Callable[[FilterObject], Any]
    nothing: Any


TEXTS = _Kind("message", message_key, MessageGate(frozenset(), frozenset(), frozenset()))
PRESSES = _Kind("callback_query", button_key, ButtonGate(frozenset()))
KINDS = (TEXTS, PRESSES)


def _handler_key(handler: HandlerObject, kind: _Kind) -> Any:
    # A handler's filters must all pass, so any one of them read is enough.
    for filter_object in handler.filters or []:
        key = kind.key(filter_object)
        if key is not None:
            return key
    return None


def gate_of(router: Router, kind: _Kind) -> Any:
    """The gate of everything ``router`` and its sub-routers take of one kind of
    update, or None if some handler has nothing in its filters to read."""
    gate = kind.nothing
    for handler in router.observers[kind.observer].handlers:
        key = _handler_key(handler, kind)
        if key is None:
            return None
        gate |= key
    for sub in router.sub_routers:
        inner = gate_of(sub, kind)
        if inner is None:
            return None
        gate |= inner
    return gate


def message_gate(router: Router) -> MessageGate | None:
    gate: MessageGate | None = gate_of(router, TEXTS)
    return gate


def button_gate(router: Router) -> ButtonGate | None:
    gate: ButtonGate | None = gate_of(router, PRESSES)
    return gate


def gate_routers(router: Router) -> dict[str, list[str]]:
    """Give ``router``'s sub-routers (and theirs) the gates each can have; returns
    the names of the routers gated, by kind of update."""
    gated: dict[str, list[str]] = {kind.observer: [] for kind in KINDS}
    for sub in router.sub_routers:
        for kind in KINDS:
            gate = gate_of(sub, kind)
            if gate is not None and gate != kind.nothing:
                sub.observers[kind.observer].filter(gate)
                gated[kind.observer].append(sub.name)
        for observer, names in gate_routers(sub).items():
            gated[observer] += names
    return gated
