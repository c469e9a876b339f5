"""/activities: the upcoming activities in the volunteer's reach, a page at a time;
/my: their own activities not yet over."""

from __future__ import annotations

from aiogram import Bot, html
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.activities.common import when, zone
from services import activity_views
from services.access import Actor
from services.errors import DomainError
from storage.models import SignupStatus
from storage.types import utcnow
from ui import labels, screen
from ui.callbacks import DetailCb, ListCb
from ui.errors import error_text
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.paged import nav_row, window
from ui.settings import Settings

PAGE = 5


async def list_view(
    session: AsyncSession, actor: Actor, page: int, settings: Settings
) -> tuple[str, InlineKeyboardMarkup | None]:
    now = utcnow()
    items, total = await activity_views.upcoming_for(
        session, user_id=actor.id, now=now, offset=page * PAGE, limit=PAGE
    )
    if not total:
        return _("There are no upcoming activities at your station right now."), None
    shown = window(page, total, PAGE)
    if shown.number != page:  # an old button, and the list has shrunk since
        items, total = await activity_views.upcoming_for(
            session, user_id=actor.id, now=now, offset=shown.number * PAGE, limit=PAGE
        )
        shown = window(shown.number, total, PAGE)
    kb = InlineKeyboardBuilder()
    lines = [
        _("<b>Upcoming activities</b> ({page}/{pages})").format(
            page=shown.number + 1, pages=shown.count
        )
    ]
    for number, seats in enumerate(items, start=shown.first):
        activity = seats.activity
        local = await zone(session, activity, settings.timezone)
        left = (
            ngettext("{left} seat left", "{left} seats left", seats.left).format(left=seats.left)
            if seats.left
            else _("full, waitlist open")
        )
        lines.append(
            f"\n{number}. <b>{html.quote(activity.title)}</b>\n   "
            f"{when(activity, local, actor.locale)} · {labels.KINDS[activity.kind]} · {left}"
        )
        assert activity.id is not None
        kb.button(
            text=f"{number}. {activity.title[:30]}",
            callback_data=DetailCb(activity=activity.id, page=shown.number),
        )
    nav = nav_row(kb, shown, lambda n: ListCb(page=n))
    kb.adjust(*([1] * len(items)), *([nav] if nav else []))
    return "\n".join(lines), kb.as_markup()


async def show_list(
    message: Message, session: AsyncSession, actor: Actor, settings: Settings
) -> None:
    try:
        text, markup = await list_view(session, actor, 0, settings)
    except DomainError as error:
        await message.answer(error_text(error))
        return
    await message.answer(text, reply_markup=markup)


async def page_list(
    callback: CallbackQuery,
    callback_data: ListCb,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    try:
        text, markup = await list_view(session, actor, callback_data.page, settings)
    except DomainError as error:
        await callback.answer(error_text(error, plain=True), show_alert=True)
        return
    await screen.replace(callback, bot, text, markup)


async def show_mine(
    message: Message, session: AsyncSession, actor: Actor, settings: Settings
) -> None:
    rows = await activity_views.mine(session, user_id=actor.id, now=utcnow())
    if not rows:
        await message.answer(_("You have no upcoming activities. Find one with /activities."))
        return
    kb = InlineKeyboardBuilder()
    lines = [_("<b>Your activities</b>")]
    for row in rows:
        activity = row.activity
        assert activity.id is not None
        local = await zone(session, activity, settings.timezone)
        state = {
            SignupStatus.CONFIRMED: _("checked in") if row.checked_in else _("you have a seat"),
            SignupStatus.OFFERED: _("seat offered, please answer"),
            SignupStatus.WAITLISTED: _("waitlist no. {n}").format(n=row.position),
        }.get(row.signup.status, "")
        slot = when(activity, local, actor.locale)
        lines.append(f"\n<b>{html.quote(activity.title)}</b>\n{slot} · {state}")
        kb.button(text=activity.title[:40], callback_data=DetailCb(activity=activity.id))
    kb.adjust(1)
    await message.answer("\n".join(lines), reply_markup=kb.as_markup())
