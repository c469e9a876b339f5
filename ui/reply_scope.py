"""The scope of one update's replies: what its requests share (see ``bot.replies``).

Set by ``bot.middlewares.ReplyScopeMiddleware``, an outer middleware of the Dispatcher, and read
through a context variable by the Bot's request middlewares and the error handler."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from aiogram.types import Message
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

DEFAULT_RETRY_SECONDS = 20.0
DEFERRED_MESSAGE_ID = 0  # a message put in the outbox has no id yet: no real one has 0


@dataclass
class ReplyScope:
    """What the replies of one update share."""

    update_id: int
    # for bot.replies, which puts a reply Telegram did not take in the outbox;
    # the Telegram side only carries it
    sessionmaker: async_sessionmaker[AsyncSession] | None = None
    wake: Callable[[], None] | None = None  # the deliverer's
    retry_seconds: float = DEFAULT_RETRY_SECONDS
    user_id: int | None = None  # who the update is from: a button's alert goes to them
    answered: set[str] = field(default_factory=set)  # callback queries answered
    put_aside: int = 0  # replies that went into the outbox
    # the update's own session: its connection goes back to the pool before each
    # Bot API call (bot.replies.ReleaseMiddleware)
    session: AsyncSession | None = None

    @property
    def telegram_down(self) -> bool:
        return self.put_aside > 0


_scope: ContextVar[ReplyScope | None] = ContextVar("reply_scope", default=None)


def current() -> ReplyScope | None:
    return _scope.get()


@contextlib.contextmanager
def within(scope: ReplyScope | None) -> Iterator[None]:
    """Make ``scope`` the current one (the error handler runs outside the middleware)."""
    token = _scope.set(scope)
    try:
        yield
    finally:
        _scope.reset(token)


def answered(scope: ReplyScope | None, query_id: str) -> bool:
    return scope is not None and query_id in scope.answered


def was_put_aside(message: Message) -> bool:
    """Whether a sent message went into the outbox instead (it has no id yet)."""
    return message.message_id == DEFERRED_MESSAGE_ID
