"""/roster: the activities whose roster staff may run, a page at a time."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, html
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.attendance.common import leave_dialog
from services.access import Actor
from services.errors import NotAllowed
from services.roster import roster_activities
from storage.models import Activity
from storage.types import utcnow
from ui import labels, paged, screen
from ui.callbacks import RosterListCb
from ui.errors import refuse
from ui.format import format_when
from ui.keyboards import attendance as kb
from ui.settings import Settings

LIST_PAGE = 8


def _phase(activity: Activity, now: datetime) -> str:
    if activity.closed_at is not None:
        return _("🔒 records closed")
    if now < activity.starts_at:
        return _("upcoming")
    if now <= activity.ends_at:
        return _("under way")
    return _("⚠️ ended, records open")


async def _list_view(
    session: AsyncSession, settings: Settings, actor: Actor, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    now = utcnow()
    found = await roster_activities(
        session,
        actor=actor,
        now=now,
        page=page,
        per_page=LIST_PAGE,
        default_timezone=settings.timezone,
    )
    if not found.items:
        return _(
            "There is no activity to take attendance for: none of your stations' activities "
            "ended in the last week, starts within a day, or waits to be closed."
        ), None
    lines = [
        _("<b>Rosters</b> (page {page} of {pages})").format(page=found.page + 1, pages=found.pages),
        _("Pick an activity to take attendance, record hours and beneficiaries, and close it."),
    ]
    buttons = []
    shown = paged.window(found.page, found.total, LIST_PAGE)
    for number, item in enumerate(found.items, start=shown.first):
        activity = item.activity
        assert activity.id is not None
        lines += [
            "",
            f"{number}. <b>{html.quote(activity.title)}</b>",
            format_when(activity.starts_at, activity.ends_at, item.zone, locale)
            + " · "
            + html.quote(labels.station_name(item.station, locale)),
            _("{phase} · {seats} with a seat").format(
                phase=_phase(activity, now), seats=item.seats
            ),
        ]
        buttons.append((activity.id, f"{number}. {activity.title}"))
    return "\n".join(lines), kb.roster_list(buttons, page=shown)


async def show_list(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
    actor: Actor,
) -> None:
    await leave_dialog(state)
    try:
        text, markup = await _list_view(session, settings, actor, 0, i18n.current_locale)
    except NotAllowed:
        await refuse(message)
        return
    await message.answer(text, reply_markup=markup)


async def list_page(
    callback: CallbackQuery,
    callback_data: RosterListCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    actor: Actor,
) -> None:
    try:
        text, markup = await _list_view(
            session, settings, actor, callback_data.page, i18n.current_locale
        )
    except NotAllowed:
        await refuse(callback)
        return
    await screen.replace(callback, bot, text, markup)
