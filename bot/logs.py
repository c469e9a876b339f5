"""Log lines for operators: plain text (the default) or JSON lines (``LOG_FORMAT=json``).

Every line logged while an update is handled carries its update id and the id of the
person who sent it (``update_context``, set by ``bot.metrics.UpdateMetricsMiddleware``
and ``ErrorContextMiddleware``); a ``logging.Filter`` puts them on each record."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_update_id: ContextVar[int | None] = ContextVar("log_update_id", default=None)
_user_id: ContextVar[int | None] = ContextVar("log_user_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextmanager
def update_context(update_id: int | None, user_id: int | None) -> Iterator[None]:
    """Lines logged inside the block name this update and this person."""
    update_token = _update_id.set(update_id)
    user_token = _user_id.set(user_id)
    try:
        yield
    finally:
        _user_id.reset(user_token)
        _update_id.reset(update_token)


class UpdateContextFilter(logging.Filter):
    """Puts ``update_id`` and ``user_id`` (None outside an update) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.update_id = _update_id.get()
        record.user_id = _user_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and
    ``update_id``, ``user_id``, ``exc_info``, ``stack_info`` when there are any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("update_id", "user_id"):
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str | int, log_format: str = "text") -> logging.Handler:
    """The root logger's handler, writing to standard error; returns it. Like
    ``logging.basicConfig``, does nothing to a root logger that has handlers already."""
    handler = logging.StreamHandler()
    handler.addFilter(UpdateContextFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    return handler
