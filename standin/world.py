"""The simulated Telegram world: people, chats, files, and what tests can inspect."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from standin.errors import bad_request, forbidden
from standin.markup import inline_buttons
from standin.media import document_json, photo_json
from standin.models import (
    PendingQuery,
    SentDocument,
    SentMessage,
    SimChat,
    SimUser,
    Stats,
    StoredFile,
)
from standin.notify import Signal
from standin.params import Params
from standin.ratelimit import RateLimiter
from standin.text import FormattedText
from standin.updates import UpdateQueue

__all__ = ["Handler", "Predicate", "World"]

Predicate = Callable[[SentMessage], bool]


class World:
    """State shared by the HTTP API and the simulated users."""

    def __init__(
        self,
        *,
        bot_id: int,
        bot_username: str,
        bot_first_name: str,
        strict_rate_limits: bool,
    ) -> None:
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, SimChat] = {}
        self.updates = UpdateQueue()
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.callback_answers: dict[str, tuple[str | None, bool]] = {}
        self.pending_queries: dict[str, PendingQuery] = {}
        self.stored_commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook_url = ""
        self.webhook_secret = ""  # setWebhook's secret_token, sent with every post
        self.webhook_max_connections = 40
        self.stats = Stats()
        self.sent_times: list[float] = []  # time.monotonic() of every message sent
        self.limiter = RateLimiter() if strict_rate_limits else None
        self._ids = itertools.count(1)
        self._answered = Signal()

    # People and chats

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "zh-hans",
    ) -> None:
        """Create a user and its private chat (chat id == user id)."""
        if user_id <= 0 or user_id in self.chats:
            raise ValueError(f"user id {user_id} is invalid or already used")
        user = SimUser(user_id, first_name, last_name, username, language_code)
        self.users[user_id] = user
        self.chats[user_id] = SimChat(user_id, "private", user=user)

    def add_group(self, chat_id: int, title: str) -> None:
        """Create a group (a supergroup when the id starts with -100)."""
        if chat_id >= 0 or chat_id in self.chats:
            raise ValueError(f"group id {chat_id} is invalid or already used")
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        self.chats[chat_id] = SimChat(chat_id, kind, title=title)

    def block(self, user_id: int) -> None:
        """The user blocks the bot (queues a my_chat_member update)."""
        self._set_blocked(user_id, blocked=True)

    def unblock(self, user_id: int) -> None:
        """The user unblocks the bot (queues a my_chat_member update)."""
        self._set_blocked(user_id, blocked=False)

    def _set_blocked(self, user_id: int, *, blocked: bool) -> None:
        user = self.user(user_id)
        if user.blocked == blocked:
            return
        user.blocked = blocked
        member = {"status": "member", "user": self.bot_user}
        kicked = {"status": "kicked", "user": self.bot_user, "until_date": 0}
        update = {
            "chat": self.chats[user_id].as_json(),
            "from": user.as_json(),
            "date": int(time.time()),
            "old_chat_member": member if blocked else kicked,
            "new_chat_member": kicked if blocked else member,
        }
        self.updates.push("my_chat_member", update, user_id)

    def user(self, user_id: int) -> SimUser:
        """A known user, or ValueError."""
        try:
            return self.users[user_id]
        except KeyError:
            raise ValueError(f"unknown user {user_id}; call add_user first") from None

    def chat(self, chat_id: int) -> SimChat:
        """A known chat, or ValueError."""
        try:
            return self.chats[chat_id]
        except KeyError:
            raise ValueError(f"unknown chat {chat_id}") from None

    # Inspection

    def messages(self, chat_id: int) -> list[SentMessage]:
        """Every message the bot sent to the chat, edits applied, deleted ones flagged."""
        return list(self.chat(chat_id).transcript.values())

    def last_message(self, chat_id: int) -> SentMessage | None:
        """The bot's latest message in the chat that is not deleted."""
        for message in reversed(self.chat(chat_id).transcript.values()):
            if not message.deleted:
                return message
        return None

    def mark(self, chat_id: int) -> int:
        """The chat's current history point, for ``after=`` of wait_for_message."""
        return self.chat(chat_id).last_stamp

    def changes(self, chat_id: int, after: int = 0) -> list[SentMessage]:
        """Bot messages sent, edited or deleted after the point ``after``."""
        return self.chat(chat_id).changed_after(after)

    async def wait_for_message(
        self,
        chat_id: int,
        *,
        predicate: Predicate | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        after: int = 0,
    ) -> SentMessage:
        """The first bot message sent or edited after the point ``after`` that matches.

        ``after`` is a message id of the chat (e.g. of the user's message) or a ``mark()``.
        """
        chat = self.chat(chat_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for message in chat.changed_after(after):
                if not message.deleted and (predicate is None or predicate(message)):
                    return message
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = [m.plain_text[:60] for m in chat.changed_after(after)]
                raise TimeoutError(f"no matching bot message in chat {chat_id}; seen: {seen}")
            await chat.signal.wait(remaining)

    async def wait_idle(
        self,
        chat_id: int,
        quiet: float = 0.3,
        timeout: float = 5,  # noqa: ASYNC109
    ) -> list[SentMessage]:
        """Wait until the chat had no activity for ``quiet`` seconds; return its messages."""
        chat = self.chat(chat_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            idle_for = time.monotonic() - chat.last_activity
            busy = self.updates.pending_for(chat_id)
            if idle_for >= quiet and not busy:
                return self.messages(chat_id)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"chat {chat_id} did not become idle in {timeout} s")
            await chat.signal.wait(min(remaining, 0.02 if busy else quiet - idle_for))

    async def wait_callback_answer(
        self,
        query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> tuple[str | None, bool]:
        """Wait for the bot's answerCallbackQuery: (text, show_alert)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while query_id not in self.callback_answers:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"callback query {query_id} was not answered")
            await self._answered.wait(remaining)
        return self.callback_answers[query_id]

    def commands(
        self, language_code: str | None = None, scope_type: str = "default"
    ) -> list[dict[str, str]]:
        """Commands stored by setMyCommands; chat scopes are keyed like ``chat:<chat_id>``."""
        return list(self.stored_commands.get((scope_type, language_code or ""), []))

    # Used by the API methods and the simulated users

    def next_id(self) -> int:
        """A fresh number for file and query ids."""
        return next(self._ids)

    def record_answer(self, query_id: str, text: str | None, show_alert: bool) -> None:
        """Store a callback answer and wake waiters."""
        self.callback_answers[query_id] = (text, show_alert)
        self._answered.notify()

    def target_chat(self, chat_id: Any) -> SimChat:
        """The chat a bot call addresses, raising Telegram's errors."""
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        try:
            chat = self.chats[int(chat_id)]
        except (KeyError, ValueError, TypeError):
            raise bad_request("chat not found") from None
        if chat.user is not None and chat.user.blocked:
            raise forbidden("bot was blocked by the user")
        return chat

    def check_rate(self, chat: SimChat) -> None:
        """Apply flood limits for one more message to ``chat`` (strict mode only)."""
        if self.limiter is not None:
            self.limiter.check(chat.id, private=chat.user is not None)

    def store_file(
        self, content: bytes, *, folder: str, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        """Keep a file so that getFile and downloads find it."""
        number = self.next_id()
        suffix = "." + file_name.rsplit(".", 1)[1] if file_name and "." in file_name else ""
        file = StoredFile(
            file_id=f"BQACAgIAAx{number:08d}standin",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"{folder}/file_{number}{suffix}",
            content=content,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[file.file_id] = file
        self.files_by_path[file.file_path] = file
        return file

    def record_bot_message(
        self,
        chat: SimChat,
        text: FormattedText | None,
        reply_markup: dict[str, Any] | None,
        *,
        file: StoredFile | None = None,
        photo: bool = False,
    ) -> SentMessage:
        """Add a bot message to the chat's transcript."""
        stamp = chat.next_stamp()
        document = None
        if file is not None and not photo:
            document = SentDocument(file.file_name or "", file.content, file.mime_type)
        message = SentMessage(
            message_id=stamp,
            chat_id=chat.id,
            text=text.raw if text else "",
            plain_text=text.plain if text else "",
            parse_mode=text.parse_mode if text else None,
            reply_markup=reply_markup,
            document=document,
            photo=file.content if file is not None and photo else None,
            entities=text.entities if text else [],
            file_id=file.file_id if file is not None else None,
            date=int(time.time()),
            stamp=stamp,
        )
        chat.transcript[stamp] = message
        if reply_markup is not None and "keyboard" in reply_markup:
            chat.reply_keyboard = reply_markup
        elif reply_markup is not None and reply_markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        chat.log_change(message)
        self.stats.messages_sent += 1
        self.sent_times.append(time.monotonic())
        return message

    def message_json(self, chat: SimChat, message: SentMessage) -> dict[str, Any]:
        """The Bot API ``Message`` object for a bot message."""
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self.bot_user,
            "chat": chat.as_json(),
            "date": message.date,
        }
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        media = message.file_id is not None
        text_key, entities_key = ("caption", "caption_entities") if media else ("text", "entities")
        if message.plain_text:
            data[text_key] = message.plain_text
        if message.entities:
            data[entities_key] = message.entities
        if message.file_id is not None:
            file = self.files[message.file_id]
            if message.photo is not None:
                data["photo"] = photo_json(file)
            else:
                data["document"] = document_json(file)
        if inline_buttons(message.reply_markup):
            data["reply_markup"] = message.reply_markup
        return data

    def touch_delivered(self, chat_ids: set[int]) -> None:
        """Note that updates from these chats reached the bot."""
        now = time.monotonic()
        for chat_id in chat_ids:
            if (chat := self.chats.get(chat_id)) is not None:
                chat.last_activity = now


Handler = Callable[[World, Params], Awaitable[Any]]
"""An implementation of one Bot API method."""
