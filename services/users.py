"""People who write to the bot, and their language."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import queries
from storage.db import write_transaction
from storage.models import User, Volunteer
from storage.queries import people as people_queries

LOCALES = ("zh_CN", "en")


def locale_for_client(language_code: str | None, default: str) -> str:
    """Map a Telegram client's language (zh-hans, zh-CN, en-US, ...) to ours."""
    code = (language_code or "").lower()
    if code.startswith("zh"):
        return "zh_CN"
    if code.startswith("en"):
        return "en"
    return default


async def visit(
    session: AsyncSession, user_id: int, locale: str | None = None
) -> tuple[User, Volunteer | None]:
    """The person behind an update and their volunteer profile, in one query; their
    user row is created the first time they write. ``locale`` is the language their
    Telegram client asks for: kept when they have none yet, so that messages the bot
    sends them on its own are in their language too. Someone the outbox found
    unreachable (they had blocked the bot) is reachable again once they write."""
    user, volunteer = await queries.get_user_with_volunteer(session, user_id)
    if (
        user is not None
        and user.unreachable_at is None
        and (user.locale is not None or locale is None)
    ):
        return user, volunteer
    async with write_transaction(session):
        user = await queries.get_user(session, user_id)
        if user is None:
            user = User(id=user_id, locale=locale)
        elif user.locale is None:
            user.locale = locale
        if user.unreachable_at is not None:
            user.unreachable_at = None
        session.add(user)
    return user, volunteer


async def ensure_user(session: AsyncSession, user_id: int, locale: str | None = None) -> User:
    """The user row, created the first time they write (see ``visit``)."""
    return (await visit(session, user_id, locale))[0]


async def set_locale(session: AsyncSession, user: User, locale: str) -> None:
    if locale not in LOCALES:
        raise ValueError(locale)
    async with write_transaction(session):
        user.locale = locale
        session.add(user)


async def locale_of(session: AsyncSession, user_id: int, default: str) -> str:
    """The language to write to someone in, when they did not just write to us."""
    user = await queries.get_user(session, user_id)
    return user.locale if user is not None and user.locale in LOCALES else default


async def locales_of(
    session: AsyncSession, user_ids: Iterable[int], default: str
) -> dict[int, str]:
    """``locale_of`` for many people at once, in the order given (duplicates dropped)."""
    ids = list(dict.fromkeys(user_ids))
    found = await people_queries.locales(session, ids)
    return {
        user_id: locale if (locale := found.get(user_id)) in LOCALES and locale else default
        for user_id in ids
    }
