"""/roster: staff pick an activity of a station where they manage activities and see
everyone holding a seat, and every walk-in, with their check-in and check-out, mark,
minutes and this year's no-shows, a page at a time. From there they open check-in
(the code as text and as a QR image that opens the bot with it), mark people present,
late or absent, confirm or correct minutes, record beneficiaries by target group, and
close the records, which credits the confirmed hours. Every button re-checks the
presser's permission in the database.

Also the renderers of what staff and coordinators are told about records: the daily
reminder of records still open (kind "records_due", queued by
``services.attendance.remind_unclosed``), forgotten check-outs with the names (kind
"checkout_missing") and records long overdue, for the coordinators above (kind
"records_overdue"), both queued by ``services.records_followup``."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import segno
from aiogram import Bot, F, Router, html
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from babel.dates import format_date
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.checkin import clock
from services import activities, attendance, records_followup, stations, when
from services.activity_admin import station_zone
from services.attendance import Roster, RosterRow, StaffAction
from services.errors import DomainError, InvalidInput, NotAllowed
from storage.models import (
    Activity,
    ActivityStatus,
    AttendanceMark,
    SignupStatus,
    TargetGroup,
)
from storage.types import utcnow
from ui import labels
from ui.callbacks import (
    RosterBenCb,
    RosterCb,
    RosterCloseCb,
    RosterCodeCb,
    RosterListCb,
    RosterMarkCb,
    RosterPersonCb,
)
from ui.durations import duration
from ui.format import babel_locale, format_moment, format_when, join
from ui.keyboards import attendance as kb
from ui.outbox import Rendered, renderer
from ui.people import no_permission, refuse
from ui.settings import Settings
from ui.states import RosterDialog

PAGE = 10  # people per roster page: 300 volunteers make 30 pages, each well under 4096
LIST_PAGE = 8
ALERT_MAX = 200
ANSWER = F.text & ~F.text.startswith("/")

MARKS = {
    AttendanceMark.PRESENT: __("present"),
    AttendanceMark.LATE: __("late"),
    AttendanceMark.ABSENT: __("absent"),
}


# --- small helpers ------------------------------------------------------------------


def _name(name: str | None) -> str:
    return name or "—"


def _names(names: list[str]) -> str:
    """甲、乙和另外 3 人 / A, B, and 3 more."""
    shown = [html.quote(n) for n in names[: attendance.NAMES_SHOWN]]
    hidden = len(names) - attendance.NAMES_SHOWN
    if hidden > 0:
        shown.append(ngettext("{n} more", "{n} more", hidden).format(n=hidden))
    return join(shown)


def qr_png(link: str) -> bytes:
    """The QR code of ``link`` as a PNG image."""
    buffer = io.BytesIO()
    segno.make_qr(link, error="m").save(buffer, kind="png", scale=10, border=2)
    return buffer.getvalue()


def error_text(error: DomainError, locale: str, zone: ZoneInfo | None = None) -> str:
    params = error.params
    title = html.quote(str(params.get("title", "")))
    at = params.get("at")
    moment = format_moment(at, zone or when.zone(None), locale) if isinstance(at, datetime) else ""
    maximum = params.get("max")
    limit = duration(maximum) if isinstance(maximum, int) else ""
    names = params.get("names")
    texts = {
        "not_allowed": no_permission(),
        "activity_not_found": _("This activity no longer exists."),
        "activity_cancelled": _("<b>{title}</b> has been cancelled."),
        "activity_over": _(
            "<b>{title}</b> is over, so check-in can no longer be opened. "
            "Mark the volunteers by hand instead."
        ),
        "records_closed": _("The records of <b>{title}</b> are closed."),
        "activity_not_started": _(
            "<b>{title}</b> has not started yet: attendance can be recorded from {at}."
        ),
        "not_on_roster": _("This person is not on the roster of this activity."),
        "nothing_to_confirm": _("There is nothing to confirm: this person did not check in."),
        "minutes_unreadable": _(
            "I could not read that. Type hours (2.5 or 2.5 h) or minutes (90 min), at most {max}."
        ),
        "minutes_out_of_range": _(
            "That is more than the activity's length. Type a time from 0 to {max}; "
            "a number alone is hours (2.5), add min for minutes."
        ),
        "count_unreadable": _("Please type a number of people, such as 35."),
        "count_out_of_range": _("The number must be from 0 to {max}."),
        "target_unknown": _("That target group does not exist."),
        "checkout_missing": _(
            "The records cannot be closed yet. These volunteers checked in but did not "
            "check out: {names}. Open each of them and confirm or correct their time first."
        ),
    }
    text = texts.get(error.code, _("That did not work. Please try again."))
    return text.format(
        title=title,
        at=moment,
        max=limit if error.code.startswith("minutes") else maximum,
        names=_names([str(n) for n in names]) if isinstance(names, list) else "",
    )


async def _alert(callback: CallbackQuery, bot: Bot, text: str) -> None:
    """A short error as an alert on the button; a long one as a message."""
    plain = unescape(re.sub(r"<[^>]+>", "", text))
    if len(plain) <= ALERT_MAX:
        await callback.answer(plain, show_alert=True)
        return
    await callback.answer()
    await bot.send_message(callback.from_user.id, text)


async def explain(
    error: DomainError, session: AsyncSession, settings: Settings, locale: str
) -> str:
    """``error_text`` with its moment in the station's time zone."""
    station = error.params.get("station")
    zone = (
        await station_zone(session, station, settings.timezone)
        if isinstance(station, int)
        else settings.zone
    )
    return error_text(error, locale, zone)


async def _fail(
    callback: CallbackQuery,
    bot: Bot,
    error: DomainError,
    session: AsyncSession,
    settings: Settings,
    locale: str,
) -> None:
    if isinstance(error, NotAllowed):
        await refuse(callback)
        return
    await _alert(callback, bot, await explain(error, session, settings, locale))


async def _show(
    callback: CallbackQuery, bot: Bot, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Replace the pressed message (a redelivered press changes nothing: no error,
    see ``bot.replies``)."""
    await callback.answer()
    if callback.message is None:
        await bot.send_message(callback.from_user.id, text, reply_markup=markup)
        return
    await bot.edit_message_text(
        text,
        chat_id=callback.from_user.id,
        message_id=callback.message.message_id,
        reply_markup=markup,
    )


async def _leave_dialog(state: FSMContext) -> None:
    if (await state.get_state() or "").startswith("RosterDialog:"):
        await state.clear()


# --- the list of activities ---------------------------------------------------------


def _phase(activity: Activity, now: datetime) -> str:
    if activity.closed_at is not None:
        return _("🔒 records closed")
    if now < activity.starts_at:
        return _("upcoming")
    if now <= activity.ends_at:
        return _("under way")
    return _("⚠️ ended, records open")


async def _list_view(
    session: AsyncSession, settings: Settings, user_id: int, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    now = utcnow()
    found = await attendance.roster_activities(
        session,
        actor_id=user_id,
        admin_ids=settings.admin_ids,
        now=now,
        page=page,
        per_page=LIST_PAGE,
        default_timezone=settings.timezone,
    )
    if not found.items:
        return _(
            "There is no activity to take attendance for: none of your stations' activities "
            "ended in the last week, starts within a day, or waits to be closed."
        ), None
    lines = [
        _("<b>Rosters</b> (page {page} of {pages})").format(page=found.page + 1, pages=found.pages),
        _("Pick an activity to take attendance, record hours and beneficiaries, and close it."),
    ]
    buttons = []
    first = found.page * LIST_PAGE + 1
    for number, item in enumerate(found.items, start=first):
        activity = item.activity
        assert activity.id is not None
        lines += [
            "",
            f"{number}. <b>{html.quote(activity.title)}</b>",
            format_when(activity.starts_at, activity.ends_at, item.zone, locale)
            + " · "
            + html.quote(labels.station_name(item.station, locale)),
            _("{phase} · {seats} with a seat").format(
                phase=_phase(activity, now), seats=item.seats
            ),
        ]
        buttons.append((activity.id, f"{number}. {activity.title}"))
    return "\n".join(lines), kb.roster_list(buttons, page=found.page, pages=found.pages)


async def show_list(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
) -> None:
    assert message.from_user is not None
    await _leave_dialog(state)
    try:
        text, markup = await _list_view(
            session, settings, message.from_user.id, 0, i18n.current_locale
        )
    except NotAllowed:
        await refuse(message)
        return
    await message.answer(text, reply_markup=markup)


async def list_page(
    callback: CallbackQuery,
    callback_data: RosterListCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    try:
        text, markup = await _list_view(
            session, settings, callback.from_user.id, callback_data.page, i18n.current_locale
        )
    except NotAllowed:
        await refuse(callback)
        return
    await _show(callback, bot, text, markup)


# --- one activity's roster ----------------------------------------------------------


def _tag(row: RosterRow) -> str:
    if row.seat is SignupStatus.OFFERED:
        return " " + _("(seat offered)")
    if row.walk_in:
        return " " + _("(walk-in)")
    return ""


def _detail(row: RosterRow, found: Roster, locale: str) -> str:
    parts: list[str] = []
    att = row.attendance
    zone = found.zone
    if att is None:
        parts.append(_("not recorded"))
    else:
        if att.checked_in_at is not None:
            parts.append(_("in {at}").format(at=clock(att.checked_in_at, zone, locale)))
        if att.checked_out_at is not None:
            parts.append(_("out {at}").format(at=clock(att.checked_out_at, zone, locale)))
        elif row.flagged:
            parts.append(_("⚠️ no check-out"))
        if att.mark is not None:
            parts.append(str(MARKS[att.mark]))
        if att.confirmed and att.minutes is not None:
            parts.append(duration(att.minutes))
    if row.no_shows:
        parts.append(
            ngettext("{n} no-show this year", "{n} no-shows this year", row.no_shows).format(
                n=row.no_shows
            )
        )
    return " · ".join(parts)


def _beneficiary_summary(found: Roster) -> str:
    recorded = [
        f"{labels.TARGETS[group]} {found.beneficiaries[group]}"
        for group in TargetGroup
        if group in found.beneficiaries
    ]
    if not recorded:
        return _("none recorded yet")
    return " · ".join(recorded)


def _code_line(found: Roster, locale: str) -> str:
    activity = found.activity
    if activity.closed_at is not None:
        return _("🔒 Records closed {at}.").format(
            at=format_moment(activity.closed_at, found.zone, locale)
        )
    if activity.checkin_code is None:
        return _("📲 Check-in is not open: press «Check-in code» to open it.")
    opens, closes, _last = attendance.window(activity)
    return _("📲 Check-in code: <code>{code}</code> (check-in {start}–{end})").format(
        code=activity.checkin_code,
        start=clock(opens, found.zone, locale),
        end=clock(closes, found.zone, locale),
    )


def roster_text(found: Roster, page: int, locale: str) -> tuple[str, int, int]:
    """The roster's text for one page; returns the text, the page shown and the pages."""
    activity = found.activity
    rows = found.rows
    pages = max(1, -(-len(rows) // PAGE))
    page = min(max(page, 0), pages - 1)
    seated = sum(1 for r in rows if not r.walk_in)
    walk_ins = len(rows) - seated
    checked_in = sum(1 for r in rows if r.attendance and r.attendance.checked_in_at)
    flagged = sum(1 for r in rows if r.flagged)
    absent = sum(1 for r in rows if r.attendance and r.attendance.mark is AttendanceMark.ABSENT)
    if found.now > activity.ends_at:
        counts = _(
            "👥 {seated} with a seat · {walk_ins} walk-ins · {checked_in} checked in · "
            "{flagged} ⚠️ without check-out · {absent} absent"
        )
    else:  # under way or to come: nobody is missing a check-out yet
        counts = _(
            "👥 {seated} with a seat · {walk_ins} walk-ins · {checked_in} checked in · "
            "{absent} absent"
        )
    lines = [
        _("<b>Roster: {title}</b>").format(title=html.quote(activity.title)),
        format_when(activity.starts_at, activity.ends_at, found.zone, locale)
        + " · "
        + html.quote(labels.station_name(found.station, locale)),
        _code_line(found, locale),
        counts.format(
            seated=seated,
            walk_ins=walk_ins,
            checked_in=checked_in,
            flagged=flagged,
            absent=absent,
        ),
        _("🧾 Beneficiaries: {summary}").format(summary=_beneficiary_summary(found)),
    ]
    if not rows:
        lines += ["", _("Nobody holds a seat or has checked in yet.")]
        return "\n".join(lines), page, pages
    if pages > 1:
        lines.append(_("Page {page} of {pages}").format(page=page + 1, pages=pages))
    first = page * PAGE
    for number, row in enumerate(rows[first : first + PAGE], start=first + 1):
        lines += [
            "",
            f"{number}. <b>{html.quote(_name(row.name))}</b>{_tag(row)}",
            "    " + _detail(row, found, locale),
        ]
    return "\n".join(lines), page, pages


def roster_view(found: Roster, page: int, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    text, page, pages = roster_text(found, page, locale)
    activity = found.activity
    assert activity.id is not None
    first = page * PAGE
    people = [
        (r.volunteer_id, f"{'⚠️ ' if r.flagged else ''}{n}. {_name(r.name)}")
        for n, r in enumerate(found.rows[first : first + PAGE], start=first + 1)
    ]
    usable = activity.status is ActivityStatus.PUBLISHED and activity.closed_at is None
    markup = kb.roster(
        activity.id,
        people,
        page=page,
        pages=pages,
        can_open=usable and found.now <= activity.ends_at,
        can_close=usable and found.now >= activity.starts_at,
    )
    return text, markup


async def _roster(
    session: AsyncSession, settings: Settings, user_id: int, activity_id: int
) -> Roster:
    return await attendance.roster(
        session,
        actor_id=user_id,
        admin_ids=settings.admin_ids,
        activity_id=activity_id,
        now=utcnow(),
        default_timezone=settings.timezone,
    )


async def open_roster(
    callback: CallbackQuery,
    callback_data: RosterCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    locale = i18n.current_locale
    try:
        found = await _roster(session, settings, callback.from_user.id, callback_data.activity)
    except DomainError as error:
        await _fail(callback, bot, error, session, settings, locale)
        return
    text, markup = roster_view(found, callback_data.page, locale)
    await _show(callback, bot, text, markup)


# --- one person ---------------------------------------------------------------------


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
        f"<b>{html.quote(_name(row.name))}</b> — {html.quote(activity.title)}",
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
        proposed = attendance.proposed_minutes(activity, att) or 0
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
) -> None:
    locale = i18n.current_locale
    try:
        found = await _roster(session, settings, callback.from_user.id, callback_data.activity)
    except DomainError as error:
        await _fail(callback, bot, error, session, settings, locale)
        return
    row = found.row(callback_data.volunteer)
    if row is None:
        await _alert(callback, bot, error_text(InvalidInput("not_on_roster"), locale))
        return
    text, markup = person_view(found, row, callback_data.page, locale)
    await _show(callback, bot, text, markup)


def _ask_minutes_text(found: Roster, row: RosterRow, late: bool) -> str:
    length = duration(attendance.length_minutes(found.activity))
    name, title = html.quote(_name(row.name)), html.quote(found.activity.title)
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
) -> None:
    user_id = callback.from_user.id
    locale = i18n.current_locale
    data = callback_data
    try:
        action = StaffAction(data.action)
    except ValueError:
        await callback.answer(_("This button is no longer active."))
        return
    ask = action is StaffAction.MINUTES
    try:
        if not ask:
            try:
                await attendance.correct(
                    session,
                    actor_id=user_id,
                    admin_ids=settings.admin_ids,
                    activity_id=data.activity,
                    volunteer_id=data.volunteer,
                    action=action,
                    now=utcnow(),
                )
            except InvalidInput as error:
                if error.code != "minutes_needed":
                    raise
                ask = True  # late, and nothing to go by: staff type the minutes
        found = await _roster(session, settings, user_id, data.activity)
    except DomainError as error:
        await _fail(callback, bot, error, session, settings, locale)
        return
    row = found.row(data.volunteer)
    if row is None:
        await _alert(callback, bot, error_text(InvalidInput("not_on_roster"), locale))
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
                "max": attendance.length_minutes(found.activity),
            }
        )
        await bot.send_message(
            user_id, _ask_minutes_text(found, row, late=action is StaffAction.LATE)
        )
        return
    text, markup = person_view(found, row, data.page, locale)
    await _show(callback, bot, text, markup)


async def minutes_typed(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
) -> None:
    assert message.from_user is not None
    user_id = message.from_user.id
    locale = i18n.current_locale
    data = await state.get_data()
    try:
        activity_id, volunteer_id = int(data["activity"]), int(data["volunteer"])
        action, page, maximum = str(data["action"]), int(data["page"]), int(data["max"])
    except (KeyError, TypeError, ValueError):
        await state.clear()
        await message.answer(_("That did not work. Please try again."))
        return
    try:
        minutes = attendance.parse_minutes(message.text or "", maximum=maximum)
        await attendance.correct(
            session,
            actor_id=user_id,
            admin_ids=settings.admin_ids,
            activity_id=activity_id,
            volunteer_id=volunteer_id,
            action=StaffAction.LATE if action == StaffAction.LATE.value else StaffAction.MINUTES,
            minutes=minutes,
            now=utcnow(),
        )
        found = await _roster(session, settings, user_id, activity_id)
    except NotAllowed:
        await state.clear()
        await refuse(message)
        return
    except InvalidInput as error:
        if not error.code.startswith("minutes"):
            await state.clear()
        # a bad time: the same question again
        await message.answer(await explain(error, session, settings, locale))
        return
    except DomainError as error:
        await state.clear()
        await message.answer(await explain(error, session, settings, locale))
        return
    await state.clear()
    row = found.row(volunteer_id)
    if row is None:
        await message.answer(error_text(InvalidInput("not_on_roster"), locale))
        return
    text, markup = person_view(found, row, page, locale)
    await message.answer(_("Saved.") + "\n\n" + text, reply_markup=markup)


# --- the check-in code --------------------------------------------------------------


async def open_code(
    callback: CallbackQuery,
    callback_data: RosterCodeCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    user_id = callback.from_user.id
    locale = i18n.current_locale
    try:
        activity = await attendance.open_checkin(
            session,
            actor_id=user_id,
            admin_ids=settings.admin_ids,
            activity_id=callback_data.activity,
            now=utcnow(),
        )
        found = await _roster(session, settings, user_id, callback_data.activity)
    except DomainError as error:
        await _fail(callback, bot, error, session, settings, locale)
        return
    code = activity.checkin_code
    assert code is not None
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={attendance.DEEP_LINK_PREFIX}{code}"
    opens, closes, last = attendance.window(activity)
    zone = found.zone
    caption = "\n".join(
        [
            _("<b>Check-in: {title}</b>").format(title=html.quote(activity.title)),
            _("Code: <code>{code}</code>").format(code=code),
            _("Check-in from {start} to {end}; check-out until {last}.").format(
                start=format_moment(opens, zone, locale),
                end=clock(closes, zone, locale),
                last=clock(last, zone, locale),
            ),
            _(
                "Volunteers scan this QR code with their phone, or send /checkin {code} to @{bot}."
            ).format(code=code, bot=me.username),
        ]
    )
    text, markup = roster_view(found, callback_data.page, locale)
    await _show(callback, bot, text, markup)
    await bot.send_photo(
        user_id, BufferedInputFile(qr_png(link), filename=f"checkin-{code}.png"), caption=caption
    )


# --- beneficiaries ------------------------------------------------------------------


def beneficiaries_view(found: Roster) -> tuple[str, InlineKeyboardMarkup]:
    activity = found.activity
    assert activity.id is not None
    lines = [
        _("<b>Beneficiaries of {title}</b>").format(title=html.quote(activity.title)),
        _("People served (人次) by target group. Tap a group to type its count."),
        "",
    ]
    buttons = []
    for group in TargetGroup:
        count = found.beneficiaries.get(group)
        if count is None:
            entry = _("{group}: not recorded").format(group=labels.TARGETS[group])
        else:
            entry = _("{group}: {count} served").format(group=labels.TARGETS[group], count=count)
        lines.append("• " + entry)
        buttons.append((group.value, entry))
    lines += ["", _("Total: {total}").format(total=sum(found.beneficiaries.values()))]
    return "\n".join(lines), kb.beneficiaries(activity.id, buttons)


async def open_beneficiaries(
    callback: CallbackQuery,
    callback_data: RosterBenCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
) -> None:
    user_id = callback.from_user.id
    locale = i18n.current_locale
    try:
        found = await _roster(session, settings, user_id, callback_data.activity)
        group = attendance.check_group(callback_data.group) if callback_data.group else None
    except DomainError as error:
        await _fail(callback, bot, error, session, settings, locale)
        return
    if group is None:
        text, markup = beneficiaries_view(found)
        await _show(callback, bot, text, markup)
        return
    await callback.answer()
    await state.set_state(RosterDialog.beneficiaries)
    await state.set_data({"activity": callback_data.activity, "group": group.value})
    count = found.beneficiaries.get(group)
    await bot.send_message(
        user_id,
        _(
            "How many people from {group} were served at <b>{title}</b>? Type a number from "
            "0 to {max}; it replaces the count recorded so far ({count}). Send /cancel to stop."
        ).format(
            group=labels.TARGETS[group],
            title=html.quote(found.activity.title),
            max=attendance.BENEFICIARIES_MAX,
            count=count if count is not None else "—",
        ),
    )


async def count_typed(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
    state: FSMContext,
) -> None:
    assert message.from_user is not None
    user_id = message.from_user.id
    locale = i18n.current_locale
    data = await state.get_data()
    try:
        activity_id, group = int(data["activity"]), str(data["group"])
    except (KeyError, TypeError, ValueError):
        await state.clear()
        await message.answer(_("That did not work. Please try again."))
        return
    try:
        count = attendance.parse_count(message.text or "")
        row = await attendance.set_beneficiaries(
            session,
            actor_id=user_id,
            admin_ids=settings.admin_ids,
            activity_id=activity_id,
            group=group,
            count=count,
            now=utcnow(),
        )
        found = await _roster(session, settings, user_id, activity_id)
    except NotAllowed:
        await state.clear()
        await refuse(message)
        return
    except InvalidInput as error:
        if not error.code.startswith("count"):
            await state.clear()
        # a bad count: the same question again
        await message.answer(await explain(error, session, settings, locale))
        return
    except DomainError as error:
        await state.clear()
        await message.answer(await explain(error, session, settings, locale))
        return
    await state.clear()
    text, markup = beneficiaries_view(found)
    saved = _("Saved: {group}: {count}.").format(
        group=labels.TARGETS[row.target_group], count=row.count
    )
    await message.answer(saved + "\n\n" + text, reply_markup=markup)


# --- closing ------------------------------------------------------------------------


async def close_pressed(
    callback: CallbackQuery,
    callback_data: RosterCloseCb,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    user_id = callback.from_user.id
    locale = i18n.current_locale
    activity_id = callback_data.activity
    if not callback_data.confirm:
        await _close_preview(callback, bot, session, settings, activity_id, locale)
        return
    try:
        result = await attendance.close(
            session,
            actor_id=user_id,
            admin_ids=settings.admin_ids,
            activity_id=activity_id,
            now=utcnow(),
        )
    except NotAllowed:
        await refuse(callback)
        return
    except InvalidInput as error:
        if error.code == "checkout_missing":
            await _show(callback, bot, error_text(error, locale), kb.back_to_roster(activity_id))
            return
        await _fail(callback, bot, error, session, settings, locale)
        return
    except DomainError as error:
        await _fail(callback, bot, error, session, settings, locale)
        return
    title = html.quote(result.activity.title)
    if result.already:
        text = _("The records of <b>{title}</b> were already closed.").format(title=title)
    else:
        text = (
            _("🔒 The records of <b>{title}</b> are closed.").format(title=title)
            + "\n"
            + ngettext(
                "{time} credited to {n} volunteer.",
                "{time} credited to {n} volunteers.",
                result.volunteers,
            ).format(time=duration(result.minutes), n=result.volunteers)
        )
    await _show(callback, bot, text, kb.back_to_roster(activity_id))


async def _close_preview(
    callback: CallbackQuery,
    bot: Bot,
    session: AsyncSession,
    settings: Settings,
    activity_id: int,
    locale: str,
) -> None:
    try:
        preview = await attendance.close_preview(
            session,
            actor_id=callback.from_user.id,
            admin_ids=settings.admin_ids,
            activity_id=activity_id,
            now=utcnow(),
            default_timezone=settings.timezone,
        )
    except DomainError as error:
        await _fail(callback, bot, error, session, settings, locale)
        return
    activity = preview.activity
    title = html.quote(activity.title)
    if activity.closed_at is not None:
        text = _("The records of <b>{title}</b> were already closed.").format(title=title)
        await _show(callback, bot, text, kb.back_to_roster(activity_id))
        return
    if preview.unresolved:
        missing = InvalidInput("checkout_missing", names=preview.unresolved)
        await _show(callback, bot, error_text(missing, locale), kb.back_to_roster(activity_id))
        return
    lines = [
        _("Close the records of <b>{title}</b>?").format(title=title),
        "",
        ngettext(
            "{time} will be credited to {n} volunteer.",
            "{time} will be credited to {n} volunteers.",
            preview.volunteers,
        ).format(time=duration(preview.minutes), n=preview.volunteers),
    ]
    if preview.unmarked:
        lines.append(
            _("Not recorded, so no hours and no no-show: {names}.").format(
                names=_names(preview.unmarked)
            )
        )
    lines += [
        "",
        _(
            "After closing, check-in stops. You can still correct attendance and "
            "beneficiaries; every correction is logged."
        ),
    ]
    await _show(callback, bot, "\n".join(lines), kb.close_confirm(activity_id))


# --- the records-due reminder -------------------------------------------------------


@renderer(attendance.RECORDS_DUE)
async def render_records_due(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """Staff's daily reminder of an activity whose records are not closed; None once
    they are (or the activity is gone or cancelled)."""
    activity = await activities.find(session, int(payload["activity"]))
    if (
        activity is None
        or activity.id is None
        or activity.status is ActivityStatus.CANCELLED
        or activity.closed_at is not None
    ):
        return None
    locale = get_i18n().current_locale
    zone = when.zone(payload.get("zone"))
    due = date.fromisoformat(str(payload["due"]))
    today = utcnow().astimezone(zone).date()
    title = html.quote(activity.title)
    slot = format_when(activity.starts_at, activity.ends_at, zone, locale)
    day = format_date(due, format="medium", locale=babel_locale(locale))
    if today > due:
        text = _(
            "⚠️ <b>Records overdue</b>: the records of <b>{title}</b> ({when}) were due on "
            "{date}. Please record attendance, hours and beneficiaries, and close them."
        )
    else:
        text = _(
            "📋 <b>Records due</b>: <b>{title}</b> ({when}) has ended and its records are "
            "not closed. Please record attendance, hours and beneficiaries, and close them "
            "by {date}."
        )
    text = text.format(title=title, when=slot, date=day)
    missing = await records_followup.missing_checkouts(session, activity.id)
    if missing:
        text += "\n\n" + _(
            "Checked in without a check-out, time not yet confirmed: {names}."
        ).format(names=_names(missing))
    return text, kb.open_roster(activity.id)


async def _open_activity(session: AsyncSession, payload: dict[str, Any]) -> Activity | None:
    """The activity a notice is about, while its records are open."""
    activity = await activities.find(session, int(payload["activity"]))
    if (
        activity is None
        or activity.id is None
        or activity.status is ActivityStatus.CANCELLED
        or activity.closed_at is not None
    ):
        return None
    return activity


@renderer(records_followup.CHECKOUT_MISSING)
async def render_checkout_missing(
    session: AsyncSession, payload: dict[str, Any]
) -> Rendered | None:
    """Staff's notice of forgotten check-outs, with the names as they stand when sent;
    None once every one is confirmed or corrected, or the records are closed."""
    activity = await _open_activity(session, payload)
    if activity is None or activity.id is None:
        return None
    names = await records_followup.missing_checkouts(session, activity.id)
    if not names:
        return None
    zone = when.zone(payload.get("zone"))
    text = ngettext(
        "⚠️ <b>Check-out forgotten</b> at <b>{title}</b> ({when}): {count} person checked "
        "in and did not check out: {names}. No hours are credited until you confirm the "
        "time (from the check-in to the end) or correct it in the roster.",
        "⚠️ <b>Check-outs forgotten</b> at <b>{title}</b> ({when}): {count} people checked "
        "in and did not check out: {names}. No hours are credited until you confirm their "
        "time (from the check-in to the end) or correct it in the roster.",
        len(names),
    ).format(
        title=html.quote(activity.title),
        when=format_when(activity.starts_at, activity.ends_at, zone, get_i18n().current_locale),
        names=_names(names),
        count=len(names),
    )
    return text, kb.open_roster(activity.id)


@renderer(records_followup.RECORDS_OVERDUE)
async def render_records_overdue(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """A coordinator's notice of records long overdue at a station below; None once
    they are closed (or the activity is gone or cancelled)."""
    activity = await _open_activity(session, payload)
    if activity is None or activity.id is None:
        return None
    locale = get_i18n().current_locale
    zone = when.zone(payload.get("zone"))
    station = await stations.find(session, activity.station_id)
    due = date.fromisoformat(str(payload["due"]))
    text = _(
        "⚠️ <b>Records long overdue at {station}</b>: the records of <b>{title}</b> "
        "({when}) were due on {date} and are still not closed. Please follow it up with "
        "the station's staff."
    ).format(
        station=html.quote(labels.station_name(station, locale)) if station else "—",
        title=html.quote(activity.title),
        when=format_when(activity.starts_at, activity.ends_at, zone, locale),
        date=format_date(due, format="medium", locale=babel_locale(locale)),
    )
    return text, kb.open_roster(activity.id)


def make_router() -> Router:
    router = Router(name="roster")
    router.message.filter(F.chat.type == "private")
    router.message.register(show_list, Command("roster"))
    router.message.register(minutes_typed, RosterDialog.minutes, ANSWER)
    router.message.register(count_typed, RosterDialog.beneficiaries, ANSWER)
    router.callback_query.register(list_page, RosterListCb.filter())
    router.callback_query.register(open_roster, RosterCb.filter())
    router.callback_query.register(open_person, RosterPersonCb.filter())
    router.callback_query.register(marked, RosterMarkCb.filter())
    router.callback_query.register(open_code, RosterCodeCb.filter())
    router.callback_query.register(open_beneficiaries, RosterBenCb.filter())
    router.callback_query.register(close_pressed, RosterCloseCb.filter())
    return router
