"""/invite: a coordinator or admin makes a one-time link granting a role on a station
they manage; /start inv_<token>: whoever opens it gets the role."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router, html
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import access, invites, roles, scopes
from services.access import Actor, Permission
from services.errors import InvalidInput, NotAllowed, NotFound
from storage.models import RoleKind, User
from ui import confirm, labels, screen, station_picker
from ui.callbacks import InviteConfirmCb, InviteRoleCb, InviteStationCb
from ui.errors import error_text, refuse
from ui.format import day, station_path
from ui.keyboards import staff as kb
from ui.outbox import Rendered, renderer
from ui.settings import Settings

QUESTION = station_picker.Question(
    top=lambda: _("Invite someone to which station? Tap a name to open it."),
    at=lambda: _("Invite someone to which station? {path}"),
)


async def _walk(
    session: AsyncSession, actor: Actor, station_id: int, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    return await station_picker.walk(
        session,
        actor=actor,
        permission=Permission.MANAGE_TEAM,
        station_id=station_id,
        page=page,
        factory=InviteStationCb,
        question=QUESTION,
    )


async def invite(message: Message, session: AsyncSession, actor: Actor) -> None:
    try:
        text, markup = await _walk(session, actor, scopes.TOP, 0)
    except NotAllowed:
        await refuse(message)
        return
    await message.answer(text, reply_markup=markup)


async def station_walked(
    callback: CallbackQuery,
    callback_data: InviteStationCb,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
) -> None:
    try:
        if callback_data.action == "p":
            view = await scopes.view(
                session,
                actor=actor,
                permission=Permission.MANAGE_TEAM,
                station_id=callback_data.id,
            )
            assert view.current is not None
            text = _("Invite someone to {path} as what?").format(
                path=await station_path(session, callback_data.id, actor.locale)
            )
            markup = kb.invite_roles(callback_data.id, view.parent)
        else:
            text, markup = await _walk(session, actor, callback_data.id, callback_data.page)
    except NotAllowed:
        await refuse(callback)
        return
    except NotFound as error:
        await callback.answer(error_text(error, plain=True), show_alert=True)
        return
    await screen.replace(callback, bot, text, markup)


async def role_chosen(
    callback: CallbackQuery,
    callback_data: InviteRoleCb,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
) -> None:
    if not await access.allowed(
        session, actor=actor, permission=Permission.MANAGE_TEAM, station_id=callback_data.station
    ):
        await refuse(callback)
        return
    try:
        kind = roles.role_kind(callback_data.role)
    except InvalidInput as error:
        await callback.answer(error_text(error, plain=True), show_alert=True)
        return
    text = "\n".join(
        [
            _("<b>Invitation</b>"),
            _("Station: {path}").format(
                path=await station_path(session, callback_data.station, actor.locale)
            ),
            _("Role: {role}").format(role=labels.ROLES[kind]),
            "",
            _(
                "The link works once, for 7 days. Whoever opens it first gets the role, "
                "so send it only to the person you mean."
            ),
        ]
    )
    station, role = callback_data.station, kind.value
    markup = confirm.keyboard(
        yes=InviteConfirmCb(station=station, role=role, ok=True),
        yes_text=_("✅ Create the link"),
        no=InviteConfirmCb(station=station, role=role, ok=False),
    )
    await screen.replace(callback, bot, text, markup)


async def confirmed(
    callback: CallbackQuery,
    callback_data: InviteConfirmCb,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    if not callback_data.ok:
        if not await access.allowed(
            session,
            actor=actor,
            permission=Permission.MANAGE_TEAM,
            station_id=callback_data.station,
        ):
            await refuse(callback)
            return
        await screen.replace(callback, bot, _("Cancelled. No link was made."))
        return
    try:
        created = await invites.create(
            session, actor=actor, station_id=callback_data.station, role=callback_data.role
        )
    except NotAllowed:
        await refuse(callback)
        return
    except (NotFound, InvalidInput) as error:
        await callback.answer(error_text(error, plain=True), show_alert=True)
        return
    await callback.answer()
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={created.start_parameter}"
    path = await station_path(session, created.station_id, actor.locale)
    await screen.strip(bot, callback)
    await bot.send_message(
        actor.id,
        _(
            "Invitation link for {role} of {path}. It works once, until {date}. "
            "Send it only to the person you mean:"
        ).format(
            role=labels.ROLES[created.role],
            path=path,
            date=day(created.expires_at, actor.locale, settings.zone),
        )
        + "\n\n"
        + html.quote(link),
    )


async def open_invite(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    user: User,
    actor: Actor,
) -> None:
    name = message.from_user.full_name if message.from_user else ""
    try:
        redeemed = await invites.redeem(
            session, token=command.args or "", user_id=user.id, name=name
        )
    except (NotFound, InvalidInput) as error:
        await message.answer(error_text(error))
        return
    path = await station_path(session, redeemed.station.id, actor.locale)
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
