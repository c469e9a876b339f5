"""SENTRY_DSN: when set, `run` and `serve` set Sentry up before the bot starts and the
error handler reports unexpected errors to it; without it the SDK is never imported.
The tests that set Sentry up close its client at the end, leaving it off for others."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Dispatcher
from aiohttp import web

from bot import cli, sentry
from bot.database import UsageError
from services import volunteers
from storage.db import SessionMaker
from tests.conftest import ROOT, load_example_tree, settings_for
from tests.mocked_bot import Conversation, MockedBot
from ui.settings import Settings

WRITTEN = "王小明 13812345678 住在幸福路"


async def _broken(*args: object, **kwargs: object) -> None:
    raise RuntimeError("the volunteer table is unreadable")


@pytest.fixture
def sentry_off() -> Iterator[None]:
    """Whatever the test sets up, Sentry is off again after it."""
    yield
    import sentry_sdk

    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
    assert not sentry_sdk.is_initialized()


@pytest.fixture
async def collector() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A local stand-in for Sentry: the DSN pointing at it, and the envelopes posted."""
    envelopes: list[bytes] = []

    async def envelope(request: web.Request) -> web.Response:
        envelopes.append(await request.read())  # aiohttp undoes the transport's gzip
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/api/1/envelope/", envelope)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://publickey@127.0.0.1:{port}/1", envelopes
    finally:
        await runner.cleanup()


def events(envelopes: list[bytes]) -> list[dict[str, Any]]:
    """The error events of the envelopes (each a header line, then item header and
    payload lines)."""
    found = []
    for body in envelopes:
        lines = body.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                found.append(json.loads(payload))
    return found


async def test_an_unexpected_error_reaches_sentry_without_what_the_person_wrote(
    sqlite_url: str,
    sqlite_sessionmaker: SessionMaker,
    tmp_path: Path,
    bot: MockedBot,
    monkeypatch: pytest.MonkeyPatch,
    collector: tuple[str, list[bytes]],
    sentry_off: None,
) -> None:
    import sentry_sdk

    dsn, envelopes = collector
    await load_example_tree(sqlite_sessionmaker)
    settings = settings_for(sqlite_url, data_dir=tmp_path / "data").model_copy(
        update={"sentry_dsn": Settings.model_validate({"sentry_dsn": dsn}).sentry_dsn}
    )
    assert sentry.start(settings)
    dp: Dispatcher = cli.build_dispatcher(settings=settings, sessionmaker=sqlite_sessionmaker)
    monkeypatch.setattr(volunteers, "get", _broken)
    out = await Conversation(dp, bot, user_id=3401, language_code="en").send(f"/help {WRITTEN}")
    assert "Sorry, something went wrong" in out[0].text
    # The transport posts from a thread of its own; the server answers on this loop.
    await asyncio.to_thread(sentry_sdk.flush, 5)
    found = events(envelopes)
    assert found, "no event reached the stand-in"
    # The error handler's own report, not (only) the log line of the error.
    reported = [event for event in found if "logentry" not in event]
    assert len(reported) == 1
    (value,) = reported[0]["exception"]["values"]
    assert value["type"] == "RuntimeError"
    assert value["value"] == "the volunteer table is unreadable"
    assert {event["release"] for event in found} == {"0.1.0"}
    for event in found:  # the source lines around each frame are code, not data
        for value in event.get("exception", {}).get("values", []):
            for frame in value.get("stacktrace", {}).get("frames", []):
                assert "vars" not in frame  # no frame's locals
                for key in ("pre_context", "context_line", "post_context"):
                    frame.pop(key, None)
    data = json.dumps(found, ensure_ascii=False)
    assert "王小明" not in data and "13812345678" not in data and "幸福路" not in data


def test_a_dsn_sentry_cannot_read_stops_the_command(sentry_off: None) -> None:
    import sentry_sdk

    settings = Settings.model_validate({"sentry_dsn": "http://127.0.0.1:9/1"})  # no key
    with pytest.raises(UsageError, match="SENTRY_DSN"):
        sentry.start(settings)
    assert not sentry_sdk.is_initialized()


def test_without_a_dsn_the_sdk_is_never_imported() -> None:
    """In a fresh interpreter: the command line, the dispatcher, the error handler's
    report and Sentry's start all run without loading sentry_sdk; with a DSN it is
    loaded (so the check can see it)."""
    script = textwrap.dedent(
        """
        import asyncio, sys
        from aiogram.types import Update
        import bot.__main__, bot.cli
        from bot import sentry
        from bot.app import build_dispatcher
        from handlers.errors import report_to_sentry
        from storage.db import make_engine, make_sessionmaker
        from ui.settings import Settings

        dsn = sys.argv[1] or None
        settings = Settings(_env_file=None, database_url="sqlite:///unused.db", sentry_dsn=dsn)
        build_dispatcher(settings=settings, sessionmaker=make_sessionmaker(make_engine(
            settings.database_url)))
        started = sentry.start(settings)
        report_to_sentry(RuntimeError("boom"))
        print(started, "sentry_sdk" in sys.modules)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "SENTRY_DSN"}

    def run(dsn: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", script, dsn],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout.strip()

    assert run("") == "False False"
    assert run("http://publickey@127.0.0.1:9/1") == "True True"


@pytest.mark.parametrize("command", ["run", "serve"])
async def test_run_and_serve_start_sentry_before_the_bot(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps: list[str] = []

    async def prepare(settings: Settings, **kwargs: object) -> None:
        steps.append("prepare")

    def start(settings: Settings) -> bool:
        steps.append("sentry")
        return True

    async def bot_runs(*args: object, **kwargs: object) -> None:
        steps.append("bot")

    monkeypatch.setattr(cli, "prepare", prepare)
    monkeypatch.setattr(cli.sentry, "start", start)
    monkeypatch.setattr(cli, "_poll", bot_runs)
    monkeypatch.setattr(cli.webhook, "serve", bot_runs)
    settings = Settings.model_validate(
        {
            "bot_token": "123:abc",
            "database_url": f"sqlite:///{tmp_path / 'bot.db'}",
            "webhook_url": "https://bot.example.org/hook",
            "webhook_secret": "s3cret",
        }
    )
    assert await getattr(cli, command)(settings) == 0
    assert steps == ["prepare", "sentry", "bot"]
