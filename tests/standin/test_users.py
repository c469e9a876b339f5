"""Simulated users talking to a real aiogram Dispatcher polling the stand-in."""

from __future__ import annotations

import pytest
from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import (
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from standin import BotAPIStandin

from .conftest import ALICE, BOB, GROUP, RunRouter


def echo_router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Yes", callback_data="vote:yes")]]
        )
        await message.answer("<b>Vote?</b>", parse_mode="HTML", reply_markup=markup)

    @router.message(Command("phone"))
    async def ask_phone(message: Message) -> None:
        button = KeyboardButton(text="Share my phone", request_contact=True)
        markup = ReplyKeyboardMarkup(keyboard=[[button], [KeyboardButton(text="Skip")]])
        await message.answer("phone?", reply_markup=markup)

    @router.message(F.contact)
    async def contact(message: Message) -> None:
        assert message.contact is not None and message.from_user is not None
        own = message.contact.user_id == message.from_user.id
        await message.answer(
            f"contact {message.contact.phone_number} own={own}", reply_markup=ReplyKeyboardRemove()
        )

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    @router.edited_message(F.text)
    async def edited(message: Message) -> None:
        await message.answer(f"edited: {message.text}")

    @router.message(F.sticker | F.photo | F.voice | F.document)
    async def media(message: Message, bot: Bot) -> None:
        kind = str(message.content_type.value)
        if message.document is not None:
            file = await bot.get_file(message.document.file_id)
            data = await bot.download_file(file.file_path or "")
            assert data is not None
            kind = f"{kind} {data.read().decode()}"
        await message.answer(f"got {kind}")

    @router.callback_query(F.data.startswith("vote:"))
    async def vote(query: CallbackQuery) -> None:
        await query.answer("counted")
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"voted {query.data}")

    @router.my_chat_member()
    async def member(update: ChatMemberUpdated) -> None:
        if update.new_chat_member.status == "member":
            await update.answer(f"welcome back {update.from_user.first_name}")

    return router


async def test_echo_bot_answers(standin: BotAPIStandin, run_router: RunRouter) -> None:
    await run_router(echo_router())
    sent = standin.send_text(ALICE, "hello")
    reply = await standin.wait_for_message(ALICE, after=sent["message_id"])
    assert reply.plain_text == "echo: hello"
    assert reply.message_id > sent["message_id"]


async def test_commands_get_entities(standin: BotAPIStandin, run_router: RunRouter) -> None:
    await run_router(echo_router())
    sent = standin.send_text(ALICE, "/start@station_test_bot")
    assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 23}]
    reply = await standin.wait_for_message(ALICE, after=sent["message_id"])
    assert reply.plain_text == "Vote?"


async def test_press_real_buttons_only(standin: BotAPIStandin, run_router: RunRouter) -> None:
    await run_router(echo_router())
    standin.send_text(ALICE, "/start")
    question = await standin.wait_for_message(ALICE)
    with pytest.raises(ValueError, match="no button"):
        standin.press(ALICE, question.message_id, "vote:no")
    with pytest.raises(ValueError, match="no bot message"):
        standin.press(ALICE, 999, "vote:yes")
    mark = standin.mark(ALICE)
    query_id = standin.press(ALICE, question.message_id, question.callback_data("Yes"))
    assert await standin.wait_callback_answer(query_id) == ("counted", False)
    edited = await standin.wait_for_message(ALICE, after=mark)
    assert edited is question
    assert (edited.plain_text, edited.edits, edited.reply_markup) == ("voted vote:yes", 1, None)
    with pytest.raises(ValueError, match="no button"):
        standin.press(ALICE, question.message_id, "vote:yes")  # the keyboard is gone


async def test_reply_keyboard_and_contact(standin: BotAPIStandin, run_router: RunRouter) -> None:
    await run_router(echo_router())
    with pytest.raises(ValueError, match="no such reply keyboard button"):
        standin.share_contact(ALICE, "+8613800000000")
    standin.send_text(ALICE, "/phone")
    await standin.wait_for_message(ALICE, predicate=lambda m: m.plain_text == "phone?")
    with pytest.raises(ValueError, match="share_contact"):
        standin.press_text(ALICE, "Share my phone")
    with pytest.raises(ValueError, match="no such reply keyboard button"):
        standin.press_text(ALICE, "Nope")
    sent = standin.press_text(ALICE, "Skip")
    assert (await standin.wait_for_message(ALICE, after=sent["message_id"])).plain_text == (
        "echo: Skip"
    )
    sent = standin.share_contact(ALICE, "+8613800000000")
    reply = await standin.wait_for_message(ALICE, after=sent["message_id"])
    assert reply.plain_text == "contact +8613800000000 own=True"
    with pytest.raises(ValueError):  # the keyboard was removed
        standin.press_text(ALICE, "Skip")
    sent = standin.send_contact(ALICE, "+100", contact_user_id=BOB)
    reply = await standin.wait_for_message(ALICE, after=sent["message_id"])
    assert reply.plain_text == "contact +100 own=False"


async def test_media_messages_parse(standin: BotAPIStandin, run_router: RunRouter) -> None:
    await run_router(echo_router())
    for send in (standin.send_sticker, standin.send_photo, standin.send_voice):
        sent = send(ALICE)
        reply = await standin.wait_for_message(ALICE, after=sent["message_id"])
        assert reply.plain_text.startswith("got ")
    sent = standin.send_document(ALICE, "notes.txt", b"volunteer notes")
    reply = await standin.wait_for_message(ALICE, after=sent["message_id"])
    assert reply.plain_text == "got document volunteer notes"


async def test_edit_text_and_groups(standin: BotAPIStandin, run_router: RunRouter) -> None:
    await run_router(echo_router())
    sent = standin.send_text(ALICE, "typo")
    await standin.wait_for_message(ALICE, after=sent["message_id"])
    mark = standin.mark(ALICE)
    standin.edit_text(ALICE, sent["message_id"], "fixed")
    assert (await standin.wait_for_message(ALICE, after=mark)).plain_text == "edited: fixed"
    sent = standin.send_text(BOB, "hi all", chat_id=GROUP)
    reply = await standin.wait_for_message(GROUP, after=sent["message_id"])
    assert (reply.chat_id, reply.plain_text) == (GROUP, "echo: hi all")


async def test_block_and_unblock(standin: BotAPIStandin, run_router: RunRouter) -> None:
    await run_router(echo_router())
    standin.block(BOB)
    with pytest.raises(ValueError, match="blocked"):
        standin.send_text(BOB, "hi")
    standin.unblock(BOB)
    reply = await standin.wait_for_message(BOB)
    assert reply.plain_text == "welcome back Bob"


async def test_wait_idle_and_timeouts(standin: BotAPIStandin, run_router: RunRouter) -> None:
    await run_router(echo_router())
    standin.send_text(ALICE, "one")
    standin.send_text(ALICE, "two")
    messages = await standin.wait_idle(ALICE, quiet=0.2)
    assert sorted(m.plain_text for m in messages) == ["echo: one", "echo: two"]
    with pytest.raises(TimeoutError):
        await standin.wait_for_message(ALICE, after=standin.mark(ALICE), timeout=0.1)
