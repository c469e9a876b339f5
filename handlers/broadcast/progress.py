"""The sender's progress message: sent when a broadcast or an announcement is
created, edited as the outbox sends (``report_progress``, called by the scheduler),
then becomes the final report."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aiogram import Bot, html
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import announcements, broadcast_progress, users
from services.broadcast_progress import Progress
from services.broadcasts import Created
from storage.models import Broadcast
from storage.types import utcnow
from ui.format import station_path
from ui.reply_scope import was_put_aside
from ui.settings import Settings

log = logging.getLogger(__name__)
# A finished broadcast without a progress message waits this long for one before its
# report is sent as a message of its own.
REPORT_WAIT = timedelta(minutes=1)


def quiet_hours_line(settings: Settings) -> list[str]:
    """The line on quiet hours, when there are any."""
    if not settings.quiet_hours:
        return []
    return [
        _("During quiet hours ({hours}) messages wait until the morning.").format(
            hours=html.quote(settings.quiet_hours)
        )
    ]


async def start_progress(
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    chat_id: int,
    created: Created,
    locale: str,
) -> None:
    """The sender's progress message, edited later by ``report_progress``."""
    broadcast = created.broadcast
    assert broadcast.id is not None
    if not created.new and broadcast.progress_message_id is not None:
        await bot.send_message(chat_id, _("This was sent already; see the progress above."))
        return
    progress = await broadcast_progress.progress(session, broadcast)
    text = await progress_text(session, progress, locale, settings)
    sent = await bot.send_message(chat_id, text)
    if was_put_aside(sent):  # Telegram is down: the final report comes as a message
        return
    await broadcast_progress.set_progress_message(
        session, broadcast_id=broadcast.id, chat_id=chat_id, message_id=sent.message_id
    )


async def progress_text(
    session: AsyncSession, progress: Progress, locale: str, settings: Settings
) -> str:
    """The sender's progress message, or the final report once nothing is waiting."""
    broadcast = progress.broadcast
    top = await heading(session, broadcast, locale)
    if progress.done:
        return "\n".join([top, *report_lines(progress)])
    lines = [
        top,
        _("Sending… sent {sent} of {total} · not delivered {failed} · waiting {waiting}").format(
            sent=progress.sent,
            total=broadcast.total,
            failed=progress.not_delivered,
            waiting=progress.waiting,
        ),
        *quiet_hours_line(settings),
    ]
    return "\n".join(lines)


async def heading(session: AsyncSession, broadcast: Broadcast, locale: str) -> str:
    path = await station_path(session, broadcast.station_id, locale)
    activity = await announcements.announced_activity(session, broadcast)
    if activity is not None:
        return _("📣 Announcement of <b>{title}</b> to the volunteers of {path}").format(
            title=html.quote(activity.title), path=path
        )
    return _("📣 Broadcast to the volunteers of {path}").format(path=path)


def report_lines(progress: Progress) -> list[str]:
    """The final report, under the heading."""
    lines = [
        _("✅ Finished: {sent} of {total} delivered.").format(
            sent=progress.sent, total=progress.broadcast.total
        )
    ]
    if progress.not_delivered:
        lines.append(_("Not delivered: {n}").format(n=progress.not_delivered))
        if progress.blocked:
            lines.append(_("• blocked the bot or left Telegram: {n}").format(n=progress.blocked))
        if progress.failed:
            lines.append(_("• other errors: {n}").format(n=progress.failed))
        if progress.withdrawn:
            lines.append(
                _("• no longer relevant when their turn came: {n}").format(n=progress.withdrawn)
            )
    return lines


# The text last shown per broadcast, so an unchanged message is not edited again.
_shown: dict[tuple[int, datetime], str] = {}


async def _edit(bot: Bot, broadcast: Broadcast, text: str) -> bool:
    """Edit the progress message; False when it cannot be (deleted, chat blocked)."""
    if broadcast.progress_chat_id is None or broadcast.progress_message_id is None:
        return False
    try:
        await bot.edit_message_text(
            text, chat_id=broadcast.progress_chat_id, message_id=broadcast.progress_message_id
        )
    except TelegramBadRequest as error:  # an unchanged text is no error (bot.replies)
        log.info("broadcast %s: progress message not editable: %s", broadcast.id, error)
        return False
    except TelegramForbiddenError as error:
        log.info("broadcast %s: sender unreachable: %s", broadcast.id, error)
        return False
    return True


async def report_progress(
    bot: Bot, session: AsyncSession, i18n: I18n, settings: Settings, broadcast: Broadcast
) -> None:
    assert broadcast.id is not None
    if broadcast.created_by is None:  # the sender erased their data: no one to report to
        await broadcast_progress.finish(session, broadcast.id)
        return
    progress = await broadcast_progress.progress(session, broadcast)
    locale = await users.locale_of(session, broadcast.created_by, settings.default_locale)
    with i18n.context(), i18n.use_locale(locale):
        text = await progress_text(session, progress, locale, settings)
    key = (broadcast.id, broadcast.created_at)
    if not progress.done:
        if broadcast.progress_message_id is not None and _shown.get(key) != text:
            await _edit(bot, broadcast, text)
            _shown[key] = text
        return
    if broadcast.progress_message_id is None and utcnow() - broadcast.created_at < REPORT_WAIT:
        return  # the sender's progress message is on its way: the report goes there
    edited = await _edit(bot, broadcast, text)
    # No progress message to edit: the report comes as a message of its own.
    await broadcast_progress.finish(
        session, broadcast.id, report_to=None if edited else broadcast.created_by
    )
    _shown.pop(key, None)
