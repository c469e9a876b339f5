"""/hours: a volunteer's service hours, star level, no-shows and latest activities."""

from __future__ import annotations

from aiogram import html
from aiogram.types import Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.hours.common import not_registered
from reports.certificate_pdf import format_day
from services import hours, when
from services.errors import NotFound
from services.hours import HoursSummary
from storage.types import utcnow
from ui.durations import duration
from ui.settings import Settings

STAR, NO_STAR = "★", "☆"


def stars_line(summary: HoursSummary) -> str:
    level = summary.level
    stars = STAR * level.stars + NO_STAR * (level.of - level.stars)
    return ngettext(
        "Star level: {stars} ({count} star)", "Star level: {stars} ({count} stars)", level.stars
    ).format(stars=stars, count=level.stars)


def next_star_line(summary: HoursSummary, locale: str) -> str:
    """The way to the next star, exact to the minute: with the total above it, it
    makes the threshold. Before any hours, the threshold alone (said once)."""
    level = summary.level
    if level.minutes_to_next is None or level.next_hours is None:
        return _("You have reached the highest star level. Thank you!")
    threshold = duration(level.next_hours * 60, locale)
    if not summary.total_minutes:
        return _("Your first star comes at {threshold} of service.").format(threshold=threshold)
    return _("{time} more to the next star (at {threshold}).").format(
        time=duration(level.minutes_to_next, locale), threshold=threshold
    )


def hours_view(summary: HoursSummary, locale: str) -> str:
    lines = [
        _("<b>Your service hours</b>"),
        "",
        _("Total: {hours}").format(hours=duration(summary.total_minutes, locale)),
        _("This year ({year}): {hours}").format(
            year=summary.year, hours=duration(summary.year_minutes, locale)
        ),
        stars_line(summary),
        next_star_line(summary, locale),
    ]
    if summary.no_shows_this_year:
        lines.append(
            ngettext(
                "No-shows this year: {count} activity you signed up for without coming",
                "No-shows this year: {count} activities you signed up for without coming",
                summary.no_shows_this_year,
            ).format(count=summary.no_shows_this_year)
        )
    lines.append("")
    if not summary.latest:
        lines.append(
            _(
                "No confirmed hours yet. Hours count once the station staff confirm your "
                "attendance and close the activity."
            )
        )
        return "\n".join(lines)
    lines.append(_("<b>Latest activities</b>"))
    for item in summary.latest:
        zone = when.zone(item.station_zone, summary.zone.key)
        day = format_day(item.starts_at.astimezone(zone).date(), locale, "medium")
        line = _("• {date} · {title} · {hours}").format(
            date=day, title=html.quote(item.title), hours=duration(item.minutes, locale)
        )
        if item.by_staff:
            line += " " + _("(recorded by staff)")
        lines.append(line)
    lines += ["", _("/certificate — get a service certificate as a PDF")]
    return "\n".join(lines)


async def show_hours(
    message: Message, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    assert message.from_user is not None
    try:
        summary = await hours.summary(
            session=session,
            user_id=message.from_user.id,
            thresholds=settings.star_thresholds,
            default_zone=settings.zone,
            now=utcnow(),
        )
    except NotFound:
        await message.answer(not_registered())
        return
    await message.answer(hours_view(summary, i18n.current_locale))
