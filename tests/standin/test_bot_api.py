"""Telegram's strictness, checked through aiogram over real HTTP."""

from __future__ import annotations

import html

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MenuButtonCommands,
    ReplyKeyboardMarkup,
)

from standin import BotAPIStandin
from standin.media import sample_png

from .conftest import ALICE, BOB, GROUP


def keyboard(*datas: str) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(text=data.upper() or "?", callback_data=data) for data in datas]
    return InlineKeyboardMarkup(inline_keyboard=[buttons])


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (100000001, "station_test_bot", True)


async def test_send_message_is_recorded(bot: Bot, standin: BotAPIStandin) -> None:
    sent = await bot.send_message(ALICE, "<b>Hi</b> there", parse_mode="HTML")
    assert sent.text == "Hi there"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    message = standin.last_message(ALICE)
    assert message is not None
    assert (message.message_id, message.text, message.plain_text) == (
        sent.message_id,
        "<b>Hi</b> there",
        "Hi there",
    )
    assert message.parse_mode == "HTML"
    assert standin.requests[-1][0] == "sendMessage"


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("<foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("Tom & Jerry", "Character '&' is reserved"),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
    ],
)
async def test_bad_html_is_rejected(bot: Bot, text: str, description: str) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities: " + description):
        await bot.send_message(ALICE, text, parse_mode="HTML")


async def test_length_is_counted_after_entity_decoding(bot: Bot, standin: BotAPIStandin) -> None:
    text = html.escape("&" * 4096)  # 20480 characters as sent, 4096 after parsing
    await bot.send_message(ALICE, text, parse_mode="HTML")
    assert standin.last_message(ALICE).plain_text == "&" * 4096  # type: ignore[union-attr]
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ALICE, "x" * 4097)


async def test_length_is_counted_in_utf16_units(bot: Bot) -> None:
    await bot.send_message(ALICE, "😀" * 2048)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ALICE, "😀" * 2048 + "x")


async def test_empty_text_is_rejected(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(ALICE, " \n ")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(ALICE, "<b> </b>", parse_mode="HTML")


async def test_callback_data_limits(bot: Bot) -> None:
    await bot.send_message(ALICE, "ok", reply_markup=keyboard("x" * 64))
    await bot.send_message(ALICE, "ok", reply_markup=keyboard("é" * 32))
    for data in ("x" * 65, "é" * 33, ""):
        with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
            await bot.send_message(ALICE, "no", reply_markup=keyboard(data))


async def test_inline_button_needs_an_action(bot: Bot) -> None:
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="dead")]])
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(ALICE, "no", reply_markup=markup)


async def test_unknown_chat_and_blocked_user(bot: Bot, standin: BotAPIStandin) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "hello")
    standin.block(BOB)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(BOB, "hello")
    standin.unblock(BOB)
    await bot.send_message(BOB, "hello again")


async def test_edit_rules(bot: Bot, standin: BotAPIStandin) -> None:
    sent = await bot.send_message(ALICE, "<i>v1</i>", parse_mode="HTML", reply_markup=keyboard("a"))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "<i>v1</i>",
            chat_id=ALICE,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard("a"),
        )
    # Same text without the markup: the keyboard goes away, so it is a modification.
    await bot.edit_message_text(
        "<i>v1</i>", chat_id=ALICE, message_id=sent.message_id, parse_mode="HTML"
    )
    message = standin.messages(ALICE)[0]
    assert (message.reply_markup, message.edits) == (None, 1)
    await bot.edit_message_text("v2", chat_id=ALICE, message_id=sent.message_id)
    assert standin.messages(ALICE)[0].plain_text == "v2"
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("v3", chat_id=ALICE, message_id=999)
    await bot.edit_message_reply_markup(
        chat_id=ALICE, message_id=sent.message_id, reply_markup=keyboard("b")
    )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=ALICE, message_id=sent.message_id, reply_markup=keyboard("b")
        )
    assert standin.messages(ALICE)[0].edits == 3


async def test_delete_message(bot: Bot, standin: BotAPIStandin) -> None:
    sent = await bot.send_message(ALICE, "bye")
    assert await bot.delete_message(ALICE, sent.message_id)
    assert standin.messages(ALICE)[0].deleted
    assert standin.last_message(ALICE) is None
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ALICE, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=ALICE, message_id=sent.message_id)


async def test_injected_faults(bot: Bot, standin: BotAPIStandin) -> None:
    standin.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 7",
        retry_after=7,
        chat_id=BOB,
    )
    await bot.send_message(ALICE, "not affected")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(BOB, "hit")
    assert caught.value.retry_after == 7
    await bot.send_message(BOB, "passes now")
    standin.fail_next("getMe", error_code=502, description="Bad Gateway", times=2)
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.get_me()
    await bot.get_me()
    assert standin.stats.too_many_requests == 1


async def test_send_document_and_download(bot: Bot, standin: BotAPIStandin) -> None:
    upload = BufferedInputFile(b"name,hours\nAlice,3\n", filename="hours.csv")
    sent = await bot.send_document(ALICE, upload, caption="<b>Report</b>", parse_mode="HTML")
    assert sent.document is not None and sent.document.file_name == "hours.csv"
    assert sent.caption == "Report"
    message = standin.last_message(ALICE)
    assert message is not None and message.document is not None
    assert message.document.content == b"name,hours\nAlice,3\n"
    assert message.plain_text == "Report"
    file = await bot.get_file(sent.document.file_id)
    downloaded = await bot.download_file(file.file_path or "")
    assert downloaded is not None and downloaded.read() == b"name,hours\nAlice,3\n"
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_document(ALICE, upload, caption="x" * 1025)
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("x", chat_id=ALICE, message_id=sent.message_id)


async def test_send_photo_must_be_an_image(bot: Bot, standin: BotAPIStandin) -> None:
    sent = await bot.send_photo(ALICE, BufferedInputFile(sample_png(3, 2), filename="p.png"))
    assert sent.photo is not None and (sent.photo[0].width, sent.photo[0].height) == (3, 2)
    assert standin.last_message(ALICE).photo == sample_png(3, 2)  # type: ignore[union-attr]
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(ALICE, BufferedInputFile(b"not an image", filename="p.png"))


async def test_commands_are_validated_and_stored(bot: Bot, standin: BotAPIStandin) -> None:
    commands = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="help", description="Help"),
    ]
    await bot.set_my_commands(commands)
    await bot.set_my_commands(
        commands[:1], scope=BotCommandScopeAllPrivateChats(), language_code="zh"
    )
    assert standin.commands() == [
        {"command": "start", "description": "Start"},
        {"command": "help", "description": "Help"},
    ]
    assert standin.commands("zh", "all_private_chats") == [
        {"command": "start", "description": "Start"}
    ]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    for bad in (
        BotCommand(command="Start", description="x"),
        BotCommand(command="a" * 33, description="x"),
    ):
        with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
            await bot.set_my_commands([bad])
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_DESCRIPTION_INVALID"):
        await bot.set_my_commands([BotCommand(command="ok", description="d" * 257)])
    with pytest.raises(TelegramBadRequest, match="invalid language code"):
        await bot.set_my_commands(commands, language_code="zh-hans")
    await bot.delete_my_commands()
    assert standin.commands() == []
    assert await bot.set_chat_menu_button(chat_id=ALICE, menu_button=MenuButtonCommands())


async def test_callback_answers(bot: Bot, standin: BotAPIStandin) -> None:
    sent = await bot.send_message(ALICE, "pick", reply_markup=keyboard("a"))
    query_id = standin.press(ALICE, sent.message_id, "a")
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query_id, text="x" * 201)
    await bot.answer_callback_query(query_id, text="done", show_alert=True)
    assert standin.callback_answers[query_id] == ("done", True)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("12345")


async def test_chat_action_get_chat_and_groups(bot: Bot) -> None:
    assert await bot.send_chat_action(ALICE, "typing")
    alice = await bot.get_chat(ALICE)
    assert (alice.type, alice.first_name, alice.username) == ("private", "Alice", "alice")
    group = await bot.get_chat(GROUP)
    assert (group.type, group.title) == ("supergroup", "Volunteers")
    await bot.send_message(GROUP, "hello group")


async def test_reply_keyboard_markup_is_kept(bot: Bot, standin: BotAPIStandin) -> None:
    markup = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Share", request_contact=True), KeyboardButton(text="No")]],
        resize_keyboard=True,
    )
    sent = await bot.send_message(ALICE, "phone?", reply_markup=markup)
    assert sent.reply_markup is None  # Telegram only echoes inline keyboards
    message = standin.last_message(ALICE)
    assert message is not None
    assert [b["text"] for b in message.buttons()] == ["Share", "No"]
