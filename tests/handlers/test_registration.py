"""Registration through the real Dispatcher, with a Bot whose session records requests."""

from __future__ import annotations

import json

import pytest
from aiogram import Dispatcher
from aiogram.methods import SetMyCommands
from aiogram.types import ReplyKeyboardMarkup
from sqlmodel import select

from bot.app import build_dispatcher
from services import personal_data, volunteers
from storage.db import SessionMaker
from storage.models import AuditLog, User, Volunteer
from tests.conftest import settings_for
from tests.mocked_bot import Conversation, MockedBot


async def stored(maker: SessionMaker, user_id: int) -> Volunteer | None:
    async with maker() as session:
        return await volunteers.get(session, user_id)


async def walk_to_street(chat: Conversation, *names: str) -> None:
    for name in ("Hefei", "Shushan", *names):
        await chat.press(name)


async def register_in_english(
    chat: Conversation, name: str = "Li Lei", *, start: bool = True
) -> None:
    if start:
        await chat.send("/start")
        await chat.press("English")
    await chat.send(name)
    await chat.send("+86 138 1234 5678")
    await walk_to_street(chat, "Xiyuan Street", "Xiyuan Xincun")
    await chat.press("Done")
    await chat.press("36 to 59")
    await chat.press("I agree")


@pytest.fixture
def en_chat(dp: Dispatcher, bot: MockedBot) -> Conversation:
    return Conversation(dp, bot, user_id=2002, language_code="en-US")


async def test_english_registration_end_to_end(
    en_chat: Conversation, sqlite_sessionmaker: SessionMaker
) -> None:
    out = await en_chat.send("/start")
    assert "Welcome to the volunteer station" in out[0].text
    assert [t for t, _ in out[0].buttons()] == ["中文", "✓ English"]
    out = await en_chat.press("English")
    assert out[-1].text.startswith("What is your real name?")
    out = await en_chat.send("Li Lei")
    assert "mobile phone number" in out[-1].text
    assert isinstance(out[-1].reply_markup, ReplyKeyboardMarkup)
    assert out[-1].reply_markup.keyboard[0][0].request_contact is True
    out = await en_chat.send("138 1234 5678")
    assert "+86 138 1234 5678" in out[0].text
    assert out[-1].text.startswith("Choose your home station")
    await en_chat.press("Hefei")
    await en_chat.press("Shushan")
    await en_chat.press("Xiyuan Street")
    view = en_chat.last_with_buttons()
    assert "Hefei City Social Work Guidance Centre › Shushan" in view.text
    assert any("Choose Xiyuan Street Station" in t for t, _ in view.buttons())
    out = await en_chat.press("Heyedi")
    assert "Which skills" in out[-1].text
    await en_chat.press("First aid")
    await en_chat.press("Driving")
    await en_chat.press("First aid")  # second press unticks it
    assert "✅ Driving" in [t for t, _ in en_chat.last_with_buttons().buttons()]
    out = await en_chat.press("Done")
    assert out[-1].text == "Your age group:"
    out = await en_chat.press("36 to 59")
    assert "Privacy notice" in out[-1].text and "/mydata" in out[-1].text
    out = await en_chat.press("I agree")
    summary = out[-1].text
    assert "Please check your registration" in summary
    for expected in (
        "Name: Li Lei",
        "Phone: +86 138 1234 5678",
        "Skills: Driving",
        "Age group: 36 to 59",
        "Heyedi Community",
        "Language: English",
    ):
        assert expected in summary
    assert await stored(sqlite_sessionmaker, 2002) is None  # nothing saved before confirming
    out = await en_chat.press("Confirm")
    assert "You are now registered" in out[-1].text
    volunteer = await stored(sqlite_sessionmaker, 2002)
    assert volunteer is not None
    assert (volunteer.real_name, volunteer.phone, volunteer.skills, volunteer.age_group) == (
        "Li Lei",
        "+8613812345678",
        ["driving"],
        "36_59",
    )
    async with sqlite_sessionmaker() as session:
        user = await session.get(User, 2002)
    assert user is not None and user.locale == "en"


async def test_summary_edits_return_to_summary(
    en_chat: Conversation, sqlite_sessionmaker: SessionMaker
) -> None:
    await register_in_english(en_chat)
    await en_chat.press("Name")
    out = await en_chat.send("Han Meimei")
    assert "Name: Han Meimei" in out[-1].text and "Please check" in out[-1].text
    await en_chat.press("Station")
    await walk_to_street(en_chat, "Xiyuan Street")
    await en_chat.press("Back")
    await en_chat.press("Back")
    assert "Choose your home station: Hefei City" in en_chat.last_with_buttons().text
    await en_chat.press("Shushan")
    await en_chat.press("Nanqi Street")
    await en_chat.press("Nanqi Community")
    assert "Nanqi Community" in en_chat.last().text and "Please check" in en_chat.last().text
    await en_chat.press("Confirm")
    volunteer = await stored(sqlite_sessionmaker, 2002)
    assert volunteer is not None and volunteer.real_name == "Han Meimei"


async def test_teen_needs_guardian_and_under_14_is_refused(
    en_chat: Conversation, sqlite_sessionmaker: SessionMaker
) -> None:
    await en_chat.send("/start")
    await en_chat.press("English")
    await en_chat.send("Xiao Hong")
    await en_chat.contact("8613812345678")
    await walk_to_street(en_chat, "Xiyuan Street", "Xiyuan Xincun")
    await en_chat.press("Done")
    out = await en_chat.press("14 to 17")
    assert "guardian's full name" in out[-1].text
    await en_chat.send("Wang Jianguo")
    out = await en_chat.send("12345")
    assert "guardian's 11 digits" in out[-1].text
    out = await en_chat.send("13900001111")
    assert "By pressing the button, your guardian Wang Jianguo agrees" in out[-1].text
    out = await en_chat.press("My guardian agrees")
    assert "Privacy notice" in out[-1].text
    out = await en_chat.press("I agree")
    assert "Guardian: Wang Jianguo, +86 139 0000 1111" in out[-1].text
    await en_chat.press("Confirm")
    volunteer = await stored(sqlite_sessionmaker, 2002)
    assert volunteer is not None and volunteer.guardian_consent_at is not None

    child = Conversation(en_chat.dp, en_chat.bot, user_id=3003, language_code="en")
    await child.send("/start")
    await child.press("English")
    await child.send("Xiao Ming")
    await child.send("13812345678")
    await walk_to_street(child, "Xiyuan Street", "Xiyuan Xincun")
    await child.press("Done")
    out = await child.press("Under 14")
    assert "under 14 cannot register themselves" in out[-1].text
    assert await stored(sqlite_sessionmaker, 3003) is None
    out = await child.send("hello")
    assert "Send /help" in out[-1].text  # the dialog is over


async def test_bad_input_is_answered_and_the_step_kept(en_chat: Conversation) -> None:
    await en_chat.send("/start")
    await en_chat.press("English")
    assert "at least 2 characters" in (await en_chat.send("L"))[-1].text
    assert "should not contain digits" in (await en_chat.send("Li 2"))[-1].text
    assert "at most 40 characters" in (await en_chat.send("L" * 41))[-1].text
    assert "Please answer the question above" in (await en_chat.sticker())[-1].text
    await en_chat.send("Li Lei")
    out = await en_chat.contact("8613812345678", own=False)
    assert "share your own number" in out[-1].text
    out = await en_chat.send("/profile")
    assert "not registered yet" in out[-1].text
    out = await en_chat.send("/nonsense")
    assert "not available here" in out[-1].text
    out = await en_chat.send("13812345678")
    assert out[-1].text.startswith("Choose your home station")
    out = await en_chat.send("Xiyuan")
    assert "Please answer the question above, using its buttons" in out[-1].text


async def test_markup_in_a_name_is_shown_literally(en_chat: Conversation) -> None:
    await register_in_english(en_chat, name="<b>Tom & Jerry</b>")
    summary = en_chat.last().text
    assert "Name: &lt;b&gt;Tom &amp; Jerry&lt;/b&gt;" in summary  # the session checked it parses
    out = await en_chat.press("Confirm")
    assert "Thank you, &lt;b&gt;Tom &amp; Jerry&lt;/b&gt;!" in out[-1].text


async def test_cancel_leaves_any_step_and_saves_nothing(
    en_chat: Conversation, sqlite_sessionmaker: SessionMaker
) -> None:
    out = await en_chat.send("/cancel")
    assert "nothing to cancel" in out[-1].text
    await en_chat.send("/start")
    await en_chat.press("English")
    await en_chat.send("Li Lei")
    out = await en_chat.send("/cancel")
    assert "Cancelled" in out[-1].text
    assert await stored(sqlite_sessionmaker, 2002) is None
    out = await en_chat.press_data("st:o:1:0", message=en_chat.last())
    assert en_chat.answers()[-1].text == "This button is no longer active."


async def test_dialog_survives_a_restart(
    en_chat: Conversation, sqlite_url: str, sqlite_sessionmaker: SessionMaker
) -> None:
    await en_chat.send("/start")
    await en_chat.press("English")
    await en_chat.send("Li Lei")
    restarted = build_dispatcher(
        settings=settings_for(sqlite_url), sessionmaker=sqlite_sessionmaker
    )
    again = Conversation(restarted, en_chat.bot, user_id=2002, language_code="en-US")
    out = await again.send("13812345678")
    assert out[-1].text.startswith("Choose your home station")


async def test_profile_edit_mydata_and_delete_me(
    en_chat: Conversation, sqlite_sessionmaker: SessionMaker
) -> None:
    await register_in_english(en_chat)
    await en_chat.press("Confirm")
    out = await en_chat.send("/profile")
    assert "Your profile" in out[-1].text and "Status: active" in out[-1].text
    await en_chat.press("Phone")
    out = await en_chat.send("13900002222")
    assert "Saved" in out[-1].text and "+86 139 0000 2222" in out[-1].text
    volunteer = await stored(sqlite_sessionmaker, 2002)
    assert volunteer is not None and volunteer.phone == "+8613900002222"
    async with sqlite_sessionmaker() as session:
        change = (
            await session.exec(
                select(AuditLog).where(AuditLog.action == "volunteer.profile_changed")
            )
        ).one()
    assert change.details == {"fields": ["phone"]}

    out = await en_chat.send("/mydata")
    assert out[-1].document is not None
    data = json.loads(out[-1].document)
    [volunteer_row] = data["tables"]["volunteer"]
    assert volunteer_row["real_name"] == "Li Lei"
    assert volunteer_row["phone"] == "+8613900002222"

    out = await en_chat.send("/delete_me")
    assert "Erase your data?" in out[-1].text
    erase_button = out[-1]
    out = await en_chat.press("Keep my data")
    assert "Nothing was erased" in out[-1].text
    assert await stored(sqlite_sessionmaker, 2002) is not None
    await en_chat.send("/delete_me")
    out = await en_chat.press("Yes, erase")
    assert "has been erased" in out[-1].text
    assert await stored(sqlite_sessionmaker, 2002) is None
    await en_chat.press_data("er:1", message=erase_button)  # a replayed button does nothing
    assert en_chat.answers()[-1].text == "This button is no longer active."


async def test_language_switch(chat: Conversation, sqlite_sessionmaker: SessionMaker) -> None:
    await chat.send("/language")
    out = await chat.press("English")
    assert out == [] and "Language set: English" in chat.last().text
    scoped = [r for r in chat.session.requests if isinstance(r, SetMyCommands)]
    assert scoped and scoped[-1].scope is not None and scoped[-1].scope.type == "chat"
    out = await chat.send("/help")
    assert "What you can do" in out[-1].text
    async with sqlite_sessionmaker() as session:
        user = await session.get(User, chat.user.id)
    assert user is not None and user.locale == "en"


async def test_everything_else_gets_an_answer(en_chat: Conversation) -> None:
    assert "only read text messages" in (await en_chat.sticker())[-1].text
    assert "Send /help" in (await en_chat.send("hello"))[-1].text
    assert "do not know that command" in (await en_chat.send("/frobnicate"))[-1].text
    assert "edited messages" in (await en_chat.edit("hello again"))[-1].text
    from aiogram.types import Chat

    group = Chat(id=-100123, type="supergroup", title="Volunteers")
    out = await en_chat.send("/start", chat=group)
    assert out[-1].chat_id == -100123 and "private chat" in out[-1].text


async def test_an_unexpected_error_is_reported_to_the_user(
    en_chat: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(personal_data, "export_data", broken)
    out = await en_chat.send("/mydata")
    assert "something went wrong on our side" in out[-1].text


async def test_longest_inputs_stay_within_telegram_limits(
    en_chat: Conversation, sqlite_sessionmaker: SessionMaker
) -> None:
    """Long station names and a name of escaped characters: every message still parses
    and stays under 4096 characters (the mocked session checks both on each send)."""
    from services import stations as station_service

    long_tree = [
        {
            "code": "long",
            "name": "长" * 100,
            "name_en": "L" * 100,
            "level": "city",
            "children": [
                {
                    "code": f"long-{i:02}",
                    "name": f"{i:02}" + "街" * 98,
                    "name_en": f"{i:02}" + "S" * 98,
                    "level": "street",
                }
                for i in range(25)
            ],
        }
    ]
    async with sqlite_sessionmaker() as session:
        await station_service.import_tree(session, long_tree)
    await en_chat.send("/start")
    await en_chat.press("English")
    await en_chat.send("&<>" * 12 + "Li")
    await en_chat.send("13812345678")
    await en_chat.press("L" * 20)
    await en_chat.press("Next")
    await en_chat.press("Next")
    await en_chat.press("Previous")
    await en_chat.press("Next")
    await en_chat.press("Next")
    view = en_chat.last_with_buttons()
    # Eight to a page: the fourth page holds the 25th street alone, with a way back.
    assert [t[:2] for t, _ in view.buttons()] == ["24", "‹ ", "‹ "]
    await en_chat.press("24")
    await en_chat.press("Done")
    await en_chat.press("18 to 35")
    out = await en_chat.press("I agree")
    assert "Please check your registration" in out[-1].text
    await en_chat.press("Confirm")
    volunteer = await stored(sqlite_sessionmaker, 2002)
    assert volunteer is not None and volunteer.real_name == "&<>" * 12 + "Li"
