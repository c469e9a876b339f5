"""An activity's card: how full it is and where the volunteer stands, with Join,
Cancel my place or Leave the waitlist; joining (an overlap asked about first) and
giving up a place (asked first)."""

from __future__ import annotations

from aiogram import Bot, html
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.activities.common import offer_buttons, rules, when, zone
from handlers.attendance import checkin_card
from services import activities, activity_views, stations
from services.access import Actor
from services.activities import Outcome
from services.activity_views import Seats
from services.errors import DomainError
from storage.models import SignupStatus
from storage.types import utcnow
from ui import labels, screen
from ui.callbacks import DetailCb, JoinCb, LeaveCb, ListCb
from ui.errors import error_text
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.settings import Settings


async def card(session: AsyncSession, seats: Seats, settings: Settings, locale: str) -> str:
    activity = seats.activity
    station = await stations.find(session, activity.station_id)
    lines = [
        f"<b>{html.quote(activity.title)}</b>",
        _("{kind} · for {target}").format(
            kind=labels.KINDS[activity.kind], target=labels.TARGETS[activity.target_group]
        ),
        "🕘 " + when(activity, await zone(session, activity, settings.timezone), locale),
        "📍 " + html.quote(activity.place),
        "🏠 " + html.quote(labels.station_name(station, locale) if station else ""),
    ]
    if seats.left:
        lines.append(
            ngettext(
                "👥 {left} of {capacity} seat left",
                "👥 {left} of {capacity} seats left",
                seats.left,
            ).format(left=seats.left, capacity=activity.capacity)
        )
    else:
        lines.append(_("👥 Full · {waiting} on the waitlist").format(waiting=seats.waiting))
    if activity.description:
        lines += ["", html.quote(activity.description)]
    return "\n".join(lines)


async def detail_view(
    session: AsyncSession, actor: Actor, activity_id: int, page: int, settings: Settings
) -> tuple[str, InlineKeyboardMarkup]:
    seats, signup, position = await activity_views.details(
        session, actor=actor, activity_id=activity_id
    )
    locale = actor.locale
    text = await card(session, seats, settings, locale)
    kb = InlineKeyboardBuilder()
    status = signup.status if signup is not None else None
    if status is SignupStatus.CONFIRMED:
        # Check-in and check-out (handlers/attendance/checkin_card.py): a line and buttons.
        extras = await checkin_card.card_extras(session, actor.id, activity_id, settings, locale)
        if extras.checked_in:  # the note says so, with the time
            text += "\n" + extras.note
        else:
            text += "\n\n" + _("✅ You have a seat.") + extras.note
        for label, data in extras.buttons:
            kb.button(text=label, callback_data=data)
        if not extras.checked_in:  # once there, the place is no longer given up
            kb.button(text=_("Cancel my place"), callback_data=LeaveCb(activity=activity_id))
    elif status is SignupStatus.OFFERED:
        text += "\n\n" + _("🎟 A seat is held for you. Will you come?")
        offer_buttons(kb, activity_id)
    elif status is SignupStatus.WAITLISTED:
        text += "\n\n" + _("⏳ You are number {n} on the waitlist.").format(n=position)
        kb.button(text=_("Leave the waitlist"), callback_data=LeaveCb(activity=activity_id))
    else:
        kb.button(text=_("🙋 Join"), callback_data=JoinCb(activity=activity_id))
    kb.button(text=_("‹ Back to the list"), callback_data=ListCb(page=page))
    kb.adjust(1)
    return text, kb.as_markup()


async def open_detail(
    callback: CallbackQuery,
    callback_data: DetailCb,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    try:
        text, markup = await detail_view(
            session, actor, callback_data.activity, callback_data.page, settings
        )
    except DomainError as error:
        await callback.answer(error_text(error, plain=True), show_alert=True)
        return
    await screen.replace(callback, bot, text, markup)


async def join(
    callback: CallbackQuery,
    callback_data: JoinCb,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    try:
        result = await activities.join(
            session,
            user_id=actor.id,
            activity_id=callback_data.activity,
            now=utcnow(),
            allow_overlap=callback_data.overlap_ok,
        )
    except DomainError as error:
        await callback.answer(error_text(error, plain=True), show_alert=True)
        return
    await callback.answer()
    title = html.quote(result.activity.title)
    if result.outcome is Outcome.OVERLAP:
        lines = []
        for other in result.overlapping:
            local = await zone(session, other, settings.timezone)
            lines.append(f"• {html.quote(other.title)} — {when(other, local, actor.locale)}")
        clashes = "\n".join(lines)
        kb = InlineKeyboardBuilder()
        kb.button(
            text=_("Join anyway"),
            callback_data=JoinCb(activity=callback_data.activity, overlap_ok=True),
        )
        await bot.send_message(
            actor.id,
            _(
                "<b>{title}</b> overlaps with an activity you have joined:\n{clashes}\n\n"
                "Join it as well?"
            ).format(title=title, clashes=clashes),
            reply_markup=kb.as_markup(),
        )
        return
    if result.outcome is Outcome.SEAT:
        text = _("✅ You have a seat at <b>{title}</b>. See /my for your activities.")
    elif result.outcome is Outcome.WAITLIST:
        text = _(
            "The activity <b>{title}</b> is full. You are number {n} on the waitlist; if a "
            "seat frees up, you will be asked here."
        )
    elif result.status is SignupStatus.WAITLISTED:
        text = _("You are already number {n} on the waitlist for <b>{title}</b>.")
    else:
        text = _("You are already signed up for <b>{title}</b>.")
    await bot.send_message(actor.id, text.format(title=title, n=result.position))


async def leave(
    callback: CallbackQuery,
    callback_data: LeaveCb,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    if not callback_data.confirm:
        try:
            await activities.may_cancel(
                session, user_id=actor.id, activity_id=callback_data.activity
            )
        except DomainError as error:
            await callback.answer(error_text(error, plain=True), show_alert=True)
            return
        await callback.answer()
        kb = InlineKeyboardBuilder()
        kb.button(
            text=_("Yes, cancel my place"),
            callback_data=LeaveCb(activity=callback_data.activity, confirm=True),
        )
        await bot.send_message(
            actor.id,
            _(
                "Cancel your place? If the activity is full, your "
                "seat goes to the next person waiting."
            ),
            reply_markup=kb.as_markup(),
        )
        return
    try:
        result = await activities.cancel(
            session,
            user_id=actor.id,
            activity_id=callback_data.activity,
            now=utcnow(),
            rules=rules(settings),
        )
    except DomainError as error:
        await callback.answer(error_text(error, plain=True), show_alert=True)
        return
    await callback.answer()
    await screen.strip(bot, callback)
    await bot.send_message(
        actor.id,
        _("Your place at <b>{title}</b> is cancelled. Thank you for letting us know.").format(
            title=html.quote(result.activity.title)
        ),
    )
