"""/broadcast and activity announcements through the real Dispatcher: the dialog, the
outbox rows it queues, the sender's progress message, and how recipients read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram import Dispatcher
from sqlalchemy import delete, update
from sqlmodel import col, select

from bot.scheduler import broadcast_progress
from handlers.broadcast.renderers import render_broadcast
from services import activity_admin, announcements, personal_data, roles, stations
from services.access import Actor
from storage.db import SessionMaker, write_transaction
from storage.models import Broadcast, Outbox, OutboxState, Role, Volunteer
from storage.types import utcnow
from tests.conftest import settings_for
from tests.delivery_helpers import delivered
from tests.factories import make_activity, make_volunteers
from tests.mocked_bot import Conversation, MockedBot
from ui.callbacks import AnnounceCb, BcPreviewCb, JoinCb
from ui.i18n import make_i18n

NO_PERMISSION = "You do not have permission for this."
SHANGHAI = ZoneInfo("Asia/Shanghai")
STALE = "This button is no longer active."


def next_noon() -> datetime:
    """The next noon in Shanghai: due rows go out, and no quiet hours hold them."""
    local = utcnow().astimezone(SHANGHAI)
    noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
    return (noon if noon > local else noon + timedelta(days=1)).astimezone(UTC)


async def station_ids(maker: SessionMaker) -> dict[str, int]:
    async with maker() as session:
        return {s.code: s.id for s in await stations.all_stations(session) if s.id}


async def grant(maker: SessionMaker, user_id: int, role: str, code: str) -> None:
    async with maker() as session:
        await roles.grant(session, user_id=user_id, role=role, station_code=code, actor_id=None)


async def set_skills(maker: SessionMaker, skills: dict[int, list[str]]) -> None:
    async with maker() as session, write_transaction(session):
        for user_id, codes in skills.items():
            await session.exec(
                update(Volunteer).where(col(Volunteer.user_id) == user_id).values(skills=codes)
            )


async def stored(maker: SessionMaker) -> tuple[list[Broadcast], list[Outbox]]:
    async with maker() as session:
        found = list((await session.exec(select(Broadcast).order_by(col(Broadcast.id)))).all())
        rows = await session.exec(
            select(Outbox).where(Outbox.kind == "broadcast").order_by(col(Outbox.user_id))
        )
        return found, list(rows.all())


async def set_state(maker: SessionMaker, states: dict[int, OutboxState]) -> None:
    """What the deliverer would have done."""
    async with maker() as session, write_transaction(session):
        for user_id, state in states.items():
            await session.exec(
                update(Outbox).where(col(Outbox.user_id) == user_id).values(state=state)
            )


async def everyone(maker: SessionMaker) -> dict[str, int]:
    """Volunteers with first aid: 11 at Xiyuan Xincun, 13 there but erased, 14 at Hupo
    (pending approval), 15 in another district, 16 at Nanqi; 12 at Xiyuan Xincun has no
    skill."""
    ids = await station_ids(maker)
    await make_volunteers(maker, ids["hf-ss-xy-xyxc"], [11, 12, 13])
    await make_volunteers(maker, ids["hf-ss-hp-hpmd"], [14])
    await make_volunteers(maker, ids["hf-bh-wh-wc"], [15])
    await make_volunteers(maker, ids["hf-ss-nq-nq"], [16])
    await set_skills(maker, {u: ["first_aid"] for u in (11, 13, 14, 15, 16)})
    async with maker() as session:
        await personal_data.erase(session, 13)
    return ids


async def test_broadcast_dialog_queues_exactly_the_right_people(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker, sqlite_url: str
) -> None:
    ids = await everyone(sqlite_sessionmaker)
    await grant(sqlite_sessionmaker, 800, "coordinator", "hf-ss")
    staff = Conversation(dp, bot, user_id=800, language_code="en")
    # Quiet hours on (tests run with them off), so the preview mentions them.
    dp["settings"] = dp["settings"].model_copy(update={"quiet_hours": "22:00-07:00"})

    out = await staff.send("/broadcast")
    assert "To the volunteers of which station?" in out[-1].text
    assert [t for t, _ in out[-1].buttons()] == ["Shushan District Guidance Centre ›"]
    await staff.press("Shushan District")
    walk = staff.last_with_buttons()
    assert "Xiyuan Street Station ›" in [t for t, _ in walk.buttons()]
    out = await staff.press("Choose Shushan District")
    assert "To the volunteers of" in out[-1].text and "Shushan District" in out[-1].text
    assert "Everyone ➡️" in [t for t, _ in out[-1].buttons()]
    await staff.press("First aid")
    skills = staff.last_with_buttons()
    assert "✅ First aid" in [t for t, _ in skills.buttons()]
    out = await staff.press("Done")
    assert "Type your message" in out[-1].text and "3500" in out[-1].text

    assert "Please type the message as text" in (await staff.sticker())[-1].text
    assert "That is too long: 3501 characters" in (await staff.send("x" * 3501))[-1].text
    out = await staff.send("Bring <gloves> & water.\nThank you!")
    preview = out[-1].text
    assert "<b>Preview.</b> 2 volunteers of" in preview
    assert "with any of these skills will get it: First aid." in preview
    assert "📣 <b>Message from Shushan District Guidance Centre</b>" in preview
    assert "Bring &lt;gloves&gt; &amp; water.\nThank you!" in preview
    assert "quiet hours (22:00-07:00)" in preview
    assert await stored(sqlite_sessionmaker) == ([], [])  # nothing before sending

    out = await staff.press("Send to 2 volunteers")
    progress = out[-1]
    assert "Broadcast to the volunteers of" in progress.text
    assert "sent 0 of 2 · not delivered 0 · waiting 2" in progress.text
    # A double tap, or the same update delivered again: still one broadcast.
    await staff.press_data(BcPreviewCb(action="send").pack(), message=staff.inbox()[-2])
    assert staff.answers()[-1].text == STALE

    found, rows = await stored(sqlite_sessionmaker)
    assert len(found) == 1
    broadcast = found[0]
    assert (broadcast.station_id, broadcast.skills, broadcast.total) == (
        ids["hf-ss"],
        ["first_aid"],
        2,
    )
    assert broadcast.text == "Bring <gloves> & water.\nThank you!"
    assert (broadcast.progress_chat_id, broadcast.progress_message_id) == (
        800,
        progress.message_id,
    )
    assert [(r.user_id, r.station_id) for r in rows] == [
        (11, ids["hf-ss-xy-xyxc"]),
        (16, ids["hf-ss-nq-nq"]),
    ]
    assert all(r.key == f"bc:{broadcast.id}:{r.user_id}" and not r.urgent for r in rows)

    # Recipients read it in their own language, with the station's name.
    i18n = make_i18n("zh_CN")
    async with sqlite_sessionmaker() as session:
        with i18n.context(), i18n.use_locale("en"):
            rendered = await render_broadcast(session, {"broadcast_id": broadcast.id})
        assert rendered == (
            "📣 <b>Message from Shushan District Guidance Centre</b>\n\n"
            "Bring &lt;gloves&gt; &amp; water.\nThank you!",
            None,
        )
        with i18n.context(), i18n.use_locale("zh_CN"):
            rendered = await render_broadcast(session, {"broadcast_id": broadcast.id})
        assert rendered is not None and "蜀山区社会工作服务指导中心" in rendered[0]

    # The progress message follows the outbox, then becomes the report.
    settings = settings_for(sqlite_url)
    await set_state(sqlite_sessionmaker, {11: OutboxState.SENT})
    await broadcast_progress(
        bot=bot, sessionmaker=sqlite_sessionmaker, i18n=i18n, settings=settings
    )
    text = staff.session.messages[progress.message_id].text
    assert "sent 1 of 2 · not delivered 0 · waiting 1" in text
    await set_state(sqlite_sessionmaker, {16: OutboxState.SKIPPED})
    await broadcast_progress(
        bot=bot, sessionmaker=sqlite_sessionmaker, i18n=i18n, settings=settings
    )
    report = staff.session.messages[progress.message_id].text
    assert "✅ Finished: 1 of 2 delivered." in report
    assert "Not delivered: 1" in report and "blocked the bot or left Telegram: 1" in report
    (broadcast,), _ = await stored(sqlite_sessionmaker)
    assert broadcast.finished_at is not None
    edits = len(staff.session.requests)
    await broadcast_progress(
        bot=bot, sessionmaker=sqlite_sessionmaker, i18n=i18n, settings=settings
    )
    assert len(staff.session.requests) == edits  # finished: left alone


async def test_staff_of_one_community_skip_the_station_and_meet_the_checks(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    await everyone(sqlite_sessionmaker)
    await grant(sqlite_sessionmaker, 801, "staff", "hf-ss-xy-qxc")  # nobody lives there
    staff = Conversation(dp, bot, user_id=801, language_code="en")
    out = await staff.send("/broadcast")
    assert "To the volunteers of" in out[-1].text and "Qingxi Community" in out[-1].text
    out = await staff.press("Everyone")
    assert "No active volunteers of that station match" in out[-1].text

    await grant(sqlite_sessionmaker, 802, "staff", "hf-ss-xy-xyxc")
    other = Conversation(dp, bot, user_id=802, language_code="en")
    await other.send("/broadcast")
    await other.press("Everyone")
    out = await other.send("Meeting at 9.")
    assert "<b>Preview.</b> 2 volunteers of" in out[-1].text  # 11 and 12; 13 is erased
    async with sqlite_sessionmaker() as session:
        await session.exec(delete(Role).where(col(Role.user_id) == 802))
        await session.commit()
    await other.press("Send to")
    assert other.answers()[-1].text == NO_PERMISSION
    assert await stored(sqlite_sessionmaker) == ([], [])

    volunteer = Conversation(dp, bot, user_id=12, language_code="en")
    assert (await volunteer.send("/broadcast"))[-1].text == NO_PERMISSION


async def test_announce_a_published_activity(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    ids = await station_ids(sqlite_sessionmaker)
    await make_volunteers(sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], [21, 22])
    await make_volunteers(sqlite_sessionmaker, ids["hf-ss-xy-hyd"], [23])  # beside it
    await grant(sqlite_sessionmaker, 803, "staff", "hf-ss-xy-xyxc")
    staff = Conversation(dp, bot, user_id=803, language_code="en")
    await staff.send("/new_activity")
    await staff.press("Garbage sorting")
    await staff.send("Sorting <duty>")
    await staff.press("Skip")
    await staff.send("East gate")
    await staff.press("Tomorrow 09:00")
    await staff.press("+2 h")
    await staff.press("20")
    await staff.press("the elderly")
    await staff.press("Once only")
    out = await staff.press("Publish")
    assert "Published" in out[-1].text
    assert [t for t, _ in out[-1].buttons()] == ["📣 Announce to volunteers"]
    out = await staff.press("Announce to volunteers")
    assert "Announce <b>Sorting &lt;duty&gt;</b> to 2 volunteers of" in out[-1].text
    assert await stored(sqlite_sessionmaker) == ([], [])  # asked first
    confirm = out[-1]
    replayed = confirm.buttons()[0][1]
    out = await staff.press("Announce to 2 volunteers")
    assert "Announcement of <b>Sorting &lt;duty&gt;</b>" in out[-1].text
    await staff.press_data(replayed, message=confirm)
    assert staff.last().text == "This activity has been announced already."

    (broadcast,), rows = await stored(sqlite_sessionmaker)
    assert broadcast.activity_id is not None and broadcast.total == 2
    assert [r.user_id for r in rows] == [21, 22]

    i18n = make_i18n("zh_CN")
    async with sqlite_sessionmaker() as session:
        with i18n.context(), i18n.use_locale("en"):
            rendered = await render_broadcast(session, {"broadcast_id": broadcast.id})
    assert rendered is not None
    text, markup = rendered
    assert "New activity from Xiyuan Xincun Community" in text
    assert "<b>Sorting &lt;duty&gt;</b>" in text and "📍 East gate" in text
    assert "09:00–11:00" in text and "20 of 20 seats left" in text
    assert markup is not None
    assert (
        markup.inline_keyboard[0][0].callback_data == JoinCb(activity=broadcast.activity_id).pack()
    )

    # The deliverer sends it (at a time outside quiet hours); a volunteer joins from it.
    sent = await delivered(dp, bot, now=next_noon())
    assert sorted(m.chat_id for m in sent) == [21, 22]
    volunteer = Conversation(dp, bot, user_id=21, language_code="en")
    card = next(m for m in sent if m.chat_id == 21)  # in Chinese: no language chosen
    assert "Sorting &lt;duty&gt;" in card.text and "西园新村社区" in card.text
    out = await volunteer.press("🙋", message=card)
    assert "You have a seat at <b>Sorting &lt;duty&gt;</b>" in out[-1].text
    await broadcast_progress(
        bot=bot, sessionmaker=sqlite_sessionmaker, i18n=i18n, settings=dp["settings"]
    )
    assert "✅ Finished: 2 of 2 delivered." in staff.inbox()[-2].text

    # Someone without the permission pressing the button's data is refused.
    await volunteer.send("/settings")
    await volunteer.press_data(AnnounceCb(activity=broadcast.activity_id, action="yes").pack())
    assert volunteer.answers()[-1].text == NO_PERMISSION


async def test_an_announcement_of_a_cancelled_activity_is_withdrawn(
    sqlite_sessionmaker: SessionMaker, dp: Dispatcher
) -> None:
    ids = await station_ids(sqlite_sessionmaker)
    await make_volunteers(sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], [31])
    activity = await make_activity(
        sqlite_sessionmaker, ids["hf-ss-xy-xyxc"], now=utcnow(), capacity=5
    )
    async with sqlite_sessionmaker() as session:
        created = await announcements.announce(
            session, actor=Actor(900, is_admin=True), activity_id=activity
        )
        await activity_admin.cancel(
            session, actor=Actor(900, is_admin=True), activity_id=activity, now=utcnow()
        )
    i18n = make_i18n("zh_CN")
    async with sqlite_sessionmaker() as session:
        with i18n.context(), i18n.use_locale("en"):
            assert await render_broadcast(session, {"broadcast_id": created.broadcast.id}) is None
