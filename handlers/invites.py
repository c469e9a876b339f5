"""/invite: a coordinator or admin makes a one-time link granting a role on a station
they manage; /start inv_<token>: whoever opens it gets the role."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router, html
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, invites, roles, scopes
from services.access import Permission
from services.errors import DomainError, InvalidInput, NotAllowed, NotFound
from services.scopes import ScopeView
from storage.models import RoleKind, User
from ui import labels
from ui.callbacks import InviteConfirmCb, InviteRoleCb, InviteStationCb
from ui.format import station_path
from ui.keyboards import staff as kb
from ui.outbox import Rendered, renderer
from ui.people import day, refuse
from ui.screen import show_in_place
from ui.settings import Settings


def invite_error(error: DomainError) -> str:
    texts = {
        "invite_unknown": _("This invitation link is not valid. Please ask for a new one."),
        "invite_used": _("This invitation link has already been used. Please ask for a new one."),
        "invite_expired": _("This invitation link has expired. Please ask for a new one."),
        "station_not_found": _("That station no longer exists."),
        "role_unknown": _("That role does not exist."),
    }
    return texts.get(error.code, _("That did not work. Please try again."))


def walk_text(view: ScopeView, path: str | None) -> str:
    if view.current is None and not view.nodes:
        return _("No stations have been set up yet.")
    if path is None:
        return _("Invite someone to which station? Tap a name to open it.")
    return _("Invite someone to which station? {path}").format(path=path)


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
    path = await station_path(session, view.current.id, locale) if view.current else None
    return walk_text(view, path), kb.station_walk(view, InviteStationCb, page=page, locale=locale)


async def invite(
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
    callback_data: InviteStationCb,
    bot: Bot,
    session: AsyncSession,
    user: User,
    settings: Settings,
    i18n: I18n,
) -> None:
    locale = i18n.current_locale
    try:
        if callback_data.action == "p":
            view = await scopes.view(
                session,
                actor_id=user.id,
                admin_ids=settings.admin_ids,
                permission=Permission.MANAGE_TEAM,
                station_id=callback_data.id,
            )
            assert view.current is not None
            text = _("Invite someone to {path} as what?").format(
                path=await station_path(session, callback_data.id, locale)
            )
            markup = kb.invite_roles(callback_data.id, view.parent)
        else:
            text, markup = await _walk(
                session, user, settings, callback_data.id, callback_data.page, locale
            )
    except NotAllowed:
        await refuse(callback)
        return
    except NotFound as error:
        await callback.answer(invite_error(error), show_alert=True)
        return
    await show_in_place(callback, bot, text, markup)


async def role_chosen(
    callback: CallbackQuery,
    callback_data: InviteRoleCb,
    bot: Bot,
    session: AsyncSession,
    user: User,
    settings: Settings,
    i18n: I18n,
) -> None:
    if not await access.allowed(
        session,
        user_id=user.id,
        admin_ids=settings.admin_ids,
        permission=Permission.MANAGE_TEAM,
        station_id=callback_data.station,
    ):
        await refuse(callback)
        return
    try:
        kind = roles.role_kind(callback_data.role)
    except InvalidInput as error:
        await callback.answer(invite_error(error), show_alert=True)
        return
    await callback.answer()
    text = "\n".join(
        [
            _("<b>Invitation</b>"),
            _("Station: {path}").format(
                path=await station_path(session, callback_data.station, i18n.current_locale)
            ),
            _("Role: {role}").format(role=labels.ROLES[kind]),
            "",
            _(
                "The link works once, for 7 days. Whoever opens it first gets the role, "
                "so send it only to the person you mean."
            ),
        ]
    )
    if callback.message is not None:
        await bot.edit_message_text(
            text,
            chat_id=callback.from_user.id,
            message_id=callback.message.message_id,
            reply_markup=kb.invite_confirm(callback_data.station, kind),
        )


async def confirmed(
    callback: CallbackQuery,
    callback_data: InviteConfirmCb,
    bot: Bot,
    session: AsyncSession,
    user: User,
    settings: Settings,
    i18n: I18n,
) -> None:
    chat_id = callback.from_user.id
    if not callback_data.ok:
        if not await access.allowed(
            session,
            user_id=user.id,
            admin_ids=settings.admin_ids,
            permission=Permission.MANAGE_TEAM,
            station_id=callback_data.station,
        ):
            await refuse(callback)
            return
        await callback.answer()
        if callback.message is not None:
            await bot.edit_message_text(
                _("Cancelled. No link was made."),
                chat_id=chat_id,
                message_id=callback.message.message_id,
            )
        return
    try:
        created = await invites.create(
            session,
            actor_id=user.id,
            admin_ids=settings.admin_ids,
            station_id=callback_data.station,
            role=callback_data.role,
        )
    except NotAllowed:
        await refuse(callback)
        return
    except (NotFound, InvalidInput) as error:
        await callback.answer(invite_error(error), show_alert=True)
        return
    await callback.answer()
    locale = i18n.current_locale
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={created.start_parameter}"
    path = await station_path(session, created.station_id, locale)
    if callback.message is not None:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=callback.message.message_id)
    await bot.send_message(
        chat_id,
        _(
            "Invitation link for {role} of {path}. It works once, until {date}. "
            "Send it only to the person you mean:"
        ).format(
            role=labels.ROLES[created.role],
            path=path,
            date=day(created.expires_at, locale, settings.zone),
        )
        + "\n\n"
        + html.quote(link),
    )


async def open_invite(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    user: User,
    settings: Settings,
    i18n: I18n,
) -> None:
    name = message.from_user.full_name if message.from_user else ""
    try:
        redeemed = await invites.redeem(
            session, token=command.args or "", user_id=user.id, name=name
        )
    except (NotFound, InvalidInput) as error:
        await message.answer(invite_error(error))
        return
    locale = i18n.current_locale
    path = await station_path(session, redeemed.station.id, locale)
    role = labels.ROLES[redeemed.role]
    if redeemed.new:
        text = _("Welcome! You are now {role} of {path}. Send /help to see what you can do.")
    else:
        text = _("You are already {role} of {path}. Send /help to see what you can do.")
    await message.answer(text.format(role=role, path=path))


@renderer(invites.USED)
async def render_used(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """Whoever made an invite hears that it was used, and by whom."""
    role = RoleKind(str(payload["role"]))
    locale = get_i18n().current_locale
    text = _("Your invitation was used: {person} is now {role} of {path}.").format(
        person=html.quote(str(payload.get("name") or "")),
        role=labels.ROLES[role],
        path=await station_path(session, int(payload["station_id"]), locale),
    )
    return text, None


def make_router() -> Router:
    """Must come before the registration router: it takes /start inv_... first."""
    router = Router(name="invites")
    router.message.filter(F.chat.type == "private")
    router.message.register(
        open_invite, CommandStart(deep_link=True, magic=F.args.startswith(invites.PREFIX))
    )
    router.message.register(invite, Command("invite"))
    router.callback_query.register(station_walked, InviteStationCb.filter())
    router.callback_query.register(role_chosen, InviteRoleCb.filter())
    router.callback_query.register(confirmed, InviteConfirmCb.filter())
    return router
