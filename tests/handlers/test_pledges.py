"""Pledges through the Dispatcher, in English: the volunteer's dialog (fund or activity,
quick or typed amount, anonymity, receipt), their own list, and the staff's list and
decisions, with replayed buttons refused; the outbox messages as the volunteer reads
them."""

from __future__ import annotations

import re
from datetime import timedelta

from aiogram import Dispatcher
from aiogram.fsm.storage.base import StorageKey
from sqlmodel import col, select

from handlers.pledges.notices import render_decided, render_reminder
from services import pledge_decisions, pledge_reminders, pledges, roles, stations, volunteers
from services.access import Actor
from storage.db import SessionMaker, write_transaction
from storage.models import Outbox, Pledge, PledgeStatus
from storage.types import utcnow
from tests.factories import make_activity, make_volunteers
from tests.mocked_bot import Conversation, MockedBot
from ui.callbacks import (
    MyPledgeWithdrawCb,
    PledgeAmountCb,
    PledgeConfirmCb,
    PledgeDecideCb,
    PledgeListCb,
)
from ui.i18n import make_i18n
from ui.states import PledgeDialog

HOME = "hf-ss-xy-xyxc"
RECEIPT = re.compile(r"P\d{8}-[0-9ABCDEFGHJKMNPQRSTVWXYZ]{6}")
NO_PERMISSION = "You do not have permission for this."


async def station_ids(maker: SessionMaker) -> dict[str, int]:
    async with maker() as session:
        return {s.code: s.id for s in await stations.all_stations(session) if s.id}


async def volunteer(
    dp: Dispatcher, bot: MockedBot, maker: SessionMaker, code: str, user_id: int
) -> Conversation:
    ids = await station_ids(maker)
    await make_volunteers(maker, ids[code], [user_id])
    return Conversation(dp, bot, user_id=user_id, language_code="en")


async def staff(
    dp: Dispatcher, bot: MockedBot, maker: SessionMaker, code: str, user_id: int
) -> Conversation:
    async with maker() as session:
        await roles.grant(session, user_id=user_id, role="staff", station_code=code, actor_id=None)
    return Conversation(dp, bot, user_id=user_id, language_code="en")


async def rows(maker: SessionMaker) -> list[Pledge]:
    async with maker() as session:
        return list((await session.exec(select(Pledge).order_by(col(Pledge.id)))).all())


async def queued(maker: SessionMaker) -> dict[str, Outbox]:
    async with maker() as session:
        return {r.key: r for r in (await session.exec(select(Outbox))).all()}


async def pledge(
    maker: SessionMaker, user_id: int, fen: int, *, anonymous: bool = False, minutes: int = 0
) -> int:
    async with maker() as session:
        made = await pledges.create(
            session,
            user_id=user_id,
            activity_id=None,
            amount_fen=fen,
            anonymous=anonymous,
            token=pledges.new_token(),
            ceiling_fen=500_000,
            now=utcnow() + timedelta(minutes=minutes),
        )
    return made.view.id


async def test_fund_pledge_with_a_quick_amount(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    me = await volunteer(dp, bot, sqlite_sessionmaker, HOME, 11)
    out = await me.send("/pledge")
    assert "Make a pledge" in out[-1].text and "The bot takes no money" in out[-1].text
    assert "There are no upcoming activities right now" in out[-1].text
    await me.press("Community fund of Xiyuan Xincun Community")
    amount = me.last()
    assert "Your pledge for the community fund of Xiyuan Xincun Community" in amount.text
    assert "at most CN¥5,000.00" in amount.text
    labels = [text for text, _data in amount.buttons()]
    assert labels[:5] == ["CN¥20", "CN¥50", "CN¥100", "CN¥200", "Another amount"]
    await me.press_data(PledgeAmountCb(fen=5_000).pack())
    question = me.last()
    assert "Amount: CN¥50.00" in question.text
    assert "staff lists show “anonymous” instead of your name" in question.text
    await me.press("Show my name")
    check = me.last()
    assert "Please check your pledge" in check.text
    assert "For: the community fund of Xiyuan Xincun Community" in check.text
    assert "Amount: CN¥50.00" in check.text
    assert "Your name: shown to the station staff" in check.text
    [confirm] = [data for text, data in check.buttons() if "Confirm the pledge" in text]
    key = StorageKey(bot_id=bot.id, chat_id=11, user_id=11)
    dialog = await dp.storage.get_data(key)
    await me.press_data(confirm, message=check)
    receipt = me.last().text
    assert "Thank you! Your pledge is recorded." in receipt
    found = RECEIPT.search(receipt)
    assert found is not None
    assert "The bot takes no money" in receipt and "in person at the station" in receipt
    assert "Never send money to anyone who claims to be this bot" in receipt
    assert "Xiyuan Xincun Community" in receipt

    await me.press_data(confirm, message=check)  # a double tap, or a redelivered press
    assert "no longer active" in (me.answers()[-1].text or "")
    # The press redelivered after a crash that kept the dialog: the same pledge again.
    await dp.storage.set_state(key, PledgeDialog.confirm)
    await dp.storage.set_data(key, dialog)
    await me.press_data(confirm, message=check)
    assert found.group(0) in me.last().text
    [row] = await rows(sqlite_sessionmaker)
    assert row.receipt == found.group(0)
    assert row.amount_fen == 5_000 and type(row.amount_fen) is int
    assert not row.anonymous and row.activity_id is None
    assert row.station_id == (await station_ids(sqlite_sessionmaker))[HOME]


async def test_activity_pledge_typed_amount_anonymous(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    ids = await station_ids(sqlite_sessionmaker)
    me = await volunteer(dp, bot, sqlite_sessionmaker, HOME, 11)
    now = utcnow()
    city = await make_activity(
        sqlite_sessionmaker, ids["hf"], now=now, capacity=30, title="City policy day"
    )
    for n in range(6):  # more than one page of purposes
        await make_activity(
            sqlite_sessionmaker,
            ids[HOME],
            now=now,
            capacity=5,
            starts_in=timedelta(days=10 + n),
            title=f"Later duty {n}",
        )
    await make_activity(sqlite_sessionmaker, ids["hf-bh"], now=now, capacity=5, title="Elsewhere")
    out = await me.send("/pledge")
    assert "City policy day" in out[-1].text and "Elsewhere" not in out[-1].text
    assert "Later duty 5" not in out[-1].text
    await me.press("Next ›")
    assert "Later duty 5" in me.last().text
    await me.press("‹ Previous")
    await me.press("City policy day")
    assert "the activity <b>City policy day</b>" in me.last().text
    await me.press("Another amount")
    assert "Type the amount in yuan" in me.last().text

    for typed, reason in [
        ("50.505", "At most two decimal places"),
        ("abc", "I could not read that amount"),
        ("0", "must be more than zero"),
        ("-5", "cannot be negative"),
        ("6000", "at most CN¥5,000.00"),
    ]:
        out = await me.send(typed)
        assert reason in out[-1].text, typed
        assert "Please type the amount again" in out[-1].text
    assert await rows(sqlite_sessionmaker) == []
    out = await me.send("/nonsense")  # a command is not an amount
    assert "could not read" not in out[-1].text
    out = await me.send(" ￥５０．５ ")
    assert "Amount: CN¥50.50" in out[-1].text
    await me.press("Anonymous")
    assert "Your name: anonymous (staff do not see it)" in me.last().text
    await me.press("Confirm the pledge")
    assert RECEIPT.search(me.last().text)
    [row] = await rows(sqlite_sessionmaker)
    assert (row.amount_fen, row.anonymous, row.activity_id) == (5_050, True, city)
    assert row.station_id == ids["hf"]  # the activity's station

    out = await me.send("/mypledges")
    mine = out[-1].text
    assert row.receipt in mine and "CN¥50.50" in mine and "open" in mine
    assert "City policy day" in mine and "anonymous" in mine


async def test_cancel_and_who_may_pledge(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    me = await volunteer(dp, bot, sqlite_sessionmaker, HOME, 11)
    await me.send("/pledge")
    await me.press("Community fund")
    await me.press("Cancel")
    assert "Cancelled. No pledge was made." in me.last().text
    await me.send("/pledge")
    await me.press("Community fund")
    await me.press_data(PledgeAmountCb(fen=2_000).pack())
    out = await me.send("/cancel")
    assert "Cancelled" in out[-1].text
    out = await me.send("20")  # no dialog any more: not taken as an amount
    assert RECEIPT.search(out[-1].text) is None
    await me.press_data(PledgeConfirmCb(action="ok").pack())
    assert await rows(sqlite_sessionmaker) == []

    waiting = await volunteer(dp, bot, sqlite_sessionmaker, "hf-ss-hp-hpmd", 12)  # approval
    out = await waiting.send("/pledge")
    assert "has not approved your registration yet" in out[-1].text
    stranger = Conversation(dp, bot, user_id=13, language_code="en")
    out = await stranger.send("/pledge")
    assert "Please register first" in out[-1].text
    out = await stranger.send("/mypledges")
    assert "Please register first" in out[-1].text
    out = await me.send("/pledges")
    assert out[-1].text == NO_PERMISSION
    out = await me.send("/mypledges")
    assert "You have not made any pledges yet" in out[-1].text


async def test_staff_decide_and_replays_refused(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    named = await volunteer(dp, bot, sqlite_sessionmaker, HOME, 11)
    await volunteer(dp, bot, sqlite_sessionmaker, HOME, 12)
    worker = await staff(dp, bot, sqlite_sessionmaker, "hf-ss-xy", 900)
    outsider = await staff(dp, bot, sqlite_sessionmaker, "hf-bh", 901)
    first = await pledge(sqlite_sessionmaker, 11, 5_000)
    second = await pledge(sqlite_sessionmaker, 12, 20_050, anonymous=True, minutes=1)

    out = await worker.send("/pledges")
    listing = out[-1].text
    assert "Open pledges</b> (1 to 2 of 2; CN¥250.50 in all)" in listing
    assert listing.index("CN¥200.50") < listing.index("CN¥50.00")  # newest first
    assert "志愿者乙" in listing  # user 11's name
    assert "志愿者丙" not in listing and "anonymous" in listing  # user 12 chose anonymity
    assert "community fund of Xiyuan Xincun Community" in listing
    staff_list = out[-1]

    # Buttons replayed by the pledge's own volunteer and by staff of another district.
    await named.send("/mypledges")
    await outsider.send("/pledges")
    assert "There are no open pledges at your stations." in outsider.last().text
    replays = [
        PledgeDecideCb(pledge=first, action="received").pack(),
        PledgeDecideCb(pledge=first, action="ask").pack(),
        PledgeDecideCb(pledge=first, action="cancel").pack(),
    ]
    for person, data in [
        *((named, d) for d in [*replays, PledgeListCb(page=0).pack()]),
        *((outsider, d) for d in replays),
    ]:
        await person.press_data(data, message=person.last())
        assert person.answers()[-1].text == NO_PERMISSION, (person.user.id, data)
    # A volunteer withdrawing someone else's pledge: as if it did not exist.
    await named.press_data(MyPledgeWithdrawCb(pledge=second, action="yes").pack())
    assert named.answers()[-1].text == "This pledge no longer exists."
    assert [r.status for r in await rows(sqlite_sessionmaker)] == [PledgeStatus.OPEN] * 2
    assert await queued(sqlite_sessionmaker) == {}

    await worker.press("2. Received", message=staff_list)
    assert "Marked received" in (worker.answers()[-1].text or "")
    listing = worker.last().text
    assert "(1 to 1 of 1; CN¥200.50 in all)" in listing
    await worker.press("1. Cancel")
    question = worker.last().text
    assert "Cancel pledge" in question and "by anonymous" in question
    assert "志愿者丙" not in question
    await worker.press("No, keep it")
    assert "(1 to 1 of 1;" in worker.last().text
    await worker.press("1. Cancel")
    await worker.press("Yes, cancel it")
    assert "Cancelled" in (worker.answers()[-1].text or "")
    assert "There are no open pledges at your stations." in worker.last().text

    # Deciding again: a clear answer, nothing changes.
    await worker.press_data(
        PledgeDecideCb(pledge=first, action="cancel").pack(), message=staff_list
    )
    assert "has already been marked received" in (worker.answers()[-1].text or "")
    await worker.press_data(
        PledgeDecideCb(pledge=second, action="received").pack(), message=staff_list
    )
    assert "has already been cancelled" in (worker.answers()[-1].text or "")
    await worker.press_data(
        PledgeDecideCb(pledge=999_999, action="received").pack(), message=staff_list
    )
    assert "no longer exists" in (worker.answers()[-1].text or "")
    statuses = {r.id: (r.status, r.decided_by) for r in await rows(sqlite_sessionmaker)}
    assert statuses == {
        first: (PledgeStatus.RECEIVED, 900),
        second: (PledgeStatus.CANCELLED, 900),
    }

    notes = await queued(sqlite_sessionmaker)
    assert set(notes) == {f"pledge:{first}:received", f"pledge:{second}:cancelled"}
    assert notes[f"pledge:{first}:received"].user_id == 11
    assert notes[f"pledge:{second}:cancelled"].user_id == 12
    i18n = make_i18n("zh_CN")
    async with sqlite_sessionmaker() as session:
        with i18n.context(), i18n.use_locale("en"):
            thanks = await render_decided(session, notes[f"pledge:{first}:received"].payload)
            kind = await render_decided(session, notes[f"pledge:{second}:cancelled"].payload)
        with i18n.context(), i18n.use_locale("zh_CN"):
            thanks_zh = await render_decided(session, notes[f"pledge:{first}:received"].payload)
    assert thanks is not None and kind is not None and thanks_zh is not None
    assert "Thank you!" in thanks[0] and "has received your pledge of CN¥50.00" in thanks[0]
    assert "Xiyuan Xincun Community" in thanks[0]
    assert "closed by" in kind[0] and "CN¥200.50" in kind[0]
    assert "nothing more is needed from you" in kind[0]
    assert "¥50.00" in thanks_zh[0] and "CN¥" not in thanks_zh[0]
    assert "西园新村社区" in thanks_zh[0]


async def test_withdraw_and_the_reminder(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    me = await volunteer(dp, bot, sqlite_sessionmaker, HOME, 11)
    await staff(dp, bot, sqlite_sessionmaker, HOME, 900)
    kept = await pledge(sqlite_sessionmaker, 11, 10_000)
    dropped = await pledge(sqlite_sessionmaker, 11, 2_000, minutes=1)
    settings = dp["settings"]
    later = utcnow() + timedelta(days=settings.pledge_reminder_days, minutes=5)
    assert (
        await pledge_reminders.remind_open_pledges(
            sessionmaker=sqlite_sessionmaker, settings=settings, now=later
        )
        == 2
    )
    notes = await queued(sqlite_sessionmaker)
    assert set(notes) == {f"pledge:{kept}:reminder", f"pledge:{dropped}:reminder"}
    i18n = make_i18n("zh_CN")
    async with sqlite_sessionmaker() as session:
        with i18n.context(), i18n.use_locale("en"):
            reminder = await render_reminder(session, notes[f"pledge:{kept}:reminder"].payload)
    assert reminder is not None
    text, markup = reminder
    assert "About your pledge" in text and "CN¥100.00" in text
    assert "The bot takes no money" in text
    assert markup is not None
    assert "Withdraw this pledge" in [b.text for row in markup.inline_keyboard for b in row]

    out = await me.send("/mypledges")
    assert "Your pledges</b> (1 to 2 of 2)" in out[-1].text
    await me.press("Withdraw no. 1")  # the newest: ¥20
    assert "Withdraw your pledge" in me.last().text and "CN¥20.00" in me.last().text
    await me.press("Yes, withdraw it")
    assert "Withdrawn" in (me.answers()[-1].text or "")
    assert "cancelled" in me.last().text
    statuses = {r.id: r.status for r in await rows(sqlite_sessionmaker)}
    assert statuses == {kept: PledgeStatus.OPEN, dropped: PledgeStatus.CANCELLED}
    async with sqlite_sessionmaker() as session:
        with i18n.context(), i18n.use_locale("en"):
            gone = await render_reminder(session, {"pledge_id": dropped})
            still = await render_reminder(session, {"pledge_id": kept})
            unknown = await render_reminder(session, {"pledge_id": 999_999})
            # A volunteer's own withdrawal is not "closed by the station".
            own = await render_decided(session, {"pledge_id": dropped})
    assert gone is None and still is not None and unknown is None and own is None
    assert f"pledge:{dropped}:cancelled" not in await queued(sqlite_sessionmaker)

    async with sqlite_sessionmaker() as session:
        await pledge_decisions.decide(
            session,
            actor=Actor(900),
            pledge_id=kept,
            status=PledgeStatus.RECEIVED,
            now=utcnow(),
        )
        with i18n.context(), i18n.use_locale("en"):
            assert await render_reminder(session, {"pledge_id": kept}) is None


async def test_staff_list_pages_through_300(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    ids = await station_ids(sqlite_sessionmaker)
    await volunteer(dp, bot, sqlite_sessionmaker, HOME, 11)
    worker = await staff(dp, bot, sqlite_sessionmaker, HOME, 900)
    async with sqlite_sessionmaker() as session:
        profile = await volunteers.get(session, 11)
        assert profile is not None and profile.id is not None
        now = utcnow()
        async with write_transaction(session):
            session.add_all(
                Pledge(
                    receipt=f"P20261121-{n:06d}",
                    volunteer_id=profile.id,
                    station_id=ids[HOME],
                    amount_fen=100 * (n + 1),
                    anonymous=n % 2 == 0,
                    created_at=now - timedelta(minutes=n),
                )
                for n in range(300)
            )
    out = await worker.send("/pledges")
    total = sum(100 * (n + 1) for n in range(300))
    assert f"(1 to 5 of 300; CN¥{total // 100:,}.00 in all)" in out[-1].text
    assert "P20261121-000000" in out[-1].text  # the newest
    await worker.press("Next ›")
    assert "(6 to 10 of 300;" in worker.last().text
    assert "P20261121-000005" in worker.last().text
    await worker.press_data(PledgeListCb(page=59).pack())
    assert "(296 to 300 of 300;" in worker.last().text
    assert "P20261121-000299" in worker.last().text
    assert "Next ›" not in [t for t, _d in worker.last().buttons()]
    await worker.press_data(PledgeListCb(page=500).pack())  # past the end: the last page
    assert "(296 to 300 of 300;" in worker.last().text


async def test_chinese_staff_are_told_plainly_when_nothing_waits(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    """Seen in Chinese: a double negative, 您的站点目前没有尚未收到的认捐."""
    await staff(dp, bot, sqlite_sessionmaker, "hf-bh", 902)
    worker = Conversation(dp, bot, user_id=902, language_code="zh-hans")
    out = await worker.send("/pledges")
    assert out[-1].text == "暂无待确认的认捐。"
