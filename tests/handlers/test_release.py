"""An update's database connection is given back before each of its replies goes to
Telegram (bot.replies.ReleaseMiddleware), on each backend: no connection waits idle
in a transaction through a Bot API round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiogram import Dispatcher

from bot.app import build_dispatcher
from storage.db import SessionMaker, write_transaction
from tests.conftest import load_example_tree, settings_for
from tests.handlers.test_registration import register_in_english
from tests.mocked_bot import Conversation, MockedBot, MockedSession
from ui.reply_scope import current


@pytest.fixture
async def any_dp(db_url: str, sessionmaker: SessionMaker, tmp_path: Path) -> Dispatcher:
    await load_example_tree(sessionmaker)
    settings = settings_for(db_url, data_dir=tmp_path / "data")
    return build_dispatcher(settings=settings, sessionmaker=sessionmaker)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """For each Bot API call made in an update: the method, and whether the update's
    session was in a transaction at that moment."""
    seen: list[tuple[str, bool]] = []
    make_request = MockedSession.make_request

    async def watched(self: MockedSession, bot: Any, method: Any, **rest: Any) -> Any:
        scope = current()
        if scope is not None and scope.session is not None:
            seen.append((type(method).__name__, scope.session.in_transaction()))
        return await make_request(self, bot, method, **rest)

    monkeypatch.setattr(MockedSession, "make_request", watched)
    return seen


async def test_no_reply_waits_on_telegram_with_a_transaction_open(
    any_dp: Dispatcher, bot: MockedBot, held: list[tuple[str, bool]]
) -> None:
    chat = Conversation(any_dp, bot, user_id=5150, language_code="en")
    await register_in_english(chat)
    await chat.press("✅ Confirm and register")
    held.clear()
    await chat.send("/activities")
    await chat.send("/my")
    await chat.send("/hours")
    await chat.send("/profile")
    await chat.press("✏️ Station")
    assert held, "no reply was watched"
    assert [m for m, in_transaction in held if in_transaction] == []


async def test_a_session_inside_a_write_or_with_unsaved_changes_is_left_alone(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    from bot.replies import release
    from storage.models import Station

    async with sessionmaker() as session:
        station = await session.get(Station, tree["hf"])
        assert station is not None
        station.name = "合肥市（改）"
        await release(session)
        assert session.in_transaction() and station in session.dirty
        await session.rollback()
    async with sessionmaker() as session, write_transaction(session):
        await session.get(Station, tree["hf"])
        await release(session)
        assert session.in_transaction()


async def test_a_session_that_used_no_connection_releases_without_taking_one(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    """An update served from the caches never asked for a connection: releasing it
    must not take one just to end its (empty) transaction."""
    from sqlalchemy import event

    from bot.replies import release

    engine = sessionmaker.kw["bind"].sync_engine
    connects: list[object] = []

    def count(*args: object) -> None:
        connects.append(args)

    event.listen(engine, "engine_connect", count)
    try:
        async with sessionmaker() as session:
            session.sync_session.begin()  # as a merge of cached rows begins one
            await release(session)
            assert not session.in_transaction()
        assert connects == []
    finally:
        event.remove(engine, "engine_connect", count)
