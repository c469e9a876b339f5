"""Everything from outside private chats. This router comes first, so no feature
ever handles a group's message or a button pressed in a group.

- A button pressed on a message in a group (or an inline message) gets a short
  answer and nothing else: every screen of the bot belongs to a private chat.
- In a group the bot answers only a person who addresses it (a command for it, a
  mention, a reply to one of its messages), and then at most once per group a day;
  joins, leaves, title changes, pins, chatter and other bots get nothing.
- Added to a group (or channel) by someone who is not station staff, it says why and
  leaves; station staff and admins may keep it in theirs.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import date, datetime

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.filters import JOIN_TRANSITION, ChatMemberUpdatedFilter
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, MessageEntity, User
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import roles
from services.access import Actor
from ui.settings import Settings

log = logging.getLogger(__name__)

_REMEMBERED_GROUPS = 10_000  # the daily note is kept for this many groups at most


# async: aiogram runs a plain function filter in a worker thread (see bot/filters.py)
async def outside_private(callback: CallbackQuery) -> bool:
    message = callback.message
    return message is None or message.chat.type != ChatType.PRIVATE


async def button_elsewhere(callback: CallbackQuery) -> None:
    await callback.answer(_("My buttons work in our private chat only."))


def addressed(message: Message, me: User) -> bool:
    """Whether a person wrote this to the bot: a command for it (``/help`` or
    ``/help@me``), a mention of it, or a reply to one of its messages."""
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == me.id:
        return True
    text = message.text or message.caption or ""
    username = f"@{me.username or ''}".lower()
    return any(
        _names_me(entity, entity.extract_from(text).lower(), username, me.id)
        for entity in message.entities or message.caption_entities or []
    )


def _names_me(entity: MessageEntity, part: str, username: str, my_id: int) -> bool:
    if entity.type == "bot_command":
        _command, at, target = part.partition("@")
        return entity.offset == 0 and (not at or f"@{target}" == username)
    if entity.type == "mention":
        return part == username
    if entity.type == "text_mention":
        return entity.user is not None and entity.user.id == my_id
    return False


class GroupReplies:
    """The group chats answered today (in the default time zone), so a busy group
    hears "private chat only" once a day at most. Kept in memory: after a restart a
    group may hear it once more."""

    def __init__(self) -> None:
        self.answered: OrderedDict[int, date] = OrderedDict()

    def first_today(self, chat_id: int, today: date) -> bool:
        if self.answered.get(chat_id) == today:
            return False
        self.answered[chat_id] = today
        self.answered.move_to_end(chat_id)
        while len(self.answered) > _REMEMBERED_GROUPS:
            self.answered.popitem(last=False)
        return True

    async def group_message(self, message: Message, bot: Bot, settings: Settings) -> None:
        sender = message.from_user
        if sender is None or sender.is_bot or not addressed(message, await bot.me()):
            return
        if not self.first_today(message.chat.id, datetime.now(settings.zone).date()):
            return
        await message.reply(_("I work in private chat only. Please open a chat with me."))


async def added(
    event: ChatMemberUpdated, bot: Bot, session: AsyncSession, settings: Settings
) -> None:
    """The bot was added to a group or channel: it stays only for station staff."""
    adder = event.from_user
    if await roles.is_staff(session, actor=Actor.of(adder.id, settings.admin_ids)):
        log.info("added to chat %s by staff %s: staying", event.chat.id, adder.id)
        return
    log.info("added to chat %s by %s, who is not staff: leaving", event.chat.id, adder.id)
    if event.chat.type != ChatType.CHANNEL:
        await bot.send_message(
            event.chat.id,
            _(
                "I work in private chat only, and stay in a group only when station staff "
                "add me. Open a private chat with me to register and join activities."
            ),
        )
    await bot.leave_chat(event.chat.id)


async def ignored() -> None:
    """Taken, so that no other router sees it, and left unanswered."""


def make_router() -> Router:
    router = Router(name="groups")
    router.callback_query.register(button_elsewhere, outside_private)
    replies = GroupReplies()
    router.message.register(replies.group_message, F.chat.type != ChatType.PRIVATE)
    router.edited_message.register(ignored, F.chat.type != ChatType.PRIVATE)
    router.my_chat_member.register(
        added,
        ChatMemberUpdatedFilter(JOIN_TRANSITION),
        F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP, ChatType.CHANNEL}),
    )
    return router
