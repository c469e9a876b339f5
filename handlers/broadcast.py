"""/broadcast: staff write to the volunteers of a station and every station under it,
optionally only those with chosen skills: station, skills, text, a preview with the
number of recipients, then send. Published activities can be announced the same way.
The sender's progress message is edited as the outbox sends, then becomes the report.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router, html
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from services import activities, activity_admin, broadcasts, scopes, stations, users, when
from services.access import Permission
from services.broadcasts import Created, Progress
from services.errors import DomainError, InvalidInput, NotAllowed, NotFound
from services.volunteers import SKILLS
from storage.models import ActivityStatus, Broadcast
from storage.types import utcnow
from ui import labels
from ui.callbacks import AnnounceCb, BcPreviewCb, BcSkillCb, BcStationCb, DetailCb, JoinCb
from ui.format import format_when, join, station_path
from ui.keyboards import staff as staff_kb
from ui.outbox import Rendered, renderer
from ui.people import refuse
from ui.reply_scope import was_put_aside
from ui.screen import show_in_place
from ui.settings import Settings
from ui.states import BroadcastDialog

log = logging.getLogger(__name__)
# A finished broadcast without a progress message waits this long for one before its
# report is sent as a message of its own.
REPORT_WAIT = timedelta(minutes=1)


def error_text(error: DomainError) -> str:
    texts = {
        "text_empty": _("Please type the message."),
        "text_too_long": _(
            "That is too long: {length} characters. At most {max}, please; "
            "shorten it and send it again."
        ),
        "no_recipients": _(
            "No volunteer would get this: no active volunteers of that station match. "
            "Nothing was sent."
        ),
        "station_not_found": _("That station no longer exists."),
        "activity_not_found": _("This activity no longer exists."),
        "activity_cancelled": _("This activity has been cancelled."),
        "activity_started": _("This activity has already started."),
        "skill_unknown": _("That skill is not known."),
    }
    return texts.get(error.code, _("That did not work. Please try again.")).format(**error.params)


def stale() -> str:
    return _("This button is no longer active.")


# --- what recipients see ------------------------------------------------------------


def message_text(station: str, text: str) -> str:
    """A broadcast as its recipients read it: a heading naming the station (already
    escaped), then the sender's plain text, escaped."""
    return _("📣 <b>Message from {station}</b>").format(station=station) + "\n\n" + html.quote(text)


async def _station_name(session: AsyncSession, station_id: int, locale: str) -> str:
    station = await stations.find(session, station_id)
    return html.quote(labels.station_name(station, locale)) if station else "—"


@renderer(broadcasts.KIND)
async def render_broadcast(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """A plain broadcast, or an activity's announcement (its card and a Join button;
    None once the activity is cancelled or has started)."""
    broadcast = await broadcasts.get(session, int(payload["broadcast_id"]))
    if broadcast is None:
        return None
    locale = get_i18n().current_locale
    station = await _station_name(session, broadcast.station_id, locale)
    if broadcast.activity_id is None:
        return message_text(station, broadcast.text), None
    activity = await broadcasts.announced_activity(session, broadcast)
    if (
        activity is None
        or activity.id is None
        or activity.status is not ActivityStatus.PUBLISHED
        or activity.starts_at <= utcnow()
    ):
        return None
    seats = await activities.seats(session, activity)
    zone = await activity_admin.station_zone(
        session, activity.station_id, str(payload.get("tz") or when.DEFAULT_ZONE)
    )
    text = _("📣 <b>New activity from {station}</b>").format(station=station)
    text += "\n\n" + announcement_card(seats, zone, locale)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🙋 Join"), callback_data=JoinCb(activity=activity.id))
    kb.button(text=_("Details"), callback_data=DetailCb(activity=activity.id))
    kb.adjust(2)
    return text, kb.as_markup()


def announcement_card(seats: activities.Seats, zone: ZoneInfo, locale: str) -> str:
    activity = seats.activity
    lines = [
        f"<b>{html.quote(activity.title)}</b>",
        _("{kind} · for {target}").format(
            kind=labels.KINDS[activity.kind], target=labels.TARGETS[activity.target_group]
        ),
        "🕘 " + format_when(activity.starts_at, activity.ends_at, zone, locale),
        "📍 " + html.quote(activity.place),
    ]
    if seats.left:
        lines.append(
            ngettext(
                "👥 {left} of {capacity} seat left",
                "👥 {left} of {capacity} seats left",
                seats.left,
            ).format(left=seats.left, capacity=activity.capacity)
        )
    else:
        lines.append(_("👥 Full · {waiting} on the waitlist").format(waiting=seats.waiting))
    if activity.description:
        lines += ["", html.quote(activity.description)]
    return "\n".join(lines)


# --- the dialog's keyboards ---------------------------------------------------------


def skills_keyboard(chosen: Sequence[str]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code in SKILLS:
        mark = "✅ " if code in chosen else ""
        kb.button(text=mark + str(labels.SKILLS[code]), callback_data=BcSkillCb(code=code))
    kb.button(text=_("Done ➡️") if chosen else _("Everyone ➡️"), callback_data=BcSkillCb(code="done"))
    kb.adjust(*([2] * (len(SKILLS) // 2)), 1)
    return kb.as_markup()


def preview_keyboard(count: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=ngettext("📣 Send to {n} volunteer", "📣 Send to {n} volunteers", count).format(
            n=count
        ),
        callback_data=BcPreviewCb(action="send"),
    )
    kb.button(text=_("✏️ Change the text"), callback_data=BcPreviewCb(action="text"))
    kb.button(text=_("✖️ Cancel"), callback_data=BcPreviewCb(action="cancel"))
    kb.adjust(1, 2)
    return kb.as_markup()


# --- the dialog ---------------------------------------------------------------------


async def _walk(
    session: AsyncSession, user_id: int, settings: Settings, station_id: int, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    view = await scopes.view(
        session,
        actor_id=user_id,
        admin_ids=settings.admin_ids,
        permission=Permission.BROADCAST,
        station_id=station_id,
    )
    if view.current is None and not view.nodes:
        text = _("No stations have been set up yet.")
    elif view.current is None:
        text = _(
            "To the volunteers of which station? Those of the stations under it get it "
            "too. Tap a name to open it."
        )
    else:
        text = _("To the volunteers of which station? {path}").format(
            path=await station_path(session, view.current.id, locale)
        )
    return text, staff_kb.station_walk(view, BcStationCb, page=page, locale=locale)


async def start(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    assert message.from_user is not None
    user_id = message.from_user.id
    locale = i18n.current_locale
    try:
        view = await scopes.view(
            session, actor_id=user_id, admin_ids=settings.admin_ids, permission=Permission.BROADCAST
        )
    except NotAllowed:
        await refuse(message)
        return
    await state.clear()
    await state.set_state(BroadcastDialog.station)
    await state.set_data({"started_at": utcnow().isoformat()})
    if view.current is None and len(view.nodes) == 1 and not view.nodes[0].children:
        await _station_picked(bot, user_id, state, session, view.nodes[0].id, locale)
        return
    text, markup = await _walk(session, user_id, settings, scopes.TOP, 0, locale)
    await message.answer(text, reply_markup=markup)


async def station_walked(
    callback: CallbackQuery,
    callback_data: BcStationCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    user_id = callback.from_user.id
    locale = i18n.current_locale
    try:
        if callback_data.action == "p":
            await broadcasts.require(
                session, user_id=user_id, admin_ids=settings.admin_ids, station_id=callback_data.id
            )
        else:
            text, markup = await _walk(
                session, user_id, settings, callback_data.id, callback_data.page, locale
            )
    except NotAllowed:
        await refuse(callback)
        return
    except NotFound as error:
        await callback.answer(error_text(error), show_alert=True)
        return
    if callback_data.action != "p":
        await show_in_place(callback, bot, text, markup)
        return
    await callback.answer()
    await _close(bot, callback)
    await _station_picked(bot, user_id, state, session, callback_data.id, locale)


async def _station_picked(
    bot: Bot, chat_id: int, state: FSMContext, session: AsyncSession, station_id: int, locale: str
) -> None:
    await state.update_data(station_id=station_id, skills=[])
    await state.set_state(BroadcastDialog.skills)
    await bot.send_message(
        chat_id,
        _(
            "To the volunteers of {path}.\n\nOnly those with certain skills? Tap the skills "
            "(anyone with at least one of them gets it), or go on to write to everyone."
        ).format(path=await station_path(session, station_id, locale)),
        reply_markup=skills_keyboard([]),
    )


async def _dialog(state: FSMContext) -> dict[str, Any] | None:
    data = await state.get_data()
    return data if "station_id" in data and "started_at" in data else None


async def skill_toggled(
    callback: CallbackQuery,
    callback_data: BcSkillCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    data = await _dialog(state)
    if data is None:
        await callback.answer(stale())
        return
    user_id = callback.from_user.id
    station_id = int(data["station_id"])
    try:
        await broadcasts.require(
            session, user_id=user_id, admin_ids=settings.admin_ids, station_id=station_id
        )
    except NotAllowed:
        await refuse(callback)
        return
    except NotFound as error:
        await callback.answer(error_text(error), show_alert=True)
        return
    chosen = [s for s in data.get("skills", []) if s in SKILLS]
    if callback_data.code != "done":
        if callback_data.code not in SKILLS:
            await callback.answer(stale())
            return
        if callback_data.code in chosen:
            chosen.remove(callback_data.code)
        else:
            chosen.append(callback_data.code)
        chosen = broadcasts.check_skills(chosen)
        await state.update_data(skills=chosen)
        await callback.answer()
        if callback.message is not None:
            await bot.edit_message_reply_markup(
                chat_id=user_id,
                message_id=callback.message.message_id,
                reply_markup=skills_keyboard(chosen),
            )
        return
    count = await broadcasts.count_recipients(session, station_id=station_id, skills=chosen)
    if not count:
        await callback.answer()
        await bot.send_message(
            user_id,
            _(
                "No active volunteers of that station match. Choose other skills above, "
                "or send /cancel."
            ),
        )
        return
    await callback.answer()
    await _close(bot, callback)
    await state.set_state(BroadcastDialog.text)
    await _ask_text(bot, user_id)


async def _ask_text(bot: Bot, chat_id: int) -> None:
    await bot.send_message(
        chat_id,
        _(
            "Type your message (at most {max} characters). It is sent as plain text, under "
            "a heading with the station's name; you will see a preview first."
        ).format(max=broadcasts.TEXT_MAX),
    )


async def text_typed(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    assert message.from_user is not None and message.text is not None
    data = await _dialog(state)
    if data is None:
        await state.clear()
        await message.answer(stale())
        return
    try:
        text = broadcasts.clean_text(message.text)
    except InvalidInput as error:
        await message.answer(error_text(error))
        return
    await state.update_data(text=text)
    await show_preview(bot, message.from_user.id, state, session, settings, i18n)


async def not_text(message: Message) -> None:
    await message.answer(
        _("Please type the message as text: photos, stickers and files cannot be broadcast.")
    )


async def show_preview(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    data = await state.get_data()
    locale = i18n.current_locale
    station_id = int(data["station_id"])
    skills = [s for s in data.get("skills", []) if s in SKILLS]
    count = await broadcasts.count_recipients(session, station_id=station_id, skills=skills)
    path = await station_path(session, station_id, locale)
    if skills:
        audience = ngettext(
            "<b>Preview.</b> {n} volunteer of {path} with any of these skills will get "
            "it: {skills}.",
            "<b>Preview.</b> {n} volunteers of {path} with any of these skills will get "
            "it: {skills}.",
            count,
        ).format(n=count, path=path, skills=join(str(labels.SKILLS[s]) for s in skills))
    else:
        audience = ngettext(
            "<b>Preview.</b> {n} volunteer of {path} will get it.",
            "<b>Preview.</b> {n} volunteers of {path} will get it.",
            count,
        ).format(n=count, path=path)
    lines = [audience]
    if settings.quiet_hours:
        lines.append(
            _("During quiet hours ({hours}) messages wait until the morning.").format(
                hours=html.quote(settings.quiet_hours)
            )
        )
    station = await _station_name(session, station_id, locale)
    lines += ["", "――――――", message_text(station, str(data["text"]))]
    await state.set_state(BroadcastDialog.preview)
    await bot.send_message(chat_id, "\n".join(lines), reply_markup=preview_keyboard(count))


async def preview_action(
    callback: CallbackQuery, callback_data: BcPreviewCb, bot: Bot, state: FSMContext
) -> None:
    await callback.answer()
    await _close(bot, callback)
    if callback_data.action == "text":
        await state.set_state(BroadcastDialog.text)
        await _ask_text(bot, callback.from_user.id)
        return
    await state.clear()
    await bot.send_message(callback.from_user.id, _("Cancelled. Nothing was sent."))


async def send(
    callback: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Send in any state: a replayed or doubled button meets the checks and is told."""
    user_id = callback.from_user.id
    data = await _dialog(state)
    if (
        data is None
        or "text" not in data
        or await state.get_state() != BroadcastDialog.preview.state
    ):
        await callback.answer(stale())
        return
    try:
        created = await broadcasts.create(
            session,
            actor_id=user_id,
            admin_ids=settings.admin_ids,
            station_id=int(data["station_id"]),
            skills=[str(s) for s in data.get("skills", [])],
            text=str(data["text"]),
            since=datetime.fromisoformat(str(data["started_at"])),
        )
    except NotAllowed:
        await state.clear()
        await refuse(callback)
        return
    except (InvalidInput, NotFound) as error:
        await state.clear()
        await callback.answer()
        await _close(bot, callback)
        await bot.send_message(user_id, error_text(error))
        return
    await state.clear()
    await callback.answer()
    await _close(bot, callback)
    await _start_progress(bot, session, i18n, settings, user_id, created)


async def _start_progress(
    bot: Bot,
    session: AsyncSession,
    i18n: I18n,
    settings: Settings,
    chat_id: int,
    created: Created,
) -> None:
    """The sender's progress message, edited later by ``broadcast_progress``."""
    broadcast = created.broadcast
    assert broadcast.id is not None
    if not created.new and broadcast.progress_message_id is not None:
        await bot.send_message(chat_id, _("This was sent already; see the progress above."))
        return
    progress = await broadcasts.progress(session, broadcast)
    text = await progress_text(session, progress, i18n.current_locale, settings)
    sent = await bot.send_message(chat_id, text)
    if was_put_aside(sent):  # Telegram is down: the final report comes as a message
        return
    await broadcasts.set_progress_message(
        session, broadcast_id=broadcast.id, chat_id=chat_id, message_id=sent.message_id
    )


# --- announcing a published activity ------------------------------------------------


async def announce_pressed(
    callback: CallbackQuery,
    callback_data: AnnounceCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Ask first, with the number of recipients; then announce (once per activity)."""
    user_id = callback.from_user.id
    if callback_data.action == "no":
        await callback.answer()
        await _close(bot, callback)
        await bot.send_message(user_id, _("Not announced. Nothing was sent."))
        return
    if callback_data.action == "yes":
        await _announce(callback, callback_data.activity, bot, session, settings, i18n)
        return
    try:
        activity, count = await broadcasts.announcement_audience(
            session,
            actor_id=user_id,
            admin_ids=settings.admin_ids,
            activity_id=callback_data.activity,
        )
    except NotAllowed:
        await refuse(callback)
        return
    except (InvalidInput, NotFound) as error:
        await callback.answer(error_text(error), show_alert=True)
        return
    await callback.answer()
    if not count:
        await bot.send_message(user_id, error_text(InvalidInput("no_recipients")))
        return
    kb = InlineKeyboardBuilder()
    kb.button(
        text=ngettext(
            "📣 Announce to {n} volunteer", "📣 Announce to {n} volunteers", count
        ).format(n=count),
        callback_data=AnnounceCb(activity=callback_data.activity, action="yes"),
    )
    kb.button(
        text=_("Not now"), callback_data=AnnounceCb(activity=callback_data.activity, action="no")
    )
    kb.adjust(1)
    path = await station_path(session, activity.station_id, i18n.current_locale)
    await bot.send_message(
        user_id,
        ngettext(
            "Announce <b>{title}</b> to {n} volunteer of {path}? They get the activity's "
            "details with a Join button.",
            "Announce <b>{title}</b> to {n} volunteers of {path}? They get the activity's "
            "details with a Join button.",
            count,
        ).format(title=html.quote(activity.title), n=count, path=path),
        reply_markup=kb.as_markup(),
    )


async def _announce(
    callback: CallbackQuery,
    activity_id: int,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    user_id = callback.from_user.id
    try:
        created = await broadcasts.announce(
            session, actor_id=user_id, admin_ids=settings.admin_ids, activity_id=activity_id
        )
    except NotAllowed:
        await refuse(callback)
        return
    except (InvalidInput, NotFound) as error:
        await callback.answer(error_text(error), show_alert=True)
        await _close(bot, callback)
        return
    await callback.answer()
    await _close(bot, callback)
    if not created.new:
        await bot.send_message(user_id, _("This activity has been announced already."))
        return
    await _start_progress(bot, session, i18n, settings, user_id, created)


def announce_button(activity_id: int) -> InlineKeyboardMarkup:
    """Offered after publishing, to those who may broadcast there."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📣 Announce to volunteers"), callback_data=AnnounceCb(activity=activity_id))
    return kb.as_markup()


# --- progress -----------------------------------------------------------------------


async def progress_text(
    session: AsyncSession, progress: Progress, locale: str, settings: Settings
) -> str:
    """The sender's progress message, or the final report once nothing is waiting."""
    broadcast = progress.broadcast
    heading = await _heading(session, broadcast, locale)
    if progress.done:
        return "\n".join([heading, *report_lines(progress)])
    lines = [
        heading,
        _("Sending… sent {sent} of {total} · not delivered {failed} · waiting {waiting}").format(
            sent=progress.sent,
            total=broadcast.total,
            failed=progress.not_delivered,
            waiting=progress.waiting,
        ),
    ]
    if settings.quiet_hours:
        lines.append(
            _("During quiet hours ({hours}) messages wait until the morning.").format(
                hours=html.quote(settings.quiet_hours)
            )
        )
    return "\n".join(lines)


async def _heading(session: AsyncSession, broadcast: Broadcast, locale: str) -> str:
    path = await station_path(session, broadcast.station_id, locale)
    activity = await broadcasts.announced_activity(session, broadcast)
    if activity is not None:
        return _("📣 Announcement of <b>{title}</b> to the volunteers of {path}").format(
            title=html.quote(activity.title), path=path
        )
    return _("📣 Broadcast to the volunteers of {path}").format(path=path)


def report_lines(progress: Progress) -> list[str]:
    """The final report, under the heading."""
    lines = [
        _("✅ Finished: {sent} of {total} delivered.").format(
            sent=progress.sent, total=progress.broadcast.total
        )
    ]
    if progress.not_delivered:
        lines.append(_("Not delivered: {n}").format(n=progress.not_delivered))
        if progress.blocked:
            lines.append(_("• blocked the bot or left Telegram: {n}").format(n=progress.blocked))
        if progress.failed:
            lines.append(_("• other errors: {n}").format(n=progress.failed))
        if progress.withdrawn:
            lines.append(
                _("• no longer relevant when their turn came: {n}").format(n=progress.withdrawn)
            )
    return lines


@renderer(broadcasts.REPORT)
async def render_report(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """The final report as a message of its own."""
    broadcast = await broadcasts.get(session, int(payload["broadcast_id"]))
    if broadcast is None:
        return None
    progress = await broadcasts.progress(session, broadcast)
    locale = get_i18n().current_locale
    heading = await _heading(session, broadcast, locale)
    return "\n".join([heading, *report_lines(progress)]), None


# The text last shown per broadcast, so an unchanged message is not edited again.
_shown: dict[tuple[int, datetime], str] = {}


async def _edit(bot: Bot, broadcast: Broadcast, text: str) -> bool:
    """Edit the progress message; False when it cannot be (deleted, chat blocked)."""
    if broadcast.progress_chat_id is None or broadcast.progress_message_id is None:
        return False
    try:
        await bot.edit_message_text(
            text, chat_id=broadcast.progress_chat_id, message_id=broadcast.progress_message_id
        )
    except TelegramBadRequest as error:  # an unchanged text is no error (bot.replies)
        log.info("broadcast %s: progress message not editable: %s", broadcast.id, error)
        return False
    except TelegramForbiddenError as error:
        log.info("broadcast %s: sender unreachable: %s", broadcast.id, error)
        return False
    return True


async def report_progress(
    bot: Bot, session: AsyncSession, i18n: I18n, settings: Settings, broadcast: Broadcast
) -> None:
    assert broadcast.id is not None
    if broadcast.created_by is None:  # the sender erased their data: no one to report to
        await broadcasts.finish(session, broadcast.id)
        return
    progress = await broadcasts.progress(session, broadcast)
    locale = await users.locale_of(session, broadcast.created_by, settings.default_locale)
    with i18n.context(), i18n.use_locale(locale):
        text = await progress_text(session, progress, locale, settings)
    key = (broadcast.id, broadcast.created_at)
    if not progress.done:
        if broadcast.progress_message_id is not None and _shown.get(key) != text:
            await _edit(bot, broadcast, text)
            _shown[key] = text
        return
    if broadcast.progress_message_id is None and utcnow() - broadcast.created_at < REPORT_WAIT:
        return  # the sender's progress message is on its way: the report goes there
    edited = await _edit(bot, broadcast, text)
    # No progress message to edit: the report comes as a message of its own.
    await broadcasts.finish(
        session, broadcast.id, report_to=None if edited else broadcast.created_by
    )
    _shown.pop(key, None)


# --- helpers and the router ---------------------------------------------------------


async def _close(bot: Bot, callback: CallbackQuery) -> None:
    """Take the buttons off the message pressed (they may be gone already)."""
    if callback.message is None:
        return
    with contextlib.suppress(TelegramBadRequest):
        await bot.edit_message_reply_markup(
            chat_id=callback.from_user.id, message_id=callback.message.message_id
        )


# Typed answers; a command is never taken as an answer.
ANSWER = F.text & ~F.text.startswith("/")


def make_router() -> Router:
    router = Router(name="broadcast")
    router.message.filter(F.chat.type == "private")
    router.message.register(start, Command("broadcast"))
    router.message.register(
        text_typed, StateFilter(BroadcastDialog.text, BroadcastDialog.preview), ANSWER
    )
    router.message.register(not_text, BroadcastDialog.text, ~F.text)
    router.callback_query.register(station_walked, BroadcastDialog.station, BcStationCb.filter())
    router.callback_query.register(skill_toggled, BroadcastDialog.skills, BcSkillCb.filter())
    # Send in any state: a replayed button still meets the checks.
    router.callback_query.register(send, BcPreviewCb.filter(F.action == "send"))
    router.callback_query.register(preview_action, BroadcastDialog.preview, BcPreviewCb.filter())
    router.callback_query.register(announce_pressed, AnnounceCb.filter())
    return router
