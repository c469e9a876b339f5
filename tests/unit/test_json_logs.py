"""LOG_FORMAT=json: one JSON object a line, naming the update and its sender on every
line logged while the update is handled, the error handler's lines included."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Dispatcher, F
from aiogram.types import Chat, Message, Update, User
from pydantic import ValidationError

from bot import logs
from tests.mocked_bot import MockedBot
from ui.settings import Settings


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the root logger writes through a JSON handler like the one ``configure``
    makes, at INFO."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.UpdateContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_is_one_json_object(json_lines: io.StringIO) -> None:
    log = logging.getLogger("bot.test")
    log.info("sent %s of %s", 3, "五")
    try:
        raise ValueError("no such row")
    except ValueError:
        log.exception("settling failed")
    first, second = parsed(json_lines)
    assert first.keys() == {"time", "level", "logger", "message"}
    assert (first["level"], first["logger"], first["message"]) == (
        "INFO",
        "bot.test",
        "sent 3 of 五",
    )
    assert datetime.fromisoformat(first["time"]).tzinfo is not None
    assert second["level"] == "ERROR" and second["message"] == "settling failed"
    assert (
        second["exc_info"].startswith("Traceback")
        and "ValueError: no such row" in second["exc_info"]
    )
    assert "update_id" not in second and "user_id" not in second


PERSON = User(id=1001, is_bot=False, first_name="Li", language_code="en")
CHAT = Chat(id=1001, type="private")


def update(update_id: int, text: str) -> Update:
    message = Message(
        message_id=update_id, date=datetime.now(UTC), chat=CHAT, from_user=PERSON, text=text
    )
    return Update(update_id=update_id, message=message)


async def test_lines_logged_in_a_handler_name_the_update_and_sender(
    dp: Dispatcher, bot: MockedBot, json_lines: io.StringIO
) -> None:
    log = logging.getLogger("handlers.probe")

    async def note(event: Message) -> None:
        log.info("noting %s", event.text)

    async def boom(event: Message) -> None:
        raise RuntimeError("a handler broke")

    dp.message.register(note, F.text == "note")
    dp.message.register(boom, F.text == "boom")
    await dp.feed_update(bot, update(501, "note"))
    await dp.feed_update(bot, update(502, "boom"))
    log.info("between updates")

    lines = parsed(json_lines)
    noted = next(line for line in lines if line["message"] == "noting note")
    assert (noted["update_id"], noted["user_id"], noted["logger"]) == (501, 1001, "handlers.probe")
    # The error handler runs outside the update's middlewares; its line names them too.
    failed = next(line for line in lines if line["message"] == "update 502 failed")
    assert (failed["update_id"], failed["user_id"]) == (502, 1001)
    assert "RuntimeError: a handler broke" in failed["exc_info"]
    outside = next(line for line in lines if line["message"] == "between updates")
    assert "update_id" not in outside and "user_id" not in outside


def test_configure_installs_the_chosen_format() -> None:
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers.clear()
    try:
        handler = logs.configure("INFO", "json")
        assert root.handlers == [handler]
        assert isinstance(handler.formatter, logs.JsonFormatter)
        root.handlers.clear()
        handler = logs.configure("INFO", "text")
        assert not isinstance(handler.formatter, logs.JsonFormatter)
        assert handler.formatter is not None and handler.formatter._fmt == logs.TEXT_FORMAT
    finally:
        root.handlers[:] = saved


def test_log_format_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    def settings(**env: str) -> Settings:
        for name in ("LOG_FORMAT", "HEALTH_PORT"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return Settings(_env_file=None)  # type: ignore[call-arg]

    assert Settings(_env_file=None).log_format == "text"  # type: ignore[call-arg]
    assert settings(LOG_FORMAT="JSON").log_format == "json"
    with pytest.raises(ValidationError, match="log_format"):
        settings(LOG_FORMAT="xml")
    assert settings(HEALTH_PORT="").health_port is None
    assert settings(HEALTH_PORT="9102").health_port == 9102
    with pytest.raises(ValidationError, match="health_port"):
        settings(HEALTH_PORT="70000")
