"""Three `volunteer-bot serve` workers on PostgreSQL and Redis behind the stand-in's
stand-in of a load balancer: 300 volunteers register and join one activity of 100
seats at once; then one worker is killed mid-traffic and the others carry on with
nothing lost."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from standin.models import SentMessage
from standin.server import BotAPIStandin
from storage.db import SessionMaker
from storage.models import Signup, SignupStatus, Volunteer, VolunteerStatus
from tests.conftest import load_example_tree
from tests.dbtools import PG_SKIP, PG_URL
from tests.e2e.conftest import LiveChat
from tests.e2e.processes import Workers, all_taken
from tests.factories import make_activity

TOKEN = "123456:WORKERS-TEST"
PEOPLE = 300
SEATS = 100
TITLE = "Riverside clean-up"
FIRST_ID = 820_000_001
WAITLIST = re.compile(r"number (\d+) on the waitlist")

REDIS = os.environ.get("TEST_REDIS_URL")
# Without Redis each worker keeps its own per-person lock: a person's next update can
# reach another worker before the last one's dialog state is written, and is answered
# as out of place. Several workers need REDIS_URL (README, `serve`).
pytestmark = [
    pytest.mark.skipif(not PG_URL, reason=PG_SKIP),
    pytest.mark.skipif(not REDIS, reason="TEST_REDIS_URL not set: Redis tests skipped"),
]


class Patient(LiveChat):
    """A person who waits longer for each answer: 300 of them talk at once, on two
    cores shared with three workers."""

    async def say(self, text: str, expect: str) -> SentMessage:
        return await self._expect(lambda: self.standin.send_text(self.user_id, text), expect, 120)

    async def press(self, label: str, expect: str, timeout: float = 120) -> SentMessage:  # noqa: ASYNC109
        return await super().press(label, expect, timeout)


def person_name(n: int) -> str:
    """A real name (no digits in names): Han Aa, Han Ba, ..."""
    return f"Han {chr(65 + n % 26)}{chr(97 + n // 26 % 26)}"


async def register(chat: Patient, name: str) -> None:
    await chat.say("/start", "Welcome")
    await chat.press("English", "real name")
    await chat.say(name, "mobile phone")
    await chat.say(f"+86 139 {chat.user_id % 10000:04d} {chat.user_id % 7919:04d}", "home station")
    await chat.press("Hefei", "Hefei")
    await chat.press("Baohe", "Baohe")
    await chat.press("Wanghu", "Wanghu")
    await chat.press("Choose Wanghu", "Which skills")
    await chat.press("Done", "age group")
    await chat.press("18 to 35", "Privacy notice")
    await chat.press("I agree", "Please check")
    await chat.press("Confirm", "You are now registered")


async def join(chat: Patient) -> SentMessage:
    await chat.say("/activities", TITLE)
    details = await chat.press(TITLE, "Join")  # "Join", or "Join the waitlist" when full

    def answered(message: SentMessage) -> bool:
        text = message.plain_text
        return "You have a seat" in text or WAITLIST.search(text) is not None

    mark = chat.standin.mark(chat.user_id)
    button = next(b for b in details.buttons() if "Join" in b.get("text", ""))
    chat.standin.press(chat.user_id, details.message_id, button["callback_data"])
    return await chat.standin.wait_for_message(
        chat.user_id, predicate=answered, after=mark, timeout=120
    )


async def test_three_workers_register_and_seat_three_hundred_then_lose_one(
    db_url: str, sessionmaker: SessionMaker, tmp_path: Path
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several workers share PostgreSQL")
    stations = await load_example_tree(sessionmaker)
    await make_activity(
        sessionmaker, stations["hf-bh-wh"], now=datetime.now(UTC), capacity=SEATS, title=TITLE
    )
    async with BotAPIStandin() as standin:
        workers = Workers(standin, db_url, tmp_path, token=TOKEN, env={"REDIS_URL": str(REDIS)})
        chats = [Patient(standin, FIRST_ID + n, "en") for n in range(PEOPLE)]
        try:
            await workers.start()
            await asyncio.gather(*(register(c, person_name(n)) for n, c in enumerate(chats)))
            # Every update went to one worker once and was taken the first time: none
            # was handled twice. Each worker had its share.
            pusher = standin.webhook_pusher
            assert pusher.rejections == []
            sent = pusher.posted
            assert len(pusher.posted_to) == 3 and min(pusher.posted_to.values()) > sent / 6

            # Everyone joins at once; a worker dies with SIGKILL while they do.
            joining = asyncio.gather(*(join(c) for c in chats))
            await asyncio.sleep(1.0)
            workers.processes[1].send_signal(signal.SIGKILL)
            answers = await joining
            await all_taken(standin)  # nothing lost: every update was taken
            # The kill fell in the traffic: posts to the dead worker failed and went on
            # to the others.
            assert any(status is None for _, status in pusher.rejections)
        except BaseException:
            sys.stderr.write(workers.logs())
            raise
        finally:
            await workers.stop()
        assert standin.internal_errors == []

    seated = [a for a in answers if "You have a seat" in a.plain_text]
    positions = sorted(int(m.group(1)) for a in answers if (m := WAITLIST.search(a.plain_text)))
    assert len(seated) == SEATS
    assert positions == list(range(1, PEOPLE - SEATS + 1))
    async with sessionmaker() as session:
        active = (
            await session.exec(
                select(Volunteer).where(col(Volunteer.status) == VolunteerStatus.ACTIVE)
            )
        ).all()
        signups = (await session.exec(select(Signup))).all()
    assert len(active) == PEOPLE
    assert sum(s.status is SignupStatus.CONFIRMED for s in signups) == SEATS
    waiting = sorted(
        (s for s in signups if s.status is SignupStatus.WAITLISTED), key=lambda s: s.queued_at
    )
    assert len(waiting) == PEOPLE - SEATS
    # The numbers people were told are the order the waitlist keeps.
    told = {a.chat_id: int(m.group(1)) for a in answers if (m := WAITLIST.search(a.plain_text))}
    by_volunteer = {v.id: v.user_id for v in active if v.id is not None and v.user_id}
    assert [told[by_volunteer[s.volunteer_id]] for s in waiting] == list(
        range(1, PEOPLE - SEATS + 1)
    )
