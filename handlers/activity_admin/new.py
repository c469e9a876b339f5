"""/new_activity: the station to publish on, the form's answers given with buttons
(kind, target group, quick picks), the preview's buttons, and publishing."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Bot, html
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.activity_admin.common import SCHEDULE_ERRORS, day, error_text
from handlers.activity_admin.form import ACTIVITY, begin_new, zone_of
from handlers.broadcast import announce_button
from services import access, activity_admin, activity_draft
from services.access import Actor, Permission
from services.errors import InvalidInput, NotAllowed, NotFound
from storage.models import Station
from storage.types import utcnow
from ui import labels, screen
from ui.callbacks import ActKindCb, ActPreviewCb, ActQuickCb, ActStationCb, ActTargetCb
from ui.errors import refuse
from ui.form import stale
from ui.format import format_when
from ui.keyboards import activity_admin as kb
from ui.settings import Settings
from ui.states import ActivityDialog


def _station_items(found: Sequence[Station], locale: str) -> list[tuple[int, str]]:
    return [(s.id, labels.station_name(s, locale)) for s in found if s.id is not None]


async def new_activity(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    actor: Actor,
) -> None:
    found = await activity_admin.manageable_stations(session, actor=actor)
    if not found:
        await refuse(message)
        return
    await state.clear()
    locale = i18n.current_locale
    if len(found) == 1 and found[0].id is not None:
        await begin_new(
            bot,
            message.chat.id,
            state,
            session,
            settings,
            actor,
            station_id=found[0].id,
            locale=locale,
        )
        return
    await state.set_state(ActivityDialog.station)
    markup, _page = kb.stations(_station_items(found, locale), page=0)
    await message.answer(_("On which station do you publish the activity?"), reply_markup=markup)


async def station_chosen(
    callback: CallbackQuery,
    callback_data: ActStationCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    actor: Actor,
) -> None:
    found = await activity_admin.manageable_stations(session, actor=actor)
    if not found:
        await refuse(callback)
        return
    if callback_data.id == 0:  # another page
        await callback.answer()
        markup, _page = kb.stations(
            _station_items(found, i18n.current_locale), page=callback_data.page
        )
        if callback.message is not None:
            await bot.edit_message_reply_markup(
                chat_id=actor.id, message_id=callback.message.message_id, reply_markup=markup
            )
        return
    try:
        await activity_admin.require_station(session, actor=actor, station_id=callback_data.id)
    except NotAllowed:
        await refuse(callback)
        return
    await callback.answer()
    await screen.strip(bot, callback)
    await begin_new(
        bot,
        actor.id,
        state,
        session,
        settings,
        actor,
        station_id=callback_data.id,
        locale=i18n.current_locale,
    )


async def kind_chosen(
    callback: CallbackQuery,
    callback_data: ActKindCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    actor: Actor,
) -> None:
    run = await ACTIVITY.resume(callback, bot, state, session, i18n, actor, settings=settings)
    if run is None:
        return
    try:
        kind = activity_draft.check_kind(callback_data.kind)
    except InvalidInput:
        await callback.answer(stale())
        return
    run.draft.kind = kind
    await callback.answer()
    await screen.strip(bot, callback, _("Kind: {kind}").format(kind=labels.KINDS[kind]))
    await run.advance("kind")


async def target_chosen(
    callback: CallbackQuery,
    callback_data: ActTargetCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    actor: Actor,
) -> None:
    run = await ACTIVITY.resume(callback, bot, state, session, i18n, actor, settings=settings)
    if run is None:
        return
    try:
        group = activity_draft.check_target(callback_data.group)
    except InvalidInput:
        await callback.answer(stale())
        return
    run.draft.target_group = group
    await callback.answer()
    await screen.strip(bot, callback, _("For: {target}").format(target=labels.TARGETS[group]))
    await run.advance("target_group")


# Which quick pick belongs to which step.
QUICK_STEPS = {
    "d": "description",
    "s": "starts_at",
    "e": "ends_at",
    "c": "capacity",
    "r": "repeat_weeks",
}


async def quick_pick(
    callback: CallbackQuery,
    callback_data: ActQuickCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    actor: Actor,
) -> None:
    step = ACTIVITY.step_in(await state.get_state())
    field = QUICK_STEPS.get(callback_data.step)
    if step is None or step.field != field:
        await callback.answer(stale())
        return
    run = await ACTIVITY.resume(callback, bot, state, session, i18n, actor, settings=settings)
    if run is None:
        return
    await run.picked(callback, step, callback_data.value)


async def preview_action(
    callback: CallbackQuery,
    callback_data: ActPreviewCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    actor: Actor,
) -> None:
    run = await ACTIVITY.resume(callback, bot, state, session, i18n, actor, settings=settings)
    if run is None:
        return
    message = callback.message
    action = callback_data.action
    await callback.answer()
    if action in ("edit", "back") and message is not None:
        markup = kb.draft_fields() if action == "edit" else kb.preview()
        await bot.edit_message_reply_markup(
            chat_id=actor.id, message_id=message.message_id, reply_markup=markup
        )
    elif action == "cancel":
        await state.clear()
        await screen.strip(bot, callback)
        await run.send(_("Cancelled. Nothing was published."))
    elif action in kb.DRAFT_FIELDS:
        await screen.strip(bot, callback)
        await run.edit(action)


async def publish(
    callback: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    actor: Actor,
) -> None:
    """Publish the draft. Registered in any state: a replayed button is refused for
    anyone without the permission, and is stale for everyone else."""
    if not await activity_admin.manageable_stations(session, actor=actor):
        await refuse(callback)
        return
    run = await ACTIVITY.load_run(
        bot, actor.id, state, session, locale=i18n.current_locale, actor=actor
    )
    if run is None or await state.get_state() != ActivityDialog.preview.state:
        await callback.answer(stale())
        return
    zone = zone_of(run)
    try:
        created = await activity_admin.publish(
            session,
            actor=actor,
            station_id=int(run.extra["station_id"]),
            draft=run.draft,
            now=utcnow(),
            default_timezone=settings.timezone,
        )
    except NotAllowed:
        await refuse(callback)
        return
    except (InvalidInput, NotFound) as error:
        await callback.answer()
        await run.send(error_text(error))
        if error.code in SCHEDULE_ERRORS:
            await screen.strip(bot, callback)
            await run.ask("starts_at")
        return
    await callback.answer()
    await state.clear()
    await screen.strip(bot, callback)
    locale = i18n.current_locale
    first, last = created[0], created[-1]
    title = html.quote(first.title)
    if len(created) == 1:
        text = _("✅ Published: <b>{title}</b>, {when}.").format(
            title=title, when=format_when(first.starts_at, first.ends_at, zone, locale)
        )
    else:
        text = _(
            "✅ Published {count} activities: <b>{title}</b>, every week from {first} to {last}."
        ).format(
            count=len(created),
            title=title,
            first=day(first.starts_at, zone, locale),
            last=day(last.starts_at, zone, locale),
        )
    markup = None
    if first.id is not None and await access.allowed(
        session, actor=actor, permission=Permission.BROADCAST, station_id=first.station_id
    ):
        markup = announce_button(first.id)
    await run.send(text + "\n" + _("Send /manage to edit or cancel it."), markup)
