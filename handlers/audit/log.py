"""The audit log's screen: each entry a sentence (who, what, when in the station's
time zone, before → after), newest first; buttons narrow the list to an activity or
a person named on the page, and page through it."""

from __future__ import annotations

from aiogram import Bot, html
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit_log
from services.access import Actor
from services.audit_log import AuditPage
from services.errors import DomainError, NotAllowed
from ui import audit_text, screen
from ui.callbacks import AuditCb
from ui.errors import error_text, refuse
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.paged import nav_row, window
from ui.settings import Settings

PAGE = audit_log.PAGE
FILTERS = 3  # buttons per kind of filter under a page
LABEL = 24


def _short(text: str) -> str:
    return text if len(text) <= LABEL else text[: LABEL - 1] + "…"


def view(found: AuditPage, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    page = window(found.offset // PAGE, found.total, PAGE)
    chosen = found.filter
    lines = [_("<b>Audit log</b>")]
    if found.activity is not None:
        lines.append(
            _("Only the activity «{title}»").format(title=html.quote(found.activity.title))
        )
    if found.volunteer is not None:
        name = found.volunteer.real_name or _("a volunteer (data erased)")
        lines.append(_("Only about {name}").format(name=html.quote(name)))
    if not found.entries:
        lines += ["", _("No changes recorded yet.")]
    else:
        lines.append(
            _("Changes {first}–{last} of {total}, newest first").format(
                first=page.first, last=page.last, total=found.total
            )
        )
        for entry in found.entries:
            lines += ["", audit_text.line(entry, locale)]
    kb = InlineKeyboardBuilder()
    sizes: list[int] = []
    if chosen.activity_id is None and chosen.volunteer_id is None:
        activities = {e.activity.id: e.activity for e in found.entries if e.activity is not None}
        for activity_id, activity in list(activities.items())[:FILTERS]:
            assert activity_id is not None
            kb.button(
                text="🔎 " + _short(activity.title), callback_data=AuditCb(activity=activity_id)
            )
            sizes.append(1)
        people = {
            e.volunteer.id: e.volunteer
            for e in found.entries
            if e.volunteer is not None and e.volunteer.real_name and e.volunteer.erased_at is None
        }
        for volunteer_id, volunteer in list(people.items())[:FILTERS]:
            assert volunteer_id is not None and volunteer.real_name is not None
            kb.button(
                text="👤 " + _short(volunteer.real_name),
                callback_data=AuditCb(volunteer=volunteer_id),
            )
            sizes.append(1)
    on_activity, on_volunteer = chosen.activity_id or 0, chosen.volunteer_id or 0
    nav = nav_row(kb, page, lambda n: AuditCb(activity=on_activity, volunteer=on_volunteer, page=n))
    if nav:
        sizes.append(nav)
    if on_activity or on_volunteer:
        kb.button(text=_("‹ All changes"), callback_data=AuditCb())
        sizes.append(1)
    kb.adjust(*sizes)
    return "\n".join(lines), kb.as_markup()


async def show(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n, actor: Actor
) -> None:
    try:
        found = await audit_log.page(session, actor=actor, default_zone=settings.zone)
    except NotAllowed:
        await refuse(message)
        return
    text, markup = view(found, i18n.current_locale)
    await message.answer(text, reply_markup=markup)


async def paged(
    callback: CallbackQuery,
    callback_data: AuditCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    actor: Actor,
) -> None:
    try:
        found = await audit_log.page(
            session,
            actor=actor,
            default_zone=settings.zone,
            offset=callback_data.page * PAGE,
            activity_id=callback_data.activity or None,
            volunteer_id=callback_data.volunteer or None,
        )
    except NotAllowed:
        await refuse(callback)
        return
    except DomainError as error:
        await callback.answer(error_text(error, plain=True), show_alert=True)
        return
    text, markup = view(found, i18n.current_locale)
    await screen.replace(callback, bot, text, markup)
