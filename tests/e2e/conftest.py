"""The real bot polling the local Bot API stand-in over HTTP, on each database backend."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher

from bot.app import build_bot, build_dispatcher, poll
from standin.models import SentMessage
from standin.server import BotAPIStandin
from storage.db import SessionMaker
from tests.conftest import load_example_tree, settings_for

log = logging.getLogger(__name__)


def tasks() -> str:
    """Where every asyncio task is waiting: what a stuck bot is stuck on."""
    out = io.StringIO()
    for task in asyncio.all_tasks():
        out.write(f"--- {task.get_name()}\n")
        task.print_stack(limit=12, file=out)
    return out.getvalue()


@dataclass
class Live:
    standin: BotAPIStandin
    bot: Bot
    dispatcher: Dispatcher
    sessionmaker: SessionMaker
    stations: dict[str, int]


class LiveChat:
    """A person in the stand-in, waiting for what the bot answers over real HTTP."""

    def __init__(self, standin: BotAPIStandin, user_id: int, language_code: str) -> None:
        self.standin, self.user_id = standin, user_id
        standin.add_user(user_id, f"User{user_id}", language_code=language_code)

    async def _expect(
        self,
        act: Callable[[], object],
        expect: str,
        timeout: float = 10,  # noqa: ASYNC109
    ) -> SentMessage:
        mark = self.standin.mark(self.user_id)
        act()

        def shows(message: SentMessage) -> bool:
            labels = (b.get("text", "") for b in message.buttons())
            return expect in message.plain_text or any(expect in label for label in labels)

        try:
            return await self.standin.wait_for_message(
                self.user_id, predicate=shows, after=mark, timeout=timeout
            )
        except TimeoutError:
            log.warning("no answer to %s within %s s; tasks:\n%s", self.user_id, timeout, tasks())
            raise

    async def say(self, text: str, expect: str) -> SentMessage:
        return await self._expect(lambda: self.standin.send_text(self.user_id, text), expect)

    async def press(
        self,
        label: str,
        expect: str,
        timeout: float = 10,  # noqa: ASYNC109
    ) -> SentMessage:
        """Press the newest button labelled with ``label``, waiting for it to be shown."""

        def has_label(message: SentMessage) -> bool:
            return any(label in b.get("text", "") for b in message.buttons())

        await self.standin.wait_for_message(self.user_id, predicate=has_label, timeout=10)
        target = next(m for m in reversed(self.standin.messages(self.user_id)) if has_label(m))
        button = next(b for b in target.buttons() if label in b.get("text", ""))
        return await self._expect(
            lambda: self.standin.press(self.user_id, target.message_id, button["callback_data"]),
            expect,
            timeout,
        )

    async def share_phone(self, phone: str, expect: str) -> SentMessage:
        return await self._expect(lambda: self.standin.share_contact(self.user_id, phone), expect)


@pytest.fixture
async def live(db_url: str, sessionmaker: SessionMaker, tmp_path: Path) -> AsyncIterator[Live]:
    stations = await load_example_tree(sessionmaker)
    async with BotAPIStandin() as standin:
        bot = build_bot("123456:E2E-TEST", standin.base_url)
        settings = settings_for(db_url, data_dir=tmp_path / "data")
        dispatcher = build_dispatcher(settings=settings, sessionmaker=sessionmaker)
        polling = asyncio.create_task(
            poll(dispatcher, bot, settings, handle_signals=False, polling_timeout=1)
        )
        try:
            yield Live(standin, bot, dispatcher, sessionmaker, stations)
        finally:
            with contextlib.suppress(RuntimeError):
                await dispatcher.stop_polling()
            await asyncio.wait_for(polling, timeout=10)
        assert standin.internal_errors == []
