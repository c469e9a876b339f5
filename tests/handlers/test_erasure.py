"""/delete_me through the Dispatcher: seats are given up and the waitlist moves up,
queued messages are withdrawn, and a certificate issued before verifies as issued,
then withdrawn; never as forged."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from aiogram import Dispatcher
from pydantic import SecretStr
from sqlmodel import col, select

from bot.app import build_dispatcher
from bot.database import prepare as _migrate
from services import certificates
from storage.db import SessionMaker
from storage.models import Outbox, OutboxState, Signup, SignupStatus
from storage.types import utcnow
from tests.conftest import load_example_tree, settings_for
from tests.delivery_helpers import deliver
from tests.factories import make_activity
from tests.handlers.test_activities import people, station_ids
from tests.handlers.test_hours import ALL_TIME, SHANGHAI, needs_font, volunteer, year_start
from tests.mocked_bot import Conversation, MockedBot
from tests.storage.test_hours import HOME, credited
from ui.settings import Settings


async def _join(person: Conversation, title: str) -> None:
    await person.send("/activities")
    await person.press(title)
    await person.press("Join")


async def _statuses(maker: SessionMaker, activity_id: int) -> list[tuple[int, SignupStatus]]:
    async with maker() as session:
        query = select(Signup.volunteer_id, Signup.status).where(Signup.activity_id == activity_id)
        return [(v, s) for v, s in (await session.exec(query.order_by(col(Signup.id)))).all()]


async def test_erasure_gives_up_seats_and_the_waitlist_moves_up(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    home = (await station_ids(maker))[HOME]
    leaving, waiting, seated = await people(dp, bot, maker, home, [11, 12, 13])
    now = utcnow()
    patrol = await make_activity(maker, home, now=now, capacity=1, title="River patrol")
    fair = await make_activity(
        maker, home, now=now, capacity=1, starts_in=timedelta(days=4), title="Street fair"
    )
    await _join(leaving, "River patrol")  # a seat
    await _join(waiting, "River patrol")  # waits for it
    await _join(seated, "Street fair")
    await _join(leaving, "Street fair")  # on the waitlist

    out = await leaving.send("/delete_me")
    screen = out[-1].text
    assert "upcoming activities" in screen and "next person waiting" in screen
    assert "Certificates issued to you" in screen and "withdrawn" in screen
    out = await leaving.press("Yes, erase")
    assert "has been erased" in out[-1].text

    patrol_rows = await _statuses(maker, patrol)
    fair_rows = await _statuses(maker, fair)
    # The seat is free and offered to the next in line; the waitlist place is gone.
    assert [s for _, s in patrol_rows] == [SignupStatus.CANCELLED, SignupStatus.OFFERED]
    assert [s for _, s in fair_rows] == [SignupStatus.CONFIRMED, SignupStatus.CANCELLED]
    async with maker() as session:
        theirs = (await session.exec(select(Outbox).where(Outbox.user_id == 11))).all()
    assert [(row.kind, row.state) for row in theirs if row.state is OutboxState.PENDING] == []

    await deliver(dp, bot)
    offers = [m.text for m in waiting.inbox() if "A seat opened" in m.text]
    assert len(offers) == 1 and "River patrol" in offers[0]
    assert [m.text for m in leaving.inbox()][-1] == out[-1].text  # nothing after erasure


@needs_font
async def test_a_certificate_issued_before_erasure_verifies_as_withdrawn(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    person, vid = await volunteer(dp, bot, maker, 721)
    home = (await station_ids(maker))[HOME]
    await credited(maker, home, vid, year_start() + timedelta(hours=2), 90, "巡河护河")
    await person.send("/certificate")
    out = await person.press_data(ALL_TIME)
    [sent] = [m for m in out if m.document is not None]
    found = re.search(r"VS(?:-[0-9A-Z]{4}){3}", sent.text)
    assert found is not None
    code = found.group(0)

    stranger = Conversation(dp, bot, user_id=799, language_code="en")
    assert "genuine certificate" in (await stranger.send(f"/verify {code}"))[-1].text

    out = await person.send("/delete_me")
    assert "Certificates issued to you" in out[-1].text
    await person.press("Yes, erase")

    answer = (await stranger.send(f"/verify {code}"))[-1].text
    assert "not a genuine" not in answer and "never" not in answer
    assert "was issued here" in answer and "withdrawn" in answer
    assert "erased their data" in answer
    assert "Issued on:" in answer
    assert "志愿者" not in answer  # the holder is no longer named


async def test_certificate_codes_survive_a_new_bot_token(
    sqlite_url: str, sqlite_sessionmaker: SessionMaker, bot: MockedBot
) -> None:
    """Codes issued under the key derived from the old token keep verifying after the
    token is rotated: the first start after the upgrade stores that key."""
    maker = sqlite_sessionmaker
    old_token, new_token = "111:OLD-LEAKED-TOKEN", "222:NEW-TOKEN"
    before = settings_for(sqlite_url).model_copy(update={"bot_token": SecretStr(old_token)})
    old_key = hashlib.sha256(b"certificate:" + old_token.encode()).digest()
    dp = build_dispatcher(settings=before, sessionmaker=maker)
    await load_example_tree(maker)
    _person, vid = await volunteer(dp, bot, maker, 731)
    home = (await station_ids(maker))[HOME]
    await credited(maker, home, vid, year_start() + timedelta(hours=2), 60, "巡河")
    async with maker() as session:
        issued = await certificates.issue(
            session=session,
            user_id=731,
            period=certificates.all_time(utcnow().astimezone(SHANGHAI).date()),
            key=old_key,  # as the bot did before the key was stored
            default_zone=SHANGHAI,
            locale="en",
            now=utcnow(),
        )

    await _migrate(before)  # the first start of the new version, still on the old token
    after: Settings = before.model_copy(update={"bot_token": SecretStr(new_token)})
    rotated = build_dispatcher(settings=after, sessionmaker=maker)
    stranger = Conversation(rotated, bot, user_id=798, language_code="en")
    code = certificates.display_code(issued.code)
    answer = (await stranger.send(f"/verify {code}"))[-1].text
    assert "genuine certificate" in answer and "not a genuine" not in answer
