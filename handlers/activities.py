"""Volunteers and activities: browse, join, the waitlist, offered seats, /my."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router, html
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.attendance import checkin_card
from services import activities, stations
from services import when as wh
from services.activities import OfferRules, Outcome, Seats
from services.errors import DomainError
from storage.models import Activity, ActivityStatus, SignupStatus
from storage.types import utcnow
from ui import labels
from ui.callbacks import DetailCb, JoinCb, LeaveCb, ListCb, OfferCb
from ui.format import format_moment, format_when
from ui.outbox import Rendered, renderer
from ui.screen import show_in_place
from ui.settings import Settings

log = logging.getLogger(__name__)
PAGE = 5


def rules(settings: Settings) -> OfferRules:
    return OfferRules(
        offer_for=timedelta(hours=settings.offer_hours),
        lead=timedelta(hours=settings.offer_lead_hours),
        late_cancel=timedelta(hours=settings.late_cancel_hours),
        timezone=settings.timezone,
    )


def when(activity: Activity, zone: ZoneInfo, locale: str) -> str:
    return format_when(activity.starts_at, activity.ends_at, zone, locale)


async def _zone(session: AsyncSession, activity: Activity, settings: Settings) -> ZoneInfo:
    return await stations.zone(session, activity.station_id, settings.timezone)


def error_text(error: DomainError) -> str:
    texts = {
        "not_registered": _("Please register first: send /start."),
        "volunteer_pending": _(
            "Your station has not approved your registration yet. You can join "
            "activities once it has."
        ),
        "volunteer_not_active": _("Your registration is not active. Please ask your station."),
        "activity_not_found": _("This activity no longer exists."),
        "activity_cancelled": _("This activity has been cancelled."),
        "activity_started": _("This activity has already started."),
        "not_signed_up": _("You are not signed up for this activity."),
        "checked_in": _(
            "You have checked in to this activity, so your place can no longer be "
            "cancelled. If you must leave, check out, or tell the station's staff."
        ),
        "offer_gone": _("This seat is no longer held for you."),
    }
    return texts.get(error.code, _("That did not work. Please try again."))


async def card(session: AsyncSession, seats: Seats, settings: Settings, locale: str) -> str:
    activity = seats.activity
    station = await stations.find(session, activity.station_id)
    lines = [
        f"<b>{html.quote(activity.title)}</b>",
        _("{kind} · for {target}").format(
            kind=labels.KINDS[activity.kind], target=labels.TARGETS[activity.target_group]
        ),
        "🕘 " + when(activity, await _zone(session, activity, settings), locale),
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


async def list_view(
    session: AsyncSession, user_id: int, page: int, settings: Settings, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    now = utcnow()
    items, total = await activities.upcoming_for(
        session, user_id=user_id, now=now, offset=page * PAGE, limit=PAGE
    )
    if not total:
        return _("There are no upcoming activities at your station right now."), None
    pages = -(-total // PAGE)
    kb = InlineKeyboardBuilder()
    lines = [_("<b>Upcoming activities</b> ({page}/{pages})").format(page=page + 1, pages=pages)]
    for number, seats in enumerate(items, start=page * PAGE + 1):
        activity = seats.activity
        zone = await _zone(session, activity, settings)
        left = (
            ngettext("{left} seat left", "{left} seats left", seats.left).format(left=seats.left)
            if seats.left
            else _("full, waitlist open")
        )
        lines.append(
            f"\n{number}. <b>{html.quote(activity.title)}</b>\n   "
            f"{when(activity, zone, locale)} · {labels.KINDS[activity.kind]} · {left}"
        )
        assert activity.id is not None
        kb.button(
            text=f"{number}. {activity.title[:30]}",
            callback_data=DetailCb(activity=activity.id, page=page),
        )
    nav = 0
    if page > 0:
        kb.button(text=_("‹ Previous"), callback_data=ListCb(page=page - 1))
        nav += 1
    if page < pages - 1:
        kb.button(text=_("Next ›"), callback_data=ListCb(page=page + 1))
        nav += 1
    kb.adjust(*([1] * len(items)), *([nav] if nav else []))
    return "\n".join(lines), kb.as_markup()


async def show_list(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    assert message.from_user is not None
    try:
        text, markup = await list_view(
            session, message.from_user.id, 0, settings, i18n.current_locale
        )
    except DomainError as error:
        await message.answer(error_text(error))
        return
    await message.answer(text, reply_markup=markup)


async def page_list(
    callback: CallbackQuery,
    callback_data: ListCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    try:
        text, markup = await list_view(
            session, callback.from_user.id, callback_data.page, settings, i18n.current_locale
        )
    except DomainError as error:
        await callback.answer(error_text(error), show_alert=True)
        return
    await show_in_place(callback, bot, text, markup)


async def detail_view(
    session: AsyncSession,
    user_id: int,
    activity_id: int,
    page: int,
    settings: Settings,
    locale: str,
) -> tuple[str, InlineKeyboardMarkup]:
    seats, signup, position = await activities.details(
        session, user_id=user_id, activity_id=activity_id, admin_ids=settings.admin_ids
    )
    text = await card(session, seats, settings, locale)
    kb = InlineKeyboardBuilder()
    status = signup.status if signup is not None else None
    if status is SignupStatus.CONFIRMED:
        # Check-in and check-out (handlers/attendance/checkin_card.py): a line and buttons when due.
        extras = await checkin_card.card_extras(session, user_id, activity_id, settings, locale)
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
        kb.button(
            text=_("✅ Yes, I'll come"), callback_data=OfferCb(activity=activity_id, accept=True)
        )
        kb.button(
            text=_("✖️ No, pass it on"), callback_data=OfferCb(activity=activity_id, accept=False)
        )
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
    settings: Settings,
    i18n: I18n,
) -> None:
    try:
        text, markup = await detail_view(
            session,
            callback.from_user.id,
            callback_data.activity,
            callback_data.page,
            settings,
            i18n.current_locale,
        )
    except DomainError as error:
        await callback.answer(error_text(error), show_alert=True)
        return
    await show_in_place(callback, bot, text, markup)


async def join(
    callback: CallbackQuery,
    callback_data: JoinCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    user_id = callback.from_user.id
    try:
        result = await activities.join(
            session,
            user_id=user_id,
            activity_id=callback_data.activity,
            now=utcnow(),
            allow_overlap=callback_data.overlap_ok,
        )
    except DomainError as error:
        await callback.answer(error_text(error), show_alert=True)
        return
    await callback.answer()
    title = html.quote(result.activity.title)
    if result.outcome is Outcome.OVERLAP:
        lines = []
        for other in result.overlapping:
            zone = await _zone(session, other, settings)
            lines.append(f"• {html.quote(other.title)} — {when(other, zone, i18n.current_locale)}")
        clashes = "\n".join(lines)
        kb = InlineKeyboardBuilder()
        kb.button(
            text=_("Join anyway"),
            callback_data=JoinCb(activity=callback_data.activity, overlap_ok=True),
        )
        await bot.send_message(
            user_id,
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
    await bot.send_message(user_id, text.format(title=title, n=result.position))


async def show_mine(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    assert message.from_user is not None
    rows = await activities.mine(session, user_id=message.from_user.id, now=utcnow())
    if not rows:
        await message.answer(_("You have no upcoming activities. Find one with /activities."))
        return
    kb = InlineKeyboardBuilder()
    lines = [_("<b>Your activities</b>")]
    for row in rows:
        activity = row.activity
        assert activity.id is not None
        zone = await _zone(session, activity, settings)
        state = {
            SignupStatus.CONFIRMED: _("checked in") if row.checked_in else _("you have a seat"),
            SignupStatus.OFFERED: _("seat offered, please answer"),
            SignupStatus.WAITLISTED: _("waitlist no. {n}").format(n=row.position),
        }.get(row.signup.status, "")
        lines.append(
            f"\n<b>{html.quote(activity.title)}</b>\n"
            f"{when(activity, zone, i18n.current_locale)} · {state}"
        )
        kb.button(text=activity.title[:40], callback_data=DetailCb(activity=activity.id))
    kb.adjust(1)
    await message.answer("\n".join(lines), reply_markup=kb.as_markup())


async def leave(
    callback: CallbackQuery,
    callback_data: LeaveCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
) -> None:
    user_id = callback.from_user.id
    if not callback_data.confirm:
        try:
            await activities.may_cancel(
                session, user_id=user_id, activity_id=callback_data.activity
            )
        except DomainError as error:
            await callback.answer(error_text(error), show_alert=True)
            return
        await callback.answer()
        kb = InlineKeyboardBuilder()
        kb.button(
            text=_("Yes, cancel my place"),
            callback_data=LeaveCb(activity=callback_data.activity, confirm=True),
        )
        await bot.send_message(
            user_id,
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
            user_id=user_id,
            activity_id=callback_data.activity,
            now=utcnow(),
            rules=rules(settings),
        )
    except DomainError as error:
        await callback.answer(error_text(error), show_alert=True)
        return
    await callback.answer()
    if callback.message is not None:
        await bot.edit_message_reply_markup(chat_id=user_id, message_id=callback.message.message_id)
    await bot.send_message(
        user_id,
        _("Your place at <b>{title}</b> is cancelled. Thank you for letting us know.").format(
            title=html.quote(result.activity.title)
        ),
    )


async def answer_offer(
    callback: CallbackQuery,
    callback_data: OfferCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
) -> None:
    user_id = callback.from_user.id
    try:
        await activities.answer_offer(
            session,
            user_id=user_id,
            activity_id=callback_data.activity,
            accept=callback_data.accept,
            now=utcnow(),
            rules=rules(settings),
        )
    except DomainError as error:
        await callback.answer(error_text(error), show_alert=True)
        return
    await callback.answer()
    if callback.message is not None:
        await bot.edit_message_reply_markup(chat_id=user_id, message_id=callback.message.message_id)
    if callback_data.accept:
        await bot.send_message(user_id, _("✅ The seat is yours. See you there!"))
    else:
        await bot.send_message(
            user_id, _("Thank you for letting us know; the seat goes to the next person waiting.")
        )


# --- messages from the outbox -------------------------------------------------------


async def _payload_zone(
    session: AsyncSession, activity: Activity, payload: dict[str, Any]
) -> ZoneInfo:
    default = str(payload.get("tz") or wh.DEFAULT_ZONE)
    return await stations.zone(session, activity.station_id, default)


@renderer(activities.SEAT_OFFERED)
async def render_seat_offered(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """A freed seat for someone from the waitlist: held for them until a deadline (with
    Yes / No), or given outright near the start. None once it is answered, lapsed or
    gone, or the activity was cancelled."""
    found = await activities.signup_view(session, int(payload["signup_id"]))
    if found is None or found.activity.status is not ActivityStatus.PUBLISHED:
        return None
    signup, activity = found.signup, found.activity
    assert activity.id is not None
    locale = get_i18n().current_locale
    zone = await _payload_zone(session, activity, payload)
    title, slot = html.quote(activity.title), when(activity, zone, locale)
    if payload.get("outright"):
        if signup.status is not SignupStatus.CONFIRMED:
            return None
        return _(
            "🎟 A seat opened at <b>{title}</b> ({when}) and it is yours. If you "
            "cannot come, cancel it in /my."
        ).format(title=title, when=slot), None
    expires = signup.offer_expires_at
    if signup.status is not SignupStatus.OFFERED or expires is None or expires <= utcnow():
        return None
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Yes, I'll come"), callback_data=OfferCb(activity=activity.id, accept=True))
    kb.button(text=_("✖️ No, pass it on"), callback_data=OfferCb(activity=activity.id, accept=False))
    kb.adjust(1)
    return _(
        "🎟 A seat opened at <b>{title}</b> ({when}). It is held for you until "
        "{deadline}. Will you come?"
    ).format(title=title, when=slot, deadline=format_moment(expires, zone, locale)), kb.as_markup()


@renderer(activities.OFFER_LAPSED)
async def render_offer_lapsed(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    activity = await activities.find(session, int(payload["activity_id"]))
    if activity is None:
        return None
    text = _(
        "The seat held for you at <b>{title}</b> has gone to the next person, "
        "as we had no answer in time."
    )
    return text.format(title=html.quote(activity.title)), None


@renderer(activities.LATE_CANCEL)
async def render_late_cancel(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """A seat given up inside the late window, for the station's staff; None when the
    person has taken a place again or the activity was cancelled. Someone who has
    since erased their data is not named."""
    found = await activities.signup_view(session, int(payload["signup_id"]))
    if found is None or found.activity.status is not ActivityStatus.PUBLISHED:
        return None
    if found.signup.status is not SignupStatus.CANCELLED:
        return None
    activity = found.activity
    volunteer = found.volunteer
    name = (
        html.quote(volunteer.real_name)
        if volunteer is not None and volunteer.real_name
        else _("A volunteer")
    )
    zone = await _payload_zone(session, activity, payload)
    return _("⚠️ Late cancellation: {name} gave up their seat at <b>{title}</b> ({when}).").format(
        name=name,
        title=html.quote(activity.title),
        when=when(activity, zone, get_i18n().current_locale),
    ), None


def make_router() -> Router:
    router = Router(name="activities")
    router.message.filter(F.chat.type == "private")
    router.message.register(show_list, Command("activities"))
    router.message.register(show_mine, Command("my"))
    router.callback_query.register(page_list, ListCb.filter())
    router.callback_query.register(open_detail, DetailCb.filter())
    router.callback_query.register(join, JoinCb.filter())
    router.callback_query.register(leave, LeaveCb.filter())
    router.callback_query.register(answer_offer, OfferCb.filter())
    return router
