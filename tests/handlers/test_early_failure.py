"""An update that fails before its language is known (loading or creating the person
behind it, the first thing done with the database) still gets an answer: the error
handler falls back to the sender's client language, never to silence."""

from __future__ import annotations

import pytest
from aiogram import Dispatcher
from sqlalchemy.exc import OperationalError

from services import users
from tests.mocked_bot import Conversation, MockedBot


async def _busy(*args: object, **kwargs: object) -> None:
    raise OperationalError("INSERT INTO user", {}, Exception("database is locked"))


@pytest.mark.parametrize(
    ("language_code", "expected"),
    [("en-US", "something went wrong on our side"), ("zh-hans", "系统出了点问题")],
)
async def test_a_failure_while_loading_the_person_is_answered(
    dp: Dispatcher,
    bot: MockedBot,
    monkeypatch: pytest.MonkeyPatch,
    language_code: str,
    expected: str,
) -> None:
    chat = Conversation(dp, bot, user_id=3003, language_code=language_code)
    monkeypatch.setattr(users, "visit", _busy)
    out = await chat.send("你好")
    assert len(out) == 1
    assert out[0].chat_id == 3003
    assert expected in out[0].text
    monkeypatch.undo()
    # And the next message, once the database answers again, is served as usual.
    assert "/help" in (await chat.send("你好"))[-1].text
