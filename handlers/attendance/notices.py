"""What staff and coordinators are told about records, rendered when sent (the outbox
keeps only the activity and the dates): the daily reminder of records still open
(kind "records_due"), forgotten check-outs with the names (kind "checkout_missing")
and records long overdue, for the coordinators above (kind "records_overdue"), all
queued by ``services.records_followup``."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram import html
from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date
from sqlmodel.ext.asyncio.session import AsyncSession

from services import activities, records_followup, stations, when
from storage.models import Activity, ActivityStatus
from storage.types import utcnow
from ui import labels
from ui.errors import names
from ui.format import babel_locale, format_when
from ui.keyboards import attendance as kb
from ui.outbox import Rendered, renderer


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


@renderer(records_followup.RECORDS_DUE)
async def render_records_due(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """Staff's daily reminder of an activity whose records are not closed; None once
    they are (or the activity is gone or cancelled)."""
    activity = await _open_activity(session, payload)
    if activity is None or activity.id is None:
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
        ).format(names=names(missing))
    return text, kb.open_roster(activity.id)


@renderer(records_followup.CHECKOUT_MISSING)
async def render_checkout_missing(
    session: AsyncSession, payload: dict[str, Any]
) -> Rendered | None:
    """Staff's notice of forgotten check-outs, with the names as they stand when sent;
    None once every one is confirmed or corrected, or the records are closed."""
    activity = await _open_activity(session, payload)
    if activity is None or activity.id is None:
        return None
    missing = await records_followup.missing_checkouts(session, activity.id)
    if not missing:
        return None
    zone = when.zone(payload.get("zone"))
    text = ngettext(
        "⚠️ <b>Check-out forgotten</b> at <b>{title}</b> ({when}): {count} person checked "
        "in and did not check out: {names}. No hours are credited until you confirm the "
        "time (from the check-in to the end) or correct it in the roster.",
        "⚠️ <b>Check-outs forgotten</b> at <b>{title}</b> ({when}): {count} people checked "
        "in and did not check out: {names}. No hours are credited until you confirm their "
        "time (from the check-in to the end) or correct it in the roster.",
        len(missing),
    ).format(
        title=html.quote(activity.title),
        when=format_when(activity.starts_at, activity.ends_at, zone, get_i18n().current_locale),
        names=names(missing),
        count=len(missing),
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
