"""One person on the roster: their check-in and check-out, mark and minutes; staff
mark them present, late or absent, confirm a check-in without a check-out, or type
the time served."""

from __future__ import annotations

from aiogram import Bot, html
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.attendance.common import (
    MARKS,
    alert,
    clock,
    fail,
    fail_typed,
    load,
    name_of,
)
from services.access import Actor
from services.attendance_values import length_minutes, parse_minutes, proposed_minutes
from services.errors import DomainError, InvalidInput
from services.marks import StaffAction, correct
from services.roster import Roster, RosterRow
from storage.models import SignupStatus
from storage.types import utcnow
from ui import prompt, screen
from ui.callbacks import RosterMarkCb, RosterPersonCb
from ui.durations import duration
from ui.errors import error_text, no_longer_active
from ui.format import format_when
from ui.keyboards import attendance as kb
from ui.settings import Settings
from ui.states import RosterDialog


def person_view(
    found: Roster, row: RosterRow, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    activity, att, zone = found.activity, row.attendance, found.zone
    assert activity.id is not None
    if row.seat is SignupStatus.OFFERED:
        seat = _("seat offered, not yet accepted")
    elif row.walk_in:
        seat = _("walk-in, without a seat")
    else:
        seat = _("holds a seat")
    lines = [
        f"<b>{html.quote(name_of(row.name))}</b> — {html.quote(activity.title)}",
        format_when(activity.starts_at, activity.ends_at, zone, locale),
        "",
        _("Seat: {seat}").format(seat=seat),
    ]
    checked_in = att.checked_in_at if att else None
    checked_out = att.checked_out_at if att else None
    lines.append(
        _("Checked in: {at}").format(at=clock(checked_in, zone, locale) if checked_in else "—")
    )
    lines.append(
        _("Checked out: {at}").format(at=clock(checked_out, zone, locale) if checked_out else "—")
    )
    mark = att.mark if att else None
    lines.append(_("Mark: {mark}").format(mark=MARKS[mark] if mark else _("not marked")))
    if att is not None and att.confirmed and att.minutes is not None:
        lines.append(_("Time: {time}, confirmed").format(time=duration(att.minutes)))
    else:
        lines.append(_("Time: not confirmed"))
    confirm_label = None
    if att is not None and row.unresolved:
        proposed = proposed_minutes(activity, att) or 0
        if row.flagged:
            note = _(
                "⚠️ Checked in but did not check out: no hours are credited until you "
                "confirm {time} (from the check-in to the end) or correct the time."
            )
        else:
            note = _(
                "Checked in and not checked out yet: the activity is still under way. "
                "To close the records early, confirm {time} (from the check-in to the "
                "end) or correct the time."
            )
        lines += ["", note.format(time=duration(proposed))]
        confirm_label = _("✔️ Confirm {time}").format(time=duration(proposed))
    if row.no_shows:
        lines.append(_("No-shows this year: {n}").format(n=row.no_shows))
    if found.closed:
        lines += ["", _("🔒 The records are closed; a correction is logged and counts at once.")]
    return "\n".join(lines), kb.person(
        activity.id, row.volunteer_id, page=page, confirm_label=confirm_label
    )


async def open_person(
    callback: CallbackQuery,
    callback_data: RosterPersonCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    actor: Actor,
) -> None:
    locale = i18n.current_locale
    try:
        found = await load(session, settings, actor, callback_data.activity)
    except DomainError as error:
        await fail(callback, bot, error, session, settings, locale)
        return
    row = found.row(callback_data.volunteer)
    if row is None:
        await alert(callback, bot, error_text(InvalidInput("not_on_roster"), locale=locale))
        return
    text, markup = person_view(found, row, callback_data.page, locale)
    await screen.replace(callback, bot, text, markup)


def _ask_minutes_text(found: Roster, row: RosterRow, late: bool) -> str:
    length = duration(length_minutes(found.activity))
    name, title = html.quote(name_of(row.name)), html.quote(found.activity.title)
    if late:
        first = _("{name} came late to <b>{title}</b> and has no check-in and check-out to go by.")
    else:
        first = _("Correcting the time of {name} at <b>{title}</b>.")
    return (
        first.format(name=name, title=title)
        + "\n"
        + _(
            "Type the time served: hours (2.5 or 2.5 h) or minutes (90 min), "
            "from 0 to {max}. Send /cancel to stop."
        ).format(max=length)
    )


async def marked(
    callback: CallbackQuery,
    callback_data: RosterMarkCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
    actor: Actor,
) -> None:
    locale = i18n.current_locale
    data = callback_data
    try:
        action = StaffAction(data.action)
    except ValueError:
        await callback.answer(no_longer_active())
        return
    ask = action is StaffAction.MINUTES
    try:
        if not ask:
            try:
                await correct(
                    session,
                    actor=actor,
                    activity_id=data.activity,
                    volunteer_id=data.volunteer,
                    action=action,
                    now=utcnow(),
                )
            except InvalidInput as error:
                if error.code != "minutes_needed":
                    raise
                ask = True  # late, and nothing to go by: staff type the minutes
        found = await load(session, settings, actor, data.activity)
    except DomainError as error:
        await fail(callback, bot, error, session, settings, locale)
        return
    row = found.row(data.volunteer)
    if row is None:
        await alert(callback, bot, error_text(InvalidInput("not_on_roster"), locale=locale))
        return
    if ask:
        await callback.answer()
        await state.set_state(RosterDialog.minutes)
        await state.set_data(
            {
                "activity": data.activity,
                "volunteer": data.volunteer,
                "action": action.value,
                "page": data.page,
                "max": length_minutes(found.activity),
            }
        )
        await bot.send_message(
            actor.id, _ask_minutes_text(found, row, late=action is StaffAction.LATE)
        )
        return
    text, markup = person_view(found, row, data.page, locale)
    await screen.replace(callback, bot, text, markup)


async def minutes_typed(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
    actor: Actor,
) -> None:
    locale = i18n.current_locale
    remembered = await prompt.kept(
        message,
        state,
        lambda data: (
            int(data["activity"]),
            int(data["volunteer"]),
            str(data["action"]),
            int(data["page"]),
            int(data["max"]),
        ),
    )
    if remembered is None:
        return
    activity_id, volunteer_id, action, page, maximum = remembered
    minutes = await prompt.take(message, lambda text: parse_minutes(text, maximum=maximum))
    if minutes is None:
        return  # a bad time: the same question again
    try:
        await correct(
            session,
            actor=actor,
            activity_id=activity_id,
            volunteer_id=volunteer_id,
            action=StaffAction.LATE if action == StaffAction.LATE.value else StaffAction.MINUTES,
            minutes=minutes,
            now=utcnow(),
        )
        found = await load(session, settings, actor, activity_id)
    except DomainError as error:
        await fail_typed(message, state, error, session, settings, locale, again="minutes")
        return
    await state.clear()
    row = found.row(volunteer_id)
    if row is None:
        await message.answer(error_text(InvalidInput("not_on_roster"), locale=locale))
        return
    text, markup = person_view(found, row, page, locale)
    await message.answer(_("Saved.") + "\n\n" + text, reply_markup=markup)
