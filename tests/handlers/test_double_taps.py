"""A button pressed twice (a double tap, or the same update delivered again) changes
the screen once, answers each press once, and never says "something went wrong"."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from aiogram import Dispatcher
from aiogram.methods import EditMessageText

from bot.app import build_dispatcher
from bot.scheduler import broadcast_progress
from handlers.broadcast import progress as progress_handlers
from services import broadcast_progress as progress_service
from services import broadcasts, roles
from services.access import Actor
from storage.db import SessionMaker
from storage.types import utcnow
from tests.conftest import load_example_tree, settings_for
from tests.factories import make_activity, make_volunteers
from tests.handlers.test_activities import station_ids
from tests.mocked_bot import NOT_MODIFIED, QUERY_INVALID, Conversation, MockedBot, Sent
from ui.i18n import make_i18n
from ui.settings import Settings

ADMIN = 9000
SORRY = "Sorry, something went wrong"


@pytest.fixture
async def staff_dp(sqlite_url: str, sqlite_sessionmaker: SessionMaker) -> Dispatcher:
    await load_example_tree(sqlite_sessionmaker)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=sqlite_url,
        bot_token=None,
        quiet_hours="off",
        admin_ids=frozenset({ADMIN}),
    )
    return build_dispatcher(settings=settings, sessionmaker=sqlite_sessionmaker)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]


async def double_tap(chat: Conversation, label: str) -> Sent:
    """Press the button labelled ``label`` twice on the same message."""
    screen = chat.last_with_buttons()
    data = next(d for text, d in screen.buttons() if label in text)
    before = len(chat.inbox())
    await chat.press_data(data, message=screen)
    shown = screen.text
    await chat.press_data(data, message=screen)
    assert screen.text == shown  # the second press changed nothing
    assert len(chat.inbox()) == before  # and sent nothing new
    return screen


def each_press_answered_once(chat: Conversation) -> None:
    ids = [a.callback_query_id for a in chat.answers()]
    assert len(ids) == len(set(ids)), ids
    assert QUERY_INVALID not in " ".join(chat.session.refused)


@pytest.mark.parametrize(
    ("command", "before", "label"),
    [
        ("/invite", [], "Hefei City"),  # a station in the station walk
        ("/team", [], "Hefei City"),
        ("/broadcast", [], "Hefei City"),
        ("/tally", [], "Another station"),
        ("/tally", ["Another station"], "Choose"),
        ("/tally 2026-W47", [], "Next period"),
        ("/new_activity", [], "Next"),  # "Next ›" in /new_activity
    ],
)
async def test_double_tapping_a_station_walk(
    staff_dp: Dispatcher,
    bot: MockedBot,
    caplog: pytest.LogCaptureFixture,
    command: str,
    before: list[str],
    label: str,
) -> None:
    admin = Conversation(staff_dp, bot, user_id=ADMIN, language_code="en")
    await admin.send(command)
    for earlier in before:
        await admin.press(earlier)
    await double_tap(admin, label)
    assert not any(SORRY in m.text for m in admin.inbox())
    each_press_answered_once(admin)
    assert tracebacks(caplog) == []


async def test_double_tapping_an_activity_card(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    ids = await station_ids(sqlite_sessionmaker)
    await make_volunteers(sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], [31])
    await make_activity(
        sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], now=utcnow(), capacity=3, title="Tea party"
    )
    chat = Conversation(dp, bot, user_id=31, language_code="en")
    await chat.send("/activities")
    card = await double_tap(chat, "Tea party")
    assert "Tea party" in card.text and "seats left" in card.text
    assert not any(SORRY in m.text for m in chat.inbox())
    each_press_answered_once(chat)


async def test_the_error_handler_never_answers_a_button_twice(
    staff_dp: Dispatcher, bot: MockedBot, caplog: pytest.LogCaptureFixture
) -> None:
    admin = Conversation(staff_dp, bot, user_id=ADMIN, language_code="en")
    await admin.send("/invite")
    screen = admin.last_with_buttons()
    data = next(d for text, d in screen.buttons() if "Hefei City" in text)
    del bot.session.messages[screen.message_id]  # deleted meanwhile: the edit fails
    await admin.press_data(data, message=screen)
    assert len(tracebacks(caplog)) == 1  # a real failure is logged ...
    assert SORRY in admin.last().text  # ... and the person is told,
    each_press_answered_once(admin)  # but the press is answered once only
    assert len(admin.answers()) == 1


async def test_the_broadcast_progress_is_not_edited_unchanged(
    bot: MockedBot,
    sqlite_sessionmaker: SessionMaker,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tree = await load_example_tree(sqlite_sessionmaker)
    await make_volunteers(sqlite_sessionmaker, tree["hf-ss-xy-xyxc"], [41, 42])
    async with sqlite_sessionmaker() as session:
        await roles.grant(
            session, user_id=ADMIN, role="coordinator", station_code="hf", actor_id=None
        )
        created = await broadcasts.create(
            session,
            actor=Actor(ADMIN),
            station_id=tree["hf"],
            skills=[],
            text="hello",
            since=utcnow() - timedelta(minutes=1),
        )
    sent = await bot.send_message(ADMIN, "progress")
    broadcast_id = created.broadcast.id
    assert broadcast_id is not None
    async with sqlite_sessionmaker() as session:
        await progress_service.set_progress_message(
            session, broadcast_id=broadcast_id, chat_id=ADMIN, message_id=sent.message_id
        )
    i18n, settings = make_i18n("en"), settings_for(sqlite_url)
    for restart in (False, False, True, False):
        if restart:  # a new process remembers nothing of what it showed
            progress_handlers._shown.clear()
        await broadcast_progress(
            bot=bot, sessionmaker=sqlite_sessionmaker, i18n=i18n, settings=settings
        )
    edits = [r for r in bot.session.requests if isinstance(r, EditMessageText)]
    # The first tick edits; later ones saw the same text and made no request. After a
    # restart one edit is tried: Telegram finds it unchanged, and that is no error.
    assert len(edits) == 2
    assert bot.session.refused == [f"EditMessageText: {NOT_MODIFIED}"]
    (progress,) = bot.session.sent_to(ADMIN)  # edited in place, never sent again
    assert progress.text.startswith("📣")
    assert tracebacks(caplog) == []
