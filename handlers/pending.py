"""/pending: volunteers waiting for their station's approval; staff approve or decline,
and the volunteer is told in their own language. Also the notice that tells staff of
each volunteer waiting (outbox kind "approval_needed", queued with the registration by
``services.approvals.ask_approvers``), with Approve and Decline on it."""

from __future__ import annotations

import contextlib
from typing import Any

from aiogram import Bot, F, Router, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import approvals, phones
from services.approvals import Decision
from services.errors import InvalidInput, NotAllowed, NotFound
from storage.models import User, Volunteer, VolunteerStatus
from ui import labels
from ui.callbacks import PendingCb, PendingNoticeCb, PendingPageCb
from ui.format import join, station_path
from ui.keyboards import staff as kb
from ui.outbox import Rendered, renderer
from ui.people import refuse
from ui.settings import Settings


async def _about(session: AsyncSession, volunteer: Volunteer, locale: str) -> list[str]:
    """A waiting volunteer's home station and skills, a line each."""
    skills = join(str(labels.SKILLS[s]) for s in volunteer.skills if s in labels.SKILLS)
    return [
        _("Home station: {path}").format(
            path=await station_path(session, volunteer.station_id, locale)
        ),
        _("Skills: {skills}").format(skills=skills or _("none chosen")),
    ]


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
        lines += [
            "",
            _("{number}. {name}, {phone}").format(
                number=number,
                name=html.quote(volunteer.real_name or "—"),
                phone=phones.mask(volunteer.phone) if volunteer.phone else "—",
            ),
            *await _about(session, volunteer, locale),
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


async def _decide(
    callback: CallbackQuery,
    session: AsyncSession,
    actor_id: int,
    settings: Settings,
    volunteer_id: int,
    approve: bool,
) -> Decision | None:
    """Approve or decline, the presser's right checked afresh (raises NotAllowed); None
    after saying why not (gone, or someone was quicker). The volunteer is told by the
    service, in the same transaction."""
    try:
        decision = await approvals.decide(
            session,
            actor_id=actor_id,
            admin_ids=settings.admin_ids,
            volunteer_id=volunteer_id,
            approve=approve,
        )
    except NotFound:
        await callback.answer(_("This volunteer is no longer registered."), show_alert=True)
        return None
    except InvalidInput as error:
        name = str(error.params.get("name") or "")
        if error.params.get("status") == VolunteerStatus.ACTIVE.value:
            text = _("{name} has already been approved.")
        else:
            text = _("{name} has already been declined.")
        await callback.answer(text.format(name=name), show_alert=True)
        return None
    name = decision.volunteer.real_name or ""
    if decision.status is VolunteerStatus.ACTIVE:
        await callback.answer(_("Approved: {name}").format(name=name))
    else:
        await callback.answer(_("Declined: {name}").format(name=name))
    return decision


async def decided(
    callback: CallbackQuery,
    callback_data: PendingCb,
    bot: Bot,
    session: AsyncSession,
    user: User,
    settings: Settings,
    i18n: I18n,
) -> None:
    actor_id = user.id  # read now: a refused decision rolls back and expires loaded rows
    try:
        await _decide(
            callback, session, actor_id, settings, callback_data.volunteer, callback_data.approve
        )
    except NotAllowed:
        await refuse(callback)
        return
    await _show(callback, bot, session, actor_id, settings, callback_data.page, i18n.current_locale)


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


# --- the notice to staff ------------------------------------------------------------


@renderer(approvals.APPROVAL_NEEDED)
async def render_approval_needed(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """A volunteer waits for the recipient's approval; None once decided, erased or
    moved to another station."""
    volunteer = await approvals.still_waiting(session, payload)
    if volunteer is None or volunteer.id is None:
        return None
    locale = get_i18n().current_locale
    age = labels.AGE_GROUPS.get(volunteer.age_group) if volunteer.age_group else None
    lines = [
        _("🆕 <b>A new volunteer is waiting for your approval</b>"),
        "",
        _("{name}, {phone}").format(
            name=html.quote(volunteer.real_name or "—"),
            phone=phones.mask(volunteer.phone) if volunteer.phone else "—",
        ),
        *await _about(session, volunteer, locale),
        _("Age group: {age}").format(age=age or "—"),
        "",
        _("They can join activities once approved. /pending lists everyone waiting."),
    ]
    return "\n".join(lines), kb.approval_notice(volunteer.id)


async def _drop_buttons(callback: CallbackQuery, bot: Bot) -> None:
    if callback.message is not None:
        with contextlib.suppress(TelegramBadRequest):  # gone, or too old to edit
            await bot.edit_message_reply_markup(
                chat_id=callback.from_user.id, message_id=callback.message.message_id
            )


async def decided_from_notice(
    callback: CallbackQuery,
    callback_data: PendingNoticeCb,
    bot: Bot,
    session: AsyncSession,
    user: User,
    settings: Settings,
) -> None:
    actor_id = user.id  # read now: a refused decision rolls back and expires loaded rows
    try:
        decision = await _decide(
            callback, session, actor_id, settings, callback_data.volunteer, callback_data.approve
        )
    except NotAllowed:
        await refuse(callback)
        return
    if decision is None:
        await _drop_buttons(callback, bot)
        return
    name = html.quote(decision.volunteer.real_name or "—")
    if decision.status is VolunteerStatus.ACTIVE:
        outcome = _("✅ Approved: {name}").format(name=name)
    else:
        outcome = _("✖️ Declined: {name}").format(name=name)
    if callback.message is not None:
        with contextlib.suppress(TelegramBadRequest):  # gone, or too old to edit
            await bot.edit_message_text(
                outcome, chat_id=callback.from_user.id, message_id=callback.message.message_id
            )


def make_router() -> Router:
    router = Router(name="pending")
    router.message.filter(F.chat.type == "private")
    router.message.register(pending, Command("pending"))
    router.callback_query.register(paged, PendingPageCb.filter())
    router.callback_query.register(decided, PendingCb.filter())
    router.callback_query.register(decided_from_notice, PendingNoticeCb.filter())
    return router
