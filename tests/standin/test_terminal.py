"""The sandbox terminal client, driven by a scripted input function."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable
from pathlib import Path

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)

from bot.sandbox import awaiting_text, typed_answer_states
from standin import BotAPIStandin
from standin.terminal import InputFunc, run_terminal

from .conftest import ALICE, RunRouter


def demo_router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        buttons = [
            InlineKeyboardButton(text="A", callback_data="pick:a"),
            InlineKeyboardButton(text="B", callback_data="pick:b"),
        ]
        markup = InlineKeyboardMarkup(inline_keyboard=[buttons])
        await message.answer("<b>Pick</b> one", parse_mode="HTML", reply_markup=markup)

    @router.callback_query(F.data.startswith("pick:"))
    async def pick(query: CallbackQuery) -> None:
        await query.answer("ok")
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"picked {query.data}")

    @router.message(Command("phone"))
    async def phone(message: Message) -> None:
        rows = [[KeyboardButton(text="Share", request_contact=True), KeyboardButton(text="Skip")]]
        await message.answer("phone?", reply_markup=ReplyKeyboardMarkup(keyboard=rows))

    @router.message(F.contact)
    async def contact(message: Message) -> None:
        assert message.contact is not None
        card = BufferedInputFile(message.contact.phone_number.encode(), filename="card.txt")
        await message.answer_document(card, caption="card")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    return router


def scripted(standin: BotAPIStandin, lines: Iterable[str], prompts: list[str]) -> InputFunc:
    pending = iter(lines)

    async def read(prompt: str) -> str:
        prompts.append(prompt)
        await standin.wait_idle(ALICE, quiet=0.15)
        try:
            return next(pending)
        except StopIteration:
            raise EOFError from None

    return read


async def test_terminal_session(
    standin: BotAPIStandin, run_router: RunRouter, tmp_path: Path
) -> None:
    await run_router(demo_router())
    out, prompts = io.StringIO(), []
    lines = ["/start", "1", "/phone", "1", "+8613800000000", "\\2", "hello"]
    await run_terminal(
        standin,
        user_id=ALICE,
        input_func=scripted(standin, lines, prompts),
        output=out,
        download_dir=tmp_path,
    )
    text = out.getvalue()
    assert "← Pick one\n  [1] A  [2] B\n" in text
    assert "· ok" in text
    assert "↻ picked pick:a" in text
    assert "  ⌨ [1] ☎ Share  [2] Skip" in text
    assert "phone: " in prompts
    saved = saved_files(tmp_path)
    assert [content for _, content in saved] == [b"+8613800000000"]
    assert f"📎 {saved[0][0]}" in text
    assert "echo: 2" in text and "echo: hello" in text
    assert "\x1b[" not in text  # no ANSI codes when not a TTY


def saved_files(folder: Path) -> list[tuple[Path, bytes]]:
    return [(path, path.read_bytes()) for path in folder.iterdir()]


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_quit_and_bold_on_tty(
    standin: BotAPIStandin, run_router: RunRouter, tmp_path: Path
) -> None:
    await run_router(demo_router())
    out: FakeTTY = FakeTTY()
    lines = ["/start", "/quit", "never sent"]
    await run_terminal(
        standin,
        user_id=ALICE,
        input_func=scripted(standin, lines, []),
        output=out,
        download_dir=tmp_path,
    )
    assert "\x1b[1mPick\x1b[0m one" in out.getvalue()
    assert all(m.plain_text != "echo: never sent" for m in standin.messages(ALICE))


async def test_unknown_number_is_sent_as_text(
    standin: BotAPIStandin, run_router: RunRouter, tmp_path: Path
) -> None:
    await run_router(demo_router())
    out = io.StringIO()
    await run_terminal(
        standin,
        user_id=ALICE,
        input_func=scripted(standin, ["7"], []),
        output=out,
        download_dir=tmp_path,
    )
    assert "echo: 7" in out.getvalue()


class Counting(StatesGroup):
    typing = State()
    amount = State()


def counting_router() -> Router:
    """A list of groups whose buttons each ask for a typed count, and an amount asked
    with quick picks that takes a typed amount too."""
    router = Router()

    @router.message(Command("count"))
    async def groups(message: Message) -> None:
        buttons = [
            [InlineKeyboardButton(text=f"G{n}", callback_data=f"g:{n}")] for n in range(1, 9)
        ]
        await message.answer("Groups", reply_markup=InlineKeyboardMarkup(inline_keyboard=buttons))

    @router.callback_query(F.data.startswith("g:"))
    async def group(query: CallbackQuery, state: FSMContext) -> None:
        await query.answer()
        await state.set_state(Counting.typing)
        await state.update_data(group=query.data)
        assert isinstance(query.message, Message)
        await query.message.answer(f"How many for {query.data}?")

    @router.message(Counting.typing, F.text)
    async def counted(message: Message, state: FSMContext) -> None:
        data = await state.get_data()
        await state.clear()
        await message.answer(f"recorded {message.text} for {data['group']}")

    @router.message(Command("amount"))
    async def amount(message: Message, state: FSMContext) -> None:
        await state.set_state(Counting.amount)
        picks = [InlineKeyboardButton(text=f"¥{n}", callback_data=f"a:{n}") for n in (10, 20, 50)]
        markup = InlineKeyboardMarkup(inline_keyboard=[picks])
        await message.answer("How much? Pick or type an amount.", reply_markup=markup)

    @router.callback_query(Counting.amount, F.data.startswith("a:"))
    async def picked(query: CallbackQuery, state: FSMContext) -> None:
        await query.answer()
        await state.clear()
        assert isinstance(query.message, Message)
        await query.message.answer(f"amount picked {query.data}")

    @router.message(Counting.amount, F.text)
    async def typed(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(f"amount typed {message.text}")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    return router


async def test_a_number_typed_at_a_question_is_the_answer(
    standin: BotAPIStandin, run_router: RunRouter, tmp_path: Path
) -> None:
    """The question has no buttons: 6 is the answer, not button 6 of the list above."""
    await run_router(counting_router())
    out = io.StringIO()
    await run_terminal(
        standin,
        user_id=ALICE,
        input_func=scripted(standin, ["/count", "3", "6"], []),
        output=out,
        download_dir=tmp_path,
    )
    assert "recorded 6 for g:3" in out.getvalue()
    assert "How many for g:6?" not in out.getvalue()


async def test_quick_picks_of_a_question_and_hash_numbers(
    standin: BotAPIStandin, bot: Bot, tmp_path: Path
) -> None:
    """At a question that takes typed text, 5 is the answer even where the question has
    buttons; #2 presses its second button. Elsewhere a bare number still presses."""
    dispatcher = Dispatcher()
    dispatcher.include_router(counting_router())
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    out, prompts = io.StringIO(), []
    lines = ["/amount", "5", "/amount", "#2", "/count", "2", "7", "#9", "\\#1"]
    try:
        await run_terminal(
            standin,
            user_id=ALICE,
            input_func=scripted(standin, lines, prompts),
            output=out,
            download_dir=tmp_path,
            awaiting_text=awaiting_text(dispatcher, bot, ALICE),
        )
    finally:
        await dispatcher.stop_polling()
        await asyncio.wait_for(polling, 5)
    text = out.getvalue()
    assert "amount typed 5" in text
    assert "amount picked a:20" in text
    assert "How many for g:2?" in text and "recorded 7 for g:2" in text
    assert "! no button [9] to press" in text
    assert "echo: #1" in text


def test_the_sandbox_knows_which_states_take_typed_answers() -> None:
    dispatcher = Dispatcher()
    dispatcher.include_router(counting_router())
    assert typed_answer_states(dispatcher) == {"Counting:typing", "Counting:amount"}
