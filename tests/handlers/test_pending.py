"""/pending through the real Dispatcher: staff approve or decline new volunteers, who
are told in their own language."""

from __future__ import annotations

import pytest
from aiogram import Dispatcher
from sqlmodel import col, select

from bot.app import build_dispatcher
from bot.config import Settings
from services import roles, users, volunteers
from services.volunteers import Draft
from storage.db import SessionMaker
from storage.models import AuditLog, Volunteer, VolunteerStatus
from tests.conftest import load_example_tree
from tests.delivery_helpers import deliver
from tests.mocked_bot import Conversation, MockedBot

ADMIN = 9000
STAFF, OTHER_STAFF = 6001, 6002
FIRST = 6101  # six volunteers, 6101 to 6106, waiting at Wulidun (under Hupo Street)
NAMES = ["Ann <b>One</b>", "Bo Two", "Cai Three", "Du Four", "Er Five", "Fang Six"]


@pytest.fixture
async def staff_dp(sqlite_url: str, sqlite_sessionmaker: SessionMaker) -> Dispatcher:
    tree = await load_example_tree(sqlite_sessionmaker)
    async with sqlite_sessionmaker() as session:
        await roles.grant(
            session, user_id=STAFF, role="staff", station_code="hf-ss-hp", actor_id=None
        )
        await roles.grant(
            session, user_id=OTHER_STAFF, role="staff", station_code="hf-ss-xy", actor_id=None
        )
        for offset, name in enumerate(NAMES):
            user = await users.ensure_user(session, FIRST + offset)
            if offset == 0:
                await users.set_locale(session, user, "en")
            await volunteers.save(
                session,
                user_id=FIRST + offset,
                draft=Draft(
                    real_name=name,
                    phone=f"+861381234567{offset}",
                    station_id=tree["hf-ss-hp-wyl"],
                    skills=["first_aid", "driving"] if offset == 0 else [],
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


async def statuses(maker: SessionMaker) -> dict[int, VolunteerStatus]:
    async with maker() as session:
        rows = (await session.exec(select(Volunteer).order_by(col(Volunteer.user_id)))).all()
    return {v.user_id or 0: v.status for v in rows}


def told(chat: Conversation, user_id: int) -> list[str]:
    return [m.text for m in chat.session.messages.values() if m.chat_id == user_id]


async def test_pending_list_is_paged_and_masked(staff_dp: Dispatcher, bot: MockedBot) -> None:
    chat = Conversation(staff_dp, bot, user_id=STAFF, language_code="en-US")
    out = await chat.send("/pending")
    page = out[-1]
    assert "Volunteers waiting for approval</b> (1 to 5 of 6)" in page.text
    assert "1. Ann &lt;b&gt;One&lt;/b&gt;, 138****5670" in page.text
    assert "+8613812345670" not in page.text and "13812345670" not in page.text
    assert "Wulidun Community" in page.text
    assert "Skills: First aid and Driving" in page.text
    assert "Fang Six" not in page.text
    labels = [t for t, _ in page.buttons()]
    assert labels[:2] == ["✅ Approve 1", "✖️ Decline 1"] and labels[-1] == "Next ›"
    await chat.press("Next")
    assert "(6 to 6 of 6)" in page.text and "6. Fang Six" in page.text
    other = Conversation(staff_dp, bot, user_id=OTHER_STAFF, language_code="en-US")
    out = await other.send("/pending")
    assert out[-1].text == "No volunteers are waiting for approval."


async def test_approve_and_decline_tell_the_volunteer_in_their_language(
    staff_dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    chat = Conversation(staff_dp, bot, user_id=STAFF, language_code="en-US")
    await chat.send("/pending")
    first_page = chat.last_with_buttons()
    approve_first = next(d for t, d in first_page.buttons() if t == "✅ Approve 1")
    await chat.press("Approve 1")
    assert chat.answers()[-1].text == "Approved: Ann <b>One</b>"
    assert "(1 to 5 of 5)" in first_page.text and "Ann" not in first_page.text
    await chat.press("Decline 1")  # now Bo Two, whose language is the default, Chinese
    current = await statuses(sqlite_sessionmaker)
    assert current[FIRST] is VolunteerStatus.ACTIVE
    assert current[FIRST + 1] is VolunteerStatus.DECLINED
    assert current[FIRST + 2] is VolunteerStatus.PENDING
    await deliver(staff_dp, bot)
    english = told(chat, FIRST)
    assert english and english[-1].startswith("Good news: Wulidun Community has approved")
    chinese = told(chat, FIRST + 1)
    assert chinese and "五里墩社区" in chinese[-1] and "未通过您的注册审核" in chinese[-1]
    # a replayed button on a decided volunteer says so and changes nothing
    await chat.press_data(approve_first, message=first_page)
    assert chat.answers()[-1].text == "Ann <b>One</b> has already been approved."
    assert (await statuses(sqlite_sessionmaker)) == current
    async with sqlite_sessionmaker() as session:
        entries = (
            await session.exec(
                select(AuditLog)
                .where(col(AuditLog.action).startswith("volunteer."))
                .where(col(AuditLog.action).in_(["volunteer.approved", "volunteer.declined"]))
            )
        ).all()
    assert [(e.action, e.actor_id) for e in entries] == [
        ("volunteer.approved", STAFF),
        ("volunteer.declined", STAFF),
    ]
