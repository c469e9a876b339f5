"""THE permission matrix: every privileged command and button, pressed by every kind of
person, through the real Dispatcher. Exactly the expected ones succeed (seen in the
database or the reply); everyone else gets the one refusal and nothing changes.

Buttons are pressed with hand-made callback data, as a replayed or forged button
would be: the handler must re-check the presser in the database, never trust the data."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from aiogram import Dispatcher
from aiogram.filters.callback_data import CallbackData
from sqlmodel import func, select

from bot.app import build_dispatcher
from services import roles, users, volunteers
from services.access import Actor
from services.volunteers import Draft
from storage.db import SessionMaker
from storage.models import Invite, Role, Volunteer, VolunteerStatus
from tests.conftest import load_example_tree
from tests.mocked_bot import Conversation, MockedBot, Sent
from ui.callbacks import (
    CB_INT_MAX,
    InviteConfirmCb,
    InviteRoleCb,
    InviteStationCb,
    PendingCb,
    TeamRevokeCb,
    TeamStationCb,
)
from ui.settings import Settings

DENIED = "You do not have permission for this."

# Who presses, and what they hold. The target is Hupo Street Station (hf-ss-hp): its
# staff member 7200 (to revoke) and volunteer 7100 waiting at Wulidun, below it.
PEOPLE: dict[str, tuple[int, str | None, str | None]] = {
    # name: (telegram id, role, station code)
    "none": (7001, None, None),  # never wrote to the bot
    "volunteer": (7002, None, None),  # a registered volunteer, no role
    "staff_here": (7003, "staff", "hf-ss-hp"),
    "staff_other": (7004, "staff", "hf-ss-xy"),
    "coord_above": (7005, "coordinator", "hf-ss"),
    "coord_elsewhere": (7006, "coordinator", "hf-bh"),
    "admin": (9000, None, None),  # in ADMIN_IDS
}
ADMIN = 9000
TARGET_VOLUNTEER, TARGET_STAFF = 7100, 7200
IN_SCOPE = ("Hefei City", "Shushan District", "Hupo Street")  # the target or above it

# Y: succeeds on the target. y: the command is allowed, but the target is not in
# the person's scope. N: the refusal, and no effect.
#            none volunteer staff_here staff_other coord_above coord_elsewhere admin
MATRIX = """
/invite            N   N   N   N   Y   y   Y
/team              N   N   N   N   Y   y   Y
/pending           N   N   Y   y   Y   y   Y
invite_pick        N   N   N   N   Y   N   Y
invite_role        N   N   N   N   Y   N   Y
invite_confirm     N   N   N   N   Y   N   Y
team_open          N   N   N   N   Y   N   Y
team_revoke_ask    N   N   N   N   Y   N   Y
team_revoke        N   N   N   N   Y   N   Y
pending_approve    N   N   Y   N   Y   N   Y
pending_decline    N   N   Y   N   Y   N   Y
"""


def cases() -> list[tuple[str, str, str]]:
    found = []
    for line in MATRIX.strip().splitlines():
        action, *cells = line.split()
        assert len(cells) == len(PEOPLE), line
        found += [(action, who, cell) for who, cell in zip(PEOPLE, cells, strict=True)]
    return found


@dataclass
class World:
    dp: Dispatcher
    maker: SessionMaker
    stations: dict[str, int]
    target_role: int
    target_volunteer: int


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
    tree = await load_example_tree(sqlite_sessionmaker)
    async with sqlite_sessionmaker() as session:
        for user_id, role, code in PEOPLE.values():
            if role and code:
                await roles.grant(
                    session, user_id=user_id, role=role, station_code=code, actor_id=None
                )
        await users.ensure_user(session, PEOPLE["volunteer"][0])
        await volunteers.save(
            session,
            user_id=PEOPLE["volunteer"][0],
            draft=draft(tree["hf-ss-xy-xyxc"], "Plain Volunteer"),
        )
        await users.ensure_user(session, TARGET_VOLUNTEER)
        waiting = await volunteers.save(
            session, user_id=TARGET_VOLUNTEER, draft=draft(tree["hf-ss-hp-wyl"], "Waiting Wang")
        )
        staff, _new = await roles.grant(
            session, user_id=TARGET_STAFF, role="staff", station_code="hf-ss-hp", actor_id=None
        )
    assert waiting.status is VolunteerStatus.PENDING
    assert staff.id is not None and waiting.id is not None
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=sqlite_url,
        bot_token=None,
        admin_ids=frozenset({ADMIN}),
    )
    dp = build_dispatcher(settings=settings, sessionmaker=sqlite_sessionmaker)
    return World(dp, sqlite_sessionmaker, tree, staff.id, waiting.id)


def button(world: World, action: str) -> CallbackData:
    hp = world.stations["hf-ss-hp"]
    return {
        "invite_pick": InviteStationCb(action="p", id=hp),
        "invite_role": InviteRoleCb(station=hp, role="staff"),
        "invite_confirm": InviteConfirmCb(station=hp, role="staff", ok=True),
        "team_open": TeamStationCb(action="p", id=hp),
        "team_revoke_ask": TeamRevokeCb(role=world.target_role),
        "team_revoke": TeamRevokeCb(role=world.target_role, confirm=True),
        "pending_approve": PendingCb(volunteer=world.target_volunteer, approve=True),
        "pending_decline": PendingCb(volunteer=world.target_volunteer, approve=False),
    }[action]


async def snapshot(world: World) -> tuple[int, bool, VolunteerStatus]:
    """The effects a privileged action can have: invites, the target role, the target
    volunteer's status."""
    async with world.maker() as session:
        invites = (await session.exec(select(func.count()).select_from(Invite))).one()
        role = await session.get(Role, world.target_role)
        volunteer = await session.get(Volunteer, world.target_volunteer)
    assert volunteer is not None
    return invites, role is not None, volunteer.status


async def host_message(chat: Conversation) -> Sent:
    """A message in the presser's chat for the press to come from."""
    await chat.bot.send_message(chat.chat.id, "host")
    return chat.last()


@pytest.mark.parametrize(("action", "who", "expected"), cases())
async def test_matrix(world: World, bot: MockedBot, action: str, who: str, expected: str) -> None:
    user_id = PEOPLE[who][0]
    chat = Conversation(world.dp, bot, user_id=user_id, language_code="en-US")
    before = await snapshot(world)
    if action.startswith("/"):
        out = [m for m in await chat.send(action) if m.chat_id == user_id]
        reply = out[-1]
        if expected == "N":
            assert reply.text == DENIED and not reply.buttons()
        elif action == "/pending":
            assert reply.text != DENIED
            assert ("Waiting Wang" in reply.text) is (expected == "Y"), reply.text
        else:
            labels = [t for t, _ in reply.buttons()]
            assert labels and reply.text != DENIED
            assert any(s in t for t in labels for s in IN_SCOPE) is (expected == "Y"), labels
        assert await snapshot(world) == before
        return

    host = await host_message(chat)
    await chat.press_data(button(world, action).pack(), message=host)
    after = await snapshot(world)
    answer = chat.answers()[-1]
    if expected == "N":
        assert (answer.text, answer.show_alert) == (DENIED, True)
        assert host.text == "host" and after == before
        assert [m for m in chat.inbox() if m is not host] == []
        return
    assert answer.text != DENIED
    invites, role_held, status = before
    effect = {
        "invite_pick": lambda: "as what?" in host.text,
        "invite_role": lambda: "Role: station staff" in host.text,
        "invite_confirm": lambda: (
            after == (invites + 1, role_held, status) and "start=inv_" in chat.last().text
        ),
        "team_open": lambda: (
            "Team of" in host.text and f"Telegram user {TARGET_STAFF}" in host.text
        ),
        "team_revoke_ask": lambda: "Revoke the role" in host.text and after == before,
        "team_revoke": lambda: after == (invites, False, status),
        "pending_approve": lambda: after == (invites, role_held, VolunteerStatus.ACTIVE),
        "pending_decline": lambda: after == (invites, role_held, VolunteerStatus.DECLINED),
    }[action]
    assert effect(), (host.text, after)


async def test_a_replayed_button_after_the_role_was_revoked(world: World, bot: MockedBot) -> None:
    """A coordinator's and a staff member's own buttons stop working the moment their
    role is revoked, though the buttons are still on their screens."""
    coordinator = Conversation(world.dp, bot, user_id=PEOPLE["coord_above"][0], language_code="en")
    await coordinator.send("/team")
    await coordinator.press("Shushan")
    await coordinator.press("Hupo Street")
    await coordinator.press("Choose Hupo Street Station")
    await coordinator.press(f"Revoke Telegram user {TARGET_STAFF}")
    confirm = coordinator.last_with_buttons()
    staff = Conversation(world.dp, bot, user_id=PEOPLE["staff_here"][0], language_code="en")
    await staff.send("/pending")
    approve = staff.last_with_buttons()
    await staff.send("/invite")  # refused: staff do not manage the team
    assert staff.last().text == DENIED

    admin = Conversation(world.dp, bot, user_id=ADMIN, language_code="en")
    async with world.maker() as session:
        for name in ("coord_above", "staff_here"):
            user_id, _role, code = PEOPLE[name]
            held = [
                r
                for r in await roles.team(
                    session,
                    actor=Actor.of(ADMIN, {ADMIN}),
                    station_id=world.stations[code or ""],
                )
                if r.user_id == user_id
            ]
            await roles.revoke(
                session, actor=Actor.of(admin.user.id, {ADMIN}), role_id=held[0].role_id
            )
    before = await snapshot(world)
    await coordinator.press("Yes, revoke", message=confirm)
    assert coordinator.answers()[-1].text == DENIED
    await staff.press("Approve 1", message=approve)
    assert staff.answers()[-1].text == DENIED
    assert await snapshot(world) == before == (0, True, VolunteerStatus.PENDING)
    assert (await coordinator.send("/team"))[-1].text == DENIED
    assert (await staff.send("/pending"))[-1].text == DENIED


async def test_every_staff_payload_fits_64_bytes() -> None:
    big = CB_INT_MAX  # the largest number a button can carry
    for payload in (
        InviteStationCb(action="o", id=big, page=big),
        InviteRoleCb(station=big, role="coordinator"),
        InviteConfirmCb(station=big, role="coordinator", ok=False),
        TeamStationCb(action="p", id=big, page=big),
        TeamRevokeCb(role=big, confirm=True),
        PendingCb(volunteer=big, approve=False, page=big),
    ):
        assert len(payload.pack().encode()) <= 64, payload


# The staff commands of attendance, broadcasts, pledges and tallies: refused to people
# without a role, and opening on the person's own station (never one beside it) for
# everyone else. Their buttons re-check the presser too (see each feature's tests).
OWN_STATION = {
    "staff_here": "Hupo Street Station",
    "staff_other": "Xiyuan Street Station",
    "coord_above": "Shushan District Guidance Centre",
    "coord_elsewhere": "Baohe District Guidance Centre",
    "admin": "Hefei City Social Work Guidance Centre",
}
BESIDE = {  # a station beside theirs, which they must not be shown
    "staff_here": "Xiyuan",
    "staff_other": "Hupo",
    "coord_above": "Baohe",
    "coord_elsewhere": "Shushan",
    "admin": None,
}


@pytest.mark.parametrize("who", list(PEOPLE))
@pytest.mark.parametrize("command", ["/roster", "/broadcast", "/pledges", "/tally"])
async def test_staff_commands_of_later_features(
    world: World, bot: MockedBot, command: str, who: str
) -> None:
    user_id = PEOPLE[who][0]
    chat = Conversation(world.dp, bot, user_id=user_id, language_code="en")
    reply = [m for m in await chat.send(command) if m.chat_id == user_id][-1]
    if who in ("none", "volunteer"):
        assert reply.text == DENIED and not reply.buttons()
        return
    assert reply.text != DENIED
    own = OWN_STATION[who]
    if command == "/broadcast":
        assert [t for t, _ in reply.buttons()] == [f"{own} ›"]
    elif command == "/tally":
        assert own in reply.text
        beside = BESIDE[who]
        assert beside is None or beside not in reply.text, reply.text
