"""One activity's roster: everyone holding a seat and every walk-in with their
check-in and check-out, mark, minutes and this year's no-shows, a page at a time."""

from __future__ import annotations

from aiogram import Bot, html
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.attendance.common import MARKS, clock, fail, load, name_of
from services.access import Actor
from services.attendance_values import window
from services.errors import DomainError
from services.roster import Roster, RosterRow
from storage.models import ActivityStatus, AttendanceMark, SignupStatus, TargetGroup
from ui import labels, screen
from ui.callbacks import RosterCb
from ui.durations import duration
from ui.format import format_moment, format_when
from ui.keyboards import attendance as kb
from ui.paged import Page, page_of
from ui.settings import Settings

PAGE = 10  # people per roster page: 300 volunteers make 30 pages, each well under 4096


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
    opens, closes, _last = window(activity)
    return _("📲 Check-in code: <code>{code}</code> (check-in {start}–{end})").format(
        code=activity.checkin_code,
        start=clock(opens, found.zone, locale),
        end=clock(closes, found.zone, locale),
    )


def roster_text(found: Roster, page: int, locale: str) -> tuple[str, Page[RosterRow]]:
    """The roster's text for one page; returns the text and the page shown."""
    activity = found.activity
    rows = found.rows
    shown = page_of(rows, page, PAGE)
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
        return "\n".join(lines), shown
    if shown.count > 1:
        lines.append(_("Page {page} of {pages}").format(page=shown.number + 1, pages=shown.count))
    for number, row in enumerate(shown.items, start=shown.first):
        lines += [
            "",
            f"{number}. <b>{html.quote(name_of(row.name))}</b>{_tag(row)}",
            "    " + _detail(row, found, locale),
        ]
    return "\n".join(lines), shown


def roster_view(found: Roster, page: int, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    text, shown = roster_text(found, page, locale)
    activity = found.activity
    assert activity.id is not None
    people = [
        (r.volunteer_id, f"{'⚠️ ' if r.flagged else ''}{n}. {name_of(r.name)}")
        for n, r in enumerate(shown.items, start=shown.first)
    ]
    usable = activity.status is ActivityStatus.PUBLISHED and activity.closed_at is None
    markup = kb.roster(
        activity.id,
        people,
        page=shown,
        can_open=usable and found.now <= activity.ends_at,
        can_close=usable and found.now >= activity.starts_at,
        can_add=activity.status is ActivityStatus.PUBLISHED and found.now >= activity.starts_at,
    )
    return text, markup


async def open_roster(
    callback: CallbackQuery,
    callback_data: RosterCb,
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
    text, markup = roster_view(found, callback_data.page, locale)
    await screen.replace(callback, bot, text, markup)
