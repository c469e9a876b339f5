"""A tally as text: the figures with the previous period beside them, one line per
child station, and the summary sentence coordinators paste into their reports
("本周开展志愿服务活动12场,参与志愿者86人次,…"). Shared by /tally, the Monday
message and the command line (``html=False``: plain text).

Everything is rendered in the current gettext locale (a handler already is in
the reader's; elsewhere ``with i18n.context(), i18n.use_locale(...)``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from aiogram import html as tg_html
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel.numbers import format_currency, format_decimal

from services.periods import Period, week_of
from services.tallies import Figures, Line, Tally
from storage.models import Station
from ui import labels
from ui.date_range import date_range
from ui.durations import duration
from ui.format import babel_locale

# Telegram's limit for one message, in UTF-16 code units; kept with a margin.
TEXT_LIMIT = 4096
MARGIN = 96


# --- numbers ------------------------------------------------------------------------


def number(value: int, locale: str) -> str:
    return format_decimal(value, locale=babel_locale(locale))


def money(fen: int, locale: str) -> str:
    """¥3,250.00 (zh_CN) / CN¥3,250.00 (en)."""
    return format_currency(Decimal(fen) / 100, "CNY", locale=babel_locale(locale))


def _signed_number(delta: int, locale: str) -> str:
    return format_decimal(delta, format="+#,##0;-#,##0", locale=babel_locale(locale))


def _signed_duration(delta_minutes: int, locale: str) -> str:
    return duration(delta_minutes, locale, signed=True)


def _signed_money(delta_fen: int, locale: str) -> str:
    return ("+" if delta_fen > 0 else "-") + money(abs(delta_fen), locale)


# --- periods ------------------------------------------------------------------------


def week_days(period: Period, locale: str) -> str:
    """A week's days beside its number: ``11月16日至22日`` / ``Nov 16 to 22``."""
    return date_range(period.first, period.last, locale, year=False)


def period_title(period: Period, locale: str) -> str:
    """``Week 47, 2026 (Nov 16 to 22)`` for an ISO week, else the dates."""
    week = period.iso_week
    if week is not None:
        return _("Week {week}, {year} ({days})").format(
            week=week[1], year=week[0], days=week_days(period, locale)
        )
    return period_name(period, locale)


def period_name(period: Period, locale: str) -> str:
    """The period in a sentence: ``Week 45, 2026`` or ``Nov 1 to 30, 2026``."""
    week = period.iso_week
    if week is not None:
        return _("Week {week}, {year}").format(week=week[1], year=week[0])
    return date_range(period.first, period.last, locale)


def relation(period: Period, today: date) -> str | None:
    """ "this" or "last" when the period is this ISO week or the one before."""
    this = week_of(today)
    if period == this:
        return "this"
    if period == this.previous():
        return "last"
    return None


# --- the summary sentence -----------------------------------------------------------


def summary_sentence(figures: Figures, period: Period, *, today: date, locale: str) -> str:
    """本周开展志愿服务活动12场，参与志愿者86人次，服务时长254小时30分钟，受益430人次，
    筹集慈善资金¥3,250.00 / This week: 12 volunteer activities, 86 volunteer
    participations, 254 h 30 min of service, 430 beneficiaries, CN¥3,250.00 in
    charitable pledges. Money is what was pledged (not cancelled)."""
    parts = {
        "activities": ngettext(
            "{n} volunteer activity", "{n} volunteer activities", figures.activities
        ).format(n=number(figures.activities, locale)),
        "participations": ngettext(
            "{n} volunteer participation",
            "{n} volunteer participations",
            figures.participations,
        ).format(n=number(figures.participations, locale)),
        "hours": _("{time} of service").format(time=duration(figures.minutes, locale)),
        "beneficiaries": ngettext(
            "{n} beneficiary", "{n} beneficiaries", figures.beneficiaries
        ).format(n=number(figures.beneficiaries, locale)),
        "money": _("{amount} in charitable pledges").format(
            amount=money(figures.pledged_fen, locale)
        ),
    }
    which = relation(period, today)
    if which == "this":
        return _(
            "This week: {activities}, {participations}, {hours}, {beneficiaries}, {money}."
        ).format(**parts)
    if which == "last":
        return _(
            "Last week: {activities}, {participations}, {hours}, {beneficiaries}, {money}."
        ).format(**parts)
    return _("{period}: {activities}, {participations}, {hours}, {beneficiaries}, {money}.").format(
        period=period_name(period, locale), **parts
    )


# --- the whole text -----------------------------------------------------------------


class _Style:
    """HTML for Telegram, or plain text for the terminal."""

    def __init__(self, markup: bool) -> None:
        self.markup = markup

    def bold(self, text: str) -> str:
        return f"<b>{text}</b>" if self.markup else text

    def quote(self, text: str) -> str:
        return tg_html.quote(text) if self.markup else text


def _compare(
    label: str,
    now: int,
    before: int,
    show: Callable[[int, str], str],
    signed: Callable[[int, str], str],
    locale: str,
) -> str:
    change = signed(now - before, locale) if now != before else _("no change")
    return _("{label}: {value} (previous: {previous}, {change})").format(
        label=label, value=show(now, locale), previous=show(before, locale), change=change
    )


def _breakdown(parts: Sequence[tuple[str, int]], locale: str) -> str | None:
    shown = [f"{name} {number(n, locale)}" for name, n in parts if n]
    return "    " + " · ".join(shown) if shown else None


def figures_lines(tally: Tally, locale: str) -> list[str]:
    """Each figure with the previous period's beside it and the change."""
    now, before = tally.figures, tally.previous
    lines = [
        _compare(_("Activities"), now.activities, before.activities, number, _signed_number, locale)
    ]
    kinds = _breakdown(
        [(str(name), now.activities_by_kind.get(kind, 0)) for kind, name in labels.KINDS.items()],
        locale,
    )
    if kinds:
        lines.append(kinds)
    lines += [
        _compare(
            _("Volunteer participations"),
            now.participations,
            before.participations,
            number,
            _signed_number,
            locale,
        ),
        _compare(
            _("Volunteers (people)"),
            now.volunteers,
            before.volunteers,
            number,
            _signed_number,
            locale,
        ),
        _compare(
            _("Service time"), now.minutes, before.minutes, duration, _signed_duration, locale
        ),
        _compare(
            _("Beneficiaries"),
            now.beneficiaries,
            before.beneficiaries,
            number,
            _signed_number,
            locale,
        ),
    ]
    groups = _breakdown(
        [
            (str(name), now.beneficiaries_by_group.get(group, 0))
            for group, name in labels.TARGETS.items()
        ],
        locale,
    )
    if groups:
        lines.append(groups)
    lines += [
        _compare(
            _("New volunteers"),
            now.new_volunteers,
            before.new_volunteers,
            number,
            _signed_number,
            locale,
        ),
        _compare(_("Pledges"), now.pledges, before.pledges, number, _signed_number, locale),
        _compare(
            _("Amount pledged"), now.pledged_fen, before.pledged_fen, money, _signed_money, locale
        ),
        _compare(
            _("Amount received"),
            now.received_fen,
            before.received_fen,
            money,
            _signed_money,
            locale,
        ),
    ]
    return lines


def line_name(station: Station, own: bool, locale: str) -> str:
    name = labels.station_name(station, locale)
    return _("{station} (its own records)").format(station=name) if own else name


def station_line(line: Line, locale: str, style: _Style) -> str:
    f = line.figures
    return "• " + _(
        "{station}: activities {activities} · participations {participations} · "
        "service {hours} · beneficiaries {beneficiaries} · pledged {money}"
    ).format(
        station=style.quote(line_name(line.station, line.own, locale)),
        activities=number(f.activities, locale),
        participations=number(f.participations, locale),
        hours=duration(f.minutes, locale),
        beneficiaries=number(f.beneficiaries, locale),
        money=money(f.pledged_fen, locale),
    )


def _size(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units); tags included, which only
    overestimates."""
    return len(text.encode("utf-16-le")) // 2


def tally_text(
    tally: Tally,
    *,
    locale: str,
    today: date,
    markup: bool = True,
    heading: str | None = None,
    limit: int = TEXT_LIMIT,
) -> str:
    """The whole tally as one message: under ``limit`` whatever the number of child
    stations (the busiest are shown, and the rest are counted)."""
    style = _Style(markup)
    station = labels.station_name(tally.station, locale)
    head = [
        style.bold("📊 " + _("Tally: {station}").format(station=style.quote(station))),
        period_title(tally.period, locale),
        _("Previous period: {period}").format(period=period_title(tally.period.previous(), locale)),
        "",
        *figures_lines(tally, locale),
    ]
    if heading:
        head.insert(0, heading)
    tail = ["", summary_sentence(tally.figures, tally.period, today=today, locale=locale)]
    if not tally.lines:
        return "\n".join(head + tail)
    title = ["", style.bold(_("By station"))]
    every = [station_line(line, locale, style) for line in tally.lines]
    fixed = _size("\n".join(head + title + tail)) + MARGIN
    if fixed + sum(_size(s) + 1 for s in every) <= limit:
        return "\n".join(head + title + every + tail)
    # Too many: the busiest first, as many as fit, and how many more there are.
    order = sorted(
        range(len(tally.lines)),
        key=lambda i: (
            -tally.lines[i].figures.activities,
            -tally.lines[i].figures.participations,
            i,
        ),
    )
    title = ["", style.bold(_("By station (the busiest)"))]
    room = limit - fixed - _size(_more(len(every), locale)) - 1
    shown: list[str] = []
    for i in order:
        cost = _size(every[i]) + 1
        if cost > room:
            break
        shown.append(every[i])
        room -= cost
    more = [_more(len(every) - len(shown), locale)]
    return "\n".join(head + title + shown + more + tail)


def _more(count: int, locale: str) -> str:
    return ngettext(
        "… and {n} more station: see the spreadsheet.",
        "… and {n} more stations: see the spreadsheet.",
        count,
    ).format(n=number(count, locale))
