"""The last line: an unexpected error is logged and the user is told, never silence.
The admins hear of it too, at most once per error kind per hour (``services.alerts``),
and Sentry gets it when SENTRY_DSN is set (``bot.sentry``)."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, Router, html
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent, Update
from aiogram.types import User as TgUser
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services import alerts, users
from services import when as wh
from services.errors import DomainError
from ui.format import format_moment, zone_name
from ui.outbox import Rendered, renderer
from ui.reply_scope import ReplyScope, answered, within
from ui.settings import Settings

log = logging.getLogger(__name__)


async def on_error(
    event: ErrorEvent,
    bot: Bot,
    i18n: I18n | None = None,
    locale: str | None = None,
    reply_scope: ReplyScope | None = None,
) -> None:
    log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    update = event.update
    chat_id: int | None = None
    code: str | None = None  # the sender's Telegram client language
    # The update's replies were made in its scope; so are these (retried, or put in
    # the outbox when Telegram is down), and a button already answered is not again.
    with within(reply_scope):
        if update.message is not None and update.message.chat.type == "private":
            chat_id = update.message.chat.id
            sender = update.message.from_user
            code = sender.language_code if sender is not None else None
        elif update.callback_query is not None:
            query = update.callback_query
            chat_id = query.from_user.id
            code = query.from_user.language_code
            if not answered(reply_scope, query.id):
                with contextlib.suppress(TelegramAPIError):
                    await query.answer()
        if chat_id is None or i18n is None:
            return
        if locale is None:
            # The failure came before the language was known (loading or creating the
            # person behind the update): their Telegram client's language then.
            locale = users.locale_for_client(code, i18n.default_locale)
        try:
            with i18n.context(), i18n.use_locale(locale):
                text = _(
                    "Sorry, something went wrong on our side. Please try again; "
                    "what you entered before this step is kept."
                )
            await bot.send_message(chat_id, text)
        except TelegramAPIError:
            log.warning("could not tell chat %s about the error", chat_id)


def _update_type(update: Update) -> str:
    try:
        return update.event_type
    except LookupError:  # a type newer than this aiogram
        return "unknown"


def report_to_sentry(error: BaseException) -> None:
    """Hand ``error`` to Sentry, when ``bot.sentry`` set it up (SENTRY_DSN): without
    it the SDK is never imported, and nothing is done here."""
    sentry = sys.modules.get("sentry_sdk")
    if sentry is not None and sentry.is_initialized():
        sentry.capture_exception(error)


def make_on_error(occurrences: alerts.Occurrences) -> Callable[..., Any]:
    """The error handler of one dispatcher: for an unexpected error it tells Sentry
    (when set up), answers the person (``on_error``) and then queues the admins'
    alert. Neither can hide or replace the person's answer: a failure of either is
    only logged, and the alert is queued after the answer was sent."""

    async def handle(
        event: ErrorEvent,
        bot: Bot,
        i18n: I18n | None = None,
        locale: str | None = None,
        reply_scope: ReplyScope | None = None,
        settings: Settings | None = None,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        event_from_user: TgUser | None = None,
    ) -> None:
        error = event.exception
        expected = isinstance(error, DomainError)  # a refusal a handler forgot to answer
        if not expected:
            # First, so that Sentry's own record of the error is this one (with the
            # update's scope), not the log line's below it (deduplicated then).
            try:
                report_to_sentry(error)
            except Exception:
                log.exception("could not hand the error to Sentry")
        await on_error(event, bot, i18n=i18n, locale=locale, reply_scope=reply_scope)
        if expected:
            return
        if settings is None or sessionmaker is None or not settings.admin_ids:
            return
        try:
            kind = alerts.kind_of(error)
            count = occurrences.seen(kind)
            async with sessionmaker() as session:
                new = await alerts.queue(
                    session,
                    kind=kind,
                    admin_ids=settings.admin_ids,
                    update_type=_update_type(event.update),
                    update_id=event.update.update_id,
                    user_id=event_from_user.id if event_from_user is not None else None,
                    count=count,
                    timezone=settings.timezone,
                )
            if new:
                occurrences.alerted(kind)
        except Exception:
            log.exception("could not queue the admins' alert of update %s", event.update.update_id)

    return handle


@renderer(alerts.KIND)
async def render_alert(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """An unexpected error, for an admin: its kind, when, the update's type and ids,
    and how often it happened. Nothing the person wrote."""
    locale = get_i18n().current_locale
    zone = ZoneInfo(str(payload.get("tz") or wh.DEFAULT_ZONE))
    at = datetime.fromisoformat(str(payload["at"]))
    user_id = payload.get("user_id")
    text = _(
        "⚠️ Unexpected error: <code>{error}</code>\n"
        "Where: <code>{where}</code>\n"
        "When: {when} ({zone})\n"
        "Update: {update_type} #{update_id}, from user {user_id}\n"
        "Times in this bot process since its last alert of this error: {count}\n"
        "More of the same error within the hour are not sent again."
    ).format(
        error=html.quote(str(payload["error"])),
        where=html.quote(str(payload["where"])),
        when=format_moment(at, zone, locale),
        zone=zone_name(zone, locale),
        update_type=html.quote(str(payload.get("update_type") or "unknown")),
        update_id=payload.get("update_id") if payload.get("update_id") is not None else "-",
        user_id=user_id if user_id is not None else "-",
        count=int(payload.get("count") or 1),
    )
    return text, None


def make_router() -> Router:
    router = Router(name="errors")
    router.errors.register(make_on_error(alerts.Occurrences()))
    return router
