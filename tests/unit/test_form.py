"""The form kit (ui/form.py) on a tiny form, through the real Dispatcher: steps in
order, a condition, an optional step, a parser's refusal asked again, the preview
with edit-one-field, a single-field edit that finishes, stale data and the
permission re-check on every answer and press."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n.middleware import ConstI18nMiddleware
from sqlmodel.ext.asyncio.session import AsyncSession

from services.access import Actor
from services.errors import DomainError, InvalidInput
from tests.mocked_bot import Conversation, MockedBot
from ui import form
from ui.form import EDIT, Form, Run, Step
from ui.i18n import make_i18n
from ui.keyboards.builder import InlineKeyboardBuilder


class PetStates(StatesGroup):
    name = State()
    kind = State()
    tricks = State()
    nickname = State()
    preview = State()


class PetCb(CallbackData, prefix="tpet"):
    action: str  # a kind, ok, or a field to edit


class PetPickCb(CallbackData, prefix="tpick"):
    value: int


@dataclass
class Pet:
    name: str | None = None
    kind: str | None = None
    tricks: str | None = None
    nickname: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Pet:
        return cls(**dict(data or {}))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def set_name(run: Run[Pet], text: str) -> None:
    if len(text) < 2:
        raise InvalidInput("too_short")
    run.draft.name = text


def set_tricks(run: Run[Pet], text: str) -> None:
    run.draft.tricks = text


def set_nickname(run: Run[Pet], text: str) -> None:
    run.draft.nickname = text


def pick_nickname(run: Run[Pet], value: int) -> None:
    if value > 1:
        raise InvalidInput("too_short")
    run.draft.nickname = "" if value == 0 else "Buddy"


def nicknames(run: Run[Pet]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for value, label in ((0, "None"), (1, "Buddy"), (2, "X")):
        kb.button(text=label, callback_data=PetPickCb(value=value))
    return kb.as_markup()


def kinds(run: Run[Pet]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for kind in ("cat", "dog"):
        kb.button(text=kind, callback_data=PetCb(action=kind))
    return kb.as_markup()


async def card(run: Run[Pet]) -> tuple[str, InlineKeyboardMarkup]:
    kb = InlineKeyboardBuilder()
    kb.button(text="OK", callback_data=PetCb(action="ok"))
    kb.button(text="Edit name", callback_data=PetCb(action="name"))
    kb.button(text="Edit kind", callback_data=PetCb(action="kind"))
    pet = run.draft
    return f"Pet: {pet.name}, {pet.kind}, tricks {pet.tricks}, nick {pet.nickname}", kb.as_markup()


saved_pets: list[Pet] = []


async def save(run: Run[Pet]) -> None:
    saved_pets.append(run.draft)
    await run.state.clear()
    await run.send(f"Saved {run.draft.name}")


async def only_allowed(run: Run[Pet]) -> bool:
    return run.actor is not None and run.actor.id != 666


def error_text(error: DomainError) -> str:
    return {"too_short": "Too short."}.get(error.code, "No.")


PET: Form[Pet] = Form(
    name="pet",
    steps=(
        Step("name", PetStates.name, question=lambda run: "Name?", parse=set_name),
        Step("kind", PetStates.kind, question=lambda run: "Kind?", keyboard=kinds),
        Step(
            "tricks",
            PetStates.tricks,
            question=lambda run: "Tricks?",
            parse=set_tricks,
            when=lambda pet: pet.kind == "dog",
        ),
        Step(
            "nickname",
            PetStates.nickname,
            question=lambda run: "Nickname?",
            keyboard=nicknames,
            parse=set_nickname,
            pick=pick_nickname,
            optional=True,
        ),
    ),
    load=Pet.from_dict,
    dump=Pet.to_dict,
    preview_state=PetStates.preview,
    preview=card,
    finish=save,
    error_text=error_text,
    guard=only_allowed,
)


async def start(
    message: Any, bot: Bot, state: FSMContext, session: AsyncSession, actor: Actor
) -> None:
    await PET.start(bot, message.chat.id, state, session, locale="en", draft=Pet(), actor=actor)


async def edit_name(
    message: Any, bot: Bot, state: FSMContext, session: AsyncSession, actor: Actor
) -> None:
    saved = Pet(name="Rex", kind="cat")
    await PET.start(
        bot, message.chat.id, state, session, locale="en", draft=saved, mode=EDIT, field="name"
    )


async def pressed(
    callback: CallbackQuery,
    callback_data: PetCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
    actor: Actor,
) -> None:
    run = await PET.resume(callback, bot, state, session, i18n, actor)
    if run is None:
        return
    await callback.answer()
    if callback_data.action in ("cat", "dog"):
        run.draft.kind = callback_data.action
        await run.advance("kind")
    elif callback_data.action == "ok":
        await save(run)
    else:
        await run.edit(callback_data.action)


async def picked(
    callback: CallbackQuery,
    callback_data: PetPickCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
    actor: Actor,
) -> None:
    step = PET.step_in(await state.get_state())
    run = await PET.resume(callback, bot, state, session, i18n, actor)
    if run is not None and step is not None:
        await run.picked(callback, step, callback_data.value)


def make_dispatcher(actor_id: int = 1001) -> Dispatcher:
    dp = Dispatcher(session=None, actor=Actor(actor_id))
    ConstI18nMiddleware(locale="en", i18n=make_i18n("en")).setup(dp)
    router = Router()
    router.message.register(start, F.text == "/pet")
    router.message.register(edit_name, F.text == "/rename")
    router.message.register(PET.typed, StateFilter(*PET.states(typed=True)), F.text)
    router.callback_query.register(pressed, PetCb.filter())
    router.callback_query.register(picked, PetPickCb.filter())
    dp.include_router(router)
    return dp


@pytest.fixture
def chat() -> Conversation:
    saved_pets.clear()
    return Conversation(make_dispatcher(), MockedBot(), language_code="en")


def test_steps_of_the_form() -> None:
    assert PET.missing(Pet()) == ["name", "kind"]
    assert PET.missing(Pet(name="Rex", kind="dog")) == ["tricks"]
    assert PET.next_field(Pet(name="Rex", kind="cat"), form.NEW, "kind") == "nickname"
    assert PET.next_field(Pet(name="Rex", kind="cat"), form.REVIEW, "kind") is None
    assert PET.states(typed=True) == (PetStates.name, PetStates.tricks, PetStates.nickname)
    assert PET.step_in(PetStates.kind.state) is PET.step("kind")


async def test_a_new_form_asks_in_order_and_previews(chat: Conversation) -> None:
    out = await chat.send("/pet")
    assert out[-1].text == "Name?"
    out = await chat.send("R")
    assert out[-1].text == "Too short."
    out = await chat.send("Rex")
    assert out[-1].text == "Kind?"
    out = await chat.press("dog")
    assert out[-1].text == "Tricks?"  # its condition holds
    out = await chat.send("sit")
    assert out[-1].text == "Nickname?"  # optional: asked in a new form
    out = await chat.send("Rexy")
    assert out[-1].text == "Pet: Rex, dog, tricks sit, nick Rexy"
    out = await chat.press("OK")
    assert out[-1].text == "Saved Rex"
    assert saved_pets == [Pet("Rex", "dog", "sit", "Rexy")]


async def test_edit_one_field_from_the_preview(chat: Conversation) -> None:
    await chat.send("/pet")
    await chat.send("Tom")
    await chat.press("cat")
    out = await chat.send("Tommy")
    assert out[-1].text == "Pet: Tom, cat, tricks None, nick Tommy"
    out = await chat.press("Edit name")
    assert out[-1].text == "Name?"
    out = await chat.send("Tib")
    assert out[-1].text == "Pet: Tib, cat, tricks None, nick Tommy"  # straight back
    await chat.press("Edit kind")
    out = await chat.press("dog")
    assert out[-1].text == "Tricks?"  # the change made a step necessary
    out = await chat.send("roll")
    assert out[-1].text == "Pet: Tib, dog, tricks roll, nick Tommy"


async def test_a_quick_pick_answers_a_step(chat: Conversation) -> None:
    await chat.send("/pet")
    await chat.send("Tom")
    await chat.press("cat")
    out = await chat.press("X")
    assert out[-1].text == "Too short."  # refused: the same question stays
    out = await chat.press("Buddy", message=chat.last_with_buttons())
    assert out[-1].text == "Pet: Tom, cat, tricks None, nick Buddy"


async def test_a_single_field_edit_finishes(chat: Conversation) -> None:
    out = await chat.send("/rename")
    assert out[-1].text == "Name?"
    out = await chat.send("Max")
    assert out[-1].text == "Saved Max"
    assert saved_pets == [Pet("Max", "cat")]


async def test_the_permission_is_checked_on_every_answer_and_press(
    chat: Conversation,
) -> None:
    await chat.send("/pet")
    chat.dp["actor"] = Actor(666)  # their permission went while they typed
    out = await chat.send("Rex")
    assert out[-1].text == "You do not have permission for this."
    chat.dp["actor"] = Actor(1001)
    await chat.send("Rex")
    chat.dp["actor"] = Actor(666)
    await chat.press("cat")
    assert chat.answers()[-1].text == "You do not have permission for this."
    assert chat.answers()[-1].show_alert


async def test_a_press_without_its_form_is_no_longer_active(chat: Conversation) -> None:
    await chat.send("/pet")
    await chat.send("Rex")
    key = StorageKey(bot_id=chat.bot.id, chat_id=chat.chat.id, user_id=chat.user.id)
    await chat.dp.storage.set_data(key=key, data={})
    await chat.press("cat")
    assert chat.answers()[-1].text == "This button is no longer active."
