"""Reminders before an activity ("I'll come" / "I can't come") and the weekly digest
of new activities: how their outbox rows read, and the answers to their buttons."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, Router, html
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.activities import rules
from services import activities, activity_admin, digest, reminders, when
from services.access import Actor
from services.errors import DomainError, NotAllowed
from services.reminders import Seat
from storage.models import Activity
from storage.types import utcnow
from ui import confirm, screen
from ui.callbacks import ComingCb, ListCb
from ui.errors import error_text, no_longer_active, refuse
from ui.format import format_when
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.outbox import Rendered, renderer
from ui.settings import Settings


async def _zone(session: AsyncSession, activity: Activity, payload: dict[str, Any]) -> ZoneInfo:
    default = str(payload.get("tz") or when.DEFAULT_ZONE)
    return await activity_admin.station_zone(session, activity.station_id, default)


def until(start: datetime, now: datetime) -> str:
    """How long until the start, roughly: "in 45 minutes", "in about 2 hours"."""
    minutes = max(1, round((start - now).total_seconds() / 60))
    if minutes < 90:
        return ngettext("in {n} minute", "in {n} minutes", minutes).format(n=minutes)
    hours = round(minutes / 60)
    return ngettext("in about {n} hour", "in about {n} hours", hours).format(n=hours)


def coming_buttons(signup_id: int, *, confirmed: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if not confirmed:
        kb.button(text=_("✅ I'll come"), callback_data=ComingCb(signup=signup_id, action="yes"))
    kb.button(text=_("❌ I can't come"), callback_data=ComingCb(signup=signup_id, action="no"))
    kb.adjust(2)
    return kb.as_markup()


@renderer(reminders.REMINDER)
async def render_reminder(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """A reminder, or None when the seat or the activity is gone or it has started."""
    seat = await reminders.reminder_seat(session, int(payload["signup_id"]))
    if seat is None:
        return None
    activity = seat.activity
    locale = get_i18n().current_locale
    zone = await _zone(session, activity, payload)
    lines = [
        _("⏰ Reminder: <b>{title}</b> starts {until}.").format(
            title=html.quote(activity.title), until=until(activity.starts_at, utcnow())
        ),
        "🕘 " + format_when(activity.starts_at, activity.ends_at, zone, locale),
        "📍 " + html.quote(activity.place),
        "",
    ]
    confirmed = seat.signup.coming_confirmed_at is not None
    if confirmed:
        lines.append(_("You said you will come. See you there!"))
    else:
        lines.append(
            _("Will you come? If not, please say so: your seat goes to the next person waiting.")
        )
    assert seat.signup.id is not None
    return "\n".join(lines), coming_buttons(seat.signup.id, confirmed=confirmed)


@renderer(digest.DIGEST)
async def render_digest(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """The weekly list of new activities, or None when the volunteer turned it off or
    nothing is left to show."""
    found = await digest.digest_for(session, payload)
    if found is None:
        return None
    locale = get_i18n().current_locale
    zones: dict[int, ZoneInfo] = {}
    lines = [_("<b>New activities this week</b>")]
    for activity, left in found.items:
        if activity.station_id not in zones:
            zones[activity.station_id] = await _zone(session, activity, payload)
        slot = format_when(activity.starts_at, activity.ends_at, zones[activity.station_id], locale)
        seats = ngettext("{left} seat left", "{left} seats left", left).format(left=left)
        lines.append(f"\n• <b>{html.quote(activity.title)}</b>\n  {slot} · {seats}")
    if found.more:
        lines.append(
            "\n" + ngettext("… and {n} more.", "… and {n} more.", found.more).format(n=found.more)
        )
    lines += [
        "",
        _("Join them with /activities."),
        _("You get this list once a week; turn it off in /settings."),
    ]
    kb = InlineKeyboardBuilder()
    kb.button(text=_("See the activities"), callback_data=ListCb(page=0))
    return "\n".join(lines), kb.as_markup()


# --- the buttons --------------------------------------------------------------------


async def _refused(callback: CallbackQuery, bot: Bot, error: DomainError) -> None:
    """Say why not, and take the buttons off the message pressed."""
    if isinstance(error, NotAllowed):
        await refuse(callback)
        return
    await callback.answer(error_text(error, plain=True), show_alert=True)
    await screen.strip(bot, callback)


async def _seat(
    callback: CallbackQuery, bot: Bot, session: AsyncSession, actor: Actor, signup_id: int
) -> Seat | None:
    """The presser's own seat, or None after telling them why not."""
    try:
        return await reminders.own_seat(session, user_id=actor.id, signup_id=signup_id)
    except DomainError as error:
        await _refused(callback, bot, error)
    return None


async def coming(
    callback: CallbackQuery,
    callback_data: ComingCb,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    action = callback_data.action
    if action in ("yes", "keep"):
        await _coming_yes(callback, callback_data, bot, session, actor)
    elif action == "no":
        await _coming_no(callback, callback_data, bot, session, actor)
    elif action == "drop":
        await _give_up(callback, callback_data, bot, session, actor, settings)
    else:
        await callback.answer(no_longer_active())


async def _coming_yes(
    callback: CallbackQuery,
    callback_data: ComingCb,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
) -> None:
    try:
        seat = await reminders.confirm_coming(
            session, user_id=actor.id, signup_id=callback_data.signup
        )
    except DomainError as error:
        await _refused(callback, bot, error)
        return
    await callback.answer(_("Thank you! See you there."))
    if callback.message is None:
        return
    if callback_data.action == "keep":  # the question "give up your seat?": answered
        text = _("Good: you keep your seat at <b>{title}</b>. See you there!")
        await screen.strip(bot, callback, text.format(title=html.quote(seat.activity.title)))
        return
    await bot.edit_message_reply_markup(
        chat_id=actor.id,
        message_id=callback.message.message_id,
        reply_markup=coming_buttons(callback_data.signup, confirmed=True),
    )


async def _coming_no(
    callback: CallbackQuery,
    callback_data: ComingCb,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
) -> None:
    seat = await _seat(callback, bot, session, actor, callback_data.signup)
    if seat is None:
        return
    await callback.answer()
    markup = confirm.keyboard(
        yes=ComingCb(signup=callback_data.signup, action="drop"),
        yes_text=_("Yes, give up my seat"),
        no=ComingCb(signup=callback_data.signup, action="keep"),
        no_text=_("No, I'll come after all"),
    )
    await bot.send_message(
        actor.id,
        _(
            "Give up your seat at <b>{title}</b>? It goes to the next person waiting. "
            "Thank you for telling us in time."
        ).format(title=html.quote(seat.activity.title)),
        reply_markup=markup,
    )


async def _give_up(
    callback: CallbackQuery,
    callback_data: ComingCb,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    user_id = actor.id
    seat = await _seat(callback, bot, session, actor, callback_data.signup)
    if seat is None:
        return
    assert seat.activity.id is not None
    try:
        result = await activities.cancel(
            session,
            user_id=user_id,
            activity_id=seat.activity.id,
            now=utcnow(),
            rules=rules(settings),
        )
    except DomainError as error:  # not_registered too: told as it is, not refused
        await callback.answer(error_text(error, plain=True), show_alert=True)
        await screen.strip(bot, callback)
        return
    await callback.answer()
    await screen.strip(bot, callback)
    await bot.send_message(
        user_id,
        _("Your place at <b>{title}</b> is cancelled. Thank you for letting us know.").format(
            title=html.quote(result.activity.title)
        ),
    )


def make_router() -> Router:
    router = Router(name="reminders")
    router.callback_query.register(coming, ComingCb.filter())
    return router
