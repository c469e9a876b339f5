"""/pending: volunteers waiting for their station's approval; staff approve or decline,
and the volunteer is told in their own language."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router, html
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import labels
from bot.callbacks_staff import PendingCb, PendingPageCb
from bot.config import Settings
from bot.keyboards import staff as kb
from handlers.messages import Rendered, renderer
from handlers.staff_common import refuse
from handlers.views import join, station_path
from services import approvals, phones
from services.errors import InvalidInput, NotAllowed, NotFound
from storage.models import User, VolunteerStatus


async def _page(
    session: AsyncSession, actor_id: int, settings: Settings, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    found = await approvals.pending(
        session,
        actor_id=actor_id,
        admin_ids=settings.admin_ids,
        offset=max(page, 0) * kb.PENDING_PER_PAGE,
        limit=kb.PENDING_PER_PAGE,
    )
    if not found.total:
        return _("No volunteers are waiting for approval."), None
    first = found.offset + 1
    lines = [
        _("<b>Volunteers waiting for approval</b> ({first} to {last} of {total})").format(
            first=first, last=found.offset + len(found.volunteers), total=found.total
        )
    ]
    for number, volunteer in enumerate(found.volunteers, start=first):
        skills = join(str(labels.SKILLS[s]) for s in volunteer.skills if s in labels.SKILLS)
        lines += [
            "",
            _("{number}. {name}, {phone}").format(
                number=number,
                name=html.quote(volunteer.real_name or "—"),
                phone=phones.mask(volunteer.phone) if volunteer.phone else "—",
            ),
            _("Home station: {path}").format(
                path=await station_path(session, volunteer.station_id, locale)
            ),
            _("Skills: {skills}").format(skills=skills or _("none chosen")),
        ]
    markup = kb.pending(
        [v.id for v in found.volunteers if v.id is not None],
        first=first,
        page=found.offset // kb.PENDING_PER_PAGE,
        total=found.total,
    )
    return "\n".join(lines), markup


async def pending(
    message: Message, session: AsyncSession, user: User, settings: Settings, i18n: I18n
) -> None:
    try:
        text, markup = await _page(session, user.id, settings, 0, i18n.current_locale)
    except NotAllowed:
        await refuse(message)
        return
    await message.answer(text, reply_markup=markup)


async def _show(
    callback: CallbackQuery,
    bot: Bot,
    session: AsyncSession,
    actor_id: int,
    settings: Settings,
    page: int,
    locale: str,
) -> None:
    text, markup = await _page(session, actor_id, settings, page, locale)
    if callback.message is not None:
        await bot.edit_message_text(
            text,
            chat_id=callback.from_user.id,
            message_id=callback.message.message_id,
            reply_markup=markup,
        )


async def paged(
    callback: CallbackQuery,
    callback_data: PendingPageCb,
    bot: Bot,
    session: AsyncSession,
    user: User,
    settings: Settings,
    i18n: I18n,
) -> None:
    try:
        await _page(session, user.id, settings, callback_data.page, i18n.current_locale)
    except NotAllowed:
        await refuse(callback)
        return
    await callback.answer()
    await _show(callback, bot, session, user.id, settings, callback_data.page, i18n.current_locale)


async def decided(
    callback: CallbackQuery,
    callback_data: PendingCb,
    bot: Bot,
    session: AsyncSession,
    user: User,
    settings: Settings,
    i18n: I18n,
) -> None:
    locale = i18n.current_locale
    actor_id = user.id  # read now: a refused decision rolls back and expires loaded rows
    try:
        decision = await approvals.decide(
            session,
            actor_id=actor_id,
            admin_ids=settings.admin_ids,
            volunteer_id=callback_data.volunteer,
            approve=callback_data.approve,
        )
    except NotAllowed:
        await refuse(callback)
        return
    except NotFound:
        await callback.answer(_("This volunteer is no longer registered."), show_alert=True)
        await _show(callback, bot, session, actor_id, settings, callback_data.page, locale)
        return
    except InvalidInput as error:
        name = str(error.params.get("name") or "")
        if error.params.get("status") == VolunteerStatus.ACTIVE.value:
            text = _("{name} has already been approved.")
        else:
            text = _("{name} has already been declined.")
        await callback.answer(text.format(name=name), show_alert=True)
        await _show(callback, bot, session, actor_id, settings, callback_data.page, locale)
        return
    volunteer = decision.volunteer
    name = volunteer.real_name or ""
    if decision.status is VolunteerStatus.ACTIVE:
        await callback.answer(_("Approved: {name}").format(name=name))
    else:
        await callback.answer(_("Declined: {name}").format(name=name))
    await _show(callback, bot, session, actor_id, settings, callback_data.page, locale)


@renderer(approvals.DECIDED)
async def render_decided(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """The volunteer hears of the station's decision, in their own language."""
    decision = await approvals.decided_view(session, int(payload["volunteer_id"]))
    if decision is None:
        return None
    locale = get_i18n().current_locale
    station = html.quote(labels.station_name(decision.station, locale)) if decision.station else "—"
    if payload.get("status") == VolunteerStatus.ACTIVE.value:
        text = _(
            "Good news: {station} has approved your registration. You can now join "
            "activities. Send /help to see what you can do."
        )
    else:
        text = _(
            "{station} did not approve your registration. If you think this is a "
            "mistake, please contact the station."
        )
    return text.format(station=station), None


def make_router() -> Router:
    router = Router(name="pending")
    router.message.filter(F.chat.type == "private")
    router.message.register(pending, Command("pending"))
    router.callback_query.register(paged, PendingPageCb.filter())
    router.callback_query.register(decided, PendingCb.filter())
    return router
