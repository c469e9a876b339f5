"""Replies to the person writing, made robust against what Telegram does to them.

Every request the bot makes while handling an update passes through these request
middlewares (installed on the Bot's session by ``install``; the deliverer sends
with ``make_request`` and bypasses them, as it paces and retries on its own):

- ``SettledMiddleware``: an edit that changes nothing ("message is not modified", a
  double tap) is a success, and so is answering a button press Telegram no longer
  knows (a redelivered update). Each answered press is noted in the update's scope,
  so the error handler never answers a button twice.
- ``TransientMiddleware``: a 5xx, a dropped connection or a gateway's error page is
  tried again with backoff, for at most ``reply_retry_seconds`` in all. A reply that
  still cannot be sent goes into the outbox (kind "text", urgent, ahead of notices),
  and the deliverer sends it when Telegram is back: a message as it was, an edited
  screen as a new message, a button's alert as a message. The handler goes on as if
  it had been sent; once one reply of an update was put aside, the update's later
  replies follow it straight into the outbox, in order. What cannot wait in the
  outbox (files, photos) fails as before; menus and chat actions are given up.

A retried request whose connection dropped after Telegram had taken it can appear
twice: Telegram has no idempotency key. 5xx answers and refused connections, what a
brief outage gives, are never duplicated.

The scope of an update (``ReplyScope``) is set by ``ReplyScopeMiddleware``, an outer
middleware of the Dispatcher, and read through a context variable. Requests made
outside any update (startup, the scheduler's jobs, scripts) are not replies: they go
through untouched, and the jobs simply run again at their next turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

from aiogram import Bot, html, methods
from aiogram.client.default import Default
from aiogram.client.session.base import BaseSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    AiogramError,
    ClientDecodeError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMyCommands,
    EditMessageCaption,
    EditMessageLiveLocation,
    EditMessageMedia,
    EditMessageReplyMarkup,
    EditMessageText,
    Response,
    SendChatAction,
    SendMessage,
    SetChatMenuButton,
    SetMyCommands,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.middlewares import RetryAfterMiddleware
from services import outbox
from storage.db import is_writing, write_transaction
from ui.outbox import TEXT, text_payload
from ui.reply_scope import DEFERRED_MESSAGE_ID, ReplyScope, current

log = logging.getLogger(__name__)

FIRST_DELAY, MAX_DELAY = 0.5, 4.0  # backoff between tries: 0.5, 1, 2, 4, 4, ... seconds

_EDITS = (
    EditMessageText,
    EditMessageReplyMarkup,
    EditMessageCaption,
    EditMessageMedia,
    EditMessageLiveLocation,
)
# Nice to have, never worth failing a reply for.
_COSMETIC = (SetMyCommands, DeleteMyCommands, SetChatMenuButton, SendChatAction)
_NOT_MODIFIED = "message is not modified"
_QUERY_GONE = ("query is too old", "query id is invalid")


def _ok(method: TelegramMethod[Any], result: Any) -> Response[Any]:
    """A success for ``method`` that Telegram did not give (see the callers)."""
    del method  # named for the reader
    return Response[Any](ok=True, result=result)


class ReleaseMiddleware(BaseRequestMiddleware):
    """Before a reply goes to Telegram, the update's session gives its connection
    back: a transaction that only read is committed (nothing is expired, as in
    ``write_transaction``), so no connection sits idle in a transaction during the
    round trip, nor during the retries of a brief outage. A session that has
    unsaved changes, or is inside a write transaction, is left as it is."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        scope = current()
        if scope is not None and scope.session is not None:
            await release(scope.session)
        return await make_request(bot, method)


async def release(session: AsyncSession) -> None:
    # Asks nothing of the database: a session that has not used a connection yet
    # (everything came from the caches) commits without a statement.
    if not session.in_transaction() or is_writing(session):
        return
    sync = session.sync_session
    if sync.new or sync.dirty or sync.deleted:
        return
    await session.commit()


class SettledMiddleware(BaseRequestMiddleware):
    """An edit that changes nothing, and an answer to a press Telegram has forgotten,
    are successes; answered presses are noted in the scope."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            response = await make_request(bot, method)
        except TelegramBadRequest as error:
            reason = error.message.lower()
            if isinstance(method, _EDITS) and _NOT_MODIFIED in reason:
                return _ok(method, True)
            if isinstance(method, AnswerCallbackQuery) and any(r in reason for r in _QUERY_GONE):
                log.info("button press %s too old to answer", method.callback_query_id)
                self._note(method)
                return _ok(method, True)
            raise
        self._note(method)
        return response

    @staticmethod
    def _note(method: TelegramMethod[Any]) -> None:
        scope = current()
        if scope is not None and isinstance(method, AnswerCallbackQuery):
            scope.answered.add(method.callback_query_id)


def _transient(error: BaseException) -> bool:
    if isinstance(error, TelegramEntityTooLarge):
        return False
    return isinstance(error, TelegramServerError | TelegramNetworkError | ClientDecodeError)


class TransientMiddleware(BaseRequestMiddleware):
    """Retry what a brief outage breaks; put aside a reply that cannot wait longer."""

    def __init__(self, *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        scope = current()
        if scope is None:  # not a reply: startup, a scheduled job, a script
            return await make_request(bot, method)
        if scope.telegram_down and _can_wait(method, scope):
            # An earlier reply of this update is waiting in the outbox: this one follows
            # it there, rather than trying again and arriving before it.
            return await self._put_aside(scope, method)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + scope.retry_seconds
        delay = FIRST_DELAY
        while True:
            try:
                return await make_request(bot, method)
            except AiogramError as error:
                retry = _transient(error)
                if retry and loop.time() + delay <= deadline:
                    log.warning(
                        "%s failed (%s); trying again in %.1f s",
                        type(method).__name__,
                        error,
                        delay,
                    )
                    await self.sleep(delay)
                    delay = min(delay * 2, MAX_DELAY)
                    continue
                if not (retry or isinstance(error, TelegramRetryAfter)):
                    raise
                if isinstance(method, _COSMETIC):
                    log.warning("%s given up: %s", type(method).__name__, error)
                    return _ok(method, True)
                if not _can_wait(method, scope):
                    raise
                log.warning(
                    "%s failed (%s): putting it in the outbox", type(method).__name__, error
                )
                try:
                    return await self._put_aside(scope, method)
                except Exception:
                    log.exception("could not put a reply in the outbox")
                    raise error from None

    async def _put_aside(
        self, scope: ReplyScope, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        queued = _as_message(method, scope)
        if queued is not None:
            chat_id, text, markup = queued
            scope.put_aside += 1
            # Deterministic: a redelivered update puts nothing aside twice.
            day = f"{datetime.now(UTC):%Y%m%d}"
            key = f"reply:{day}:{scope.update_id}:{chat_id}:{scope.put_aside}"
            assert scope.sessionmaker is not None
            async with scope.sessionmaker() as session, write_transaction(session):
                await outbox.enqueue(
                    session,
                    [
                        outbox.Message(
                            user_id=chat_id,
                            kind=TEXT,
                            key=key,
                            payload=text_payload(text, markup),
                            urgent=True,
                            priority=outbox.REPLY,
                        )
                    ],
                )
            if scope.wake is not None:
                scope.wake()
        else:
            scope.put_aside += 1  # nothing worth keeping: dropped
        if isinstance(method, SendMessage):
            chat_id = int(method.chat_id)
            message = Message(
                message_id=DEFERRED_MESSAGE_ID,
                date=datetime.now(UTC),
                chat=Chat(id=chat_id, type="private" if chat_id > 0 else "group"),
                text=method.text,
            )
            return _ok(method, message)
        return _ok(method, True)


def _can_wait(method: TelegramMethod[Any], scope: ReplyScope) -> bool:
    """Whether the outbox can stand in for this request."""
    if scope.sessionmaker is None:
        return False
    if isinstance(method, SendMessage):
        return isinstance(method.chat_id, int) or str(method.chat_id).lstrip("-").isdigit()
    if isinstance(method, EditMessageText | EditMessageReplyMarkup):
        return method.inline_message_id is None and method.chat_id is not None
    return isinstance(method, AnswerCallbackQuery)


def _html(text: str, parse_mode: Any) -> str:
    """The text as HTML, which is how the outbox sends it."""
    if isinstance(parse_mode, Default) or parse_mode == "HTML":
        return text
    return html.quote(text)


def _as_message(
    method: TelegramMethod[Any], scope: ReplyScope
) -> tuple[int, str, InlineKeyboardMarkup | None] | None:
    """The message that stands in for a request: chat, HTML text and buttons; None
    when there is nothing worth sending later."""
    if isinstance(method, SendMessage | EditMessageText):
        markup = method.reply_markup
        if not isinstance(markup, InlineKeyboardMarkup):
            markup = None  # a reply keyboard cannot wait in the outbox
        chat_id = int(cast(int | str, method.chat_id))
        return chat_id, _html(method.text or "", method.parse_mode), markup
    if (
        isinstance(method, AnswerCallbackQuery)
        and method.show_alert
        and method.text
        and scope.user_id is not None
    ):
        return scope.user_id, html.quote(method.text), None
    return None  # a toast, or buttons taken off: nothing to send later


# The Bot API methods the bot calls. aiogram builds the pydantic class of each
# method's response (``Response[Message]``...) on every call, from a cache that
# holds them weakly: the garbage collector drops them between updates, and they
# are built again (a costly pydantic build). Holding them here keeps them built.
USED_METHODS = (
    methods.AnswerCallbackQuery,
    methods.DeleteMessage,
    methods.EditMessageReplyMarkup,
    methods.EditMessageText,
    methods.GetMe,
    methods.GetUpdates,
    methods.LeaveChat,
    methods.SendDocument,
    methods.SendMessage,
    methods.SendPhoto,
    methods.SetChatMenuButton,
    methods.SetMyCommands,
)
_RESPONSE_TYPES: list[type[Response[Any]]] = []


def keep_response_types() -> None:
    """Build each used method's response class once and keep it (see USED_METHODS)."""
    if not _RESPONSE_TYPES:
        _RESPONSE_TYPES.extend(Response[m.__returning__] for m in USED_METHODS)  # type: ignore[name-defined]


def install(session: BaseSession) -> None:
    """The request middlewares of every Bot, outermost first."""
    keep_response_types()
    session.middleware(ReleaseMiddleware())
    session.middleware(SettledMiddleware())
    session.middleware(TransientMiddleware())
    session.middleware(RetryAfterMiddleware())
