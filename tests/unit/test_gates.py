"""bot.filters' message gates: a router is refused as a whole a message that none of
its handlers could take (not one of its commands, not in one of its states), and
only such a message."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiogram import Dispatcher, F, Router
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Chat, Message
from aiogram.types import User as TgUser

from bot.filters import inline_cheap_filters
from bot.gates import ButtonGate, MessageGate, button_gate, gate_routers, message_gate
from handlers import get_routers
from tests.mocked_bot import Conversation, MockedBot
from ui.callbacks import LanguageCb, ProfileCb


class Form(StatesGroup):
    name = State()
    phone = State()


def message(text: str | None = None, caption: str | None = None) -> Message:
    from datetime import UTC, datetime

    return Message(
        message_id=1,
        date=datetime(2026, 12, 2, tzinfo=UTC),
        chat=Chat(id=7, type="private"),
        from_user=TgUser(id=7, is_bot=False, first_name="Li"),
        text=text,
        caption=caption,
    )


def router_with(*filters: Any) -> Router:
    router = Router()

    async def handler(_: Message) -> None: ...

    router.message.register(handler, *filters)
    return router


GATE = MessageGate(frozenset({"profile", "start"}), frozenset("/"), frozenset({Form.name.state}))


@pytest.mark.parametrize(
    ("text", "caption", "raw_state", "passes"),
    [
        ("/profile", None, None, True),
        ("/PROFILE@station_test_bot and more", None, None, True),
        ("  /start inv_abc", None, None, True),  # aiogram's Command reads it so
        (None, "/profile", None, True),  # a photo's caption
        ("hello", None, Form.name.state, True),
        ("你好，请问今天有什么安排？", None, None, False),
        ("/unknown", None, None, False),
        ("/", None, None, False),
        ("profile", None, None, False),
        (None, None, None, False),  # a sticker, a contact
        ("hello", None, Form.phone.state, False),
    ],
)
async def test_a_gate_lets_through_its_commands_and_states_only(
    text: str | None, caption: str | None, raw_state: str | None, passes: bool
) -> None:
    assert await GATE(message(text, caption), raw_state=raw_state) is passes


def test_a_gate_is_read_from_commands_and_states() -> None:
    router = Router()
    router.include_routers(
        router_with(Command("Profile", prefix="/!")),
        router_with(CommandStart(deep_link=True)),
        router_with(Form.name, F.text),
        router_with(StateFilter(Form)),
    )
    gate = message_gate(router)
    assert gate == MessageGate(
        frozenset({"profile", "start"}),
        frozenset("/!"),
        frozenset({Form.name.state, Form.phone.state}),
    )


@pytest.mark.parametrize(
    "filters",
    [
        (F.text == "📋 活动",),  # a text of its own: any message may be it
        (Command(re.compile(r"page_\d+")),),
        (StateFilter("*"),),
        (StateFilter(None),),
        (),
    ],
)
def test_a_router_with_a_handler_it_cannot_read_gets_no_gate(filters: tuple[Any, ...]) -> None:
    parent = Router()
    parent.include_routers(router_with(Command("profile")), router_with(*filters))
    assert message_gate(parent) is None
    dispatcher = Dispatcher()
    dispatcher.include_router(parent)
    assert gate_routers(dispatcher)["message"] == [parent.sub_routers[0].name]


@pytest.mark.parametrize("observer", ["message", "callback_query"])
def test_every_feature_is_gated_and_the_fallback_is_not(observer: str) -> None:
    """A feature whose handler cannot be read (``F.text``, ``F.data``, any state)
    loses its gate, and the features' router with it: this names it."""
    dispatcher = Dispatcher()
    dispatcher.include_routers(*get_routers())
    inline_cheap_filters(dispatcher)
    gated = gate_routers(dispatcher)[observer]
    assert "features" in gated
    assert "fallback" not in gated and "groups" not in gated
    features = next(r for r in dispatcher.sub_routers if r.name == "features")
    handling = [r.name for r in features.chain_tail if r.observers[observer].handlers]
    assert sorted(set(handling) - set(gated)) == []


async def test_a_text_no_feature_takes_reaches_the_fallback_past_every_feature(
    chat: Conversation, bot: MockedBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback's text is tried against no feature's handler; a command and a
    dialog's answer still reach theirs."""
    tried: list[str] = []
    check = HandlerObject.check

    async def counted(self: HandlerObject, *args: Any, **kwargs: Any) -> Any:
        tried.append(self.callback.__module__)
        return await check(self, *args, **kwargs)

    monkeypatch.setattr(HandlerObject, "check", counted)
    out = await chat.send("你好，请问今天有什么安排？")
    assert out[-1].text == "发送 /help 查看可用功能。"
    features = [
        m
        for m in tried
        if m.startswith("handlers.") and m.split(".")[1] not in {"fallback", "groups", "errors"}
    ]
    assert features == []
    tried.clear()
    out = await chat.send("/help")
    assert any(m.startswith("handlers.account") for m in tried)


BUTTONS = ButtonGate(frozenset({("pf", ":"), ("lg", ":")}))


@pytest.mark.parametrize(
    ("data", "passes"),
    [("pf:station", True), ("lg:en", True), ("pf", True), ("pfx:1", False), ("zz:1", False)],
)
async def test_a_button_gate_lets_through_its_prefixes_only(data: str, passes: bool) -> None:
    press = CallbackQuery(
        id="1", from_user=TgUser(id=7, is_bot=False, first_name="Li"), chat_instance="c", data=data
    )
    assert await BUTTONS(press) is passes


def test_a_button_gate_is_read_from_callback_data_filters() -> None:
    router = Router()
    for filters in ((ProfileCb.filter(),), (Form.name, LanguageCb.filter(F.locale == "en"))):

        async def handler(_: CallbackQuery) -> None: ...

        router.callback_query.register(handler, *filters)
    assert button_gate(router) == BUTTONS

    async def own(_: CallbackQuery) -> None: ...

    router.callback_query.register(own, F.data == "refresh")
    assert button_gate(router) is None


async def test_a_button_no_feature_knows_reaches_the_fallback_past_every_feature(
    chat: Conversation, bot: MockedBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat.send("/language")
    tried: list[str] = []
    check = HandlerObject.check

    async def counted(self: HandlerObject, *args: Any, **kwargs: Any) -> Any:
        tried.append(self.callback.__module__)
        return await check(self, *args, **kwargs)

    monkeypatch.setattr(HandlerObject, "check", counted)
    await chat.press_data("zz:1")
    assert [m for m in tried if m.startswith("handlers.")] == [
        "handlers.groups",
        "handlers.fallback",
    ]
    tried.clear()
    await chat.press("English")
    assert "handlers.account.language" in tried
