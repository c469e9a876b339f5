"""/pending: volunteers waiting for their station's approval; staff approve or decline,
and the volunteer is told in their own language. Also the notice that tells staff of
each volunteer waiting (outbox kind "approval_needed", queued with the registration by
``services.approvals.ask_approvers``), with Approve and Decline on it."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router, html
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import approvals, phones
from services.access import Actor
from services.approvals import Decision
from services.errors import InvalidInput, NotAllowed, NotFound
from storage.models import Volunteer, VolunteerStatus
from ui import labels, screen
from ui.callbacks import PendingCb, PendingNoticeCb, PendingPageCb
from ui.errors import error_text, refuse
from ui.format import join, station_path
from ui.keyboards import staff as kb
from ui.outbox import Rendered, renderer
from ui.paged import window


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
    session: AsyncSession, actor: Actor, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    found = await approvals.pending(
        session,
        actor=actor,
        offset=max(page, 0) * kb.PENDING_PER_PAGE,
        limit=kb.PENDING_PER_PAGE,
    )
    if not found.total:
        return _("No volunteers are waiting for approval."), None
    shown = window(found.offset // kb.PENDING_PER_PAGE, found.total, kb.PENDING_PER_PAGE)
    lines = [
        _("<b>Volunteers waiting for approval</b> ({first} to {last} of {total})").format(
            first=shown.first, last=found.offset + len(found.volunteers), total=found.total
        )
    ]
    for number, volunteer in enumerate(found.volunteers, start=shown.first):
        lines += [
            "",
            _("{number}. {name}, {phone}").format(
                number=number,
                name=html.quote(volunteer.real_name or "—"),
                phone=phones.mask(volunteer.phone) if volunteer.phone else "—",
            ),
            *await _about(session, volunteer, actor.locale),
        ]
    markup = kb.pending([v.id for v in found.volunteers if v.id is not None], shown)
    return "\n".join(lines), markup


async def pending(message: Message, session: AsyncSession, actor: Actor) -> None:
    try:
        text, markup = await _page(session, actor, 0)
    except NotAllowed:
        await refuse(message)
        return
    await message.answer(text, reply_markup=markup)


async def paged(
    callback: CallbackQuery,
    callback_data: PendingPageCb,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
) -> None:
    try:
        text, markup = await _page(session, actor, callback_data.page)
    except NotAllowed:
        await refuse(callback)
        return
    await screen.replace(callback, bot, text, markup)


async def _decide(
    callback: CallbackQuery, session: AsyncSession, actor: Actor, volunteer_id: int, approve: bool
) -> Decision | None:
    """Approve or decline, the presser's right checked afresh (raises NotAllowed); None
    after saying why not (gone, or someone was quicker). The volunteer is told by the
    service, in the same transaction."""
    try:
        decision = await approvals.decide(
            session, actor=actor, volunteer_id=volunteer_id, approve=approve
        )
    except (NotFound, InvalidInput) as error:  # gone, or already decided
        await callback.answer(error_text(error, plain=True), show_alert=True)
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
    actor: Actor,
) -> None:
    try:
        await _decide(callback, session, actor, callback_data.volunteer, callback_data.approve)
    except NotAllowed:
        await refuse(callback)
        return
    text, markup = await _page(session, actor, callback_data.page)
    if callback.message is not None:
        await bot.edit_message_text(
            text,
            chat_id=callback.from_user.id,
            message_id=callback.message.message_id,
            reply_markup=markup,
        )


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


async def decided_from_notice(
    callback: CallbackQuery,
    callback_data: PendingNoticeCb,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
) -> None:
    try:
        decision = await _decide(
            callback, session, actor, callback_data.volunteer, callback_data.approve
        )
    except NotAllowed:
        await refuse(callback)
        return
    if decision is None:
        await screen.strip(bot, callback)
        return
    name = html.quote(decision.volunteer.real_name or "—")
    if decision.status is VolunteerStatus.ACTIVE:
        outcome = _("✅ Approved: {name}").format(name=name)
    else:
        outcome = _("✖️ Declined: {name}").format(name=name)
    await screen.strip(bot, callback, outcome)


def make_router() -> Router:
    router = Router(name="pending")
    router.message.filter(F.chat.type == "private")
    router.message.register(pending, Command("pending"))
    router.callback_query.register(paged, PendingPageCb.filter())
    router.callback_query.register(decided, PendingCb.filter())
    router.callback_query.register(decided_from_notice, PendingNoticeCb.filter())
    return router
