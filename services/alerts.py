"""Alerts to the admins about unexpected errors: at most one per error kind per hour.

An error's kind is its exception class and the innermost frame of the bot's own code
it passed through (module, function and line). The first failure of a kind in an
hour queues one outbox row per admin under the key
``alert:<kind hash>:<YYYYMMDDHH>:<admin id>``; the outbox keeps the first row of a key
(``services.outbox.enqueue``), so more failures of that kind in the same hour, in this
process or in any other worker on the database, add nothing.

An alert names the kind, when it happened, the update's type and ids, and how many
failures of the kind this process saw since it last queued an alert of it. Nothing
the person wrote, nor the exception's message (which may quote it), goes into it."""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel.ext.asyncio.session import AsyncSession

from services import outbox
from storage.db import write_transaction
from storage.types import utcnow

KIND = "error_alert"
PREFIX = "alert:"

ROOT = Path(__file__).resolve().parent.parent
# The packages of the bot's own code; a frame elsewhere (libraries, tests) is not ours.
OWN_PACKAGES = frozenset({"bot", "handlers", "services", "storage", "ui", "reports"})


@dataclass(frozen=True)
class ErrorKind:
    """What failed: the exception class and where, in our code, it came from."""

    error: str  # the exception class, qualified unless it is a builtin
    module: str  # e.g. handlers.account.help
    function: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.module}.{self.function}:{self.line}"

    @property
    def label(self) -> str:
        return f"{self.error} at {self.where}"

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.label.encode()).hexdigest()[:12]


def _module_of(filename: str) -> str | None:
    """The dotted module of a file of our own code, else None."""
    try:
        relative = Path(filename).resolve().relative_to(ROOT)
    except (ValueError, OSError):
        return None
    parts = relative.with_suffix("").parts
    if not parts or parts[0] not in OWN_PACKAGES:
        return None
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def kind_of(error: BaseException) -> ErrorKind:
    """The kind of ``error``: its class and the innermost frame of our code in its
    traceback (the innermost frame of all when none is ours)."""
    cls = type(error)
    name = (
        cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    )
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        module = _module_of(frame.filename)
        if module is not None:
            return ErrorKind(name, module, frame.name, frame.lineno or 0)
    if frames:
        last = frames[-1]
        return ErrorKind(name, Path(last.filename).stem, last.name, last.lineno or 0)
    return ErrorKind(name, "?", "?", 0)


class Occurrences:
    """Failures by kind seen by this process since it last queued an alert of the
    kind. Counted in memory: cheap, and per process (other workers count their own)."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def seen(self, kind: ErrorKind) -> int:
        """Count one more failure of ``kind``; returns the count including it."""
        count = self._seen.get(kind.digest, 0) + 1
        self._seen[kind.digest] = count
        return count

    def alerted(self, kind: ErrorKind) -> None:
        """An alert of ``kind`` was queued: counting starts again."""
        self._seen.pop(kind.digest, None)


def hour_key(kind: ErrorKind, at: datetime, admin_id: int) -> str:
    return f"{PREFIX}{kind.digest}:{at.astimezone(UTC):%Y%m%d%H}:{admin_id}"


async def queue(
    session: AsyncSession,
    *,
    kind: ErrorKind,
    admin_ids: Collection[int],
    update_type: str,
    update_id: int | None,
    user_id: int | None,
    count: int,
    timezone: str,
    at: datetime | None = None,
) -> int:
    """Queue an alert of ``kind`` for every admin, once per kind per (UTC) hour.
    Returns how many rows were new: 0 when this hour's alert of the kind is queued
    already (or there are no admins)."""
    at = at or utcnow()
    payload = {
        "error": kind.error,
        "where": kind.where,
        "at": at.isoformat(),
        "tz": timezone,
        "update_type": update_type,
        "update_id": update_id,
        "user_id": user_id,
        "count": count,
    }
    messages = [
        outbox.Message(
            user_id=admin,
            kind=KIND,
            key=hour_key(kind, at, admin),
            payload=payload,
            urgent=True,  # for the operators, not held by quiet hours
            priority=outbox.NOTICE,
        )
        for admin in sorted(admin_ids)
    ]
    if not messages:
        return 0
    async with write_transaction(session):
        return await outbox.enqueue(session, messages)
