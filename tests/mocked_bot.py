"""A Bot whose session records every request and answers like Telegram would,
after aiogram's own tests/mocked_bot.py; and a conversation driver that feeds
updates to the real Dispatcher."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.default import Default, DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramBadRequest, TelegramServerError
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    GetFile,
    GetMe,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import (
    CallbackQuery,
    Chat,
    Contact,
    Document,
    File,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    PhotoSize,
    Sticker,
    Update,
    User,
)

from bot import replies
from standin.html_check import EntityParseError, check_html

_QUERY_IDS = itertools.count(1)
ErrorFactory = Callable[[TelegramMethod[Any]], Exception]

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"

BOT_USER = User(id=42, is_bot=True, first_name="Station Bot", username="station_test_bot")


@dataclass
class Sent:
    """What the bot put in a chat, with edits applied."""

    message_id: int
    chat_id: int
    text: str
    reply_markup: Any = None
    document: bytes | None = None
    file_name: str | None = None
    photo: bytes | None = None  # SendPhoto's image; its caption is ``text``

    def buttons(self) -> list[tuple[str, str]]:
        if not isinstance(self.reply_markup, InlineKeyboardMarkup):
            return []
        return [
            (b.text, b.callback_data or "")
            for row in self.reply_markup.inline_keyboard
            for b in row
        ]


@dataclass
class MockedSession(BaseSession):
    requests: list[TelegramMethod[Any]] = field(default_factory=list)
    messages: dict[int, Sent] = field(default_factory=dict)
    # Scripted answers per chat, for the deliverer's tests: the next send to a chat
    # raises the first error queued for it (see ``fail_next``).
    errors: dict[int, list[ErrorFactory]] = field(default_factory=dict)
    # (time.monotonic(), chat id, error or None) of every sendMessage, in order.
    send_log: list[tuple[float, int, str | None]] = field(default_factory=list)
    latency: float = 0.0  # seconds each sendMessage takes
    # Every request Telegram would have refused (400), as "<method>: <description>".
    refused: list[str] = field(default_factory=list)
    answered: set[str] = field(default_factory=set)  # callback query ids answered
    # Telegram down: until this time.monotonic(), every request but getMe fails with
    # ``outage_error`` and has no effect (see ``outage``).
    outage_until: float = 0.0
    outage_error: ErrorFactory | None = None
    outage_refused: int = 0
    # Files people sent, by file id (getFile and downloads find them), and how many
    # of the next downloads fail (the connection drops).
    files: dict[str, bytes] = field(default_factory=dict)
    failing_downloads: int = 0
    downloads: int = 0

    def __post_init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1000)

    def _refuse(self, method: TelegramMethod[Any], description: str) -> TelegramBadRequest:
        self.refused.append(f"{type(method).__name__}: {description}")
        return TelegramBadRequest(method, f"Bad Request: {description}")

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram signature)
    ) -> TelegramType:
        if time.monotonic() < self.outage_until and not isinstance(method, GetMe):
            self.outage_refused += 1
            assert self.outage_error is not None
            raise self.outage_error(method)
        self.requests.append(method)
        if isinstance(method, SendMessage):
            await self._scripted(method)
        result: Any = True
        if isinstance(method, GetMe):
            result = BOT_USER
        elif isinstance(method, GetFile):
            content = self.files.get(method.file_id)
            if content is None:
                raise self._refuse(method, "invalid file_id")
            result = File(
                file_id=method.file_id,
                file_unique_id=f"u{method.file_id}",
                file_size=len(content),
                file_path=f"photos/{method.file_id}.jpg",
            )
        elif isinstance(method, SendMessage | SendDocument | SendPhoto):
            text = method.text if isinstance(method, SendMessage) else (method.caption or "")
            self._check(text, method.parse_mode)
            sent = Sent(next(self._ids), int(method.chat_id), text, method.reply_markup)
            if isinstance(method, SendDocument):
                sent.document = method.document.data  # type: ignore[union-attr]
                sent.file_name = method.document.filename  # type: ignore[union-attr]
            if isinstance(method, SendPhoto):
                if len(text) > 1024:
                    self.refused.append("message caption is too long")
                    raise AssertionError("Telegram would refuse this caption: too long")
                sent.photo = method.photo.data  # type: ignore[union-attr]
            self.messages[sent.message_id] = sent
            result = Message(
                message_id=sent.message_id,
                date=datetime.now(UTC),
                chat=Chat(id=sent.chat_id, type="private" if sent.chat_id > 0 else "group"),
                from_user=BOT_USER,
                text=text,
                document=Document(file_id="f", file_unique_id="f") if sent.document else None,
                photo=[PhotoSize(file_id="p", file_unique_id="p", width=1, height=1)]
                if sent.photo
                else None,
            )
        elif isinstance(method, EditMessageText | EditMessageReplyMarkup):
            sent = self.messages.get(int(method.message_id or 0))
            if sent is None or str(sent.chat_id) != str(method.chat_id):
                raise self._refuse(method, "message to edit not found")
            text = method.text if isinstance(method, EditMessageText) else sent.text
            if text == sent.text and method.reply_markup == sent.reply_markup:
                raise self._refuse(method, NOT_MODIFIED)
            if isinstance(method, EditMessageText):
                self._check(method.text, method.parse_mode)
                sent.text = method.text
            sent.reply_markup = method.reply_markup
        elif isinstance(method, AnswerCallbackQuery):
            if len(method.text or "") > 200:
                raise self._refuse(method, "answer text is too long")
            if method.callback_query_id in self.answered:
                raise self._refuse(method, QUERY_INVALID)
            self.answered.add(method.callback_query_id)
        return result  # type: ignore[no-any-return]

    def outage(self, seconds: float, error: ErrorFactory | None = None) -> None:
        """Telegram is down for ``seconds`` (a 502, unless ``error`` says otherwise);
        ``outage(0)`` ends it."""
        self.outage_until = time.monotonic() + seconds
        self.outage_error = error or (lambda m: TelegramServerError(m, "Bad Gateway"))

    def fail_next(self, chat_id: int, *errors: ErrorFactory) -> None:
        """The next sendMessage calls to ``chat_id`` raise these, one each, in order."""
        self.errors.setdefault(chat_id, []).extend(errors)

    async def _scripted(self, method: SendMessage) -> None:
        if self.latency:
            await asyncio.sleep(self.latency)
        chat_id = int(method.chat_id)
        queued = self.errors.get(chat_id)
        error = queued.pop(0)(method) if queued else None
        self.send_log.append((time.monotonic(), chat_id, type(error).__name__ if error else None))
        if error is not None:
            raise error

    def sent_to(self, chat_id: int) -> list[Sent]:
        """Messages the bot put in ``chat_id``."""
        return [m for m in self.messages.values() if m.chat_id == chat_id]

    def _check(self, text: str, parse_mode: Any) -> None:
        if parse_mode is None:
            return
        try:
            plain = (
                check_html(text)
                if isinstance(parse_mode, Default) or parse_mode == "HTML"
                else text
            )
        except EntityParseError as exc:
            self.refused.append(f"can't parse entities: {exc}")
            raise AssertionError(f"Telegram would refuse this HTML: {exc}: {text!r}") from exc
        if len(plain.encode("utf-16-le")) // 2 > 4096:
            self.refused.append("message is too long")
            raise AssertionError("Telegram would refuse this message: too long")

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        """A download: the file a ``getFile`` named, in chunks, or a dropped connection."""
        url = str(kwargs.get("url", args[0] if args else ""))
        self.downloads += 1
        if self.failing_downloads > 0:
            self.failing_downloads -= 1
            raise aiohttp.ClientConnectionError("connection dropped")
        file_id = url.rsplit("/", 1)[-1].removesuffix(".jpg")
        content = self.files.get(file_id)
        if content is None:
            raise aiohttp.ClientResponseError(None, (), status=404)  # type: ignore[arg-type]
        size = int(kwargs.get("chunk_size", 65536))
        for start in range(0, len(content), size):
            yield content[start : start + size]


class MockedBot(Bot):
    session: MockedSession

    def __init__(self) -> None:
        session = MockedSession()
        replies.install(session)  # the request middlewares of the real Bot
        default = DefaultBotProperties(parse_mode="HTML")
        super().__init__("42:TEST", session=session, default=default)
        self._me = BOT_USER


class Conversation:
    """One person writing to the bot in private chat, through the real Dispatcher."""

    def __init__(
        self,
        dp: Dispatcher,
        bot: MockedBot,
        user_id: int = 1001,
        language_code: str = "zh-hans",
        first_name: str = "Li",
    ) -> None:
        self.dp, self.bot = dp, bot
        self.user = User(
            id=user_id, is_bot=False, first_name=first_name, language_code=language_code
        )
        self.chat = Chat(id=user_id, type="private")
        self._ids = itertools.count(1)

    @property
    def session(self) -> MockedSession:
        return self.bot.session

    def inbox(self) -> list[Sent]:
        return [m for m in self.session.messages.values() if m.chat_id == self.chat.id]

    def last(self) -> Sent:
        return self.inbox()[-1]

    def last_with_buttons(self) -> Sent:
        return [m for m in self.inbox() if m.buttons()][-1]

    async def _feed(self, **update: Any) -> list[Sent]:
        before = set(self.session.messages)
        await self.dp.feed_update(self.bot, Update(update_id=next(self._ids), **update))
        return [m for k, m in self.session.messages.items() if k not in before]

    def _message(self, chat: Chat | None = None, **content: Any) -> Message:
        return Message(
            message_id=next(self._ids) + 10_000,
            date=datetime.now(UTC),
            chat=chat or self.chat,
            from_user=self.user,
            **content,
        )

    async def send(self, text: str, *, chat: Chat | None = None) -> list[Sent]:
        entities = None
        if text.startswith("/"):
            entities = [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
        return await self._feed(message=self._message(chat, text=text, entities=entities))

    async def edit(self, text: str) -> list[Sent]:
        message = self._message(text=text).model_copy(update={"edit_date": 1})
        return await self._feed(edited_message=message)

    async def contact(self, phone: str, *, own: bool = True) -> list[Sent]:
        contact = Contact(
            phone_number=phone, first_name="Li", user_id=self.user.id if own else self.user.id + 1
        )
        return await self._feed(message=self._message(contact=contact))

    async def document(
        self, file_name: str, content: bytes, *, file_size: int | None = None
    ) -> list[Sent]:
        """Send the bot a file; ``file_size`` is what Telegram says of it (the real
        size unless given)."""
        file_id = f"doc{next(self._ids)}"
        self.session.files[file_id] = content
        document = Document(
            file_id=file_id,
            file_unique_id=f"u{file_id}",
            file_name=file_name,
            file_size=len(content) if file_size is None else file_size,
        )
        return await self._feed(message=self._message(document=document))

    async def sticker(self) -> list[Sent]:
        sticker = Sticker(
            file_id="s",
            file_unique_id="s",
            type="regular",
            width=1,
            height=1,
            is_animated=False,
            is_video=False,
        )
        return await self._feed(message=self._message(sticker=sticker))

    async def photo(
        self, content: bytes, *, file_id: str | None = None, sizes: int = 1
    ) -> list[Sent]:
        """Send a photo as Telegram does: several sizes, the largest last, each a file
        the bot can download (``content`` is the largest; smaller ones are smaller)."""
        file_id = file_id or f"photo{next(self._ids)}"
        photo = []
        for n in range(sizes):
            large = n == sizes - 1
            size_id = file_id if large else f"{file_id}s{n}"
            data = content if large else content[: max(1, len(content) // (4 * (sizes - n)))]
            self.session.files[size_id] = data
            side = 1280 if large else 90 * (n + 1)
            photo.append(
                PhotoSize(
                    file_id=size_id,
                    file_unique_id=f"u{size_id}",
                    width=side,
                    height=side * 3 // 4,
                    file_size=len(data),
                )
            )
        return await self._feed(message=self._message(photo=photo))

    async def press(self, label: str, *, message: Sent | None = None) -> list[Sent]:
        """Press the button whose text contains ``label`` on the latest message with buttons."""
        target = message or self.last_with_buttons()
        matches = [data for text, data in target.buttons() if label in text]
        assert matches, f"no button {label!r} in {target.buttons()}"
        return await self.press_data(matches[0], message=target)

    async def press_data(
        self, data: str, *, message: Sent | None = None, from_user: User | None = None
    ) -> list[Sent]:
        target = message or self.last_with_buttons()
        query = CallbackQuery(
            id=str(next(_QUERY_IDS)),  # unique across conversations, as in Telegram
            from_user=from_user or self.user,
            chat_instance="ci",
            data=data,
            message=Message(
                message_id=target.message_id,
                date=datetime.now(UTC),
                chat=self.chat,
                from_user=BOT_USER,
                text=target.text,
            ),
        )
        return await self._feed(callback_query=query)

    def answers(self) -> list[AnswerCallbackQuery]:
        return [r for r in self.session.requests if isinstance(r, AnswerCallbackQuery)]
