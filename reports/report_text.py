"""A coordinator's report as text: the figures with 同比 (the same period a year
earlier) and 环比 (the period before) in percent, the summary paragraph in the
words of the stations' own reports ("本季度共开展志愿服务活动120场，同比增长12.5%…"),
the ten most active stations, the records-on-time rates and the pledges at work
(五社联动). For Telegram (HTML, within one message) and for the command line
(``markup=False``).

Rendered in the current gettext locale (a handler already is in the reader's;
elsewhere ``with i18n.context(), i18n.use_locale(...)``)."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import html as tg_html
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel.lists import format_list
from babel.numbers import format_decimal

from reports.tally_text import TEXT_LIMIT, money, number
from services.coordinator_reports import DUE_WORKING_DAYS, Busy, OnTime, Pledged, Report, change
from services.report_periods import ReportPeriod, Span
from services.tallies import Figures
from storage.models import TargetGroup
from ui import labels
from ui.durations import duration
from ui.format import babel_locale
from ui.period_picker import calendar_name

NO_BASE = "—"  # a change from nothing: no percentage
MARGIN = 96


# --- numbers and periods ------------------------------------------------------------


def percent(value: float | None, locale: str, *, signed: bool = True) -> str:
    """``+12.5%``, ``-3.0%``, ``0.0%`` (``signed``), else the size alone: ``12.5%``
    (the words say up or down); ``—`` for None (the base was zero)."""
    if value is None:
        return NO_BASE
    text = format_decimal(abs(value), format="#,##0.0", locale=babel_locale(locale)) + "%"
    if not signed or round(value, 1) == 0:
        return text
    return ("+" if value > 0 else "-") + text


def period_name(period: ReportPeriod, locale: str) -> str:
    """``2026年11月`` / ``November 2026``, and so on (``ui.period_picker``)."""
    return calendar_name(period, locale)


# --- the changes --------------------------------------------------------------------


def year_on_year(now: float, base: float, locale: str) -> str:
    """同比增长12.5% / up 12.5% year on year, and so on."""
    value = change(now, base)
    if value is None:
        return _("year on year {none} (nothing a year earlier)").format(none=NO_BASE)
    shown = percent(value, locale, signed=False)
    if round(value, 1) > 0:
        return _("up {percent} year on year").format(percent=shown)
    if round(value, 1) < 0:
        return _("down {percent} year on year").format(percent=shown)
    return _("unchanged year on year")


def both_changes(yoy: str, now: float, base: float, locale: str) -> str:
    """The year-on-year change ``yoy``, then the change on the period before:
    同比增长12.5%，环比下降3.0% / up 12.5% year on year and down 3.0% on the period
    before."""
    value = change(now, base)
    if value is None:
        return _("{year_on_year} and on the period before {none} (nothing then)").format(
            year_on_year=yoy, none=NO_BASE
        )
    shown = percent(value, locale, signed=False)
    if round(value, 1) > 0:
        return _("{year_on_year} and up {percent} on the period before").format(
            year_on_year=yoy, percent=shown
        )
    if round(value, 1) < 0:
        return _("{year_on_year} and down {percent} on the period before").format(
            year_on_year=yoy, percent=shown
        )
    return _("{year_on_year} and unchanged on the period before").format(year_on_year=yoy)


def _changes(report: Report, pick: str, locale: str) -> str:
    now = _value(report.figures, pick)
    yoy = year_on_year(now, _value(report.year_ago, pick), locale)
    if not report.has_previous:
        return yoy
    return both_changes(yoy, now, _value(report.previous, pick), locale)


# --- the summary paragraph ----------------------------------------------------------


def _value(figures: Figures, pick: str) -> float:
    return float(
        {
            "activities": figures.activities,
            "participations": figures.participations,
            "volunteers": figures.volunteers,
            "minutes": figures.minutes,
            "beneficiaries": figures.beneficiaries,
            "pledges": figures.pledges,
            "pledged_fen": figures.pledged_fen,
        }[pick]
    )


def groups_text(by_group: dict[TargetGroup, int], locale: str) -> str:
    """``the elderly 120, children 80`` / ``老年人120人次、儿童80人次``, in the labels'
    order, the empty left out (the list joined as the language does)."""
    parts = [
        _("{group} {n}").format(group=name, n=number(by_group[group], locale))
        for group, name in labels.TARGETS.items()
        if by_group.get(group)
    ]
    return format_list(parts, locale=babel_locale(locale)) if parts else ""


def summary_paragraph(report: Report, locale: str) -> str:
    """The paragraph a coordinator pastes into the report they sign:
    本季度共开展志愿服务活动120场，同比增长12.5%，环比下降3.0%；参与志愿者…"""
    f = report.figures
    activities = ngettext(
        "{n} volunteer activity was held, {changes}",
        "{n} volunteer activities were held, {changes}",
        f.activities,
    ).format(n=number(f.activities, locale), changes=_changes(report, "activities", locale))
    participations = ngettext(
        "{n} volunteer participation", "{n} volunteer participations", f.participations
    ).format(n=number(f.participations, locale))
    participations = ngettext(
        "{participations} by {n} volunteer, {changes}",
        "{participations} by {n} volunteers, {changes}",
        f.volunteers,
    ).format(
        participations=participations,
        n=number(f.volunteers, locale),
        changes=_changes(report, "participations", locale),
    )
    hours = _("{time} of service, {changes}").format(
        time=duration(f.minutes, locale), changes=_changes(report, "minutes", locale)
    )
    groups = groups_text(f.beneficiaries_by_group, locale)
    served = (
        ngettext(
            "{n} beneficiary served ({groups}), {changes}",
            "{n} beneficiaries served ({groups}), {changes}",
            f.beneficiaries,
        )
        if groups
        else ngettext(
            "{n} beneficiary served, {changes}",
            "{n} beneficiaries served, {changes}",
            f.beneficiaries,
        )
    ).format(
        n=number(f.beneficiaries, locale),
        groups=groups,
        changes=_changes(report, "beneficiaries", locale),
    )
    pledged = ngettext(
        "{n} charitable pledge of {amount} in all, {changes}",
        "{n} charitable pledges of {amount} in all, {changes}",
        f.pledges,
    ).format(
        n=number(f.pledges, locale),
        amount=money(f.pledged_fen, locale),
        changes=_changes(report, "pledged_fen", locale),
    )
    parts = {
        "activities": activities,
        "participations": participations,
        "hours": hours,
        "beneficiaries": served,
        "pledges": pledged,
    }
    if report.period.span is Span.MONTH:
        text = _(
            "This month, {activities}; {participations}; {hours}; {beneficiaries}; {pledges}."
        ).format(**parts)
    elif report.period.span is Span.QUARTER:
        text = _(
            "This quarter, {activities}; {participations}; {hours}; {beneficiaries}; {pledges}."
        ).format(**parts)
    else:
        text = _(
            "This year, {activities}; {participations}; {hours}; {beneficiaries}; {pledges}."
        ).format(**parts)
    total = report.on_time_total
    if total.rate is not None:
        text = _(
            "{paragraph} {rate} of the activities due had their records closed within "
            "{days} working days of their end."
        ).format(
            paragraph=text, rate=percent(total.rate, locale, signed=False), days=DUE_WORKING_DAYS
        )
    if report.pledged:
        helped = report.pledged_beneficiaries
        text = ngettext(
            "{paragraph} Pledges went to {n} activity, which served {people} beneficiaries.",
            "{paragraph} Pledges went to {n} activities, which served {people} beneficiaries.",
            len(report.pledged),
        ).format(
            paragraph=text,
            n=number(len(report.pledged), locale),
            people=number(sum(helped.values()), locale),
        )
    return text


# --- the whole text -----------------------------------------------------------------


def _bold(text: str, markup: bool) -> str:
    return f"<b>{text}</b>" if markup else text


def _quote(text: str, markup: bool) -> str:
    return tg_html.quote(text) if markup else text


def figure_rows(report: Report, locale: str) -> list[tuple[str, str, str, str | None]]:
    """(label, value, 同比, 环比 or None for a year) of each figure."""
    now, ago, before = report.figures, report.year_ago, report.previous

    def row(label: str, shown: str, pick: str) -> tuple[str, str, str, str | None]:
        yoy = percent(change(_value(now, pick), _value(ago, pick)), locale)
        mom = percent(change(_value(now, pick), _value(before, pick)), locale)
        return label, shown, yoy, mom if report.has_previous else None

    return [
        row(_("Activities"), number(now.activities, locale), "activities"),
        row(_("Volunteer participations"), number(now.participations, locale), "participations"),
        row(_("Volunteers (people)"), number(now.volunteers, locale), "volunteers"),
        row(_("Service time"), duration(now.minutes, locale), "minutes"),
        row(_("Beneficiaries"), number(now.beneficiaries, locale), "beneficiaries"),
        row(_("Pledges"), number(now.pledges, locale), "pledges"),
        row(_("Amount pledged"), money(now.pledged_fen, locale), "pledged_fen"),
    ]


def _figure_line(row: tuple[str, str, str, str | None]) -> str:
    label, value, yoy, mom = row
    if mom is None:
        return _("{label}: {value} (year on year {yoy})").format(label=label, value=value, yoy=yoy)
    return _("{label}: {value} (year on year {yoy}, on the period before {mom})").format(
        label=label, value=value, yoy=yoy, mom=mom
    )


def busy_line(rank: int, busy: Busy, locale: str, markup: bool) -> str:
    return _("{rank}. {station}: {activities} · {participations} participations · {time}").format(
        rank=rank,
        station=_quote(labels.station_name(busy.station, locale), markup),
        activities=ngettext("{n} activity", "{n} activities", busy.activities).format(
            n=number(busy.activities, locale)
        ),
        participations=number(busy.participations, locale),
        time=duration(busy.minutes, locale),
    )


def on_time_text(item: OnTime, locale: str) -> str:
    """``85.0% (17 of 20 on time)``, with those still within their time."""
    text = _("{rate} ({on_time} of {due} on time)").format(
        rate=percent(item.rate, locale, signed=False),
        on_time=number(item.on_time, locale),
        due=number(item.due, locale),
    )
    if item.pending:
        text += " " + ngettext(
            "· {n} still within its time", "· {n} still within their time", item.pending
        ).format(n=number(item.pending, locale))
    return text


def pledged_line(item: Pledged, locale: str, markup: bool) -> str:
    text = ngettext(
        "{title} ({station}): {n} pledge, {amount}",
        "{title} ({station}): {n} pledges, {amount}",
        item.pledges,
    ).format(
        title=_quote(item.title, markup),
        station=_quote(labels.station_name(item.station, locale), markup),
        n=number(item.pledges, locale),
        amount=money(item.pledged_fen, locale),
    )
    if item.beneficiaries_by_group:
        return "• " + _("{pledges} → {groups}").format(
            pledges=text, groups=groups_text(item.beneficiaries_by_group, locale)
        )
    return "• " + _("{pledges} → no beneficiaries recorded yet").format(pledges=text)


def _size(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def report_text(
    report: Report, *, locale: str, markup: bool = True, limit: int = TEXT_LIMIT
) -> str:
    """The report in one message under ``limit``: the figures, the paragraph and the
    most active stations always; then the lowest records-on-time rates and the
    pledges at work, as many as fit, the rest counted (the spreadsheet has all)."""
    station = labels.station_name(report.station, locale)
    compared = (
        _("Compared with {year_ago} (year on year) and {previous} (the period before)").format(
            year_ago=period_name(report.period.year_ago(), locale),
            previous=period_name(report.period.previous(), locale),
        )
        if report.has_previous
        else _("Compared with {year_ago} (year on year)").format(
            year_ago=period_name(report.period.year_ago(), locale)
        )
    )
    head = [
        _bold("📋 " + _("Report: {station}").format(station=_quote(station, markup)), markup),
        period_name(report.period, locale),
        compared,
        "",
        *(_figure_line(row) for row in figure_rows(report, locale)),
    ]
    groups = groups_text(report.figures.beneficiaries_by_group, locale)
    if groups:
        head.append("    " + groups)
    head += ["", _quote(summary_paragraph(report, locale), markup)]
    if report.busiest:
        head += ["", _bold(_("The most active stations"), markup)]
        head += [busy_line(i, b, locale, markup) for i, b in enumerate(report.busiest, start=1)]
    head += [
        "",
        _bold(
            _("Records on time (closed within {days} working days)").format(days=DUE_WORKING_DAYS),
            markup,
        ),
        _("All stations: {rate}").format(rate=on_time_text(report.on_time_total, locale)),
    ]
    room = limit - _size("\n".join(head)) - MARGIN
    lowest = sorted(
        (o for o in report.on_time if o.rate is not None),
        key=lambda o: (o.rate or 0.0, -o.due),  # then in the tree's order
    )
    rates = [
        "• "
        + _("{station}: {rate}").format(
            station=_quote(labels.station_name(o.station, locale), markup),
            rate=on_time_text(o, locale),
        )
        for o in lowest
    ]
    if len(report.on_time) > 1:
        half = room // 2
        body, left = _fit(rates, half, locale, _("the lowest first"))
        head += body
        room -= half - left
    pledge_lines = [pledged_line(p, locale, markup) for p in report.pledged]
    head += ["", _bold(_("Pledges at work (五社联动)"), markup)]
    if not pledge_lines:
        head.append(_("No pledges to an activity in this period."))
    else:
        helped = report.pledged_beneficiaries
        head.append(
            _("Their activities' beneficiaries: {groups}").format(
                groups=groups_text(helped, locale) or NO_BASE
            )
        )
        body, _left = _fit(pledge_lines, room, locale, None)
        head += body
    return "\n".join(head)


def _fit(lines: Sequence[str], room: int, locale: str, order: str | None) -> tuple[list[str], int]:
    """As many of ``lines`` as fit in ``room``, then how many more there are."""
    shown: list[str] = []
    more = _more(len(lines), locale)
    budget = room - _size(more) - 1
    for line in lines:
        if _size(line) + 1 > budget:
            break
        shown.append(line)
        budget -= _size(line) + 1
    if order and shown and len(shown) < len(lines):
        shown.insert(0, order)
    if len(shown) < len(lines):
        shown.append(_more(len(lines) - len([s for s in shown if s.startswith("•")]), locale))
    return shown, budget


def _more(count: int, locale: str) -> str:
    return ngettext(
        "… and {n} more: see the spreadsheet.",
        "… and {n} more: see the spreadsheet.",
        count,
    ).format(n=number(count, locale))
