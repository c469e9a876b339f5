"""State records of the stand-in: people, chats, files and the bot's sent messages."""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field
from typing import Any

from standin.markup import inline_buttons, reply_buttons
from standin.notify import Signal

__all__ = [
    "Fault",
    "PendingQuery",
    "SentDocument",
    "SentMessage",
    "SimChat",
    "SimUser",
    "Stats",
    "StoredFile",
]


@dataclass(frozen=True)
class SentDocument:
    """A document the bot sent."""

    file_name: str
    content: bytes
    mime_type: str | None = None


@dataclass
class SentMessage:
    """A message the bot sent, with later edits applied in place."""

    message_id: int
    chat_id: int
    text: str
    plain_text: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    document: SentDocument | None = None
    photo: bytes | None = None
    deleted: bool = False
    edits: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)
    file_id: str | None = None
    date: int = 0
    edit_date: int | None = None
    stamp: int = 0
    """Point in the chat's history of the latest send, edit or deletion."""

    def buttons(self) -> list[dict[str, Any]]:
        """All buttons of its keyboard (inline or reply), row by row."""
        return inline_buttons(self.reply_markup) or reply_buttons(self.reply_markup)

    def callback_data(self, button_text: str) -> str:
        """The callback_data of the inline button labelled ``button_text``."""
        for button in inline_buttons(self.reply_markup):
            if button["text"] == button_text and "callback_data" in button:
                return str(button["callback_data"])
        raise ValueError(f"message {self.message_id} has no callback button {button_text!r}")


@dataclass
class SimUser:
    """A simulated Telegram user."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    blocked: bool = False

    def as_json(self) -> dict[str, Any]:
        """The Bot API ``User`` object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data


@dataclass
class SimChat:
    """A private chat or group and everything that happened in it."""

    id: int
    type: str
    title: str | None = None
    user: SimUser | None = None
    transcript: dict[int, SentMessage] = field(default_factory=dict)
    user_messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    reply_keyboard: dict[str, Any] | None = None
    last_stamp: int = 0
    last_activity: float = field(default_factory=time.monotonic)
    signal: Signal = field(default_factory=Signal)
    _stamps: list[int] = field(default_factory=list)
    _changed: list[SentMessage] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object."""
        if self.user is None:
            return {"id": self.id, "type": self.type, "title": self.title}
        data = self.user.as_json()
        for key in ("is_bot", "language_code"):
            data.pop(key, None)
        data["type"] = "private"
        return data

    def next_stamp(self) -> int:
        """Advance the chat's history point (shared with message ids)."""
        self.last_stamp += 1
        return self.last_stamp

    def touch(self) -> None:
        """Note activity now and wake waiters."""
        self.last_activity = time.monotonic()
        self.signal.notify()

    def log_change(self, message: SentMessage) -> None:
        """Record that ``message`` was sent, edited or deleted at ``message.stamp``."""
        self._stamps.append(message.stamp)
        self._changed.append(message)
        self.touch()

    def changed_after(self, after: int) -> list[SentMessage]:
        """Bot messages changed after ``after``, each once, in order of their latest change."""
        start = bisect.bisect_right(self._stamps, after)
        pairs = zip(self._stamps[start:], self._changed[start:], strict=True)
        return [msg for stamp, msg in pairs if msg.stamp == stamp]


@dataclass
class StoredFile:
    """A file known to the stand-in (uploaded by the bot or sent by a user)."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The Bot API ``File`` object."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }


@dataclass
class PendingQuery:
    """A callback query waiting for answerCallbackQuery."""

    id: str
    chat_id: int
    answered: bool = False


@dataclass
class Fault:
    """An injected error for the next matching calls."""

    method: str
    error_code: int
    description: str
    retry_after: int | None
    chat_id: int | None
    remaining: int


@dataclass
class Stats:
    """Counters for tests and benchmarks."""

    requests: int = 0
    messages_sent: int = 0
    messages_edited: int = 0  # editMessageText and editMessageReplyMarkup that took effect
    too_many_requests: int = 0
    held: int = 0  # requests left unanswered by ``hold_after``
    outage: int = 0  # requests refused or dropped by ``outage``
