"""/team: the staff and coordinators of a station one manages, each with a Revoke
button that asks first and re-checks the presser's permission when pressed."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import roles, scopes
from services.access import Actor, Permission
from services.errors import NotAllowed, NotFound
from storage.models import RoleKind
from ui import confirm, labels, screen, station_picker
from ui.callbacks import TeamRevokeCb, TeamStationCb
from ui.errors import error_text, refuse
from ui.format import day, person, station_path
from ui.keyboards import staff as kb
from ui.outbox import Rendered, renderer
from ui.paged import page_of
from ui.settings import Settings

QUESTION = station_picker.Question(
    top=lambda: _("Whose team? Choose a station; tap a name to open it."),
    at=lambda: _("Whose team? {path}"),
)


def _gone() -> str:
    return _("That role has already been revoked.")


async def _walk(
    session: AsyncSession, actor: Actor, settings: Settings, station_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    return await station_picker.walk(
        session,
        actor=actor,
        permission=Permission.MANAGE_TEAM,
        station_id=station_id,
        page=page,
        factory=TeamStationCb,
        question=QUESTION,
    )


async def _team_view(
    session: AsyncSession, actor: Actor, settings: Settings, station_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    view = await scopes.view(
        session, actor=actor, permission=Permission.MANAGE_TEAM, station_id=station_id
    )
    members = await roles.team(session, actor=actor, station_id=station_id)
    shown = page_of(members, page, kb.MEMBERS_PER_PAGE)
    locale = actor.locale
    lines = [
        _("<b>Team of {path}</b>").format(path=await station_path(session, station_id, locale)),
        "",
    ]
    if not members:
        lines.append(_("No staff or coordinators yet. /invite makes an invitation link."))
    for member in shown.items:
        lines.append(
            _("• {person}: {role}, since {date}").format(
                person=person(member.name, member.user_id),
                role=labels.ROLES[member.role],
                date=day(member.granted_at, locale, settings.zone),
            )
        )
    markup = kb.team(
        shown,
        station_id=station_id,
        back_to=view.parent if view.current and not view.nodes else station_id,
    )
    return "\n".join(lines), markup


async def team(message: Message, session: AsyncSession, actor: Actor, settings: Settings) -> None:
    try:
        text, markup = await _walk(session, actor, settings, scopes.TOP, 0)
    except NotAllowed:
        await refuse(message)
        return
    await message.answer(text, reply_markup=markup)


async def station_walked(
    callback: CallbackQuery,
    callback_data: TeamStationCb,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    show = _team_view if callback_data.action == "p" else _walk
    try:
        text, markup = await show(session, actor, settings, callback_data.id, callback_data.page)
    except NotAllowed:
        await refuse(callback)
        return
    except NotFound as error:
        await callback.answer(error_text(error, plain=True), show_alert=True)
        return
    await screen.replace(callback, bot, text, markup)


async def revoke_pressed(
    callback: CallbackQuery,
    callback_data: TeamRevokeCb,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
) -> None:
    if callback_data.confirm:
        await _revoke(callback, callback_data.role, bot, session, actor)
        return
    try:
        member = await roles.member(session, actor=actor, role_id=callback_data.role)
    except NotAllowed:
        await refuse(callback)
        return
    except NotFound:
        await callback.answer(_gone(), show_alert=True)
        return
    text = _("Revoke the role {role} of {person} at {path}?").format(
        role=labels.ROLES[member.role],
        person=person(member.name, member.user_id),
        path=await station_path(session, member.station_id, actor.locale),
    )
    markup = confirm.keyboard(
        yes=TeamRevokeCb(role=member.role_id, confirm=True),
        yes_text=_("✖️ Yes, revoke"),
        no=TeamStationCb(action="p", id=member.station_id),
        no_text=_("Keep the role"),
    )
    await screen.replace(callback, bot, text, markup)


async def _revoke(
    callback: CallbackQuery, role_id: int, bot: Bot, session: AsyncSession, actor: Actor
) -> None:
    try:
        shown = await roles.member(session, actor=actor, role_id=role_id)
        gone = await roles.revoke(session, actor=actor, role_id=role_id)
    except NotAllowed:
        await refuse(callback)
        return
    except NotFound:
        await callback.answer(_gone(), show_alert=True)
        return
    text = _("Revoked: {person} is no longer {role} of {path}.").format(
        person=person(shown.name, gone.user_id),
        role=labels.ROLES[gone.role],
        path=await station_path(session, gone.station_id, actor.locale),
    )
    await screen.replace(callback, bot, text, kb.revoke_done(gone.station_id))


@renderer(roles.REVOKED)
async def render_revoked(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    locale = get_i18n().current_locale
    text = _("You are no longer {role} of {path}. Thank you for your work.").format(
        role=labels.ROLES[RoleKind(str(payload["role"]))],
        path=await station_path(session, int(payload["station_id"]), locale),
    )
    return text, None


def make_router() -> Router:
    router = Router(name="team")
    router.message.filter(F.chat.type == "private")
    router.message.register(team, Command("team"))
    router.callback_query.register(station_walked, TeamStationCb.filter())
    router.callback_query.register(revoke_pressed, TeamRevokeCb.filter())
    return router
