"""/audit through the Dispatcher: a coordinator reads the latest changes of their
subtree as sentences (who, what, when in the station's zone, before → after), narrows
them to an activity or a person, and pages; others are refused."""

from __future__ import annotations

from datetime import timedelta

from aiogram import Dispatcher

from services import backfill, roles
from services.access import Actor
from storage.db import SessionMaker
from storage.types import utcnow
from tests.factories import make_activity
from tests.handlers.test_roster import NO_PERMISSION, STAFF, STATION, grant, station_id
from tests.mocked_bot import Conversation, MockedBot
from ui.callbacks import AuditCb

COORDINATOR = 9301
OTHER = "hf-ss-hp-wyl"  # another street of the district


async def late(maker: SessionMaker, activity: int, name: str, minutes: int = 30) -> None:
    async with maker() as session:
        await backfill.record_on_behalf(
            session,
            actor=Actor(STAFF),
            activity_id=activity,
            name=name,
            phone=None,
            minutes=minutes,
        )


async def test_a_coordinator_reads_filters_and_pages(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    here, there = await station_id(maker), await station_id(maker, OTHER)
    await grant(maker, STAFF)
    await grant(maker, STAFF, OTHER)
    async with maker() as session:
        await roles.grant(
            session, user_id=COORDINATOR, role="coordinator", station_code="hf-ss-xy", actor_id=None
        )
    now = utcnow()
    tea = await make_activity(
        maker, here, now=now, capacity=5, starts_in=-timedelta(hours=1), title="Tea"
    )
    walk = await make_activity(
        maker, here, now=now, capacity=5, starts_in=-timedelta(hours=1), title="Walk"
    )
    far = await make_activity(
        maker, there, now=now, capacity=5, starts_in=-timedelta(hours=1), title="Far away"
    )
    await late(maker, far, "Elsewhere")
    for n in range(9):
        await late(maker, tea, f"Person {n}", 10 + n)
    await late(maker, walk, "Person 0", 45)

    coordinator = Conversation(dp, bot, user_id=COORDINATOR, language_code="en")
    out = await coordinator.send("/audit")
    text = out[-1].text
    assert "<b>Audit log</b>" in text and "Changes 1–8 of 12, newest first" in text
    assert (
        "Telegram user 9101 added Person 0 to the records of «Walk» on their behalf: "
        "not recorded → present · 45 min"
    ) in text
    assert "Xiyuan Xincun Community" in text
    assert "Elsewhere" not in text and "Far away" not in text  # another street

    out = await coordinator.press("Next ›")
    text = coordinator.last().text
    assert "Changes 9–12 of 12" in text and "Person 1 to the records of «Tea»" in text
    # The roles granted on the command line, here and above; not the other street's.
    assert "The system made Telegram user 9101 station staff" in text
    assert "The system made Telegram user 9301 coordinator" in text
    assert text.count("The system made") == 2

    await coordinator.press_data(AuditCb().pack())
    await coordinator.press("🔎 Walk")
    text = coordinator.last().text
    assert "Only the activity «Walk»" in text and "Changes 1–1 of 1" in text
    await coordinator.press("‹ All changes")
    await coordinator.press("👤 Person 0")
    text = coordinator.last().text
    assert "Only about Person 0" in text and "Changes 1–2 of 2" in text
    assert "«Walk»" in text and "«Tea»" in text

    # An activity of another street is not theirs to filter on.
    await coordinator.press_data(AuditCb(activity=far).pack())
    assert coordinator.answers()[-1].text == "This activity no longer exists."


async def test_staff_and_strangers_are_refused(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    await grant(maker, STAFF)
    for user_id in (STAFF, 2399):
        person = Conversation(dp, bot, user_id=user_id, language_code="en")
        out = await person.send("/audit")
        assert NO_PERMISSION in out[-1].text
        await person.press_data(AuditCb(page=1).pack(), message=out[-1])
        assert person.answers()[-1].text == NO_PERMISSION
    assert STATION
