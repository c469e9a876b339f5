"""Running the deliverer in tests: notices to other people are queued in the outbox,
and reach their chats only when the deliverer sends them."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, Dispatcher
from aiogram.utils.i18n import I18n

from bot.deliverer import Deliverer, DeliveryStats, deliver_due
from storage.db import SessionMaker
from storage.types import utcnow
from tests.mocked_bot import MockedBot, Sent
from ui.i18n import make_i18n
from ui.settings import Settings


async def deliver_all(
    bot: Bot,
    sessionmaker: SessionMaker,
    i18n: I18n | None = None,
    settings: Settings | None = None,
    *,
    now: datetime | None = None,
) -> DeliveryStats:
    """Send everything due (at ``now``, default the real time) until nothing is. The
    pacing is lifted: these tests look at what people receive, not when."""
    settings = settings or Settings(_env_file=None)  # type: ignore[call-arg]
    fast = settings.model_copy(update={"send_rate": 1000.0, "send_chat_interval": 0.0})
    deliverer = Deliverer(
        bot=bot,
        sessionmaker=sessionmaker,
        i18n=i18n or make_i18n(settings.default_locale),
        settings=fast,
        now=(lambda: now) if now is not None else utcnow,
    )
    return await deliver_due(deliverer)


async def deliver(dp: Dispatcher, bot: Bot, *, now: datetime | None = None) -> DeliveryStats:
    """``deliver_all`` with the dispatcher's own database and settings."""
    return await deliver_all(bot, dp["sessionmaker"], settings=dp["settings"], now=now)


async def delivered(dp: Dispatcher, bot: MockedBot, *, now: datetime | None = None) -> list[Sent]:
    """Run ``deliver`` and return the messages it put in chats, in order."""
    before = set(bot.session.messages)
    await deliver(dp, bot, now=now)
    return [m for k, m in bot.session.messages.items() if k not in before]
