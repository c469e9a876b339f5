"""/team through the real Dispatcher: who holds a role, since when, and revoking it."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods import SendMessage, TelegramMethod
from sqlmodel import select

from bot.app import build_dispatcher
from services import roles, users, volunteers
from services.volunteers import Draft
from storage.db import SessionMaker
from storage.models import AuditLog, Role
from tests.conftest import load_example_tree
from tests.delivery_helpers import deliver
from tests.mocked_bot import Conversation, MockedBot
from ui.callbacks import TeamRevokeCb
from ui.settings import Settings

ADMIN = 9000
COORDINATOR, NAMED_STAFF, UNNAMED_STAFF = 5001, 5002, 5003


@pytest.fixture
async def staff_dp(sqlite_url: str, sqlite_sessionmaker: SessionMaker) -> Dispatcher:
    """The example tree, a coordinator of Shushan and two staff of Xiyuan Street: one a
    registered volunteer with markup in their name, one only a Telegram id."""
    tree = await load_example_tree(sqlite_sessionmaker)
    async with sqlite_sessionmaker() as session:
        await roles.grant(
            session, user_id=COORDINATOR, role="coordinator", station_code="hf-ss", actor_id=None
        )
        for user_id in (NAMED_STAFF, UNNAMED_STAFF):
            await roles.grant(
                session, user_id=user_id, role="staff", station_code="hf-ss-xy", actor_id=None
            )
        user = await users.ensure_user(session, NAMED_STAFF)
        await users.set_locale(session, user, "en")
        await volunteers.save(
            session,
            user_id=NAMED_STAFF,
            draft=Draft(
                real_name="Zhang <i>San</i>",
                phone="+8613812345678",
                station_id=tree["hf-ss-xy-xyxc"],
                age_group="18_35",
                privacy_consent=True,
            ),
        )
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=sqlite_url,
        bot_token=None,
        admin_ids=frozenset({ADMIN}),
    )
    return build_dispatcher(settings=settings, sessionmaker=sqlite_sessionmaker)


async def held(maker: SessionMaker) -> list[int]:
    async with maker() as session:
        return sorted(r.user_id for r in (await session.exec(select(Role))).all())


async def open_team(chat: Conversation) -> None:
    await chat.send("/team")
    await chat.press("Shushan")
    await chat.press("Xiyuan Street")
    await chat.press("Choose Xiyuan Street Station")


async def test_team_lists_names_roles_and_dates(staff_dp: Dispatcher, bot: MockedBot) -> None:
    chat = Conversation(staff_dp, bot, user_id=COORDINATOR, language_code="en-US")
    out = await chat.send("/team")
    assert [t for t, _ in out[-1].buttons()] == ["Shushan District Guidance Centre ›"]
    await chat.press("Shushan")
    await chat.press("Xiyuan Street")
    await chat.press("Choose Xiyuan Street Station")
    view = chat.last_with_buttons()
    assert "Team of" in view.text and "Xiyuan Street Station" in view.text
    assert "Zhang &lt;i&gt;San&lt;/i&gt;: station staff, since " in view.text
    assert f"Telegram user {UNNAMED_STAFF}: station staff, since " in view.text
    labels = [t for t, _ in view.buttons()]
    assert "✖️ Revoke Zhang <i>San</i> (station staff)" in labels
    assert f"✖️ Revoke Telegram user {UNNAMED_STAFF} (station staff)" in labels


async def test_revoke_asks_first_then_tells_the_person(
    staff_dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    chat = Conversation(staff_dp, bot, user_id=COORDINATOR, language_code="en-US")
    await open_team(chat)
    await chat.press("Revoke Zhang")
    confirm = chat.last_with_buttons()
    assert "Revoke the role station staff of Zhang &lt;i&gt;San&lt;/i&gt; at" in confirm.text
    assert await held(sqlite_sessionmaker) == [COORDINATOR, NAMED_STAFF, UNNAMED_STAFF]
    yes = next(d for t, d in confirm.buttons() if "Yes, revoke" in t)
    await chat.press_data(yes, message=confirm)
    assert "Revoked: Zhang &lt;i&gt;San&lt;/i&gt; is no longer station staff of" in confirm.text
    assert await held(sqlite_sessionmaker) == [COORDINATOR, UNNAMED_STAFF]
    await deliver(staff_dp, bot)
    told = [m for m in chat.session.messages.values() if m.chat_id == NAMED_STAFF]
    assert told and told[-1].text.startswith("You are no longer station staff of")
    assert "Xiyuan Street Station" in told[-1].text  # in their language, English
    # the confirmation pressed again does nothing more
    await chat.press_data(yes, message=confirm)
    assert chat.answers()[-1].text == "That role has already been revoked."
    await deliver(staff_dp, bot)
    assert [m for m in chat.session.messages.values() if m.chat_id == NAMED_STAFF] == told
    async with sqlite_sessionmaker() as session:
        entries = (
            await session.exec(select(AuditLog).where(AuditLog.action == "role.revoked"))
        ).all()
    assert [(e.actor_id, e.subject_id, e.details["role"]) for e in entries] == [
        (COORDINATOR, NAMED_STAFF, "staff")
    ]


async def test_revoke_still_works_when_the_person_blocked_the_bot(
    staff_dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    real = bot.session.make_request

    async def blocked(
        bot_: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> Any:
        if isinstance(method, SendMessage) and method.chat_id == UNNAMED_STAFF:
            raise TelegramForbiddenError(method, "Forbidden: bot was blocked by the user")
        return await real(bot_, method, timeout)

    bot.session.make_request = blocked  # type: ignore[method-assign]
    chat = Conversation(staff_dp, bot, user_id=COORDINATOR, language_code="en-US")
    await open_team(chat)
    await chat.press(f"Revoke Telegram user {UNNAMED_STAFF}")
    await chat.press("Yes, revoke")
    assert f"Revoked: Telegram user {UNNAMED_STAFF} is no longer" in chat.last().text
    assert await held(sqlite_sessionmaker) == [COORDINATOR, NAMED_STAFF]
    await deliver(staff_dp, bot)
    assert not [m for m in chat.session.messages.values() if m.chat_id == UNNAMED_STAFF]


async def test_staff_may_not_see_or_change_the_team(
    staff_dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    coordinator = Conversation(staff_dp, bot, user_id=COORDINATOR, language_code="en-US")
    await open_team(coordinator)
    revoke = next(d for t, d in coordinator.last_with_buttons().buttons() if "Zhang" in t)
    staff = Conversation(staff_dp, bot, user_id=UNNAMED_STAFF, language_code="en-US")
    out = await staff.send("/team")
    assert out[-1].text == "You do not have permission for this."
    confirmed = TeamRevokeCb.unpack(revoke).model_copy(update={"confirm": True}).pack()
    await staff.press_data(revoke, message=coordinator.last_with_buttons())
    assert staff.answers()[-1].text == "You do not have permission for this."
    await staff.press_data(confirmed, message=coordinator.last_with_buttons())
    assert staff.answers()[-1].text == "You do not have permission for this."
    assert await held(sqlite_sessionmaker) == [COORDINATOR, NAMED_STAFF, UNNAMED_STAFF]
