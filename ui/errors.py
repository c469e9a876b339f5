"""The error catalogue: the text of every error code a service raises, written once.

Handlers answer a ``DomainError`` with ``error_text(error, locale=..., zone=...)``;
its parameters are shown as people read them (titles escaped, moments in the
station's time zone, lists joined, amounts in yuan). A code that is not here gets
the general "That did not work", or the screen's own ``default``."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from html import unescape
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _

from services import when
from services.errors import DomainError
from storage.models import PledgeStatus, VolunteerStatus
from ui.durations import duration
from ui.format import format_moment, join, money_text

# A long list of names in an error shows this many, then "and N more".
NAMES_SHOWN = 30


def no_permission() -> str:
    """The one refusal, whatever someone may not do."""
    return _("You do not have permission for this.")


async def refuse(event: Message | CallbackQuery) -> None:
    """The same answer everywhere someone presses or sends what they may not."""
    if isinstance(event, CallbackQuery):
        await event.answer(no_permission(), show_alert=True)
    else:
        await event.answer(no_permission())


def no_longer_active() -> str:
    """A button whose moment has passed, or whose data is not ours."""
    return _("This button is no longer active.")


def general() -> str:
    return _("That did not work. Please try again.")


TEXTS: dict[str, Callable[[], str]] = {
    "not_registered": lambda: _("Please register first: send /start."),
    "volunteer_pending": lambda: _(
        "Your station has not approved your registration yet. You can take part once it has."
    ),
    "volunteer_not_active": lambda: _("Your registration is not active. Please ask your station."),
    "activity_not_found": lambda: _("This activity no longer exists."),
    "activity_cancelled": lambda: _("This activity has been cancelled."),
    "activity_started": lambda: _("This activity has already started."),
    "not_signed_up": lambda: _("You are not signed up for this activity."),
    "checked_in": lambda: _(
        "You have checked in to this activity, so your place can no longer be cancelled. If"
        " you must leave, check out, or tell the station's staff."
    ),
    "offer_gone": lambda: _("This seat is no longer held for you."),
    "seat_gone": lambda: _("You no longer have a seat at this activity."),
    "volunteer_not_found": lambda: _("This volunteer is no longer registered."),
    "not_allowed": lambda: no_permission(),
    "when_empty": lambda: _("Please type a date and time."),
    "when_unreadable": lambda: _(
        "I could not read that. Type a date and a time, for example tomorrow 9:00, Sat 3pm,"
        " 11/28 9:00 or 2026-11-28 09:00."
    ),
    "when_no_date": lambda: _("Please add a date, for example tomorrow 9:00 or 11/28 9:00."),
    "when_no_time": lambda: _("Please add a time, for example 9:00 or 3pm."),
    "when_bad_date": lambda: _("There is no such date. Please check the month and the day."),
    "when_bad_time": lambda: _(
        "There is no such time. Hours go from 0 to 23, minutes from 0 to 59."
    ),
    "when_weekday_mismatch": lambda: _("That date is not on that weekday. Please check it."),
    "when_period_mismatch": lambda: _(
        "That hour does not fit the time of day (上午 is before noon). Please check it, for "
        "example 上午9点 or 下午1点."
    ),
    "in_the_past": lambda: _("That time has already passed. Please give a time in the future."),
    "end_before_start": lambda: _("The end must come after the start."),
    "too_long": lambda: _("An activity can last at most {hours} hours."),
    "title_empty": lambda: _("Please type a title."),
    "title_too_long": lambda: _("That is too long: at most {max} characters, please."),
    "description_too_long": lambda: _("That is too long: at most {max} characters, please."),
    "place_empty": lambda: _("Please type where it takes place."),
    "place_too_long": lambda: _("That is too long: at most {max} characters, please."),
    "capacity_not_a_number": lambda: _("Please type a number of places, such as 20."),
    "capacity_out_of_range": lambda: _("The number of places must be from {min} to {max}."),
    "capacity_below_seats": lambda: _(
        "{seats} volunteers already hold a seat, so there cannot be fewer places than that."
    ),
    "repeat_not_a_number": lambda: _(
        "Please type how many weeks in all, from 1 to {max}, or use the buttons."
    ),
    "repeat_out_of_range": lambda: _(
        "Please type how many weeks in all, from 1 to {max}, or use the buttons."
    ),
    "activity_over": lambda: _("This activity is over and can no longer be changed."),
    "station_not_found": lambda: _("That station no longer exists. Please choose again."),
    "draft_incomplete": lambda: _("Some details are missing. Please fill them in."),
    "text_empty": lambda: _("Please type the message."),
    "text_too_long": lambda: _(
        "That is too long: {length} characters. At most {max}, please; shorten it and send "
        "it again."
    ),
    "no_recipients": lambda: _(
        "No volunteer would get this: no active volunteers of that station match. Nothing was sent."
    ),
    "skill_unknown": lambda: _("That skill is not known."),
    "code_expired": lambda: _(
        "That code has expired: check-in for its activity is over. If you were there, "
        "please ask the staff to record you."
    ),
    "checkin_not_open": lambda: _(
        "Check-in for <b>{title}</b> opens at {at}, 30 minutes before the start."
    ),
    "checkin_closed": lambda: _(
        "Check-in for <b>{title}</b> closed at {at}, when it ended. If you were there, "
        "please ask the staff to record you."
    ),
    "checkout_closed": lambda: _(
        "Check-out for <b>{title}</b> closed at {at}. The staff will confirm your time."
    ),
    "records_closed": lambda: _("The records of <b>{title}</b> are closed."),
    "not_checked_in": lambda: _(
        "You are not checked in to any activity right now. Check in with /checkin and the "
        "code the staff show you."
    ),
    "period_format": lambda: _(
        "Please type two dates, the first and the last day, such as 2026-01-01 2026-06-30 "
        "(or 2026-01-01 to 2026-06-30). Send /cancel to stop."
    ),
    "period_date": lambda: _("{date} is not a date in the calendar. Please check it."),
    "period_order": lambda: _("The last day comes before the first. Please type them in order."),
    "period_future": lambda: _("That period has not begun yet. Please choose a past period."),
    "invite_unknown": lambda: _("This invitation link is not valid. Please ask for a new one."),
    "invite_used": lambda: _(
        "This invitation link has already been used. Please ask for a new one."
    ),
    "invite_expired": lambda: _("This invitation link has expired. Please ask for a new one."),
    "role_unknown": lambda: _("That role does not exist."),
    "activity_gone": lambda: _("This activity is no longer open for pledges. Please choose again."),
    "pledge_not_found": lambda: _("This pledge no longer exists."),
    "amount_empty": lambda: _("Please type an amount in yuan, for example 50."),
    "amount_unreadable": lambda: _(
        "I could not read that amount. Please type a number in yuan, such as 50, 50.5 or ¥50."
    ),
    "amount_negative": lambda: _("The amount cannot be negative."),
    "amount_zero": lambda: _("The amount must be more than zero."),
    "amount_too_precise": lambda: _(
        "At most two decimal places, please: the smallest unit is one fen (0.01)."
    ),
    "name_too_short": lambda: _("Please type your full real name (at least 2 characters)."),
    "name_too_long": lambda: _("That is too long: at most {max} characters, please."),
    "name_has_digits": lambda: _("A name should not contain digits. Please type your real name."),
    "name_no_letters": lambda: _("Please type your real name in letters."),
    "phone_invalid": lambda: _(
        "That does not look like a mainland mobile number. Type 11 digits such as "
        "13812345678 (spaces, dashes and +86 are fine), or use the button."
    ),
    "age_under_14": lambda: _(
        "Thank you for wanting to help! Volunteers under 14 cannot register themselves. "
        "Please take part together with a parent or guardian, who can register as a "
        "volunteer. Nothing has been saved."
    ),
    "activity_not_started": lambda: _(
        "<b>{title}</b> has not started yet: attendance can be recorded from {at}."
    ),
    "not_on_roster": lambda: _("This person is not on the roster of this activity."),
    "nothing_to_confirm": lambda: _("There is nothing to confirm: this person did not check in."),
    "minutes_unreadable": lambda: _(
        "I could not read that. Type hours (2.5 or 2.5 h) or minutes (90 min), at most {max}."
    ),
    "minutes_out_of_range": lambda: _(
        "That is more than the activity's length. Type a time from 0 to {max}; a number "
        "alone is hours (2.5), add min for minutes."
    ),
    "count_unreadable": lambda: _("Please type a number of people, such as 35."),
    "count_out_of_range": lambda: _("The number must be from 0 to {max}."),
    "target_unknown": lambda: _("That target group does not exist."),
    "checkout_missing": lambda: _(
        "The records cannot be closed yet. These volunteers checked in but did not check "
        "out: {names}. Open each of them and confirm or correct their time first."
    ),
    "photo_unreadable": lambda: _("I could not read that photo. Please send it again."),
    "photo_too_large": lambda: _(
        "That photo is too large: at most {max} MB. Please send a smaller one."
    ),
    "photos_full": lambda: _(
        "The record of <b>{title}</b> already holds {max} photos, the most it can. "
        "Nothing more was added."
    ),
    "summary_empty": lambda: _("Please type the summary."),
    "summary_too_long": lambda: _(
        "That summary has {length} characters; at most {max}, please. Shorten it and send it again."
    ),
    "tally.bad_week": lambda: _(
        "There is no such week. ISO weeks run from 1 to 52 (or 53), for example 2026-W47."
    ),
    "tally.period_reversed": lambda: _(
        "The last day comes before the first. Please type them in order."
    ),
    "tally.period_too_long": lambda: _("That period is too long: at most {days} days, please."),
    "tally.future": lambda: _("That period has not begun yet. Please choose another."),
    "erase_own_data": lambda: _(
        "This volunteer uses the bot: they erase their own data with /delete_me."
    ),
    "backfill_name_missing": lambda: _("Please type the person's name."),
    "backfill_name_too_long": lambda: _("That name is too long: at most {max} characters."),
    "import_too_big": lambda: _(
        "That file is too big: at most {max_kb} KB. Please split it into smaller files."
    ),
    "import_unreadable": lambda: _(
        "I could not read that file. Please send the template back as an Excel file (.xlsx)."
    ),
    "import_too_many_rows": lambda: _(
        "That file has too many rows: at most {max} a file. Please split it."
    ),
    "import_empty": lambda: _("That file has no rows below the header. Nothing was imported."),
    "import_no_name": lambda: _("the name is empty"),
    "import_name_too_long": lambda: _("the name is longer than {max} characters"),
    "import_bad_phone": lambda: _(
        "the phone {phone} is not an 11-digit mainland mobile number (leave it empty if "
        "there is none)"
    ),
    "import_bad_date": lambda: _("the activity date does not read as a date (like 2026-11-03)"),
    "import_future_date": lambda: _("the activity date is in the future"),
    "import_too_old": lambda: _("the activity date is before {earliest}"),
    "import_no_hours": lambda: _("the hours are empty or zero"),
    "import_bad_hours": lambda: _("the hours do not read (like 2 or 2.5, at most {max})"),
    "import_no_title": lambda: _("the activity title is empty"),
    "import_title_too_long": lambda: _("the activity title is longer than {max} characters"),
    "import_duplicate_row": lambda: _("the same person, date and title as row {row}"),
    "import_refused": lambda: _("The file was not imported: {count} rows need fixing."),
    "register.search_empty": lambda: _(
        "Please type part of a name, the phone's last digits, a skill or a star level."
    ),
    "register.search_too_long": lambda: _("That is too long: at most {max} characters, please."),
    "register.bad_stars": lambda: _("Star levels run from 0 to {max}, for example 3★."),
    "register.bad_digits": lambda: _(
        "Type at least 3 of the phone's last digits, or a star level such as 3★."
    ),
    "export.bad_mapping": lambda: _("The column mapping is not usable: {detail}"),
    "report.future": lambda: _("That period has not begun yet. Please choose another."),
}

# Codes whose text names the activity when the error carries its title.
TITLED: dict[str, Callable[[], str]] = {
    "activity_cancelled": lambda: _("<b>{title}</b> has been cancelled."),
    "activity_over": lambda: _(
        "<b>{title}</b> is over, so check-in can no longer be opened. "
        "Mark the volunteers by hand instead."
    ),
}

# What volunteers read where staff read TEXTS (``audience="volunteer"``).
FOR_VOLUNTEERS: dict[str, Callable[[], str]] = {
    "records_closed": lambda: _(
        "The records of <b>{title}</b> are closed. If something is wrong, please ask the staff."
    ),
}


# What staff managing activities read (``audience="manager"``): /manage and /new_activity.
FOR_MANAGERS: dict[str, Callable[[], str]] = {
    "activity_cancelled": lambda: _("This activity has been cancelled already."),
    "station_not_found": lambda: _("That station no longer exists."),
}


class _Blank(dict[str, object]):
    """Parameters for str.format_map: one a text names but the error lacks is blank."""

    def __missing__(self, key: str) -> str:
        return ""


def names(items: list[str]) -> str:
    """甲、乙和另外 3 人 / A, B, and 3 more."""
    shown = [html.quote(n) for n in items[:NAMES_SHOWN]]
    hidden = len(items) - NAMES_SHOWN
    if hidden > 0:
        shown.append(ngettext("{n} more", "{n} more", hidden).format(n=hidden))
    return join(shown)


def shown_params(
    error: DomainError, locale: str, zone: ZoneInfo | None = None
) -> Mapping[str, object]:
    """The error's parameters as people read them."""
    out = _Blank()
    for key, value in error.params.items():
        if isinstance(value, datetime):
            out[key] = format_moment(value, zone or when.zone(None), locale)
        elif isinstance(value, list | tuple):
            out[key] = names([str(v) for v in value])
        elif isinstance(value, str):
            out[key] = html.quote(value)
        else:
            out[key] = value
    maximum = error.params.get("max")
    if error.code.startswith("minutes") and isinstance(maximum, int):
        out["max"] = duration(maximum)
    return out


def _special(error: DomainError, locale: str) -> str | None:
    if error.code == "amount_above_ceiling":
        ceiling = int(str(error.params.get("ceiling_fen", 0)))
        return _(
            "A single pledge can be at most {ceiling}. For a larger gift, please talk to "
            "the station."
        ).format(ceiling=money_text(ceiling, locale))
    if error.code == "already_decided":  # an approval someone else made first
        name = html.quote(str(error.params.get("name") or ""))
        if error.params.get("status") == VolunteerStatus.ACTIVE.value:
            return _("{name} has already been approved.").format(name=name)
        return _("{name} has already been declined.").format(name=name)
    if error.code == "pledge_decided":
        receipt = html.quote(str(error.params.get("receipt", "")))
        if error.params.get("status") == PledgeStatus.RECEIVED.value:
            return _("Pledge {receipt} has already been marked received.").format(receipt=receipt)
        return _("Pledge {receipt} has already been cancelled.").format(receipt=receipt)
    return None


def error_text(
    error: DomainError,
    *,
    locale: str | None = None,
    zone: ZoneInfo | None = None,
    audience: str = "staff",
    default: Callable[[], str] = general,
    plain: bool = False,
) -> str:
    """The translated sentence for ``error``, in the current language by default;
    ``plain`` for a button's alert, which shows no HTML."""
    locale = locale or get_i18n().current_locale
    text = _text(error, locale, zone, audience, default)
    return unescape(re.sub(r"<[^>]+>", "", text)) if plain else text


def _text(
    error: DomainError,
    locale: str,
    zone: ZoneInfo | None,
    audience: str,
    default: Callable[[], str],
) -> str:
    special = _special(error, locale)
    if special is not None:
        return special
    text = None
    if audience == "volunteer":
        text = FOR_VOLUNTEERS.get(error.code)
    elif audience == "manager":
        text = FOR_MANAGERS.get(error.code)
    if text is None and error.params.get("title"):
        text = TITLED.get(error.code)
    if text is None:
        text = TEXTS.get(error.code, default)
    return text().format_map(shown_params(error, locale, zone))


def knows(code: str) -> bool:
    """Whether the catalogue has its own text for ``code``."""
    return (
        code in TEXTS
        or code in TITLED
        or code in ("amount_above_ceiling", "pledge_decided", "already_decided")
    )
