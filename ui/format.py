"""Texts built from domain values; user-supplied parts are escaped."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from babel import Locale
from babel.dates import format_date, format_skeleton, format_time, get_timezone_location
from babel.lists import format_list
from babel.numbers import format_currency
from sqlmodel.ext.asyncio.session import AsyncSession

from services import money, stations
from services.volunteers import Draft
from storage.models import AgeGroup, VolunteerStatus
from ui import labels

# Zones that keep China's standard time, which people call Beijing time (北京时间).
BEIJING_ZONES = frozenset(
    {"Asia/Shanghai", "PRC", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin"}
)


@functools.cache
def babel_locale(code: str) -> Locale:
    """Babel's locale object, parsed once: parsing a code costs more than formatting."""
    return Locale.parse(code)


def join(items: Iterable[object]) -> str:
    """A list in the reader's language: 急救、驾驶和摄影 / First aid, Driving, and Photography."""
    return format_list([str(i) for i in items], locale=babel_locale(get_i18n().current_locale))


def display_phone(phone: str | None) -> str:
    """+8613812345678 -> +86 138 1234 5678."""
    if not phone:
        return "—"
    if phone.startswith("+86") and len(phone) == 14:
        local = phone[3:]
        return f"+86 {local[:3]} {local[3:7]} {local[7:]}"
    return phone


async def station_path(session: AsyncSession, station_id: int | None, locale: str) -> str:
    if station_id is None:
        return "—"
    chain = await stations.path(session, station_id)
    return " › ".join(html.quote(labels.station_name(s, locale)) for s in chain) or "—"


async def profile_text(
    session: AsyncSession, draft: Draft, locale: str, status: VolunteerStatus | None = None
) -> str:
    skills = join(str(labels.SKILLS[s]) for s in draft.skills if s in labels.SKILLS)
    age = labels.AGE_GROUPS.get(AgeGroup(draft.age_group)) if draft.age_group else None
    lines = [
        _("Name: {name}").format(name=html.quote(draft.real_name or "—")),
        _("Phone: {phone}").format(phone=display_phone(draft.phone)),
        _("Home station: {path}").format(
            path=await station_path(session, draft.station_id, locale)
        ),
        _("Skills: {skills}").format(skills=skills or _("none chosen")),
        _("Age group: {age}").format(age=age or "—"),
    ]
    if draft.age_group == AgeGroup.TEEN:
        lines.append(
            _("Guardian: {name}, {phone}").format(
                name=html.quote(draft.guardian_name or "—"),
                phone=display_phone(draft.guardian_phone),
            )
        )
    lines.append(_("Language: {language}").format(language=labels.LANGUAGES.get(locale, locale)))
    if status is not None:
        lines.append(_("Status: {status}").format(status=labels.STATUSES[status]))
    return "\n".join(lines)


def _when_day(moment: datetime, locale: str) -> str:
    if locale.startswith("zh"):  # 2026年11月28日 周六
        weekday = format_date(moment, "EEE", locale=babel_locale(locale))
        return f"{format_skeleton('yMMMd', moment, locale=babel_locale(locale))} {weekday}"
    return format_skeleton("yMMMEd", moment, locale=babel_locale(locale))  # Sat, Nov 28, 2026


def _clock(moment: datetime, locale: str) -> str:
    return format_time(moment, "HH:mm", locale=babel_locale(locale))


def format_when(start: datetime, end: datetime, zone: ZoneInfo | str, locale: str) -> str:
    """An activity's date and times in the station's zone, for the reader's locale:
    ``2026年11月28日 周六 09:00–11:00`` / ``Sat, Nov 28, 2026, 09:00–11:00``; an end on
    another day names that day too."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    first, last = start.astimezone(tz), end.astimezone(tz)
    sep = " " if locale.startswith("zh") else ", "
    begin = f"{_when_day(first, locale)}{sep}{_clock(first, locale)}"
    if first.date() == last.date():
        return f"{begin}–{_clock(last, locale)}"
    return f"{begin} – {_when_day(last, locale)}{sep}{_clock(last, locale)}"


def format_moment(at: datetime, zone: ZoneInfo, locale: str) -> str:
    """One point in time in the station's zone: ``2026年11月28日 周六 07:00``."""
    local = at.astimezone(zone)
    sep = " " if locale.startswith("zh") else ", "
    return f"{_when_day(local, locale)}{sep}{_clock(local, locale)}"


def zone_name(zone: ZoneInfo, locale: str) -> str:
    """A station's time zone as people say it: 北京时间 / Beijing time for China's
    standard time, else the zone's city (中国（乌鲁木齐）时间 / Germany (Berlin) Time)."""
    if zone.key in BEIJING_ZONES:
        return _("Beijing time")
    return get_timezone_location(zone, locale=babel_locale(locale))


def money_text(fen: int, locale: str) -> str:
    """An amount for the reader's locale: ¥50.00 / CN¥50.00."""
    return format_currency(money.yuan(fen), "CNY", locale=babel_locale(locale))


def person(name: str | None, user_id: int) -> str:
    """A person for a list, as HTML: their volunteer name, else their Telegram id."""
    if name:
        return html.quote(name)
    return _("Telegram user {id}").format(id=user_id)


def plain_person(name: str | None, user_id: int) -> str:
    """The same for a button label, which is plain text."""
    return name or _("Telegram user {id}").format(id=user_id)


def day(moment: datetime, locale: str, zone: ZoneInfo) -> str:
    """The date of ``moment`` in ``zone``, as people read it (1 Dec 2026, 2026年12月1日)."""
    local_day = moment.astimezone(zone).date()
    return format_date(local_day, format="medium", locale=babel_locale(locale))
