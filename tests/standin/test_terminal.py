"""The sandbox terminal client, driven by a scripted input function."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)

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
