"""/team: the staff and coordinators of a station one manages, each with a Revoke
button that asks first and re-checks the presser's permission when pressed."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import roles, scopes
from services.access import Permission
from services.errors import NotAllowed, NotFound
from storage.models import RoleKind, User
from ui import labels
from ui.callbacks import TeamRevokeCb, TeamStationCb
from ui.format import station_path
from ui.keyboards import staff as kb
from ui.outbox import Rendered, renderer
from ui.people import day, person, plain_person, refuse
from ui.screen import show_in_place
from ui.settings import Settings


def _gone() -> str:
    return _("That role has already been revoked.")


async def _walk(
    session: AsyncSession, user: User, settings: Settings, station_id: int, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    view = await scopes.view(
        session,
        actor_id=user.id,
        admin_ids=settings.admin_ids,
        permission=Permission.MANAGE_TEAM,
        station_id=station_id,
    )
    if view.current is None and not view.nodes:
        text = _("No stations have been set up yet.")
    elif view.current is None:
        text = _("Whose team? Choose a station; tap a name to open it.")
    else:
        text = _("Whose team? {path}").format(
            path=await station_path(session, view.current.id, locale)
        )
    return text, kb.station_walk(view, TeamStationCb, page=page, locale=locale)


async def _team_view(
    session: AsyncSession, user: User, settings: Settings, station_id: int, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    view = await scopes.view(
        session,
        actor_id=user.id,
        admin_ids=settings.admin_ids,
        permission=Permission.MANAGE_TEAM,
        station_id=station_id,
    )
    members = await roles.team(
        session, actor_id=user.id, admin_ids=settings.admin_ids, station_id=station_id
    )
    count = kb.pages(len(members), kb.MEMBERS_PER_PAGE)
    page = min(max(page, 0), count - 1)
    shown = members[page * kb.MEMBERS_PER_PAGE : (page + 1) * kb.MEMBERS_PER_PAGE]
    lines = [
        _("<b>Team of {path}</b>").format(path=await station_path(session, station_id, locale)),
        "",
    ]
    if not members:
        lines.append(_("No staff or coordinators yet. /invite makes an invitation link."))
    for member in shown:
        lines.append(
            _("• {person}: {role}, since {date}").format(
                person=person(member.name, member.user_id),
                role=labels.ROLES[member.role],
                date=day(member.granted_at, locale, settings.zone),
            )
        )
    markup = kb.team(
        [(m, plain_person(m.name, m.user_id)) for m in shown],
        station_id=station_id,
        page=page,
        total=len(members),
        back_to=view.parent if view.current and not view.nodes else station_id,
    )
    return "\n".join(lines), markup


async def team(
    message: Message, session: AsyncSession, user: User, settings: Settings, i18n: I18n
) -> None:
    try:
        text, markup = await _walk(session, user, settings, scopes.TOP, 0, i18n.current_locale)
    except NotAllowed:
        await refuse(message)
        return
    await message.answer(text, reply_markup=markup)


async def station_walked(
    callback: CallbackQuery,
    callback_data: TeamStationCb,
    bot: Bot,
    session: AsyncSession,
    user: User,
    settings: Settings,
    i18n: I18n,
) -> None:
    locale = i18n.current_locale
    show = _team_view if callback_data.action == "p" else _walk
    try:
        text, markup = await show(
            session, user, settings, callback_data.id, callback_data.page, locale
        )
    except NotAllowed:
        await refuse(callback)
        return
    except NotFound:
        await callback.answer(_("That station no longer exists."), show_alert=True)
        return
    await show_in_place(callback, bot, text, markup)


async def revoke_pressed(
    callback: CallbackQuery,
    callback_data: TeamRevokeCb,
    bot: Bot,
    session: AsyncSession,
    user: User,
    settings: Settings,
    i18n: I18n,
) -> None:
    if callback_data.confirm:
        await _revoke(callback, callback_data.role, bot, session, user, settings, i18n)
        return
    try:
        member = await roles.member(
            session, actor_id=user.id, admin_ids=settings.admin_ids, role_id=callback_data.role
        )
    except NotAllowed:
        await refuse(callback)
        return
    except NotFound:
        await callback.answer(_gone(), show_alert=True)
        return
    await callback.answer()
    text = _("Revoke the role {role} of {person} at {path}?").format(
        role=labels.ROLES[member.role],
        person=person(member.name, member.user_id),
        path=await station_path(session, member.station_id, i18n.current_locale),
    )
    if callback.message is not None:
        await bot.edit_message_text(
            text,
            chat_id=callback.from_user.id,
            message_id=callback.message.message_id,
            reply_markup=kb.revoke_confirm(member.role_id, member.station_id),
        )


async def _revoke(
    callback: CallbackQuery,
    role_id: int,
    bot: Bot,
    session: AsyncSession,
    user: User,
    settings: Settings,
    i18n: I18n,
) -> None:
    try:
        shown = await roles.member(
            session, actor_id=user.id, admin_ids=settings.admin_ids, role_id=role_id
        )
        gone = await roles.revoke(
            session, actor_id=user.id, admin_ids=settings.admin_ids, role_id=role_id
        )
    except NotAllowed:
        await refuse(callback)
        return
    except NotFound:
        await callback.answer(_gone(), show_alert=True)
        return
    await callback.answer()
    locale = i18n.current_locale
    text = _("Revoked: {person} is no longer {role} of {path}.").format(
        person=person(shown.name, gone.user_id),
        role=labels.ROLES[gone.role],
        path=await station_path(session, gone.station_id, locale),
    )
    if callback.message is not None:
        await bot.edit_message_text(
            text,
            chat_id=callback.from_user.id,
            message_id=callback.message.message_id,
            reply_markup=kb.revoke_done(gone.station_id),
        )


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
