"""The robustness corpus: a seeded, generated stream of what people and Telegram do
(dialog answers, hostile text, every command, real buttons, double taps, replayed and
forged buttons for every callback factory, other people's buttons, stickers, contacts,
edits, group chatter, restarts mid-dialog, brief Telegram outages), fed through the real
Dispatcher with the mocked Telegram that parses HTML as Telegram does.

It begins with a tour into every dialog state (each dialog's command, then answers and
the least pressed buttons until the state is reached, then a burst of odd input
there), then walks at random. It fails on any traceback in the log, any private
message left unanswered, any button press not answered exactly once, and any request
Telegram would refuse; and unless every dialog state was reached and every callback
factory pressed. The figures are
printed (run with -s). ROBUSTNESS_STEPS (default 1200) and ROBUSTNESS_SEED change the
run: ``ROBUSTNESS_STEPS=20000 pytest tests/handlers/test_robustness.py -s``.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram import Dispatcher
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import StatesGroup
from aiogram.fsm.storage.base import StorageKey
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import CallbackQuery, Chat, Message, MessageEntity, Update, User

from bot.app import build_dispatcher
from services import activities, attendance_codes, checkin, pledges, roles, users, volunteers
from services.access import Actor as Person
from services.volunteers import Draft
from storage.db import SessionMaker
from storage.types import utcnow
from tests.callback_catalog import TEXT_VALUES, factories, field_kind, id_kind, pack
from tests.conftest import load_example_tree
from tests.delivery_helpers import deliver
from tests.factories import make_activity
from tests.mocked_bot import BOT_USER, NOT_MODIFIED, Conversation, MockedBot, Sent
from ui import states
from ui.settings import Settings

STEPS = int(os.environ.get("ROBUSTNESS_STEPS", "1200"))
SEED = int(os.environ.get("ROBUSTNESS_SEED", "20261201"))

ADMIN, COORDINATOR, STAFF = 9000, 9401, 9402
VOLUNTEERS = (9501, 9502, 9503)
NEWCOMERS = (9601, 9602)  # not registered at first
GROUP = Chat(id=-100777, type="supergroup", title="志愿者群")
MISSING = 987_654
SORRY = "Sorry, something went wrong"
SORRY_ZH = "抱歉，系统出了点问题"

COMMANDS = [
    "/start", "/help", "/cancel", "/language", "/profile", "/mydata", "/delete_me",
    "/activities", "/my", "/checkin", "/checkout", "/hours", "/certificate", "/verify",
    "/pledge", "/mypledges", "/settings", "/new_activity", "/manage", "/roster", "/pledges",
    "/tally", "/broadcast", "/invite", "/team", "/pending", "/nonsense",
    "/checkin 000000", "/checkin abc", "/checkout 123456", "/verify FORGED-0000",
    "/tally 2026-W47", "/tally 2026-W99", "/tally 2026-01-01 2025-01-01", "/tally 1900-W01",
    "/start inv_forgedtoken", "/start ci_000000", "/start ci_", "/start anything",
    "/help@station_test_bot", "/help@other_bot", "/pledge 50", "/certificate 2026",
]  # fmt: skip
# What each kind of person starts most often (besides any command above).
USUAL = {
    "admin": ["/new_activity", "/broadcast", "/roster", "/tally", "/invite", "/team", "/manage"],
    "coordinator": ["/new_activity", "/broadcast", "/tally", "/pending", "/roster", "/manage"],
    "staff": ["/new_activity", "/broadcast", "/roster", "/pledges", "/manage", "/tally"],
    "volunteer": ["/pledge", "/activities", "/my", "/checkin", "/certificate", "/profile"],
    "newcomer": ["/start", "/start", "/verify", "/help"],
}

HOSTILE = [
    "", " ", "\n\n", "x" * 5000, "<b>bold</b> & <i>", "<script>alert(1)</script>",
    "&amp;&lt;&gt;", "'; DROP TABLE volunteer; --", "%s %d {0} {name} {}", "\u202e反转\u202c",
    "\u200b\u200d\ufeff", "😀" * 80, "９９９９", "-1", "0", "99999999999999999999", "1e308",
    "NaN", "inf", "9999999999小时", "99999999999分钟", "99999999999999999999小时",
    "明天 上午13点", "2月30日 9:00", "13/13 25:61", "1900-01-01 00:00", "9999-12-31 23:59",
    "¥-50", "50.555元", "¥5000.01", "1,000,000", "null", "None", "true", "\x00\x01\x7f",
    "lg:en", "pd:1:1:0", "/", "@station_test_bot", "中" * 100, "A" * 41, "1" * 60,
    "2026-W53", "2026-13-01 2026-12-01", "11/28 9:00 - 11/28 8:00", "半小时", "0小时",
]  # fmt: skip

# Answers that move each dialog forward (the generator uses them often in the state).
FORWARD: dict[str, list[str]] = {
    "Registration:name": ["李明", "Li Lei", "王小红"],
    "Registration:phone": ["13812345678", "+86 139 0000 1111"],
    "Registration:guardian_name": ["王建国", "Zhang San"],
    "Registration:guardian_phone": ["13900001111"],
    "ActivityDialog:title": ["垃圾分类督导", "Elder tea party"],
    "ActivityDialog:description": ["带好手套，注意安全", "Bring gloves"],
    "ActivityDialog:place": ["西园新村东门", "Community hall"],
    "ActivityDialog:starts_at": ["明天 9:00", "后天 下午3点", "周六 9:00", "2027-03-01 09:00"],
    "ActivityDialog:ends_at": ["2小时", "90分钟", "11:30", "下午5点"],
    "ActivityDialog:capacity": ["20", "5", "1"],
    "ActivityDialog:repeat_weeks": ["1", "4", "12"],
    "CheckinDialog:code": ["123456", "000000"],
    "RosterDialog:minutes": ["90", "30", "0"],
    "RosterDialog:beneficiaries": ["12", "0", "300"],
    "BroadcastDialog:text": ["周六活动请准时到场", "Please bring water."],
    "CertificateDialog:period": ["2026", "2025", "2026-01-01 2026-12-31"],
    "VerifyDialog:code": ["ABCD-1234", "0000"],
    "PledgeDialog:amount": ["50", "¥20.5", "100元"],
    "TallyDialog:period": ["2026-W47", "2026-11-01 2026-11-30", "上周"],
    "RosterDialog:summary": ["服务老人20人次，活动顺利", "Served 20 elders."],
    "BackfillDialog:person": ["王芳 13800138000", "张奶奶"],
    "BackfillDialog:minutes": ["2", "90分钟"],
    "RegisterDialog:search": ["王", "1234", "3★"],
    "ReportDialog:period": ["2026-10", "2026-Q3", "2025"],
}


# Where each dialog begins, and who may begin it (most likely first), for the tour.
STARTS = {
    "Registration": (("newcomer", "volunteer"), "/start"),
    "Erasure": (("volunteer",), "/delete_me"),
    "ActivityDialog": (("admin", "coordinator", "staff"), "/new_activity"),
    "CheckinDialog": (("volunteer",), "/checkin"),
    "RosterDialog": (("staff", "admin", "coordinator"), "/roster"),
    "BroadcastDialog": (("staff", "admin", "coordinator"), "/broadcast"),
    "CertificateDialog": (("volunteer",), "/certificate"),
    "VerifyDialog": (("newcomer", "volunteer"), "/verify"),
    "PledgeDialog": (("volunteer",), "/pledge"),
    "TallyDialog": (("staff", "coordinator", "admin"), "/tally"),
    "BackfillDialog": (("staff", "admin", "coordinator"), "/roster"),
    "BackfillDialog:sheet": (("staff", "admin", "coordinator"), "/import_hours"),
    "RegisterDialog": (("staff", "coordinator", "admin"), "/volunteers"),
    "ReportDialog": (("coordinator", "staff", "admin"), "/report"),
}


# Buttons on the way to a state (parts of their data), for the tour.
HINTS = {
    "Registration": ("sk:done", "ag:14_17", "cs:guardian_yes", "cs:privacy_yes", "st:p:"),
    "BroadcastDialog": ("dk:done", "db:p:"),
    "RosterDialog:minutes": ("ros:", "rop:", ":minutes:"),
    "RosterDialog:beneficiaries": ("ros:", "rob:"),
    "TallyDialog": ("tyt:",),
    "RosterDialog:photos": ("ros:", "ror:"),
    "RosterDialog:summary": ("ros:", "ror:"),
    "BackfillDialog": ("ros:", "roa:"),
    "BackfillDialog:sheet": ("hi:",),
    "RegisterDialog": ("rgs:", "rgl:s:"),
    "ReportDialog": ("rps:", "rpt:"),
}


def _needs_a_missing_font() -> set[str]:
    """States a machine without a Chinese font cannot reach: /certificate says it
    cannot draw one there, and its dialog does not begin."""
    from reports.certificate_pdf import find_cjk_font

    return set() if find_cjk_font() is not None else {"CertificateDialog:period"}


def all_states() -> set[str]:
    """Every dialog state of the bot (ui/states.py)."""
    found: set[str] = set()
    for value in vars(states).values():
        if isinstance(value, type) and issubclass(value, StatesGroup) and value is not StatesGroup:
            found |= {s.state for s in value.__all_states__ if s.state}
    return found


@dataclass
class Figures:
    steps: int = 0
    updates: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)
    prefixes: Counter[str] = field(default_factory=Counter)
    forged: int = 0
    restarts: int = 0
    outages: int = 0
    requests: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class Actor:
    chat: Conversation
    kind: str  # admin, coordinator, staff, volunteer, newcomer


class Corpus:
    """The generator and the checks around every update it feeds."""

    def __init__(
        self,
        *,
        rng: random.Random,
        make_dp: Callable[[], Dispatcher],
        bot: MockedBot,
        maker: SessionMaker,
        ids: dict[str, list[int]],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        self.rng, self.make_dp, self.bot, self.maker = rng, make_dp, bot, maker
        self.ids, self.caplog = ids, caplog
        self.dp = make_dp()
        self.figures = Figures()
        self.factories = factories()
        self.states = all_states()
        people = [(ADMIN, "admin"), (COORDINATOR, "coordinator"), (STAFF, "staff")]
        people += [(v, "volunteer") for v in VOLUNTEERS] + [(n, "newcomer") for n in NEWCOMERS]
        languages = rng.choices(["en", "zh-hans"], k=len(people))
        self.actors = [
            Actor(Conversation(self.dp, bot, user_id=uid, language_code=language), kind)
            for (uid, kind), language in zip(people, languages, strict=True)
        ]
        self.group_ids = iter(range(70_000, 10**9))
        self.actor: Actor | None = None
        self.pressed: Counter[str] = Counter()

    # --- the checks -----------------------------------------------------------------

    async def fed(self, what: str, actor: Actor, act: Awaitable[Any], *, private: bool) -> None:
        """Run one update and check what came of it."""
        bot = self.bot
        before, refused = len(bot.session.requests), len(bot.session.refused)
        self.caplog.clear()
        await act
        self.figures.updates[what] += 1
        requests = bot.session.requests[before:]
        self.figures.requests += len(requests)
        problems = [f"traceback: {r.getMessage()}" for r in self.caplog.records if r.exc_info]
        problems += [
            f"logged error: {r.getMessage()}"
            for r in self.caplog.records
            if r.levelno >= logging.ERROR and not r.exc_info
        ]
        problems += [
            f"refused: {r}" for r in bot.session.refused[refused:] if NOT_MODIFIED not in r
        ]
        uid = actor.chat.user.id
        to_them = [r for r in requests if _chat_of(r) == uid]
        if private and what != "press" and not to_them:
            problems.append("unanswered private message")
        if what == "press":
            answers = [r for r in requests if isinstance(r, AnswerCallbackQuery)]
            if len(answers) != 1:
                problems.append(f"{len(answers)} answers to one button press")
        texts = [getattr(r, "text", None) or "" for r in to_them]
        if any(SORRY in t or t.startswith(SORRY_ZH) for t in texts):
            problems.append("told 'something went wrong'")
        for problem in problems:
            self.figures.problems.append(
                f"step {self.figures.steps} {actor.kind} {what}: {problem}"
            )

    async def state_of(self, actor: Actor) -> str | None:
        uid = actor.chat.user.id
        key = StorageKey(bot_id=self.bot.id, chat_id=uid, user_id=uid)
        return await FSMContext(storage=self.dp.storage, key=key).get_state()

    # --- the actions ----------------------------------------------------------------

    def own_buttons(self, actor: Actor, recent: int) -> list[tuple[Sent, str]]:
        messages = [m for m in actor.chat.inbox() if m.buttons()][-recent:]
        return [(m, data) for m in messages for _text, data in m.buttons() if data]

    def novel(self, buttons: list[tuple[Sent, str]]) -> tuple[Sent, str]:
        """A button, those pressed least so far most likely: the walk explores."""
        weights = [1 / (1 + self.pressed[data]) ** 2 for _message, data in buttons]
        return self.rng.choices(buttons, weights)[0]

    async def press(self, actor: Actor, data: str, message: Sent | None = None) -> None:
        target = message or self.host(actor)
        if target is None:
            return
        self.figures.prefixes[data.split(":", 1)[0]] += 1
        self.pressed[data] += 1
        await self.fed("press", actor, actor.chat.press_data(data, message=target), private=True)

    def host(self, actor: Actor) -> Sent | None:
        inbox = actor.chat.inbox()
        return inbox[-1] if inbox else None

    def forged_data(self, factory: type[CallbackData] | None = None) -> str:
        rng = self.rng
        if factory is None and rng.random() < 0.08:  # not any factory's shape at all
            return rng.choice(["", ":", "x" * 70, "lg", "lg:en:extra", "jd:", "🙂:1", "st:o:1:0:0"])
        factory = factory or rng.choice(self.factories)
        values: dict[str, Any] = {}
        for name in factory.model_fields:
            kind = field_kind(factory, name)
            if kind == "int":
                refers = id_kind(factory, name)
                pool = [0, 1, 2, MISSING, 2**31 - 1, 2**31, 2**63, -1, 10**30]
                pool += self.ids.get(refers or "", []) * 3
                values[name] = rng.choice(pool)
            elif kind == "bool":
                values[name] = rng.choice([True, False, "2", "yes", ""])
            else:
                good = list(TEXT_VALUES[(factory.__prefix__, name)])
                values[name] = rng.choice([*good, *good, "", "x", "🙂", "<b>", "a" * 30, "../"])
        self.figures.forged += 1
        return pack(factory, values)[:64]

    async def say(self, actor: Actor, text: str) -> None:
        await self.fed("text", actor, actor.chat.send(text), private=True)

    async def step(self) -> None:
        rng, figures = self.rng, self.figures
        if self.actor is None or rng.random() < 0.3:  # people write in bursts
            self.actor = rng.choice(self.actors)
        actor = self.actor
        state = await self.state_of(actor)
        if state:
            figures.states[state] += 1
        roll = rng.random()
        if state and roll < 0.7:  # move the dialog on
            buttons = self.own_buttons(actor, 1)
            if state in FORWARD and (not buttons or rng.random() < 0.6):
                figures.actions["forward text"] += 1
                await self.say(actor, rng.choice(FORWARD[state]))
            elif buttons:
                figures.actions["forward button"] += 1
                message, data = self.novel(buttons)
                await self.press(actor, data, message)
            else:
                figures.actions["hostile text"] += 1
                await self.say(actor, rng.choice(HOSTILE))
            return
        roll = rng.random()
        if roll < 0.20:
            figures.actions["command"] += 1
            usual = rng.random() < 0.6
            await self.say(actor, rng.choice(USUAL[actor.kind] if usual else COMMANDS))
        elif roll < 0.34:
            figures.actions["hostile text"] += 1
            await self.say(actor, rng.choice(HOSTILE))
        elif roll < 0.52:
            buttons = self.own_buttons(actor, 3)
            if buttons:
                figures.actions["button"] += 1
                message, data = self.novel(buttons)
                await self.press(actor, data, message)
        elif roll < 0.57:
            buttons = self.own_buttons(actor, 3)
            if buttons:
                figures.actions["double tap"] += 1
                message, data = rng.choice(buttons)
                await self.press(actor, data, message)
                await self.press(actor, data, message)
        elif roll < 0.62:
            buttons = self.own_buttons(actor, 50)
            if buttons:
                figures.actions["old button replayed"] += 1
                _message, data = rng.choice(buttons)
                await self.press(actor, data)
        elif roll < 0.72:
            figures.actions["forged button"] += 1
            await self.press(actor, self.forged_data())
        elif roll < 0.77:
            others = [a for a in self.actors if a is not actor]
            buttons = self.own_buttons(rng.choice(others), 5)
            if buttons:
                figures.actions["another's button"] += 1
                _message, data = rng.choice(buttons)
                await self.press(actor, data)
        elif roll < 0.80:
            figures.actions["sticker"] += 1
            await self.fed("sticker", actor, actor.chat.sticker(), private=True)
        elif roll < 0.83:
            figures.actions["contact"] += 1
            own = rng.random() < 0.5
            phone = rng.choice(["+8613812345678", "13812345678", "+10000", "not a phone"])
            await self.fed("contact", actor, actor.chat.contact(phone, own=own), private=True)
        elif roll < 0.85:
            figures.actions["edited message"] += 1
            await self.fed(
                "edit", actor, actor.chat.edit(rng.choice(HOSTILE + COMMANDS)), private=True
            )
        elif roll < 0.90:
            figures.actions["group"] += 1
            await self.group(actor)
        elif roll < 0.93:
            figures.actions["deliver the outbox"] += 1
            await deliver(self.dp, self.bot)
        elif roll < 0.945:
            figures.actions["restart"] += 1
            figures.restarts += 1
            self.dp = self.make_dp()  # state lives in the database: dialogs resume
            for each in self.actors:
                each.chat.dp = self.dp
        elif roll < 0.95:
            figures.actions["outage"] += 1
            figures.outages += 1
            self.bot.session.outage(0.3)
            await self.say(actor, rng.choice(["/help", "/my", "/activities"]))
        else:
            figures.actions["command"] += 1
            await self.say(actor, rng.choice(COMMANDS))

    async def seek(self, target: str, *, attempts: int = 8, moves: int = 30) -> bool:
        """Walk into ``target`` on purpose: its dialog's command, then answers, the
        buttons on the way (HINTS) and else the least pressed ones; there, a burst of
        odd input. Whether it got there."""
        dialog = target.split(":", 1)[0]
        kinds, command = STARTS.get(target, STARTS[dialog])
        hints = HINTS.get(target, HINTS.get(dialog, ()))
        candidates = [a for kind in kinds for a in self.actors if a.kind == kind]
        for attempt in range(attempts):
            actor = candidates[attempt % len(candidates)]
            self.figures.actions["tour"] += 1
            await self.say(actor, "/cancel")
            await self.say(actor, command)
            for _move in range(moves):
                state = await self.state_of(actor)
                if state == target:
                    self.figures.states[state] += 1
                    for _ in range(5):
                        self.actor = actor
                        await self.odd(actor)
                    return True
                buttons = self.own_buttons(actor, 1)
                on_the_way = [b for b in buttons if any(h in b[1] for h in hints)]
                if state in FORWARD and (not buttons or self.rng.random() < 0.7):
                    await self.say(actor, self.rng.choice(FORWARD[state]))
                elif on_the_way and self.rng.random() < 0.8:
                    message, data = self.rng.choice(on_the_way)
                    await self.press(actor, data, message)
                elif buttons:
                    message, data = self.novel(buttons)
                    await self.press(actor, data, message)
                else:
                    break  # the dialog ended, or never began
        return False

    async def odd(self, actor: Actor) -> None:
        """Something a dialog does not expect."""
        roll = self.rng.random()
        if roll < 0.4:
            await self.say(actor, self.rng.choice(HOSTILE))
        elif roll < 0.7:
            await self.press(actor, self.forged_data())
        elif roll < 0.85:
            await self.say(actor, self.rng.choice(COMMANDS))
        else:
            await self.fed("sticker", actor, actor.chat.sticker(), private=True)

    async def group(self, actor: Actor) -> None:
        rng, chat = self.rng, actor.chat
        sender = chat.user
        roll = rng.random()
        if roll < 0.5:
            text = rng.choice(
                ["/help", "/start@station_test_bot", "大家好", "@station_test_bot 你好"]
            )
            entities = None
            if text.startswith("/"):
                entities = [
                    MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))
                ]
            elif text.startswith("@"):
                entities = [MessageEntity(type="mention", offset=0, length=17)]
            message = Message(
                message_id=next(self.group_ids), date=datetime.now(UTC), chat=GROUP,
                from_user=sender, text=text, entities=entities,
            )  # fmt: skip
            update = Update(update_id=next(self.group_ids), message=message)
        elif roll < 0.75:
            message = Message(
                message_id=next(self.group_ids), date=datetime.now(UTC), chat=GROUP,
                from_user=sender, new_chat_members=[User(id=1, is_bot=False, first_name="N")],
            )  # fmt: skip
            update = Update(update_id=next(self.group_ids), message=message)
        else:
            data = rng.choice([self.forged_data(), "lg:en", "jl:0"])
            query = CallbackQuery(
                id=f"g{next(self.group_ids)}", from_user=sender, chat_instance="g", data=data,
                message=Message(
                    message_id=next(self.group_ids), date=datetime.now(UTC), chat=GROUP,
                    from_user=BOT_USER, text="card",
                ),
            )  # fmt: skip
            update = Update(update_id=next(self.group_ids), callback_query=query)
            what = "press"
            await self.fed(what, actor, self.dp.feed_update(self.bot, update), private=False)
            return
        await self.fed("group", actor, self.dp.feed_update(self.bot, update), private=False)


def _kind(problem: str) -> str:
    """``step 3 admin press: refused: EditMessageText: ...`` -> ``refused``."""
    return problem.split(": ", 2)[1].split(":")[0]


def _chat_of(request: TelegramMethod[Any]) -> int | None:
    if isinstance(
        request, SendMessage | SendDocument | SendPhoto | EditMessageText | EditMessageReplyMarkup
    ):
        chat = request.chat_id
        return int(chat) if chat is not None else None
    return None


async def _world(maker: SessionMaker) -> dict[str, list[int]]:
    """Stations, staff, volunteers, activities at every stage, seats, pledges."""
    tree = await load_example_tree(maker)
    now = utcnow()
    async with maker() as session:
        await roles.grant(
            session, user_id=COORDINATOR, role="coordinator", station_code="hf-ss", actor_id=None
        )
        await roles.grant(
            session, user_id=STAFF, role="staff", station_code="hf-ss-xy-xyxc", actor_id=None
        )
        for uid in VOLUNTEERS:
            await users.ensure_user(session, uid)
            await volunteers.save(
                session,
                user_id=uid,
                draft=Draft(
                    real_name="志愿者" + "甲乙丙"[uid % 3],
                    phone="+8613800000000",
                    station_id=tree["hf-ss-xy-xyxc"],
                    age_group="18_35",
                    privacy_consent=True,
                ),
            )
    home = tree["hf-ss-xy-xyxc"]
    upcoming = await make_activity(maker, home, now=now, capacity=2, title="敬老茶话会")
    later = await make_activity(
        maker, tree["hf-ss"], now=now, capacity=30, starts_in=timedelta(days=6), title="政策宣传"
    )
    running = await make_activity(
        maker, home, now=now, capacity=10, starts_in=-timedelta(minutes=20), title="环境整治"
    )
    ended = await make_activity(
        maker, home, now=now, capacity=10, starts_in=-timedelta(hours=5), title="垃圾分类"
    )
    async with maker() as session:
        for uid in VOLUNTEERS:
            for activity_id, when in ((upcoming, now), (running, now - timedelta(days=1))):
                await activities.join(session, user_id=uid, activity_id=activity_id, now=when)
            await activities.join(
                session, user_id=uid, activity_id=ended, now=now - timedelta(days=1)
            )
        opened = await attendance_codes.open_checkin(
            session, actor=Person(ADMIN, is_admin=True), activity_id=running, now=now
        )
        assert opened.checkin_code is not None
        await checkin.check_in(session, user_id=VOLUNTEERS[0], code=opened.checkin_code)
        made = await pledges.create(
            session,
            user_id=VOLUNTEERS[1],
            activity_id=None,
            amount_fen=5_000,
            anonymous=False,
            token=pledges.new_token(),
            ceiling_fen=500_000,
            now=now,
        )
    FORWARD["CheckinDialog:code"] = [opened.checkin_code, "123456"]
    return {
        "activity": [upcoming, later, running, ended],
        "station": [home, tree["hf-ss"], tree["hf"]],
        "pledge": [made.view.id],
        "volunteer": [1, 2, 3],
        "signup": [1, 2, 3],
        "role": [1, 2],
    }


async def test_the_generated_corpus_finds_no_failure(
    sqlite_url: str,
    sqlite_sessionmaker: SessionMaker,
    bot: MockedBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ids = await _world(sqlite_sessionmaker)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=sqlite_url,
        bot_token=None,
        quiet_hours="off",
        admin_ids=frozenset({ADMIN}),
        reply_retry_seconds=2.0,
    )
    corpus = Corpus(
        rng=random.Random(SEED),
        make_dp=lambda: build_dispatcher(settings=settings, sessionmaker=sqlite_sessionmaker),
        bot=bot,
        maker=sqlite_sessionmaker,
        ids=ids,
        caplog=caplog,
    )
    started = time.monotonic()
    # The tour: into every dialog state on purpose, while the world is whole, with a
    # burst of odd input in each; then the random walk, which may cancel activities,
    # close records, revoke roles and erase people, as people would.
    for target in sorted(corpus.states):
        await corpus.seek(target)
    toured = set(corpus.figures.states)
    tour_updates = sum(corpus.figures.updates.values())
    corpus.figures.states.clear()
    for _ in range(STEPS):
        corpus.figures.steps += 1
        await corpus.step()
    walked = set(corpus.figures.states)
    corpus.figures.states.update(toured)
    for factory in corpus.factories:  # each factory's buttons, forged, from each kind
        if factory.__prefix__ not in corpus.figures.prefixes:
            for actor in corpus.actors:
                await corpus.press(actor, corpus.forged_data(factory))
    elapsed = time.monotonic() - started
    figures = corpus.figures
    unreached = sorted(corpus.states - set(figures.states) - _needs_a_missing_font())
    known = {f.__prefix__ for f in corpus.factories}
    unpressed = sorted(known - set(figures.prefixes))
    print(
        f"\nrobustness corpus, seed {SEED}: a tour of {tour_updates} updates, then "
        f"{figures.steps} random steps; {sum(figures.updates.values())} updates in all "
        f"({dict(figures.updates)}), "
        f"{figures.requests} requests to Telegram, {elapsed:.0f} s"
        f"\nactions: {dict(figures.actions)}"
        f"\nforged buttons: {figures.forged}; restarts: {figures.restarts}; "
        f"outages: {figures.outages}"
        f"\ndialog states reached: {len(figures.states)} of {len(corpus.states)}"
        f" ({len(toured)} on the tour, {len(walked)} by the random walk)"
        f"\ncallback factories pressed: {len(known & set(figures.prefixes))} of {len(known)}"
        f"\nproblems: {len(figures.problems)} {dict(Counter(_kind(p) for p in figures.problems))}"
    )
    assert figures.problems == [], "\n".join(figures.problems[:30])
    assert unreached == [], f"dialog states never reached: {unreached}"
    assert unpressed == [], f"callback factories never pressed: {unpressed}"
