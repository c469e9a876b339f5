"""TELEGRAM_PROXY: `volunteer-bot run` reaches the Bot API (here the local stand-in)
through an HTTP CONNECT proxy, and a proxy that is not there stops it with one line."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from standin.server import BotAPIStandin
from tests.e2e.processes import bot_environment, free_port, start_bot
from ui.settings import Settings

TOKEN = "123456:PROXY-TEST"


class ConnectProxy:
    """A tiny HTTP CONNECT proxy: it opens the tunnel asked for, counts it, and pipes
    the bytes both ways until either side closes."""

    def __init__(self) -> None:
        self.tunnels: list[str] = []  # host:port of every CONNECT
        self.bytes_piped = 0
        self.port = 0
        self._writers: set[asyncio.StreamWriter] = set()

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(65536):
                self.bytes_piped += len(chunk)
                sink.write(chunk)
                await sink.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            sink.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            if method != "CONNECT":
                writer.write(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                return
            host, port = target.rsplit(":", 1)
            upstream_reader, upstream = await asyncio.open_connection(host, int(port))
            self._writers.add(upstream)
            self.tunnels.append(target)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(self._pipe(reader, upstream), self._pipe(upstream_reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ConnectProxy]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            server.close()
            for writer in self._writers:
                writer.close()
            await server.wait_closed()


def _environment(standin: BotAPIStandin, tmp_path: Path, proxy: str) -> dict[str, str]:
    return bot_environment(
        standin, f"sqlite:///{tmp_path}/proxy.db", BOT_TOKEN=TOKEN, TELEGRAM_PROXY=proxy
    )


async def test_run_answers_through_the_proxy(tmp_path: Path) -> None:
    async with BotAPIStandin() as standin, ConnectProxy().running() as proxy:
        standin.add_user(7101, "Li", language_code="zh-hans")
        env = _environment(standin, tmp_path, f"http://127.0.0.1:{proxy.port}")
        process = await start_bot("run", env, tmp_path)
        try:
            standin.send_text(7101, "/start")
            reply = await standin.wait_for_message(7101, timeout=60)
            assert "欢迎" in reply.plain_text
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, output.decode()
        assert b"Traceback" not in output
        # Every request went through a tunnel to the stand-in, none around the proxy.
        stand_in = standin.base_url.removeprefix("http://").rstrip("/")
        assert proxy.tunnels and set(proxy.tunnels) == {stand_in}
        assert proxy.bytes_piped > 0


async def test_run_with_a_proxy_that_is_not_there_stops_with_one_line(tmp_path: Path) -> None:
    async with BotAPIStandin() as standin:
        closed = free_port()  # nothing listens there
        env = _environment(standin, tmp_path, f"socks5://keeper:hunter2@127.0.0.1:{closed}")
        process = await start_bot("run", env, tmp_path)
        try:
            output, _ = await asyncio.wait_for(process.communicate(), timeout=90)
        finally:
            if process.returncode is None:  # it did not stop: it must not outlive the test
                process.kill()
                await process.wait()
    text = output.decode()
    assert process.returncode == 2, text
    assert "Traceback" not in text
    [line] = [line for line in text.splitlines() if line.startswith("volunteer-bot:")]
    assert f"through the proxy socks5://keeper:***@127.0.0.1:{closed}" in line
    assert "cannot reach" in line
    assert "hunter2" not in text
    assert standin.requests == []  # the bot never got past the proxy


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("https://proxy.example:443", "must start with"),
        ("ftp://proxy.example:21", "must start with"),
        ("socks5://proxy.example", "host and port"),
        ("http://proxy.example:port", "must look like"),
    ],
)
def test_a_proxy_setting_that_cannot_work_is_refused(
    given: str, problem: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_PROXY", given)
    with pytest.raises(ValidationError, match=problem):
        Settings()


def test_the_proxy_setting_is_secret_and_shown_without_its_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_PROXY", "socks5://keeper:hunter2@proxy.example:1080")
    settings = Settings()
    assert "hunter2" not in repr(settings)
    assert settings.proxy_shown() == "socks5://keeper:***@proxy.example:1080"
    monkeypatch.setenv("TELEGRAM_PROXY", "")
    assert Settings().telegram_proxy is None
