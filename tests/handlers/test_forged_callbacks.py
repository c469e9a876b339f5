"""Forged buttons with numbers no row, page or date could have (2**31 and beyond,
negative): every factory refuses them where the data is parsed, so the person is told
"no longer active" and no handler, query or date computation ever sees them."""

from __future__ import annotations

import logging

import pytest
from aiogram import Dispatcher

from bot.app import build_dispatcher
from storage.db import SessionMaker
from tests.callback_catalog import factories, field_kind, pack, valid_values
from tests.conftest import load_example_tree
from tests.mocked_bot import Conversation, MockedBot
from ui.settings import Settings

ADMIN = 9000
STALE = "This button is no longer active."
OUT_OF_RANGE = (2**31, 2**63, 2**64, 10**30, -1)


@pytest.fixture
async def admin_dp(sqlite_url: str, sqlite_sessionmaker: SessionMaker) -> Dispatcher:
    await load_example_tree(sqlite_sessionmaker)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=sqlite_url,
        bot_token=None,
        quiet_hours="off",
        admin_ids=frozenset({ADMIN}),
    )
    return build_dispatcher(settings=settings, sessionmaker=sqlite_sessionmaker)


def forged() -> list[tuple[str, str]]:
    """(what, data) for every int field of every factory and every bad number."""
    cases = []
    for factory in factories():
        base = next(iter(valid_values(factory, {"station": 1}, default_int=1)))
        for name in factory.model_fields:
            if field_kind(factory, name) != "int":
                continue
            for value in OUT_OF_RANGE:
                data = pack(factory, {**base, name: value})
                cases.append((f"{factory.__prefix__}.{name}={value}", data))
    return cases


async def test_out_of_range_numbers_in_any_button_are_no_longer_active(
    admin_dp: Dispatcher, bot: MockedBot, caplog: pytest.LogCaptureFixture
) -> None:
    admin = Conversation(admin_dp, bot, user_id=ADMIN, language_code="en")
    await admin.send("/help")
    screen = admin.last()
    wrong = []
    cases = forged()
    assert len(cases) > 300
    for what, data in cases:
        caplog.clear()
        before = len(admin.answers())
        sent = await admin.press_data(data, message=screen)
        answers = [a.text for a in admin.answers()[before:]]
        crashed = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        if answers != [STALE] or sent or crashed:
            wrong.append((what, answers, [m.text[:40] for m in sent], crashed[:1]))
    assert wrong == [], f"{len(wrong)} of {len(cases)}: {wrong[:10]}"


async def test_a_forged_quick_start_time_is_no_longer_active(
    admin_dp: Dispatcher, bot: MockedBot, caplog: pytest.LogCaptureFixture
) -> None:
    admin = Conversation(admin_dp, bot, user_id=ADMIN, language_code="en")
    await admin.send("/new_activity")
    await admin.press("Hefei City")
    await admin.press("Garbage sorting")
    await admin.send("Sorting duty")
    await admin.press("Skip")
    out = await admin.send("East gate")
    assert "When does it start?" in out[-1].text
    for value in (2**31, 2**40, 2**63, 10**20, -1):
        before = len(admin.answers())
        assert await admin.press_data(f"aq:s:{value}", message=out[-1]) == []
        assert [a.text for a in admin.answers()[before:]] == [STALE]
    # The dialog is where it was: a real pick still works.
    out = await admin.press("Tomorrow 09:00", message=out[-1])
    assert "When does it end?" in out[-1].text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
