"""Unexpected errors reach the admins: the person gets the usual apology, and every
admin gets one alert per error kind per hour (queued in the outbox under a key of the
kind and the hour), in their own language, without anything the person wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiogram import Dispatcher
from sqlmodel import col, select

from bot.app import build_dispatcher
from services import alerts, outbox, users, volunteers
from services.errors import DomainError
from storage.db import SessionMaker
from storage.models import Outbox
from tests.conftest import load_example_tree, settings_for
from tests.delivery_helpers import delivered
from tests.mocked_bot import Conversation, MockedBot

ADMIN_ZH, ADMIN_EN = 9101, 9102
PERSON = 3301
SECRET = "王小明 13812345678"
SORRY_ZH = "抱歉，系统出了点问题"
SORRY_EN = "Sorry, something went wrong on our side"
T0 = datetime(2026, 12, 2, 6, 5, tzinfo=UTC)


async def _broken(*args: object, **kwargs: object) -> None:
    raise RuntimeError(f"cannot read {SECRET}")


async def _also_broken(*args: object, **kwargs: object) -> None:
    raise KeyError(SECRET)


async def _refused(*args: object, **kwargs: object) -> None:
    raise DomainError("not_allowed")


def make_dp(url: str, maker: SessionMaker, tmp_path: Path) -> Dispatcher:
    settings = settings_for(url, data_dir=tmp_path / "data").model_copy(
        update={"admin_ids": frozenset({ADMIN_ZH, ADMIN_EN})}
    )
    return build_dispatcher(settings=settings, sessionmaker=maker)


@pytest.fixture
async def alert_dp(
    sqlite_url: str, sqlite_sessionmaker: SessionMaker, tmp_path: Path
) -> Dispatcher:
    await load_example_tree(sqlite_sessionmaker)
    async with sqlite_sessionmaker() as session:  # the admins have written to the bot
        await users.visit(session, ADMIN_ZH, "zh_CN")
        await users.visit(session, ADMIN_EN, "en")
    return make_dp(sqlite_url, sqlite_sessionmaker, tmp_path)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The time the alerts are stamped with; tests move it."""
    now = [T0]
    monkeypatch.setattr(alerts, "utcnow", lambda: now[0])
    return now


async def alert_rows(maker: SessionMaker) -> list[Outbox]:
    async with maker() as session:
        query = select(Outbox).where(Outbox.kind == alerts.KIND).order_by(col(Outbox.id))
        return list((await session.exec(query)).all())


async def test_each_admin_gets_one_alert_per_kind_per_hour(
    alert_dp: Dispatcher,
    bot: MockedBot,
    sqlite_sessionmaker: SessionMaker,
    monkeypatch: pytest.MonkeyPatch,
    clock: list[datetime],
) -> None:
    chat = Conversation(alert_dp, bot, user_id=PERSON, language_code="zh-hans")
    monkeypatch.setattr(volunteers, "get", _broken)

    out = await chat.send(f"/help {SECRET}")
    assert [m.chat_id for m in out] == [PERSON]
    assert SORRY_ZH in out[0].text
    rows = await alert_rows(sqlite_sessionmaker)
    assert sorted(r.user_id for r in rows) == [ADMIN_ZH, ADMIN_EN]
    kind = rows[0].payload
    assert kind["error"] == "RuntimeError"
    assert kind["where"].startswith("handlers.account.help.show_help:")
    assert kind["update_type"] == "message" and kind["user_id"] == PERSON
    assert kind["count"] == 1
    assert all(r.key.startswith(alerts.PREFIX) and ":2026120206:" in r.key for r in rows)
    assert SECRET not in repr([r.payload for r in rows])

    # The same error again within the hour: the person is answered, no new alert.
    clock[0] = T0 + timedelta(minutes=50)
    out = await chat.send("/help")
    assert SORRY_ZH in out[0].text
    assert len(await alert_rows(sqlite_sessionmaker)) == 2

    # Another kind of error: alerts of its own.
    monkeypatch.setattr(volunteers, "get", _also_broken)
    await chat.send("/help")
    rows = await alert_rows(sqlite_sessionmaker)
    assert len(rows) == 4
    assert {r.payload["error"] for r in rows[2:]} == {"KeyError"}

    # The next hour: the first kind again, counting the failure held back before.
    monkeypatch.setattr(volunteers, "get", _broken)
    clock[0] = T0 + timedelta(hours=1)
    await chat.send("/help")
    rows = await alert_rows(sqlite_sessionmaker)
    assert len(rows) == 6
    assert {r.payload["error"] for r in rows[4:]} == {"RuntimeError"}
    assert all(":2026120207:" in r.key for r in rows[4:])
    assert {r.payload["count"] for r in rows[4:]} == {2}

    # The deliverer sends them, each in its admin's language; nothing the person wrote.
    sent = await delivered(alert_dp, bot)
    to_zh = [m.text for m in sent if m.chat_id == ADMIN_ZH]
    to_en = [m.text for m in sent if m.chat_id == ADMIN_EN]
    assert len(to_zh) == len(to_en) == 3
    assert all(
        t.startswith("⚠️ 意外错误：") and "handlers.account.help.show_help:" in t for t in to_zh
    )
    assert all(t.startswith("⚠️ Unexpected error:") for t in to_en)
    assert "RuntimeError" in to_en[0] and "KeyError" in to_en[1]
    assert f"from user {PERSON}" in to_en[0] and "Beijing time" in to_en[0]
    assert "北京时间" in to_zh[0]
    assert "since its last alert of this error: 2" in to_en[2]
    assert not any("王小明" in t or "13812345678" in t for t in to_zh + to_en)
    assert not any(m.chat_id not in (ADMIN_ZH, ADMIN_EN) for m in sent)


async def test_two_workers_alert_once_an_hour_between_them(
    alert_dp: Dispatcher,
    sqlite_url: str,
    sqlite_sessionmaker: SessionMaker,
    bot: MockedBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clock: list[datetime],
) -> None:
    other = make_dp(sqlite_url, sqlite_sessionmaker, tmp_path)
    monkeypatch.setattr(volunteers, "get", _broken)
    for dp, user_id in ((alert_dp, PERSON), (other, PERSON + 1)):
        out = await Conversation(dp, bot, user_id=user_id, language_code="en").send("/help")
        assert SORRY_EN in out[0].text
    rows = await alert_rows(sqlite_sessionmaker)
    assert sorted(r.user_id for r in rows) == [ADMIN_ZH, ADMIN_EN]
    assert {r.payload["user_id"] for r in rows} == {PERSON}


async def test_domain_errors_and_no_admins_queue_nothing(
    alert_dp: Dispatcher,
    sqlite_url: str,
    sqlite_sessionmaker: SessionMaker,
    bot: MockedBot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(volunteers, "get", _refused)
    out = await Conversation(alert_dp, bot, user_id=PERSON).send("/help")
    assert SORRY_ZH in out[0].text
    assert await alert_rows(sqlite_sessionmaker) == []
    settings = settings_for(sqlite_url, data_dir=tmp_path / "data")
    lonely = build_dispatcher(settings=settings, sessionmaker=sqlite_sessionmaker)
    monkeypatch.setattr(volunteers, "get", _broken)
    out = await Conversation(lonely, bot, user_id=PERSON).send("/help")
    assert SORRY_ZH in out[0].text
    assert await alert_rows(sqlite_sessionmaker) == []


async def test_a_failure_to_queue_the_alert_leaves_the_answer_alone(
    alert_dp: Dispatcher,
    bot: MockedBot,
    sqlite_sessionmaker: SessionMaker,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def outbox_down(*args: object, **kwargs: object) -> int:
        raise ConnectionError("database is gone")

    monkeypatch.setattr(volunteers, "get", _broken)
    monkeypatch.setattr(outbox, "enqueue", outbox_down)
    out = await Conversation(alert_dp, bot, user_id=PERSON, language_code="en").send("/help")
    assert [m.chat_id for m in out] == [PERSON]
    assert SORRY_EN in out[0].text
    assert "could not queue the admins' alert" in caplog.text
    assert await alert_rows(sqlite_sessionmaker) == []


def test_the_kind_is_the_class_and_the_innermost_frame_of_our_code() -> None:
    def fail() -> None:
        alerts.hour_key  # noqa: B018  (a line of this test, not of the bot)
        raise ValueError(SECRET)

    try:
        fail()
    except ValueError as error:
        kind = alerts.kind_of(error)
    assert kind.error == "ValueError"
    # No frame of the bot's own packages: the innermost frame stands in.
    assert kind.module == "test_error_alerts" and kind.function == "fail"
    assert SECRET not in kind.label
    key = alerts.hour_key(kind, datetime(2026, 12, 2, 14, 59, tzinfo=UTC), 7)
    assert key == f"alert:{kind.digest}:2026120214:7"
    # The hour is UTC's, whatever the zone of the moment given.
    shanghai = datetime(2026, 12, 2, 22, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert alerts.hour_key(kind, shanghai, 7) == key
