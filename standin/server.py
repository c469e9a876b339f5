"""The HTTP side: a local stand-in of the Telegram Bot API server."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from standin import api_bot, api_messages
from standin.errors import ApiError, not_found
from standin.models import Fault
from standin.params import Params, read_params
from standin.simulate import Simulator
from standin.webhook import WebhookPusher
from standin.world import Handler

__all__ = ["DOWNLOAD", "BotAPIStandin"]

# The name ``fail_next`` and ``outage(methods=...)`` know file downloads by.
DOWNLOAD = "download"

log = logging.getLogger(__name__)

_METHODS: dict[str, tuple[str, Handler]] = {
    name.lower(): (name, handler)
    for name, handler in {**api_bot.METHODS, **api_messages.METHODS}.items()
}
_MAX_BODY = api_messages.MAX_UPLOAD + 1024 * 1024


@dataclass(frozen=True)
class _Outage:
    until: float  # loop time
    error_code: int
    description: str
    drop: bool
    methods: frozenset[str] | None


class BotAPIStandin(Simulator):
    """A Telegram Bot API server on localhost with simulated users, for tests and the sandbox."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_id: int = 100000001,
        bot_username: str = "station_test_bot",
        bot_first_name: str = "Station Bot",
        strict_rate_limits: bool = False,
        call_delay: float = 0.0,
    ) -> None:
        super().__init__(
            bot_id=bot_id,
            bot_username=bot_username,
            bot_first_name=bot_first_name,
            strict_rate_limits=strict_rate_limits,
        )
        self.host = host
        self.port = port
        # Seconds every Bot API call but getUpdates waits before it takes effect and
        # is answered, like a round trip to Telegram (benchmarks/updates.py
        # --head-of-line); 0 answers at once. It may be changed while running.
        self.call_delay = call_delay
        self.faults: list[Fault] = []
        self.internal_errors: list[BaseException] = []
        self.downloads: list[str] = []  # file paths asked for, in order
        self._runner: web.AppRunner | None = None
        self._stopped = False
        self._hold: tuple[str, int] | None = None
        self._released: asyncio.Event | None = None
        self._outage: _Outage | None = None
        # Posts updates to the bot once it sets a webhook (idle until then).
        self.webhook_pusher = WebhookPusher(self)

    @property
    def base_url(self) -> str:
        """Where the server listens, for ``TelegramAPIServer.from_base``."""
        if self._runner is None:
            raise RuntimeError("the stand-in is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Listen on ``host:port`` (port 0 picks a free one)."""
        if self._runner is not None or self._stopped:
            raise RuntimeError("a BotAPIStandin can be started only once")
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            await web.SockSite(runner, sock).start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self.port = sock.getsockname()[1]
        self._runner = runner
        self.webhook_pusher.start()

    async def stop(self) -> None:
        """Release long polls and stop listening."""
        self._stopped = True
        self.updates.close()
        await self.webhook_pusher.stop()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_id``) with this error."""
        self.faults.append(
            Fault(method.lower(), error_code, description, retry_after, chat_id, times)
        )

    def outage(
        self,
        seconds: float,
        *,
        error_code: int = 502,
        description: str = "Bad Gateway",
        drop: bool = False,
        methods: Iterable[str] | None = None,
    ) -> None:
        """For the next ``seconds``, answer every call but ``getUpdates`` (or only
        ``methods``) with this error, or, with ``drop``, close the connection without
        an answer; either way the call has no effect, as when Telegram is down."""
        until = asyncio.get_running_loop().time() + seconds
        only = frozenset(m.lower() for m in methods) if methods is not None else None
        self._outage = _Outage(until, error_code, description, drop, only)

    def _out(self, method: str) -> _Outage | None:
        outage = self._outage
        if outage is None or asyncio.get_running_loop().time() >= outage.until:
            return None
        if outage.methods is None and method.lower() == "getupdates":
            return None
        if outage.methods is not None and method.lower() not in outage.methods:
            return None
        return outage

    def hold_after(self, count: int, method: str = "sendMessage") -> None:
        """Once the bot has sent ``count`` messages in all, stop answering ``method``:
        such calls are neither recorded nor answered until ``release()``, as if the
        server had gone silent (to kill the bot in the middle of a broadcast)."""
        self._hold = (method.lower(), count)
        self._released = asyncio.Event()

    def release(self) -> None:
        """Answer again. Calls held so far get a 502 and are not recorded: their
        sender may be gone, and a message must not appear twice."""
        self._hold = None
        if self._released is not None:
            self._released.set()

    async def _held(self, method: str) -> bool:
        if self._hold is None or self._released is None:
            return False
        held_method, count = self._hold
        if method.lower() != held_method or self.stats.messages_sent < count:
            return False
        self.stats.held += 1
        await self._released.wait()
        return True

    def _injected_fault(self, method: str, params: Params) -> ApiError | None:
        for fault in self.faults:
            if fault.method != method.lower():
                continue
            if fault.chat_id is not None and str(params.get("chat_id")) != str(fault.chat_id):
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self.faults.remove(fault)
            return ApiError(fault.error_code, fault.description, retry_after=fault.retry_after)
        return None

    async def _handle_method(self, request: web.Request) -> web.Response:
        if ":" not in request.match_info["token"]:
            return self._error(not_found())
        entry = _METHODS.get(request.match_info["method"].lower())
        if entry is None:
            return self._error(not_found("Not Found: method not found"))
        name, handler = entry
        if (outage := self._out(name)) is not None:
            self.stats.outage += 1
            if outage.drop and request.transport is not None:
                request.transport.abort()  # the connection drops without an answer
            return self._error(ApiError(outage.error_code, outage.description))
        try:
            params = await read_params(request)
            if self.call_delay > 0 and name != "getUpdates":
                await asyncio.sleep(self.call_delay)
            self.stats.requests += 1
            self.requests.append((name, params.loggable()))
            if (fault := self._injected_fault(name, params)) is not None:
                raise fault
            if await self._held(name):
                raise ApiError(502, "Bad Gateway")
            result = await handler(self, params)
        except ApiError as error:
            return self._error(error)
        except web.HTTPRequestEntityTooLarge:
            return self._error(ApiError(413, "Request Entity Too Large"))
        except Exception as error:
            log.exception("stand-in failed on %s", name)
            self.internal_errors.append(error)
            return self._error(ApiError(500, f"Internal Server Error: {error!r}"))
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """A download (``/file/bot<token>/<file_path>``). It meets an ``outage`` and
        faults set with ``fail_next(DOWNLOAD, ...)`` like a method does."""
        if (outage := self._out(DOWNLOAD)) is not None:
            self.stats.outage += 1
            if outage.drop and request.transport is not None:
                request.transport.abort()
            return self._error(ApiError(outage.error_code, outage.description))
        path = request.match_info["path"]
        self.downloads.append(path)
        if (fault := self._injected_fault(DOWNLOAD, Params({}))) is not None:
            return self._error(fault)
        file = self.files_by_path.get(path)
        if ":" not in request.match_info["token"] or file is None:
            return self._error(not_found())
        return web.Response(body=file.content, content_type="application/octet-stream")

    def _error(self, error: ApiError) -> web.Response:
        if error.error_code == 429:
            self.stats.too_many_requests += 1
        return web.json_response(error.payload(), status=error.error_code)

    def __repr__(self) -> str:
        state: Any = self.base_url if self._runner is not None else "not started"
        return f"<BotAPIStandin {state} users={len(self.users)} chats={len(self.chats)}>"
