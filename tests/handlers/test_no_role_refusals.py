"""Permission first, everywhere: a person with no role who presses any button, with
the id of something that exists but is not theirs or with an id that exists nowhere,
gets the same answer, so no button tells a stranger what exists. Walks every
callback factory (tests/callback_catalog.py) with every text value its buttons use."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
from aiogram import Dispatcher
from sqlmodel import select

from bot.app import build_dispatcher
from services import activities, pledges, roles, users, volunteers
from services.volunteers import Draft
from storage.db import SessionMaker
from storage.models import Signup, VolunteerStatus
from storage.types import utcnow
from tests.callback_catalog import factories, id_kind, pack, valid_values
from tests.conftest import load_example_tree
from tests.factories import make_activity
from tests.mocked_bot import Conversation, MockedBot, Sent
from ui.settings import Settings

ADMIN = 9000
VOLUNTEER, STRANGER = 7301, 7302  # a volunteer with no role; someone never seen
OWNER, WAITING, STAFF = 7401, 7402, 7403  # whose things the others press at
MISSING = 987_654


@dataclass
class World:
    dp: Dispatcher
    existing: dict[str, int]


def draft(station_id: int, name: str) -> Draft:
    return Draft(
        real_name=name,
        phone="+8613812345678",
        station_id=station_id,
        age_group="18_35",
        privacy_consent=True,
    )


@pytest.fixture
async def world(sqlite_url: str, sqlite_sessionmaker: SessionMaker) -> World:
    maker = sqlite_sessionmaker
    tree = await load_example_tree(maker)
    now = utcnow()
    # Things in Baohe district, far from the volunteer's Xiyuan community.
    activity_id = await make_activity(maker, tree["hf-bh-wh"], now=now, capacity=5)
    async with maker() as session:
        for user_id in (VOLUNTEER, OWNER, WAITING):
            await users.ensure_user(session, user_id)
        await volunteers.save(
            session, user_id=VOLUNTEER, draft=draft(tree["hf-ss-xy-xyxc"], "Vera")
        )
        owner = await volunteers.save(session, user_id=OWNER, draft=draft(tree["hf-bh-wh"], "Owen"))
        waiting = await volunteers.save(
            session, user_id=WAITING, draft=draft(tree["hf-ss-hp-wyl"], "Wang")
        )
        role, _new = await roles.grant(
            session, user_id=STAFF, role="staff", station_code="hf-bh", actor_id=None
        )
    assert owner.status is VolunteerStatus.ACTIVE and waiting.status is VolunteerStatus.PENDING
    async with maker() as session:
        await activities.join(session, user_id=OWNER, activity_id=activity_id, now=now)
        signup = (await session.exec(select(Signup))).one()
    async with maker() as session:
        pledge = await pledges.create(
            session,
            user_id=OWNER,
            activity_id=None,
            amount_fen=5_000,
            anonymous=False,
            token=pledges.new_token(),
            ceiling_fen=500_000,
            now=now,
        )
    assert signup.id is not None and role.id is not None and waiting.id is not None
    existing = {
        "activity": activity_id,
        "volunteer": waiting.id,
        "signup": signup.id,
        "pledge": pledge.view.id,
        "role": role.id,
        "station": tree["hf-bh"],
    }
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=sqlite_url,
        bot_token=None,
        quiet_hours="off",
        admin_ids=frozenset({ADMIN}),
    )
    return World(build_dispatcher(settings=settings, sessionmaker=maker), existing)


async def outcome(chat: Conversation, data: str, ids: dict[str, int]) -> tuple[object, ...]:
    """What the presser sees: the button's answer, new messages and the host's text,
    with the ids pressed written as #."""
    await chat.bot.send_message(chat.chat.id, "host")
    host: Sent = chat.last()
    before = len(chat.answers())
    sent = await chat.press_data(data, message=host)
    answers = [(a.text, bool(a.show_alert)) for a in chat.answers()[before:]]

    def plain(text: str | None) -> str | None:
        for number in sorted({str(i) for i in ids.values()}, key=len, reverse=True):
            text = text.replace(number, "#") if text else text
        return text

    return (
        [(plain(t), alert) for t, alert in answers],
        [plain(m.text) for m in sent],
        plain(host.text),
    )


@pytest.mark.parametrize("who", [VOLUNTEER, STRANGER], ids=["volunteer", "stranger"])
async def test_every_button_answers_a_stranger_alike_for_existing_and_missing_ids(
    world: World, bot: MockedBot, caplog: pytest.LogCaptureFixture, who: int
) -> None:
    chat = Conversation(world.dp, bot, user_id=who, language_code="en")
    missing = {"missing": MISSING}
    differing, walked = [], 0
    for factory in factories():
        for values in valid_values(factory, world.existing):
            existing_data = pack(factory, values)
            forged = {k: MISSING if id_kind(factory, k) else v for k, v in values.items()}
            missing_data = pack(factory, forged)
            if missing_data == existing_data:
                continue  # no id in this button
            walked += 1
            seen = await outcome(chat, existing_data, world.existing)
            unseen = await outcome(chat, missing_data, missing)
            if seen != unseen:
                differing.append((existing_data, seen, unseen))
    assert walked > 60
    assert differing == [], f"{len(differing)} of {walked}: {differing}"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
