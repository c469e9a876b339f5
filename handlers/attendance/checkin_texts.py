"""What a volunteer is told on checking in and out: the outcome, a refused code, and
why a check-in or check-out did not go through."""

from __future__ import annotations

import math
from datetime import timedelta

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.attendance.common import clock, zone_of
from services.attendance_values import length_minutes
from services.checkin import CheckOutcome, CheckResult
from ui.durations import duration
from ui.keyboards import attendance as kb
from ui.settings import Settings


def blocked_text(wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return ngettext(
        "Too many wrong codes. Please try again in {n} minute.",
        "Too many wrong codes. Please try again in {n} minutes.",
        minutes,
    ).format(n=minutes)


def wrong_text(left: int) -> str:
    return ngettext(
        "That code is not right. Please check the 6 digits the staff show you and type "
        "them again ({left} try left), or send /cancel.",
        "That code is not right. Please check the 6 digits the staff show you and type "
        "them again ({left} tries left), or send /cancel.",
        left,
    ).format(left=left)


async def result_text(
    result: CheckResult, session: AsyncSession, settings: Settings, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    activity, row = result.activity, result.attendance
    assert activity.id is not None
    zone = await zone_of(session, activity.station_id, settings)
    title = html.quote(activity.title)
    outcome = result.outcome
    markup: InlineKeyboardMarkup | None = None
    if outcome in (CheckOutcome.CHECKED_IN, CheckOutcome.ALREADY_IN):
        assert row.checked_in_at is not None
        at = clock(row.checked_in_at, zone, locale)
        if outcome is CheckOutcome.CHECKED_IN:
            lines = [_("✅ Checked in to <b>{title}</b> at {at}.").format(title=title, at=at)]
            if result.walk_in:
                lines.append(
                    _(
                        "You had no seat for this activity, so you are recorded as a walk-in; "
                        "the staff can see it."
                    )
                )
        else:
            lines = [
                _("You already checked in to <b>{title}</b> at {at}.").format(title=title, at=at)
            ]
        if row.checked_out_at is None:
            lines.append(_("When you leave, check out with the button below or /checkout."))
            markup = kb.checkout(activity.id)
        else:
            lines.append(
                _("You checked out at {at}.").format(at=clock(row.checked_out_at, zone, locale))
            )
        return "\n".join(lines), markup
    assert row.checked_out_at is not None
    at = clock(row.checked_out_at, zone, locale)
    if outcome is CheckOutcome.CHECKED_OUT:
        first = _("🏁 Checked out of <b>{title}</b> at {at}.")
    else:
        first = _("You already checked out of <b>{title}</b> at {at}.")
    lines = [first.format(title=title, at=at)]
    if row.minutes is not None:
        lines.append(_("Time counted: {time}.").format(time=duration(row.minutes, locale)))
        actual = (row.checked_out_at - (row.checked_in_at or row.checked_out_at)).total_seconds()
        if actual // 60 > length_minutes(activity):
            lines.append(_("(At most the activity's length is counted.)"))
    lines.append(_("Your hours count once the staff close the records. Thank you!"))
    return "\n".join(lines), None
