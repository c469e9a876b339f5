"""Every typed callback factory of the bot, and values its fields take, for the tests
that forge, replay and walk buttons. A new factory must be added here (the catalog
test says so), or it would escape them."""

from __future__ import annotations

import types
from collections.abc import Iterable, Sequence
from typing import Any, get_args, get_origin

from aiogram.filters.callback_data import CallbackData

from services.volunteers import SKILLS
from storage.models import ActivityKind, AgeGroup, AttendanceMark, RoleKind, TargetGroup
from ui import callbacks

ACTIVITY_FIELDS = ("title", "description", "place", "starts_at", "ends_at", "capacity")
ACTIVITY_FIELDS += ("kind", "target_group", "repeat_weeks", "station")

# Values a real button puts in each text field, by prefix and field.
TEXT_VALUES: dict[tuple[str, str], Sequence[str]] = {
    ("lg", "code"): ("en", "zh_CN"),
    ("st", "action"): ("o", "p", "u"),
    ("sk", "code"): (*SKILLS[:3], "done"),
    ("ag", "group"): tuple(a.value for a in AgeGroup),
    ("cs", "what"): ("privacy_yes", "privacy_no", "guardian_yes"),
    ("sm", "action"): ("ok", "cancel", "name", "phone", "station", "skills", "age"),
    ("pf", "action"): ("name", "phone", "station", "skills", "age", "lang"),
    ("ak", "kind"): tuple(k.value for k in ActivityKind),
    ("at", "group"): tuple(t.value for t in TargetGroup),
    ("aq", "step"): ("s", "e", "c", "r", "d"),
    ("ap", "action"): ("publish", "edit", "back", "cancel", *ACTIVITY_FIELDS),
    ("ae", "field"): ("", *ACTIVITY_FIELDS),
    ("ac", "action"): ("ask", "yes", "keep"),
    ("rom", "action"): (*(m.value for m in AttendanceMark), "confirm", "minutes"),
    ("rob", "group"): ("", *(t.value for t in TargetGroup)),
    ("db", "action"): ("o", "p"),
    ("dk", "code"): (*SKILLS[:3], "done"),
    ("dp", "action"): ("send", "text", "cancel"),
    ("da", "action"): ("ask", "yes", "no"),
    ("dr", "action"): ("yes", "no", "drop", "keep"),
    ("hc", "kind"): ("y", "a"),
    ("gc", "action"): ("ok", "cancel"),
    ("gd", "action"): ("received", "ask", "cancel", "keep"),
    ("gw", "action"): ("ask", "yes", "keep"),
    ("iv", "action"): ("o", "u", "p"),
    ("ir", "role"): tuple(r.value for r in RoleKind),
    ("ic", "role"): tuple(r.value for r in RoleKind),
    ("ts", "action"): ("o", "p"),
    ("tys", "action"): ("o", "p"),
    ("tyv", "action"): ("t", "c", "x", "n", "v"),
    ("rgs", "action"): ("o", "p"),
    ("rgl", "action"): ("l", "x", "s", "c"),
    ("roz", "fmt"): ("p", "x"),
    ("ror", "action"): ("o", "p", "s", "d", "f"),
    ("hi", "action"): ("o", "u", "p"),
    ("rps", "action"): ("o", "p"),
    ("rps", "span"): ("", "m", "q", "y"),
    ("rpv", "action"): ("t", "c", "x"),
    ("rpv", "span"): ("m", "q", "y"),
}

# What each id field points at, by field name ("id" depends on the factory).
ID_KINDS = {
    "activity": "activity",
    "volunteer": "volunteer",
    "signup": "signup",
    "pledge": "pledge",
    "role": "role",
    "station": "station",
}
OTHER_INTS = {"page", "fen", "year", "number", "first", "last", "value", "show"}


def factories() -> list[type[CallbackData]]:
    """Every CallbackData subclass of the bot (``ui.callbacks``), by prefix."""
    found: dict[str, type[CallbackData]] = {}
    pending: list[type[Any]] = [CallbackData]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if sub.__module__ == callbacks.__name__:
                found[sub.__prefix__] = sub
    return [found[p] for p in sorted(found)]


def field_kind(factory: type[CallbackData], name: str) -> str:
    """int, bool or str."""
    annotation = factory.model_fields[name].annotation
    if get_origin(annotation) in (types.UnionType,):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation is str:
        return "str"
    raise AssertionError(f"{factory.__name__}.{name}: {annotation!r}")


def id_kind(factory: type[CallbackData], name: str) -> str | None:
    """What an int field refers to, or None when it is no row's id."""
    if field_kind(factory, name) != "int":
        return None
    if name == "id":
        return "activity" if factory.__prefix__ == "as" else "station"
    return ID_KINDS.get(name)


def pack(factory: type[CallbackData], values: dict[str, Any]) -> str:
    """Callback data as Telegram would deliver it, without validating the values (a
    forged button need not be one the factory could make)."""
    parts = [factory.__prefix__]
    for name, info in factory.model_fields.items():
        value = values.get(name, info.default)
        if isinstance(value, bool):
            value = int(value)
        parts.append("" if value is None else str(value))
    return ":".join(parts)


def valid_values(
    factory: type[CallbackData], ids: dict[str, int], *, default_int: int = 0
) -> Iterable[dict[str, Any]]:
    """A few field assignments a real button could carry: each text value once, with
    the ids in ``ids`` (by kind) and ``default_int`` for the other numbers."""
    base: dict[str, Any] = {}
    texts: list[tuple[str, Sequence[str]]] = []
    for name in factory.model_fields:
        kind = field_kind(factory, name)
        if kind == "int":
            refers = id_kind(factory, name)
            base[name] = ids.get(refers, default_int) if refers else default_int
        elif kind == "bool":
            base[name] = True
        else:
            texts.append((name, TEXT_VALUES[(factory.__prefix__, name)]))
    if not texts:
        yield base
        return
    for name, values in texts:
        for value in values:
            others = {n: v[0] for n, v in texts if n != name}
            yield {**base, **others, name: value}
