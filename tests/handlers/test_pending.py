"""/pending through the real Dispatcher: staff approve or decline new volunteers, who
are told in their own language."""

from __future__ import annotations

import pytest
from aiogram import Dispatcher
from sqlmodel import col, select

from bot.app import build_dispatcher
from services import roles, users, volunteers
from services.volunteers import Draft
from storage.db import SessionMaker
from storage.models import AuditLog, Outbox, OutboxState, Volunteer, VolunteerStatus
from tests.conftest import load_example_tree
from tests.delivery_helpers import deliver
from tests.mocked_bot import Conversation, MockedBot
from ui.settings import Settings

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
        quiet_hours="off",  # the notice to staff waits for the morning otherwise
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


# --- staff are told of a volunteer waiting for approval ------------------------------


async def notice_rows(maker: SessionMaker) -> list[Outbox]:
    async with maker() as session:
        query = select(Outbox).where(Outbox.kind == "approval_needed").order_by(col(Outbox.id))
        return list((await session.exec(query)).all())


async def test_staff_are_told_of_each_volunteer_waiting_and_decide_from_the_message(
    staff_dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    # Queued with the registration, once per volunteer, for the staff of the nearest
    # station up the tree that has any (Hupo Street, above Wulidun); not for others.
    rows = await notice_rows(maker)
    assert [(r.user_id, r.key) for r in rows] == [
        (STAFF, f"approval:{r.payload['volunteer']}:{STAFF}") for r in rows
    ]
    assert len(rows) == len(NAMES)
    async with maker() as session:  # the profile edited while waiting: nothing new
        volunteer = await volunteers.get(session, FIRST + 2)
        assert volunteer is not None
        draft = volunteers.draft_of(volunteer)
        draft.skills = ["driving"]
        await volunteers.save(session, user_id=FIRST + 2, draft=draft)
    assert len(await notice_rows(maker)) == len(NAMES)

    staff = Conversation(staff_dp, bot, user_id=STAFF, language_code="en-US")
    await staff.send("/language")  # any message makes the staff member a known user
    await deliver(staff_dp, bot)
    notices = [m for m in staff.inbox() if "waiting for your approval" in m.text]
    assert len(notices) == len(NAMES)
    first = next(m for m in notices if "Ann &lt;b&gt;One&lt;/b&gt;" in m.text)
    assert "138****5670" in first.text and "13812345670" not in first.text
    assert "Wulidun Community" in first.text and "First aid" in first.text
    assert [t for t, _ in first.buttons()] == ["✅ Approve", "✖️ Decline"]
    assert told(staff, OTHER_STAFF) == []

    # Someone without the right presses the same button: refused, nothing changes.
    approve = first.buttons()[0][1]
    other = Conversation(staff_dp, bot, user_id=OTHER_STAFF, language_code="en-US")
    await other.press_data(approve, message=first)
    assert other.answers()[-1].text == "You do not have permission for this."
    assert (await statuses(maker))[FIRST] is VolunteerStatus.PENDING

    await staff.press("Approve", message=first)
    assert (await statuses(maker))[FIRST] is VolunteerStatus.ACTIVE
    assert "Approved: Ann &lt;b&gt;One&lt;/b&gt;" in first.text and first.buttons() == []
    second = next(m for m in notices if "Bo Two" in m.text)
    await staff.press("Decline", message=second)
    assert (await statuses(maker))[FIRST + 1] is VolunteerStatus.DECLINED
    assert "Declined: Bo Two" in second.text
    await deliver(staff_dp, bot)
    assert told(staff, FIRST)[-1].startswith("Good news: Wulidun Community has approved")
    # A replayed press on a decided volunteer says so.
    await staff.press_data(approve, message=first)
    assert staff.answers()[-1].text == "Ann <b>One</b> has already been approved."


async def test_a_notice_not_yet_sent_for_someone_decided_meanwhile_is_withdrawn(
    staff_dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    staff = Conversation(staff_dp, bot, user_id=STAFF, language_code="en-US")
    await staff.send("/pending")
    await staff.press("Approve 1")  # Ann, decided before her notice went out
    await deliver(staff_dp, bot)
    texts = [m.text for m in staff.inbox() if "waiting for your approval" in m.text]
    assert len(texts) == len(NAMES) - 1 and not any("Ann" in t for t in texts)
    rows = {r.payload["volunteer"]: r.state for r in await notice_rows(sqlite_sessionmaker)}
    assert sorted(rows.values()).count(OutboxState.WITHDRAWN) == 1


async def test_without_staff_anywhere_above_the_admins_are_told(
    sqlite_url: str, sqlite_sessionmaker: SessionMaker
) -> None:
    tree = await load_example_tree(sqlite_sessionmaker)
    async with sqlite_sessionmaker() as session:
        await users.ensure_user(session, 6201)
        await volunteers.save(
            session,
            user_id=6201,
            admin_ids=frozenset({ADMIN}),
            draft=Draft(
                real_name="Gao Seven",
                phone="+8613812345679",
                station_id=tree["hf-ss-hp-hpmd"],
                age_group="18_35",
                privacy_consent=True,
            ),
        )
    rows = await notice_rows(sqlite_sessionmaker)
    assert [r.user_id for r in rows] == [ADMIN]
