"""Staff publish activities (/new_activity): station, kind, title, description, place,
start, end, places, target group, weekly repeat, a preview, then publish. /manage lists
the upcoming activities of the stations one manages, to edit one field with the same
steps or to cancel; the volunteers signed up are told."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router, html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.dates import format_skeleton
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.activities import rules
from handlers.broadcast import announce_button
from services import access, activity_admin, when
from services.access import Permission
from services.activity_admin import ActivityDraft
from services.errors import DomainError, InvalidInput, NotAllowed, NotFound
from storage.models import Activity, ActivityStatus, Station
from storage.types import utcnow
from ui import labels
from ui.callbacks import (
    ActCancelCb,
    ActEditCb,
    ActKindCb,
    ActManageCb,
    ActPreviewCb,
    ActQuickCb,
    ActStationCb,
    ActTargetCb,
)
from ui.format import babel_locale, format_when, station_path, zone_name
from ui.keyboards import activity_admin as kb
from ui.outbox import Rendered, renderer
from ui.people import no_permission, refuse
from ui.settings import Settings
from ui.states import ActivityDialog

# Modes: a new activity, a change from its preview, or an edit of a published one.
NEW, PREVIEW, EDIT = "new", "preview", "edit"
MANAGE_PAGE = 5
# Errors about the schedule, after which the start is asked again.
SCHEDULE_ERRORS = {"in_the_past", "end_before_start", "too_long", "when_unreadable"}


def error_text(error: DomainError) -> str:
    """A translated sentence for each error the dialog can meet."""
    texts = {
        "not_allowed": no_permission(),
        "when_empty": _("Please type a date and time."),
        "when_unreadable": _(
            "I could not read that. Type a date and a time, for example "
            "tomorrow 9:00, Sat 3pm, 11/28 9:00 or 2026-11-28 09:00."
        ),
        "when_no_date": _("Please add a date, for example tomorrow 9:00 or 11/28 9:00."),
        "when_no_time": _("Please add a time, for example 9:00 or 3pm."),
        "when_bad_date": _("There is no such date. Please check the month and the day."),
        "when_bad_time": _("There is no such time. Hours go from 0 to 23, minutes from 0 to 59."),
        "when_weekday_mismatch": _("That date is not on that weekday. Please check it."),
        "when_period_mismatch": _(
            "That hour does not fit the time of day (上午 is before noon). Please check it, "
            "for example 上午9点 or 下午1点."
        ),
        "in_the_past": _("That time has already passed. Please give a time in the future."),
        "end_before_start": _("The end must come after the start."),
        "too_long": _("An activity can last at most {hours} hours."),
        "title_empty": _("Please type a title."),
        "title_too_long": _("That is too long: at most {max} characters, please."),
        "description_too_long": _("That is too long: at most {max} characters, please."),
        "place_empty": _("Please type where it takes place."),
        "place_too_long": _("That is too long: at most {max} characters, please."),
        "capacity_not_a_number": _("Please type a number of places, such as 20."),
        "capacity_out_of_range": _("The number of places must be from {min} to {max}."),
        "capacity_below_seats": _(
            "{seats} volunteers already hold a seat, so there cannot be fewer places than that."
        ),
        "repeat_not_a_number": _(
            "Please type how many weeks in all, from 1 to {max}, or use the buttons."
        ),
        "repeat_out_of_range": _(
            "Please type how many weeks in all, from 1 to {max}, or use the buttons."
        ),
        "activity_not_found": _("This activity no longer exists."),
        "activity_cancelled": _("This activity has been cancelled already."),
        "activity_over": _("This activity is over and can no longer be changed."),
        "station_not_found": _("That station no longer exists."),
        "draft_incomplete": _("Some details are missing. Please fill them in."),
    }
    return texts.get(error.code, _("That did not work. Please try again.")).format(**error.params)


def stale() -> str:
    return _("This button is no longer active.")


# --- the dialog's data --------------------------------------------------------------


@dataclass
class Dialog:
    """What the dialog keeps between steps (stored as plain values in the FSM data)."""

    draft: ActivityDraft
    mode: str
    station_id: int
    zone: ZoneInfo
    activity_id: int | None = None
    field: str | None = None  # the field being edited (mode EDIT)
    old_title: str | None = None  # the title volunteers know (mode EDIT)

    def to_data(self) -> dict[str, Any]:
        return {
            "draft": self.draft.to_dict(),
            "mode": self.mode,
            "station_id": self.station_id,
            "zone": self.zone.key,
            "activity_id": self.activity_id,
            "field": self.field,
            "old_title": self.old_title,
        }


async def _load(state: FSMContext) -> Dialog | None:
    data = await state.get_data()
    if "station_id" not in data:
        return None
    return Dialog(
        draft=ActivityDraft.from_dict(data.get("draft")),
        mode=str(data.get("mode", NEW)),
        station_id=int(data["station_id"]),
        zone=when.zone(data.get("zone")),
        activity_id=data.get("activity_id"),
        field=data.get("field"),
        old_title=data.get("old_title"),
    )


async def _store(state: FSMContext, dialog: Dialog) -> None:
    await state.set_data(dialog.to_data())


def _field_of(raw_state: str | None) -> str | None:
    """``ActivityDialog:title`` -> ``title``."""
    if not raw_state or not raw_state.startswith("ActivityDialog:"):
        return None
    return raw_state.split(":", 1)[1]


# --- texts --------------------------------------------------------------------------


def _day(moment: datetime, zone: ZoneInfo, locale: str) -> str:
    return format_skeleton("yMMMEd", moment, tzinfo=zone, locale=babel_locale(locale))


def _clock(moment: datetime, zone: ZoneInfo, locale: str) -> str:
    return format_skeleton("Hm", moment, tzinfo=zone, locale=babel_locale(locale))


def start_picks(now: datetime, zone: ZoneInfo, locale: str) -> list[tuple[str, datetime]]:
    """Tomorrow 09:00 and 14:00, the coming Saturday and Sunday 09:00 (no repeats)."""
    picks: list[tuple[str, datetime]] = []
    for hour in (9, 14):
        moment = when.local_at(now, zone, days=1, hour=hour)
        picks.append((_("Tomorrow {time}").format(time=_clock(moment, zone, locale)), moment))
    for weekday in (5, 6):
        moment = when.next_weekday_at(now, zone, weekday=weekday, hour=9)
        label = format_skeleton("MMMEd", moment, tzinfo=zone, locale=babel_locale(locale))
        picks.append((f"{label} {_clock(moment, zone, locale)}", moment))
    seen: set[datetime] = set()
    unique = []
    for label, moment in picks:
        if moment not in seen:
            seen.add(moment)
            unique.append((label, moment))
    return unique


def repeat_text(draft: ActivityDraft, zone: ZoneInfo, locale: str) -> str:
    count = draft.occurrences()
    if count == 1 or draft.starts_at is None:
        return _("once only")
    last = when.weekly(draft.starts_at, count, zone)[-1]
    return _("every week, {count} times in all, the last on {date}").format(
        count=count, date=_day(last, zone, locale)
    )


async def draft_card(session: AsyncSession, dialog: Dialog, locale: str) -> str:
    draft = dialog.draft
    schedule = "—"
    if draft.starts_at and draft.ends_at:
        schedule = format_when(draft.starts_at, draft.ends_at, dialog.zone, locale)
    lines = [
        _("<b>Please check the activity</b>"),
        "",
        _("Station: {path}").format(path=await station_path(session, dialog.station_id, locale)),
        _("Kind: {kind}").format(kind=labels.KINDS[draft.kind] if draft.kind else "—"),
        _("Title: {title}").format(title=html.quote(draft.title or "—")),
        _("When: {when}").format(when=schedule),
        _("Repeats: {repeat}").format(repeat=repeat_text(draft, dialog.zone, locale)),
        _("Place: {place}").format(place=html.quote(draft.place or "—")),
        _("Places: {capacity}").format(capacity=draft.capacity or "—"),
        _("For: {target}").format(
            target=labels.TARGETS[draft.target_group] if draft.target_group else "—"
        ),
        _("Description: {description}").format(
            description=html.quote(draft.description or "") or "—"
        ),
    ]
    return "\n".join(lines)


# --- asking and moving on -----------------------------------------------------------


async def ask(
    step: str, bot: Bot, chat_id: int, state: FSMContext, dialog: Dialog, locale: str
) -> None:
    """Ask for one field and move the dialog to its state."""
    await state.set_state(getattr(ActivityDialog, step))
    markup: InlineKeyboardMarkup | None = None
    if step == "kind":
        text = _("What kind of activity is it?")
        markup = kb.kinds()
    elif step == "title":
        text = _("The title, as volunteers will see it (at most {max} characters):").format(
            max=activity_admin.TITLE_MAX
        )
    elif step == "description":
        text = _(
            "A description: what volunteers will do, what to bring, whom to ask "
            "(at most {max} characters). Or skip it."
        ).format(max=activity_admin.DESCRIPTION_MAX)
        markup = kb.skip_description()
    elif step == "place":
        text = _("Where does it take place? (at most {max} characters)").format(
            max=activity_admin.PLACE_MAX
        )
    elif step == "starts_at":
        text = _(
            "When does it start? Type a date and a time, for example tomorrow 9:00, "
            "Sat 3pm or 11/28 9:00, or pick one below. Times are in {zone}."
        ).format(zone=zone_name(dialog.zone, locale))
        markup = kb.starts(start_picks(utcnow(), dialog.zone, locale))
    elif step == "ends_at":
        start = dialog.draft.starts_at
        assert start is not None
        text = _(
            "When does it end? It starts {start}. Type a time (11:30, until 5pm) "
            "or a length (2h, 90 min), or pick one below."
        ).format(start=f"{_day(start, dialog.zone, locale)} {_clock(start, dialog.zone, locale)}")
        markup = kb.ends()
    elif step == "capacity":
        text = _("How many volunteers can take part? Type a number from {min} to {max}.").format(
            min=activity_admin.CAPACITY_MIN, max=activity_admin.CAPACITY_MAX
        )
        markup = kb.capacities()
    elif step == "target_group":
        text = _("Whom does it serve?")
        markup = kb.targets()
    else:
        text = _(
            "Does it repeat every week at the same time? Pick below, or type how many "
            "weeks in all (1 to {max})."
        ).format(max=activity_admin.REPEAT_MAX + 1)
        markup = kb.repeats()
    await bot.send_message(chat_id, text, reply_markup=markup)


async def show_preview(
    bot: Bot, chat_id: int, state: FSMContext, session: AsyncSession, dialog: Dialog, locale: str
) -> None:
    dialog.mode = PREVIEW
    await _store(state, dialog)
    await state.set_state(ActivityDialog.preview)
    text = await draft_card(session, dialog, locale)
    await bot.send_message(chat_id, text, reply_markup=kb.preview())


async def advance(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    dialog: Dialog,
) -> None:
    """After a step: the next missing field, the preview, or, editing a published
    activity, save."""
    await _store(state, dialog)
    locale = i18n.current_locale
    missing = dialog.draft.missing()
    if dialog.mode == EDIT:
        await _save_edit(bot, chat_id, state, session, settings, i18n, dialog)
    elif dialog.mode == NEW and missing:
        await ask(missing[0], bot, chat_id, state, dialog, locale)
    else:
        await show_preview(bot, chat_id, state, session, dialog, locale)


def _set_start(dialog: Dialog, start: datetime, now: datetime) -> None:
    """A new start; an end already given keeps the activity's length."""
    if start < now:
        raise InvalidInput("in_the_past")
    draft = dialog.draft
    if draft.starts_at is not None and draft.ends_at is not None:
        draft.ends_at = start + (draft.ends_at - draft.starts_at)
    draft.starts_at = start


def _set_end(dialog: Dialog, end: datetime, now: datetime) -> None:
    start = dialog.draft.starts_at
    assert start is not None
    when.validate_schedule(start, end, min(now, start))
    dialog.draft.ends_at = end


def _apply_typed(dialog: Dialog, field: str, text: str, now: datetime) -> None:
    draft = dialog.draft
    if field == "title":
        draft.title = activity_admin.clean_title(text)
    elif field == "description":
        draft.description = activity_admin.clean_description(text)
    elif field == "place":
        draft.place = activity_admin.clean_place(text)
    elif field == "starts_at":
        _set_start(dialog, when.parse_start(text, now=now, tz=dialog.zone), now)
    elif field == "ends_at":
        assert draft.starts_at is not None
        end = when.parse_end(text, start=draft.starts_at, now=now, tz=dialog.zone)
        _set_end(dialog, end, now)
    elif field == "capacity":
        draft.capacity = activity_admin.parse_capacity(text)
    elif field == "repeat_weeks":
        draft.repeat_weeks = activity_admin.parse_repeat(text)
    else:
        raise InvalidInput("field_unknown")


async def _close(bot: Bot, callback: CallbackQuery, text: str | None = None) -> None:
    """Take the buttons off the message pressed, optionally replacing its text."""
    message = callback.message
    if message is None:
        return
    if text is None:
        await bot.edit_message_reply_markup(
            chat_id=callback.from_user.id, message_id=message.message_id
        )
    else:
        await bot.edit_message_text(
            text, chat_id=callback.from_user.id, message_id=message.message_id
        )


# --- /new_activity ------------------------------------------------------------------


def _station_items(found: Sequence[Station], locale: str) -> list[tuple[int, str]]:
    return [(s.id, labels.station_name(s, locale)) for s in found if s.id is not None]


async def new_activity(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    assert message.from_user is not None
    found = await activity_admin.manageable_stations(
        session, user_id=message.from_user.id, admin_ids=settings.admin_ids
    )
    if not found:
        await refuse(message)
        return
    await state.clear()
    if len(found) == 1 and found[0].id is not None:
        await _begin(bot, message.chat.id, state, session, settings, i18n, found[0].id)
        return
    await state.set_state(ActivityDialog.station)
    markup, _page = kb.stations(_station_items(found, i18n.current_locale), page=0)
    await message.answer(_("On which station do you publish the activity?"), reply_markup=markup)


async def _begin(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    station_id: int,
) -> None:
    zone = await activity_admin.station_zone(session, station_id, settings.timezone)
    dialog = Dialog(draft=ActivityDraft(), mode=NEW, station_id=station_id, zone=zone)
    await _store(state, dialog)
    locale = i18n.current_locale
    await bot.send_message(
        chat_id,
        _(
            "<b>New activity</b> at {station}. A few short questions, then a preview "
            "before anything is published; send /cancel at any time to stop."
        ).format(station=await station_path(session, station_id, locale)),
    )
    await ask("kind", bot, chat_id, state, dialog, locale)


async def station_chosen(
    callback: CallbackQuery,
    callback_data: ActStationCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    user_id = callback.from_user.id
    found = await activity_admin.manageable_stations(
        session, user_id=user_id, admin_ids=settings.admin_ids
    )
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
                chat_id=user_id, message_id=callback.message.message_id, reply_markup=markup
            )
        return
    try:
        await activity_admin.require_station(
            session, user_id=user_id, admin_ids=settings.admin_ids, station_id=callback_data.id
        )
    except NotAllowed:
        await refuse(callback)
        return
    await callback.answer()
    await _close(bot, callback)
    await _begin(bot, user_id, state, session, settings, i18n, callback_data.id)


async def _dialog_or_stale(callback: CallbackQuery, state: FSMContext) -> Dialog | None:
    dialog = await _load(state)
    if dialog is None:
        await callback.answer(stale())
    return dialog


async def kind_chosen(
    callback: CallbackQuery,
    callback_data: ActKindCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    dialog = await _dialog_or_stale(callback, state)
    if dialog is None:
        return
    try:
        dialog.draft.kind = activity_admin.check_kind(callback_data.kind)
    except InvalidInput:
        await callback.answer(stale())
        return
    await callback.answer()
    await _close(bot, callback, _("Kind: {kind}").format(kind=labels.KINDS[dialog.draft.kind]))
    await advance(bot, callback.from_user.id, state, session, settings, i18n, dialog)


async def target_chosen(
    callback: CallbackQuery,
    callback_data: ActTargetCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    dialog = await _dialog_or_stale(callback, state)
    if dialog is None:
        return
    try:
        group = activity_admin.check_target(callback_data.group)
    except InvalidInput:
        await callback.answer(stale())
        return
    dialog.draft.target_group = group
    await callback.answer()
    await _close(bot, callback, _("For: {target}").format(target=labels.TARGETS[group]))
    await advance(bot, callback.from_user.id, state, session, settings, i18n, dialog)


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
) -> None:
    field = _field_of(await state.get_state())
    dialog = await _load(state)
    if dialog is None or field is None or QUICK_STEPS.get(callback_data.step) != field:
        await callback.answer(stale())
        return
    draft, now, value = dialog.draft, utcnow(), callback_data.value
    try:
        if field == "description":
            draft.description = ""
        elif field == "starts_at":
            _set_start(dialog, datetime.fromtimestamp(value * 60, UTC), now)
        elif field == "ends_at":
            assert draft.starts_at is not None
            _set_end(dialog, draft.starts_at + timedelta(minutes=value), now)
        elif field == "capacity":
            draft.capacity = activity_admin.check_capacity(value)
        else:
            draft.repeat_weeks = activity_admin.check_repeat(value)
    except InvalidInput as error:
        await callback.answer()
        await bot.send_message(callback.from_user.id, error_text(error))
        return
    await callback.answer()
    await _close(bot, callback)
    await advance(bot, callback.from_user.id, state, session, settings, i18n, dialog)


async def typed(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    field = _field_of(await state.get_state())
    dialog = await _load(state)
    if dialog is None or field is None:
        await state.clear()
        await message.answer(stale())
        return
    try:
        _apply_typed(dialog, field, message.text or "", utcnow())
    except InvalidInput as error:
        await message.answer(error_text(error))
        return
    await advance(bot, message.chat.id, state, session, settings, i18n, dialog)


async def preview_action(
    callback: CallbackQuery,
    callback_data: ActPreviewCb,
    bot: Bot,
    state: FSMContext,
    i18n: I18n,
) -> None:
    dialog = await _dialog_or_stale(callback, state)
    if dialog is None:
        return
    chat_id = callback.from_user.id
    message = callback.message
    action = callback_data.action
    await callback.answer()
    if action in ("edit", "back") and message is not None:
        markup = kb.draft_fields() if action == "edit" else kb.preview()
        await bot.edit_message_reply_markup(
            chat_id=chat_id, message_id=message.message_id, reply_markup=markup
        )
    elif action == "cancel":
        await state.clear()
        await _close(bot, callback)
        await bot.send_message(chat_id, _("Cancelled. Nothing was published."))
    elif action in kb.DRAFT_FIELDS:
        await _close(bot, callback)
        await ask(action, bot, chat_id, state, dialog, i18n.current_locale)


async def publish(
    callback: CallbackQuery,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Publish the draft. Registered in any state: a replayed button is refused for
    anyone without the permission, and is stale for everyone else."""
    user_id = callback.from_user.id
    if not await activity_admin.manageable_stations(
        session, user_id=user_id, admin_ids=settings.admin_ids
    ):
        await refuse(callback)
        return
    dialog = await _load(state)
    if dialog is None or await state.get_state() != ActivityDialog.preview.state:
        await callback.answer(stale())
        return
    try:
        created = await activity_admin.publish(
            session,
            actor_id=user_id,
            admin_ids=settings.admin_ids,
            station_id=dialog.station_id,
            draft=dialog.draft,
            now=utcnow(),
            default_timezone=settings.timezone,
        )
    except NotAllowed:
        await refuse(callback)
        return
    except (InvalidInput, NotFound) as error:
        await callback.answer()
        await bot.send_message(user_id, error_text(error))
        if error.code in SCHEDULE_ERRORS:
            await _close(bot, callback)
            await ask("starts_at", bot, user_id, state, dialog, i18n.current_locale)
        return
    await callback.answer()
    await state.clear()
    await _close(bot, callback)
    locale = i18n.current_locale
    first, last = created[0], created[-1]
    title = html.quote(first.title)
    if len(created) == 1:
        text = _("✅ Published: <b>{title}</b>, {when}.").format(
            title=title, when=format_when(first.starts_at, first.ends_at, dialog.zone, locale)
        )
    else:
        text = _(
            "✅ Published {count} activities: <b>{title}</b>, every week from {first} to {last}."
        ).format(
            count=len(created),
            title=title,
            first=_day(first.starts_at, dialog.zone, locale),
            last=_day(last.starts_at, dialog.zone, locale),
        )
    markup = None
    if first.id is not None and await access.allowed(
        session,
        user_id=user_id,
        admin_ids=settings.admin_ids,
        permission=Permission.BROADCAST,
        station_id=first.station_id,
    ):
        markup = announce_button(first.id)
    await bot.send_message(
        user_id, text + "\n" + _("Send /manage to edit or cancel it."), reply_markup=markup
    )


# --- /manage ------------------------------------------------------------------------


async def _manage_view(
    session: AsyncSession, settings: Settings, user_id: int, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    found = await activity_admin.upcoming_managed(
        session,
        user_id=user_id,
        admin_ids=settings.admin_ids,
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
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    assert message.from_user is not None
    user_id = message.from_user.id
    if not await activity_admin.manageable_stations(
        session, user_id=user_id, admin_ids=settings.admin_ids
    ):
        await refuse(message)
        return
    text, markup = await _manage_view(session, settings, user_id, 0, i18n.current_locale)
    await message.answer(text, reply_markup=markup)


async def manage_page(
    callback: CallbackQuery,
    callback_data: ActManageCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    user_id = callback.from_user.id
    if not await activity_admin.manageable_stations(
        session, user_id=user_id, admin_ids=settings.admin_ids
    ):
        await refuse(callback)
        return
    await callback.answer()
    text, markup = await _manage_view(
        session, settings, user_id, callback_data.page, i18n.current_locale
    )
    if callback.message is not None:
        await bot.edit_message_text(
            text, chat_id=user_id, message_id=callback.message.message_id, reply_markup=markup
        )


async def _managed(
    callback: CallbackQuery, session: AsyncSession, settings: Settings, activity_id: int
) -> Activity | None:
    """The activity if the presser may manage it now and it can still change; else
    they are told why not and None is returned."""
    try:
        activity = await activity_admin.managed_activity(
            session,
            user_id=callback.from_user.id,
            admin_ids=settings.admin_ids,
            activity_id=activity_id,
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
) -> None:
    activity = await _managed(callback, session, settings, callback_data.id)
    if activity is None or activity.id is None:
        return
    await callback.answer()
    chat_id = callback.from_user.id
    locale = i18n.current_locale
    zone = await activity_admin.station_zone(session, activity.station_id, settings.timezone)
    if callback_data.field not in kb.PUBLISHED_FIELDS:
        await bot.send_message(
            chat_id,
            _("What do you want to change in <b>{title}</b> ({when})?").format(
                title=html.quote(activity.title),
                when=format_when(activity.starts_at, activity.ends_at, zone, locale),
            ),
            reply_markup=kb.published_fields(activity.id),
        )
        return
    dialog = Dialog(
        draft=ActivityDraft.of(activity),
        mode=EDIT,
        station_id=activity.station_id,
        zone=zone,
        activity_id=activity.id,
        field=callback_data.field,
        old_title=activity.title,
    )
    await _store(state, dialog)
    await _close(bot, callback)
    await ask(callback_data.field, bot, chat_id, state, dialog, locale)


@renderer(activity_admin.CHANGED)
async def render_changed(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """What changed, for a volunteer signed up, as the activity is when it is sent;
    None once it is cancelled."""
    activity = await activity_admin.get(session, int(payload["activity_id"]))
    if activity is None or activity.status is not ActivityStatus.PUBLISHED:
        return None
    locale = get_i18n().current_locale
    fields = set(payload.get("fields") or ())
    zone = await activity_admin.station_zone(
        session, activity.station_id, str(payload.get("tz") or when.DEFAULT_ZONE)
    )
    lines = [
        _("ℹ️ <b>{title}</b>, which you signed up for, has changed:").format(
            title=html.quote(str(payload.get("old_title") or activity.title))
        )
    ]
    if "title" in fields:
        lines.append(_("Title: {title}").format(title=html.quote(activity.title)))
    if "starts_at" in fields or "ends_at" in fields:
        lines.append(
            _("When: {when}").format(
                when=format_when(activity.starts_at, activity.ends_at, zone, locale)
            )
        )
    if "place" in fields:
        lines.append(_("Place: {place}").format(place=html.quote(activity.place)))
    if "capacity" in fields:
        lines.append(_("Places: {capacity}").format(capacity=activity.capacity))
    if "target_group" in fields:
        lines.append(_("For: {target}").format(target=labels.TARGETS[activity.target_group]))
    if "description" in fields:
        lines.append(
            _("Description: {description}").format(
                description=html.quote(activity.description) or "—"
            )
        )
    lines.append(_("Your place is unchanged. /my lists your activities."))
    return "\n".join(lines), None


@renderer(activity_admin.CANCELLED)
async def render_cancelled(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    activity = await activity_admin.get(session, int(payload["activity_id"]))
    if activity is None:
        return None
    zone = await activity_admin.station_zone(
        session, activity.station_id, str(payload.get("tz") or when.DEFAULT_ZONE)
    )
    return _(
        "❌ <b>{title}</b> ({when}) has been cancelled by the station. We are sorry. "
        "/activities lists other activities."
    ).format(
        title=html.quote(activity.title),
        when=format_when(activity.starts_at, activity.ends_at, zone, get_i18n().current_locale),
    ), None


def _told(queued: int) -> str:
    """How many signed-up volunteers the change goes out to (as queued; one who
    blocked the bot is found out when sending, and skipped)."""
    return ngettext(
        "{count} signed-up volunteer will be told.",
        "{count} signed-up volunteers will be told.",
        queued,
    ).format(count=queued)


async def _save_edit(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    dialog: Dialog,
) -> None:
    field = dialog.field
    assert field is not None and dialog.activity_id is not None
    changes: dict[str, Any] = {field: getattr(dialog.draft, field)}
    if field == "starts_at":  # the end moved with the start
        changes["ends_at"] = dialog.draft.ends_at
    try:
        _activity, recipients = await activity_admin.edit(
            session,
            actor_id=chat_id,
            admin_ids=settings.admin_ids,
            activity_id=dialog.activity_id,
            changes=changes,
            now=utcnow(),
            rules=rules(settings),
        )
    except NotAllowed:
        await state.clear()
        await bot.send_message(chat_id, no_permission())
        return
    except (InvalidInput, NotFound) as error:
        await bot.send_message(chat_id, error_text(error))
        if isinstance(error, NotFound) or error.code in ("activity_cancelled", "activity_over"):
            await state.clear()
        else:  # the same question again
            await ask(field, bot, chat_id, state, dialog, i18n.current_locale)
        return
    await state.clear()
    text = _("Saved.")
    if recipients:
        text += " " + _told(len(recipients))
    await bot.send_message(chat_id, text)


async def cancel_chosen(
    callback: CallbackQuery,
    callback_data: ActCancelCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    activity = await _managed(callback, session, settings, callback_data.id)
    if activity is None or activity.id is None:
        return
    await callback.answer()
    chat_id = callback.from_user.id
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
    await _close(bot, callback)
    if callback_data.action != "yes":
        await bot.send_message(chat_id, _("Nothing was changed."))
        return
    try:
        recipients = await activity_admin.cancel(
            session,
            actor_id=chat_id,
            admin_ids=settings.admin_ids,
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
        text += " " + _told(len(recipients))
    await bot.send_message(chat_id, text)


# Typed answers; a command is never taken as an answer.
ANSWER = F.text & ~F.text.startswith("/")
TYPED_STEPS = (
    ActivityDialog.title,
    ActivityDialog.description,
    ActivityDialog.place,
    ActivityDialog.starts_at,
    ActivityDialog.ends_at,
    ActivityDialog.capacity,
    ActivityDialog.repeat_weeks,
)
QUICK_STATES = (
    ActivityDialog.description,
    ActivityDialog.starts_at,
    ActivityDialog.ends_at,
    ActivityDialog.capacity,
    ActivityDialog.repeat_weeks,
)


def make_router() -> Router:
    router = Router(name="activity_admin")
    router.message.filter(F.chat.type == "private")
    router.message.register(new_activity, Command("new_activity"))
    router.message.register(show_manage, Command("manage"))
    router.message.register(typed, StateFilter(*TYPED_STEPS), ANSWER)
    router.callback_query.register(station_chosen, ActivityDialog.station, ActStationCb.filter())
    router.callback_query.register(kind_chosen, ActivityDialog.kind, ActKindCb.filter())
    router.callback_query.register(target_chosen, ActivityDialog.target_group, ActTargetCb.filter())
    router.callback_query.register(quick_pick, StateFilter(*QUICK_STATES), ActQuickCb.filter())
    # Publish in any state: a replayed button still meets the permission check.
    router.callback_query.register(publish, ActPreviewCb.filter(F.action == "publish"))
    router.callback_query.register(preview_action, ActivityDialog.preview, ActPreviewCb.filter())
    router.callback_query.register(manage_page, ActManageCb.filter())
    router.callback_query.register(edit_chosen, ActEditCb.filter())
    router.callback_query.register(cancel_chosen, ActCancelCb.filter())
    return router
