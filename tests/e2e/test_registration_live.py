"""Whole registrations over real HTTP, in each language and on each database backend,
against a Bot API stand-in that refuses what Telegram refuses."""

from __future__ import annotations

import asyncio
import time

from services import stations, volunteers
from storage.models import AgeGroup, VolunteerStatus
from tests.e2e.conftest import Live, LiveChat


async def test_chinese_registration_from_start_to_stored_volunteer(live: Live) -> None:
    chat = LiveChat(live.standin, 5001, "zh-hans")
    first = await chat.say("/start", "欢迎")
    assert [b["text"] for b in first.buttons()] == ["✓ 中文", "English"]
    await chat.press("中文", "真实姓名")
    await chat.say("<b>Tom & Jerry</b>", "手机号码")
    noted = await chat.share_phone("+86 138 1234 5678", "+86 138 1234 5678")
    assert noted.plain_text.startswith("已记下手机号码")
    await chat.press("合肥市", "合肥市社会工作服务指导中心")
    await chat.press("蜀山区", "蜀山区")
    await chat.press("琥珀街道", "琥珀街道社工站")
    await chat.press("五里墩社区", "技能")
    await chat.press("应急救护", "✅ 应急救护")
    await chat.press("摄影", "✅ 摄影")
    await chat.press("完成", "年龄段")
    await chat.press("14至17岁", "监护人")
    await chat.say("王建国", "监护人的手机号")
    await chat.say("139-0000-1111", "王建国")
    await chat.press("监护人同意", "隐私说明")
    summary = await chat.press("同意", "请核对")
    assert "<b>Tom & Jerry</b>" in summary.plain_text  # shown literally, accepted by the API
    assert "五里墩社区" in summary.plain_text and "王建国" in summary.plain_text
    done = await chat.press("确认", "谢谢")
    assert "审核" in done.plain_text  # 琥珀街道 approves new volunteers first

    async with live.sessionmaker() as session:
        volunteer = await volunteers.get(session, 5001)
        assert volunteer is not None
        station = await stations.get(session, volunteer.station_id)
    assert volunteer.real_name == "<b>Tom & Jerry</b>"
    assert volunteer.phone == "+8613812345678"
    assert volunteer.skills == ["first_aid", "photography"]
    assert volunteer.age_group is AgeGroup.TEEN
    assert (volunteer.guardian_name, volunteer.guardian_phone) == ("王建国", "+8613900001111")
    assert volunteer.status is VolunteerStatus.PENDING
    assert station.code == "hf-ss-hp-wyl"


async def test_english_registration_and_profile(live: Live) -> None:
    chat = LiveChat(live.standin, 5002, "en")
    await chat.say("/start", "Welcome")
    await chat.press("English", "real name")
    await chat.say("Han Meimei", "mobile phone")
    await chat.say("+86 139 1234 5678", "Choose your home station")
    await chat.press("Hefei", "Hefei")
    await chat.press("Baohe", "Baohe")
    await chat.press("Wanghu", "Wanghu")
    await chat.press("Choose Wanghu", "Which skills")
    await chat.press("Done", "age group")
    await chat.press("18 to 35", "Privacy notice")
    await chat.press("I agree", "Please check")
    await chat.press("Confirm", "You are now registered")
    profile = await chat.say("/profile", "Your profile")
    assert "Wanghu Street Station" in profile.plain_text
    assert "Status: active" in profile.plain_text
    async with live.sessionmaker() as session:
        volunteer = await volunteers.get(session, 5002)
    assert volunteer is not None and volunteer.station_id == live.stations["hf-bh-wh"]


async def test_menus_are_set_in_both_languages(live: Live) -> None:
    chat = LiveChat(live.standin, 5003, "en")
    await chat.say("/help", "What you can do")  # startup (and the menus) ran before this
    zh = {c["command"]: c["description"] for c in live.standin.commands("zh")}
    en = {c["command"]: c["description"] for c in live.standin.commands("en")}
    default = {c["command"] for c in live.standin.commands()}
    assert set(zh) == set(en) == default >= {"start", "profile", "language", "mydata", "delete_me"}
    assert zh["profile"] != en["profile"]


async def test_a_blocked_user_does_not_stop_the_bot_for_others(live: Live) -> None:
    blocked = LiveChat(live.standin, 5004, "zh-hans")
    live.standin.send_text(5004, "/start")
    live.standin.block(5004)  # before the bot has fetched the update: its answer gets 403
    other = LiveChat(live.standin, 5005, "en")
    await other.say("/start", "Welcome")
    await other.say("/help", "What you can do")

    def tried() -> list[object]:
        return [
            p
            for m, p in live.standin.requests
            if m == "sendMessage" and str(p.get("chat_id")) == "5004"
        ]

    # The two chats are served concurrently: the answer to the blocked one may come
    # after the other's, so wait for it (a few seconds at most).
    for _ in range(100):
        if tried():
            break
        await asyncio.sleep(0.05)
    assert tried()  # the bot did answer, and Telegram refused
    assert live.standin.messages(blocked.user_id) == []


async def test_a_429_on_a_reply_is_waited_out(live: Live) -> None:
    chat = LiveChat(live.standin, 5006, "en")
    live.standin.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
        chat_id=5006,
    )
    started = time.monotonic()
    await chat.say("/help", "What you can do")
    assert time.monotonic() - started >= 1.0


async def test_many_volunteers_at_once(live: Live) -> None:
    """Thirty people start at the same moment; each gets their own welcome."""
    chats = [LiveChat(live.standin, 6000 + i, "zh-hans") for i in range(30)]
    replies = await asyncio.gather(*(c.say("/start", "欢迎") for c in chats))
    assert all(r.chat_id == c.user_id for r, c in zip(replies, chats, strict=True))
