"""The sandbox: the real bot on SQLite, a local stand-in of the Bot API, and a chat
in this terminal. No Telegram account and no network needed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from importlib import resources
from importlib.resources.abc import Traversable

from aiogram import Bot, Dispatcher
from aiogram.filters import Command, StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey

from bot.app import build_bot, build_dispatcher, make_app_engine, poll
from bot.database import keep_certificate_key, load_tree
from services import stations
from standin.server import BotAPIStandin
from standin.terminal import AwaitingText, run_terminal
from storage import migrate
from storage.db import make_engine, make_sessionmaker
from ui.settings import Settings

SANDBOX_TOKEN = "123456:SANDBOX-TOKEN"
BANNER = (
    "sandbox: type a message (try /start). Buttons show as [1], [2] ...: type a number to "
    "press one. When the bot asks you to type a number, a number is your answer; #2 "
    "presses button 2 anyway. /quit leaves."
)


def _state_names(states: Iterable[object]) -> set[str]:
    names: set[str] = set()
    for state in states:
        if isinstance(state, State) and state.state not in (None, "*"):
            names.add(state.state)
        elif isinstance(state, str) and state != "*":
            names.add(state)
        elif isinstance(state, type) and issubclass(state, StatesGroup):
            names.update(state.__all_states_names__)
    return names


def typed_answer_states(dispatcher: Dispatcher) -> frozenset[str]:
    """The dialog states in which a handler takes a typed message other than a
    command: there the bot waits for the person to type an answer."""
    found: set[str] = set()
    for router in dispatcher.chain_tail:
        for handler in router.message.handlers:
            filters = [f.callback for f in handler.filters or ()]
            if any(isinstance(f, Command) for f in filters):
                continue
            for f in filters:
                if isinstance(f, State):
                    found |= _state_names([f])
                elif isinstance(f, StateFilter):
                    found |= _state_names(f.states)
    return frozenset(found)


def awaiting_text(dispatcher: Dispatcher, bot: Bot, user_id: int) -> AwaitingText:
    """Whether the person's dialog waits for typed text (for the terminal)."""
    states = typed_answer_states(dispatcher)
    key = StorageKey(bot_id=bot.id, chat_id=user_id, user_id=user_id)

    async def probe() -> bool:
        return await dispatcher.storage.get_state(key) in states

    return probe


def example_tree() -> Traversable:
    """The example station tree shipped with the bot (package data of ``bot``)."""
    return resources.files("bot").joinpath("example_stations.yaml")


async def seed_stations(settings: Settings, source: Traversable) -> int:
    """Load a station tree into an empty database; returns stations created."""
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            if await stations.all_stations(session):
                return 0
            return (await stations.import_tree(session, load_tree(source))).created
    finally:
        await engine.dispose()


async def run_sandbox(settings: Settings, *, user_id: int, language: str) -> int:
    # The person at the terminal may try everything, staff commands included.
    settings = settings.model_copy(update={"admin_ids": settings.admin_ids | {user_id}})
    await migrate.upgrade(settings.database_url)
    await keep_certificate_key(settings)
    created = await seed_stations(settings, settings.sandbox_stations or example_tree())
    engine = make_app_engine(settings)
    async with BotAPIStandin() as standin:
        standin.add_user(user_id, "Sandbox", language_code=language)
        bot = build_bot(SANDBOX_TOKEN, standin.base_url)
        dispatcher = build_dispatcher(settings=settings, sessionmaker=make_sessionmaker(engine))
        polling = asyncio.create_task(
            poll(dispatcher, bot, settings, handle_signals=False, polling_timeout=1)
        )
        print(
            f"sandbox: database {settings.database_url}"
            + (f", {created} example stations loaded" if created else "")
        )
        print(BANNER)
        chatting = asyncio.create_task(
            run_terminal(
                standin,
                user_id=user_id,
                awaiting_text=awaiting_text(dispatcher, bot, user_id),
            )
        )
        try:
            await asyncio.wait({polling, chatting}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            chatting.cancel()
            with contextlib.suppress(RuntimeError):
                await dispatcher.stop_polling()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(asyncio.shield(polling), timeout=5)
            await engine.dispose()
    if polling.done() and not polling.cancelled() and polling.exception() is not None:
        raise RuntimeError(f"the bot stopped: {polling.exception()!r}")
    return 0
