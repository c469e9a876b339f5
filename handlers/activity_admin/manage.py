"""/manage: the upcoming activities of the stations one manages, a page at a time;
edit one field of one (with the activity form) or cancel it, after a confirmation.
The volunteers signed up are told."""

from __future__ import annotations

from aiogram import Bot, html
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.activity_admin.common import error_text, told
from handlers.activity_admin.form import begin_edit
from services import activity_admin
from services.access import Actor
from services.errors import InvalidInput, NotAllowed, NotFound
from storage.models import Activity, ActivityStatus
from storage.types import utcnow
from ui import labels, screen
from ui.callbacks import ActCancelCb, ActEditCb, ActManageCb
from ui.errors import no_permission, refuse
from ui.format import format_when
from ui.keyboards import activity_admin as kb
from ui.settings import Settings

MANAGE_PAGE = 5


async def _manage_view(
    session: AsyncSession, settings: Settings, actor: Actor, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    found = await activity_admin.upcoming_managed(
        session,
        actor=actor,
        now=utcnow(),
        page=page,
        per_page=MANAGE_PAGE,
        default_timezone=settings.timezone,
    )
    if not found.items:
        return _(
            "There are no upcoming activities on the stations you manage. "
            "Send /new_activity to publish one."
        ), None
    lines = [
        _("<b>Upcoming activities you manage</b> (page {page} of {pages})").format(
            page=found.page + 1, pages=found.pages
        )
    ]
    for number, item in enumerate(found.items, start=1):
        activity = item.activity
        lines += [
            "",
            f"{number}. <b>{html.quote(activity.title)}</b>",
            format_when(activity.starts_at, activity.ends_at, item.zone, locale),
            html.quote(f"{labels.station_name(item.station, locale)} · {activity.place}"),
            _("{kind} · {taken} of {capacity} places taken").format(
                kind=labels.KINDS[activity.kind], taken=item.seats_held, capacity=activity.capacity
            ),
        ]
    ids = [item.activity.id for item in found.items if item.activity.id is not None]
    return "\n".join(lines), kb.manage(ids, page=found.page, pages=found.pages)


async def show_manage(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n, actor: Actor
) -> None:
    if not await activity_admin.manageable_stations(session, actor=actor):
        await refuse(message)
        return
    text, markup = await _manage_view(session, settings, actor, 0, i18n.current_locale)
    await message.answer(text, reply_markup=markup)


async def manage_page(
    callback: CallbackQuery,
    callback_data: ActManageCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    actor: Actor,
) -> None:
    if not await activity_admin.manageable_stations(session, actor=actor):
        await refuse(callback)
        return
    text, markup = await _manage_view(
        session, settings, actor, callback_data.page, i18n.current_locale
    )
    await screen.replace(callback, bot, text, markup)


async def _managed(
    callback: CallbackQuery, session: AsyncSession, actor: Actor, activity_id: int
) -> Activity | None:
    """The activity if the presser may manage it now and it can still change; else
    they are told why not and None is returned."""
    try:
        activity = await activity_admin.managed_activity(
            session, actor=actor, activity_id=activity_id
        )
    except NotAllowed:
        await refuse(callback)
        return None
    except NotFound as error:
        await callback.answer(error_text(error), show_alert=True)
        return None
    if activity.status is ActivityStatus.CANCELLED:
        await callback.answer(error_text(InvalidInput("activity_cancelled")), show_alert=True)
        return None
    if activity.ends_at <= utcnow():
        await callback.answer(error_text(InvalidInput("activity_over")), show_alert=True)
        return None
    return activity


async def edit_chosen(
    callback: CallbackQuery,
    callback_data: ActEditCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    actor: Actor,
) -> None:
    activity = await _managed(callback, session, actor, callback_data.id)
    if activity is None or activity.id is None:
        return
    await callback.answer()
    locale = i18n.current_locale
    if callback_data.field not in kb.PUBLISHED_FIELDS:
        zone = await activity_admin.station_zone(session, activity.station_id, settings.timezone)
        await bot.send_message(
            actor.id,
            _("What do you want to change in <b>{title}</b> ({when})?").format(
                title=html.quote(activity.title),
                when=format_when(activity.starts_at, activity.ends_at, zone, locale),
            ),
            reply_markup=kb.published_fields(activity.id),
        )
        return
    await screen.strip(bot, callback)
    await begin_edit(
        bot,
        actor.id,
        state,
        session,
        settings,
        actor,
        activity=activity,
        field=callback_data.field,
        locale=locale,
    )


async def cancel_chosen(
    callback: CallbackQuery,
    callback_data: ActCancelCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    actor: Actor,
) -> None:
    activity = await _managed(callback, session, actor, callback_data.id)
    if activity is None or activity.id is None:
        return
    await callback.answer()
    chat_id = actor.id
    zone = await activity_admin.station_zone(session, activity.station_id, settings.timezone)
    slot = format_when(activity.starts_at, activity.ends_at, zone, i18n.current_locale)
    if callback_data.action == "ask":
        await bot.send_message(
            chat_id,
            _(
                "Cancel <b>{title}</b> ({when})? The volunteers signed up for it are told. "
                "This cannot be undone."
            ).format(title=html.quote(activity.title), when=slot),
            reply_markup=kb.confirm_cancel(activity.id),
        )
        return
    await screen.strip(bot, callback)
    if callback_data.action != "yes":
        await bot.send_message(chat_id, _("Nothing was changed."))
        return
    try:
        recipients = await activity_admin.cancel(
            session,
            actor=actor,
            activity_id=activity.id,
            now=utcnow(),
            default_tz=settings.timezone,
        )
    except NotAllowed:
        await bot.send_message(chat_id, no_permission())
        return
    except (InvalidInput, NotFound) as error:
        await bot.send_message(chat_id, error_text(error))
        return
    text = _("Cancelled: <b>{title}</b> ({when}).").format(
        title=html.quote(activity.title), when=slot
    )
    if recipients:
        text += " " + told(len(recipients))
    await bot.send_message(chat_id, text)
