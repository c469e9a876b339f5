"""The bot in groups: it answers only people who address it, once per group a day,
ignores everything else, treats buttons pressed in a group with a short answer and
nothing more, and leaves a group that someone other than station staff added it to."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Dispatcher
from aiogram.methods import (
    AnswerCallbackQuery,
    GetMe,
    LeaveChat,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import (
    CallbackQuery,
    Chat,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberUpdated,
    Message,
    MessageEntity,
    Update,
    User,
)
from sqlmodel import select

from bot.app import build_dispatcher
from services import roles
from storage.db import SessionMaker
from storage.models import User as StoredUser
from tests.conftest import load_example_tree
from tests.mocked_bot import BOT_USER, MockedBot
from ui.settings import Settings

ADMIN, STAFF, PERSON, OTHER = 9000, 6301, 6302, 6303
GROUP = Chat(id=-100500, type="supergroup", title="西园志愿者群")
OTHER_GROUP = Chat(id=-100600, type="group", title="Another group")
PRIVATE_ONLY = "I work in private chat only. Please open a chat with me."
_ids = itertools.count(1)


@pytest.fixture
async def group_dp(sqlite_url: str, sqlite_sessionmaker: SessionMaker) -> Dispatcher:
    await load_example_tree(sqlite_sessionmaker)
    async with sqlite_sessionmaker() as session:
        await roles.grant(
            session, user_id=STAFF, role="staff", station_code="hf-ss-xy", actor_id=None
        )
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=sqlite_url,
        bot_token=None,
        quiet_hours="off",
        admin_ids=frozenset({ADMIN}),
    )
    return build_dispatcher(settings=settings, sessionmaker=sqlite_sessionmaker)


def person(user_id: int = PERSON, *, is_bot: bool = False) -> User:
    return User(id=user_id, is_bot=is_bot, first_name=f"P{user_id}", language_code="en")


def message(chat: Chat = GROUP, sender: User | None = None, **content: Any) -> Message:
    return Message(
        message_id=next(_ids) + 50_000,
        date=datetime.now(UTC),
        chat=chat,
        from_user=sender or person(),
        **content,
    )


def command(text: str, **kw: Any) -> Message:
    length = len(text.split()[0])
    return message(
        text=text, entities=[MessageEntity(type="bot_command", offset=0, length=length)], **kw
    )


async def feed(dp: Dispatcher, bot: MockedBot, **update: Any) -> list[TelegramMethod[Any]]:
    """Feed one update; the requests it made (getMe aside)."""
    before = len(bot.session.requests)
    await dp.feed_update(bot, Update(update_id=next(_ids), **update))
    return [r for r in bot.session.requests[before:] if not isinstance(r, GetMe)]


def texts(requests: list[TelegramMethod[Any]]) -> list[str]:
    return [r.text for r in requests if isinstance(r, SendMessage)]


async def test_service_messages_and_chatter_get_no_answer(
    group_dp: Dispatcher, bot: MockedBot
) -> None:
    quiet = [
        message(new_chat_members=[person(OTHER)]),
        message(left_chat_member=person(OTHER)),
        message(new_chat_title="新群名"),
        message(pinned_message=message(text="置顶")),
        message(group_chat_created=True),
        message(text="大家好，周六一起去打扫吧"),
        message(
            text="@someone_else 你好", entities=[MessageEntity(type="mention", offset=0, length=13)]
        ),
        command("/help@other_bot"),
        message(text="/help", sender=person(OTHER, is_bot=True)),  # another bot
        command("/help", sender=person(OTHER, is_bot=True)),
    ]
    for update in quiet:
        assert await feed(group_dp, bot, message=update) == [], update
    edited = message(text="/help").model_copy(update={"edit_date": 1})
    assert await feed(group_dp, bot, edited_message=edited) == []


async def test_a_person_addressing_the_bot_is_answered_once_per_group_a_day(
    group_dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    first = await feed(group_dp, bot, message=command("/start"))
    assert texts(first) == [PRIVATE_ONLY]
    assert [r.chat_id for r in first if isinstance(r, SendMessage)] == [GROUP.id]
    again = [
        command("/help@station_test_bot"),
        message(
            text="@station_test_bot 怎么报名？",
            entities=[MessageEntity(type="mention", offset=0, length=17)],
        ),
        message(text="怎么报名？", reply_to_message=message(text="hi", sender=BOT_USER)),
        command("/activities", sender=person(OTHER)),
    ]
    for update in again:
        assert await feed(group_dp, bot, message=update) == [], update
    # Another group gets its own answer, once.
    assert texts(await feed(group_dp, bot, message=command("/help", chat=OTHER_GROUP))) == [
        PRIVATE_ONLY
    ]
    assert await feed(group_dp, bot, message=command("/help", chat=OTHER_GROUP)) == []
    # Writing in a group keeps nothing about the people in it.
    async with sqlite_sessionmaker() as session:
        assert (await session.exec(select(StoredUser))).all() == []


@pytest.mark.parametrize("data", ["lg:en", "jd:1:0", "pd:1:1:0", "rol:0", "nonsense"])
async def test_a_button_pressed_in_a_group_gets_a_short_answer_and_nothing_else(
    group_dp: Dispatcher, bot: MockedBot, data: str
) -> None:
    query = CallbackQuery(
        id=f"g{next(_ids)}",
        from_user=person(ADMIN),
        chat_instance="group",
        data=data,
        message=message(text="a card", sender=BOT_USER),
    )
    done = await feed(group_dp, bot, callback_query=query)
    assert len(done) == 1 and isinstance(done[0], AnswerCallbackQuery), done
    assert done[0].text == "My buttons work in our private chat only."
    inline = CallbackQuery(
        id=f"i{next(_ids)}",
        from_user=person(ADMIN),
        chat_instance="inline",
        data=data,
        inline_message_id="AAQ",
    )
    done = await feed(group_dp, bot, callback_query=inline)
    assert len(done) == 1 and isinstance(done[0], AnswerCallbackQuery), done


def added_by(adder: int, chat: Chat = GROUP) -> ChatMemberUpdated:
    return ChatMemberUpdated(
        chat=chat,
        from_user=person(adder),
        date=datetime.now(UTC),
        old_chat_member=ChatMemberLeft(user=BOT_USER),
        new_chat_member=ChatMemberMember(user=BOT_USER),
    )


async def test_added_by_someone_who_is_not_staff_it_says_why_and_leaves(
    group_dp: Dispatcher, bot: MockedBot
) -> None:
    done = await feed(group_dp, bot, my_chat_member=added_by(PERSON))
    assert [type(r) for r in done] == [SendMessage, LeaveChat]
    assert "station staff" in texts(done)[0]
    assert done[1].chat_id == GROUP.id


@pytest.mark.parametrize("adder", [STAFF, ADMIN])
async def test_added_by_station_staff_it_stays_quietly(
    group_dp: Dispatcher, bot: MockedBot, adder: int
) -> None:
    assert await feed(group_dp, bot, my_chat_member=added_by(adder)) == []
