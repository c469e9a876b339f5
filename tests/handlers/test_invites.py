"""/invite and /start inv_<token> through the real Dispatcher."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from aiogram import Dispatcher
from sqlalchemy import update
from sqlmodel import col, select

from bot.app import build_dispatcher
from services import roles
from storage.db import SessionMaker
from storage.models import AuditLog, Invite, Role, RoleKind
from storage.types import utcnow
from tests.conftest import load_example_tree
from tests.delivery_helpers import deliver
from tests.mocked_bot import Conversation, MockedBot
from ui.settings import Settings

ADMIN = 9000
LINK = re.compile(r"https://t\.me/station_test_bot\?start=(inv_[A-Za-z0-9_-]+)")


@pytest.fixture
async def staff_dp(sqlite_url: str, sqlite_sessionmaker: SessionMaker) -> Dispatcher:
    """The real dispatcher on SQLite with the example tree and one admin."""
    await load_example_tree(sqlite_sessionmaker)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=sqlite_url,
        bot_token=None,
        admin_ids=frozenset({ADMIN}),
    )
    return build_dispatcher(settings=settings, sessionmaker=sqlite_sessionmaker)


def person(dp: Dispatcher, bot: MockedBot, user_id: int) -> Conversation:
    return Conversation(dp, bot, user_id=user_id, language_code="en-US")


async def make_link(admin: Conversation, *walk: str, role: str = "station staff") -> str:
    await admin.send("/invite")
    for name in walk:
        await admin.press(name)
    await admin.press(role)
    out = await admin.press("Create the link")
    match = LINK.search(out[-1].text)
    assert match, out[-1].text
    return match.group(1)


async def test_admin_invites_and_the_link_works_once(
    staff_dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    admin = person(staff_dp, bot, ADMIN)
    out = await admin.send("/invite")
    assert "Invite someone to which station?" in out[-1].text
    assert [t for t, _ in out[-1].buttons()] == ["Hefei City Social Work Guidance Centre ›"]
    await admin.press("Hefei")
    await admin.press("Shushan")
    await admin.press("Hupo Street Station")
    view = admin.last_with_buttons()
    assert "Shushan District Guidance Centre › Hupo Street Station" in view.text
    assert any("Choose Hupo Street Station" in t for t, _ in view.buttons())
    await admin.press("Choose Hupo Street Station")
    view = admin.last_with_buttons()
    assert "as what?" in view.text
    assert [t for t, _ in view.buttons()][:2] == ["station staff", "coordinator"]
    await admin.press("station staff")
    preview = admin.last_with_buttons()
    assert "Invitation" in preview.text
    assert "Station: Hefei City Social Work Guidance Centre › Shushan" in preview.text
    assert "Hupo Street Station" in preview.text and "Role: station staff" in preview.text
    out = await admin.press("Create the link")
    assert len(out) == 1 and "works once" in out[0].text
    match = LINK.search(out[0].text)
    assert match and len(match.group(1)) <= 64
    token = match.group(1)
    assert not preview.buttons()  # the preview cannot be pressed twice by accident

    invitee = person(staff_dp, bot, 3003)
    await invitee.send(f"/start {token}")
    welcome = invitee.last().text
    assert "You are now station staff of" in welcome
    assert "Hupo Street Station" in welcome and "Welcome to the volunteer" not in welcome
    await deliver(staff_dp, bot)
    assert "Your invitation was used" in admin.last().text

    late = person(staff_dp, bot, 3004)
    out = await late.send(f"/start {token}")
    assert out[-1].text == "This invitation link has already been used. Please ask for a new one."

    async with sqlite_sessionmaker() as session:
        held = (await session.exec(select(Role))).all()
        invite = (await session.exec(select(Invite))).one()
        actions = (await session.exec(select(AuditLog.action).order_by(AuditLog.id))).all()
    assert [(r.user_id, r.role) for r in held] == [(3003, RoleKind.STAFF)]
    assert invite.used_by == 3003 and token.removeprefix("inv_") not in invite.token_hash
    assert [a for a in actions if a.startswith(("invite.", "role."))] == [
        "invite.created",
        "role.granted",
        "invite.used",
    ]


async def test_unknown_and_expired_links(
    staff_dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    admin = person(staff_dp, bot, ADMIN)
    token = await make_link(admin, "Hefei", "Shushan", "Choose Shushan")
    async with sqlite_sessionmaker() as session:
        await session.exec(update(Invite).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    invitee = person(staff_dp, bot, 3005)
    out = await invitee.send(f"/start {token}")
    assert out[-1].text == "This invitation link has expired. Please ask for a new one."
    out = await invitee.send("/start inv_notarealtoken")
    assert out[-1].text == "This invitation link is not valid. Please ask for a new one."
    async with sqlite_sessionmaker() as session:
        assert (await session.exec(select(Role))).all() == []
    # the plain /start still begins a registration
    out = await invitee.send("/start")
    assert "Welcome to the volunteer station" in out[-1].text


async def test_coordinator_invites_in_their_subtree_only(
    staff_dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    async with sqlite_sessionmaker() as session:
        await roles.grant(
            session, user_id=4001, role="coordinator", station_code="hf-ss", actor_id=None
        )
    coordinator = person(staff_dp, bot, 4001)
    out = await coordinator.send("/invite")
    assert [t for t, _ in out[-1].buttons()] == ["Shushan District Guidance Centre ›"]
    await coordinator.press("Shushan")
    back = [d for t, d in coordinator.last_with_buttons().buttons() if "Back" in t]
    assert back == ["iv:o:0:0"]  # back goes to the top of their scope, not above it
    token = await make_link(
        coordinator, "Shushan", "Nanqi Street", "Nanqi Community", role="coordinator"
    )
    invitee = person(staff_dp, bot, 4002)
    await invitee.send(f"/start {token}")
    assert "You are now coordinator of" in invitee.last().text
    assert "Nanqi Community" in invitee.last().text
    async with sqlite_sessionmaker() as session:
        granted = (await session.exec(select(Role).where(col(Role.user_id) == 4002))).one()
    assert granted.role is RoleKind.COORDINATOR and granted.granted_by == 4001


async def test_cancelling_the_preview_makes_no_link(
    staff_dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    admin = person(staff_dp, bot, ADMIN)
    await admin.send("/invite")
    await admin.press("Hefei")
    await admin.press("Baohe")
    await admin.press("Wanghu")
    await admin.press("Wangcheng")
    await admin.press("coordinator")
    await admin.press("Cancel")
    assert admin.last().text == "Cancelled. No link was made."
    async with sqlite_sessionmaker() as session:
        assert (await session.exec(select(Invite))).all() == []


async def test_staff_help_lists_the_staff_commands(
    staff_dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    async with sqlite_sessionmaker() as session:
        await roles.grant(
            session, user_id=4101, role="staff", station_code="hf-ss-xy", actor_id=None
        )
    volunteer_help = (await person(staff_dp, bot, 4100).send("/help"))[-1].text
    staff_help = (await person(staff_dp, bot, 4101).send("/help"))[-1].text
    admin_help = (await person(staff_dp, bot, ADMIN).send("/help"))[-1].text
    assert "/pending" not in volunteer_help and "/invite" not in volunteer_help
    assert "/pending" in staff_help and "/invite" not in staff_help
    assert all(c in admin_help for c in ("/invite", "/team", "/pending"))
