"""`volunteer-bot serve`: the bot answering updates that the Bot API stand-in posts
to its webhook with the secret token, as Telegram does (bot/webhook.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot
from pydantic import SecretStr

from bot import leader, webhook
from bot.__main__ import main
from bot.app import build_bot, build_dispatcher
from standin.server import BotAPIStandin
from storage.db import SessionMaker
from tests.conftest import load_example_tree, settings_for
from tests.e2e.conftest import LiveChat
from tests.e2e.processes import all_taken, bot_environment, free_port, start_bot

SECRET = "s3cret_Token-1"
TOKEN = "123456:HOOK-TEST"


def requests_of(standin: BotAPIStandin, method: str) -> list[dict[str, object]]:
    return [params for name, params in standin.requests if name == method]


@dataclass
class Hooked:
    standin: BotAPIStandin
    bot: Bot
    url: str


@pytest.fixture
async def hooked(db_url: str, sessionmaker: SessionMaker, tmp_path: Path) -> AsyncIterator[Hooked]:
    await load_example_tree(sessionmaker)
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    async with BotAPIStandin() as standin:
        bot = build_bot(TOKEN, standin.base_url)
        settings = settings_for(db_url, data_dir=tmp_path / "data").model_copy(
            update={
                "webhook_url": url,
                "webhook_secret": SecretStr(SECRET),
                "webhook_listen_port": port,
            }
        )
        dispatcher = build_dispatcher(settings=settings, sessionmaker=sessionmaker)
        stop = asyncio.Event()
        serving = asyncio.create_task(webhook.serve(dispatcher, bot, settings, stop=stop))
        try:
            for _ in range(200):
                if standin.webhook_url or serving.done():
                    break
                await asyncio.sleep(0.05)
            if serving.done():
                serving.result()  # its error, if it failed to start
            yield Hooked(standin, bot, url)
        finally:
            stop.set()
            await asyncio.wait_for(serving, timeout=30)
        assert standin.internal_errors == []


async def test_a_volunteer_registers_over_the_webhook(hooked: Hooked) -> None:
    standin = hooked.standin
    assert standin.webhook_url == hooked.url
    assert standin.webhook_secret == SECRET
    allowed = requests_of(standin, "setWebhook")[-1]["allowed_updates"]
    assert isinstance(allowed, list) and {"message", "callback_query"} <= set(allowed)
    chat = LiveChat(standin, 6001, "en")
    await chat.say("/start", "Welcome")
    await chat.press("English", "real name")
    await chat.say("Han Meimei", "mobile phone")
    await chat.say("+86 139 1234 5678", "Choose your home station")
    # Every update went to the webhook once and was taken the first time (the bot
    # answers a post when its handler is done, just after the reply went out).
    await all_taken(standin)
    assert standin.webhook_pusher.rejections == []
    assert standin.webhook_pusher.posted == 4
    # getUpdates conflicts while the webhook is set, as on Telegram.
    async with aiohttp.ClientSession() as http:
        answer = await http.post(f"{standin.base_url}/bot{TOKEN}/getUpdates")
        assert answer.status == 409


@pytest.mark.parametrize("header", [None, "wrong"], ids=["no-secret", "wrong-secret"])
async def test_a_post_without_the_secret_is_refused_and_logged(
    hooked: Hooked, header: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    hooked.standin.add_user(6002, "Mallory", language_code="en")
    update = {
        "update_id": 999_001,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": 6002, "type": "private", "first_name": "Mallory"},
            "from": {"id": 6002, "is_bot": False, "first_name": "Mallory"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    headers = {webhook.SECRET_HEADER: header} if header else {}
    with caplog.at_level(logging.WARNING, logger="bot.webhook"):
        async with aiohttp.ClientSession() as http:
            answer = await http.post(hooked.url, json=update, headers=headers)
            assert answer.status == 401
    assert any("refused a post" in r.getMessage() for r in caplog.records)
    await asyncio.sleep(0.3)
    assert hooked.standin.messages(6002) == []  # nothing was handled


def test_serve_without_the_webhook_settings_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("WEBHOOK_URL", "WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/bot.db")
    assert main(["serve"]) == 2
    assert "WEBHOOK_URL" in capsys.readouterr().err


def test_a_malformed_secret_is_refused_by_the_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WEBHOOK_SECRET", "has spaces!")
    assert main(["serve"]) == 2
    assert "WEBHOOK_SECRET" in capsys.readouterr().err


async def _webhook_set(standin: BotAPIStandin, times: int) -> None:
    for _ in range(600):
        if len(requests_of(standin, "setWebhook")) >= times:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the worker never set the webhook")


async def test_serve_as_deployed_and_an_update_outlives_a_killed_worker(tmp_path: Path) -> None:
    """A separate `volunteer-bot serve` process answers; killed with SIGKILL, it
    answers nothing, the stand-in keeps the update and posts it again, and the worker
    started in its place answers it."""
    port, health_port = free_port(), free_port()
    async with BotAPIStandin() as standin:
        chat = LiveChat(standin, 6003, "zh-hans")
        env = bot_environment(
            standin,
            f"sqlite:///{tmp_path}/serve.db",
            BOT_TOKEN=TOKEN,
            WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_LISTEN_PORT=str(port),
            HEALTH_PORT=str(health_port),
        )
        first = await start_bot("serve", env, tmp_path)
        second: asyncio.subprocess.Process | None = None
        try:
            await _webhook_set(standin, 1)
            await chat.say("/start", "欢迎")
            help_text = (await chat.say("/help", "/help")).plain_text
            await all_taken(standin)
            first.send_signal(signal.SIGKILL)
            await first.wait()
            mark = standin.mark(6003)
            standin.send_text(6003, "/help")
            await asyncio.sleep(1.5)  # posted, refused (nobody listens), kept
            assert any(status is None for _, status in standin.webhook_pusher.rejections)
            assert standin.changes(6003, after=mark) == []
            second = await start_bot("serve", env, tmp_path)
            await _webhook_set(standin, 2)
            reply = await standin.wait_for_message(6003, after=mark, timeout=60)
            assert reply.plain_text == help_text
            async with aiohttp.ClientSession() as http:
                ready = await http.get(f"http://127.0.0.1:{health_port}/readyz")
                assert ready.status == 200
            await all_taken(standin)
            assert len(standin.changes(6003, after=mark)) == 1  # answered once
        finally:
            for process in (first, second):
                if process is not None and process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            outputs = []
            for process in (first, second):
                if process is not None:
                    output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
                    outputs.append(output.decode())
        assert second is not None and second.returncode == 0, outputs[-1]
        assert "Traceback" not in outputs[-1]
        with contextlib.suppress(IndexError):
            assert "Traceback" not in outputs[0]


async def test_of_two_workers_one_sends_and_the_other_takes_over_when_it_stops(
    db_url: str, sessionmaker: SessionMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leader, "RETRY_SECONDS", 0.2)
    await load_example_tree(sessionmaker)
    settings = settings_for(db_url, data_dir=tmp_path / "data")
    async with BotAPIStandin() as standin:
        workers = []
        for _ in range(2):
            bot = build_bot(TOKEN, standin.base_url)
            dispatcher = build_dispatcher(
                settings=settings, sessionmaker=sessionmaker, elect_sender=True
            )
            await dispatcher.emit_startup(bot=bot)
            workers.append((dispatcher, bot))

        async def senders() -> list[int]:
            for _ in range(100):
                running = [n for n, (d, _) in enumerate(workers) if d["deliverer"].running]
                if running:
                    await asyncio.sleep(0.5)  # time for a second one, were it to start
                    return [n for n, (d, _) in enumerate(workers) if d["deliverer"].running]
                await asyncio.sleep(0.05)
            return []

        try:
            first = await senders()
            assert len(first) == 1
            sender, _ = workers[first[0]]
            await sender.emit_shutdown()
            assert not sender["deliverer"].running
            second = await senders()
            assert second == [1 - first[0]]
        finally:
            for dispatcher, bot in workers:
                await dispatcher.emit_shutdown()
                await bot.session.close()
