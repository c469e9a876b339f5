"""Audit entries as sentences people read: who did what, when (in the station's
time zone), and before → after where the entry kept both. Every action the bot
writes has its sentence; an action without one still reads (its name and details).
``markup=False`` gives plain text (the command line and its CSV)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import html
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext

from services.audit_log import Entry
from storage.models import AttendanceMark, RoleKind, TargetGroup
from ui import labels
from ui.durations import duration
from ui.format import format_moment, money_text

MARKS = {
    AttendanceMark.PRESENT.value: __("present"),
    AttendanceMark.LATE.value: __("late"),
    AttendanceMark.ABSENT.value: __("absent"),
}


class _Words:
    """The names an entry's sentence uses, quoted for HTML unless plain."""

    def __init__(self, entry: Entry, locale: str, markup: bool) -> None:
        self.entry, self.locale, self.markup = entry, locale, markup

    def q(self, text: str) -> str:
        return html.quote(text) if self.markup else text

    @property
    def who(self) -> str:
        e = self.entry
        if e.actor_id is None:
            return _("The system")
        if e.actor_name:
            return self.q(e.actor_name)
        return _("Telegram user {id}").format(id=e.actor_id)

    @property
    def activity(self) -> str:
        e = self.entry
        if e.activity is not None:
            return "«" + self.q(e.activity.title) + "»"
        return _("an activity that no longer exists")

    @property
    def volunteer(self) -> str:
        v = self.entry.volunteer
        if v is None or v.erased_at is not None or not v.real_name:
            return _("a volunteer (data erased)")
        return self.q(v.real_name)

    @property
    def subject_user(self) -> str:
        e = self.entry
        if e.subject_user_name:
            return self.q(e.subject_user_name)
        return _("Telegram user {id}").format(id=e.subject_user_id or 0)

    def detail(self, key: str) -> Any:
        return self.entry.details.get(key)

    def number(self, key: str) -> int:
        value = self.detail(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    def role(self, key: str = "role") -> str:
        value = self.detail(key)
        try:
            return str(labels.ROLES[RoleKind(value)])
        except ValueError:
            return self.q(str(value))

    def money(self) -> str:
        return money_text(self.number("amount_fen"), self.locale)

    def attendance(self, snapshot: object) -> str:
        """An attendance as kept before or after a change: mark and minutes."""
        if not isinstance(snapshot, dict) or not snapshot.get("confirmed"):
            if isinstance(snapshot, dict) and snapshot.get("mark"):
                return str(MARKS.get(str(snapshot["mark"]), snapshot["mark"]))
            return _("not recorded")
        parts = []
        mark = snapshot.get("mark")
        if mark:
            parts.append(str(MARKS.get(str(mark), mark)))
        minutes = snapshot.get("minutes")
        if isinstance(minutes, int):
            parts.append(duration(minutes, self.locale))
        return " · ".join(parts) or _("not recorded")

    def group(self) -> str:
        value = self.detail("target_group")
        try:
            return str(labels.TARGETS[TargetGroup(value)])
        except ValueError:
            return self.q(str(value))

    def count(self, value: object) -> str:
        return str(value) if isinstance(value, int) else "—"


def _changes(w: _Words) -> str:
    # Layout only, the same in every language.
    return f"{w.attendance(w.detail('old'))} → {w.attendance(w.detail('new'))}"


Sentence = Callable[[_Words], str]

SENTENCES: dict[str, Sentence] = {
    "attendance.recorded_on_behalf": lambda w: _(
        "{who} added {volunteer} to the records of {activity} on their behalf: {change}"
    ).format(who=w.who, volunteer=w.volunteer, activity=w.activity, change=_changes(w)),
    "attendance.imported": lambda w: _(
        "{who} imported hours of {volunteer} at {activity} (row {row}): {change}"
    ).format(
        who=w.who,
        volunteer=w.volunteer,
        activity=w.activity,
        row=w.number("row"),
        change=_changes(w),
    ),
    "hours.imported": lambda w: _(
        "{who} imported a spreadsheet of hours: {rows} rows, {added} added, "
        "{changed} changed, {already} already there ({time} in all)"
    ).format(
        who=w.who,
        rows=w.number("rows"),
        added=w.number("added"),
        changed=w.number("changed"),
        already=w.number("already"),
        time=duration(w.number("minutes"), w.locale),
    ),
    "attendance.corrected": lambda w: _(
        "{who} changed the attendance of {volunteer} at {activity}: {change}"
    ).format(who=w.who, volunteer=w.volunteer, activity=w.activity, change=_changes(w)),
    "attendance.checkin_opened": lambda w: _("{who} opened check-in for {activity}").format(
        who=w.who, activity=w.activity
    ),
    "beneficiaries.recorded": lambda w: _(
        "{who} recorded the people served at {activity} ({group}): {before} → {after}"
    ).format(
        who=w.who,
        activity=w.activity,
        group=w.group(),
        before=w.count(w.detail("old")),
        after=w.count(w.detail("new")),
    ),
    "record.photo_added": lambda w: _("{who} added a photo to the record of {activity}").format(
        who=w.who, activity=w.activity
    ),
    "record.summary_written": lambda w: _(
        "{who} wrote the summary of {activity} ({count} characters)"
    ).format(who=w.who, activity=w.activity, count=w.number("new_length")),
    "activity.published": lambda w: ngettext(
        "{who} published {activity} ({count} date)",
        "{who} published {activity} ({count} dates)",
        max(1, w.number("occurrences")),
    ).format(who=w.who, activity=w.activity, count=max(1, w.number("occurrences"))),
    "activity.edited": lambda w: _("{who} edited {activity} ({fields})").format(
        who=w.who,
        activity=w.activity,
        fields=", ".join(w.q(str(f)) for f in w.detail("fields") or ()),
    ),
    "activity.cancelled": lambda w: _(
        "{who} cancelled {activity} ({count} places withdrawn)"
    ).format(who=w.who, activity=w.activity, count=w.number("withdrawn")),
    "activity.closed": lambda w: _(
        "{who} closed the records of {activity}: {count} volunteers, {time} credited"
    ).format(
        who=w.who,
        activity=w.activity,
        count=w.number("credited_volunteers"),
        time=duration(w.number("credited_minutes"), w.locale),
    ),
    "signup.joined": lambda w: _("{who} signed up for {activity}").format(
        who=w.who, activity=w.activity
    ),
    "signup.cancelled": lambda w: _("{who} cancelled their place at {activity}").format(
        who=w.who, activity=w.activity
    ),
    "signup.offer_accepted": lambda w: _("{who} took the seat offered at {activity}").format(
        who=w.who, activity=w.activity
    ),
    "signup.offer_declined": lambda w: _("{who} turned down the seat offered at {activity}").format(
        who=w.who, activity=w.activity
    ),
    "signup.promoted": lambda w: _(
        "{who} gave a freed seat at {activity} to the next on the waiting list"
    ).format(who=w.who, activity=w.activity),
    "volunteer.registered": lambda w: _("{who} registered as a volunteer").format(who=w.who),
    "volunteer.profile_changed": lambda w: _("{who} changed their profile ({fields})").format(
        who=w.who, fields=", ".join(w.q(str(f)) for f in w.detail("fields") or ())
    ),
    "volunteer.approved": lambda w: _("{who} approved the registration of {volunteer}").format(
        who=w.who, volunteer=w.volunteer
    ),
    "volunteer.declined": lambda w: _("{who} declined the registration of {volunteer}").format(
        who=w.who, volunteer=w.volunteer
    ),
    "volunteer.erased": lambda w: (
        _("{who} erased the personal data of a person without Telegram at their request").format(
            who=w.who
        )
        if w.detail("by_staff")
        else _("A volunteer's personal data was erased at their request")
    ),
    "role.granted": lambda w: _("{who} made {person} {role}").format(
        who=w.who, person=w.subject_user, role=w.role()
    ),
    "role.revoked": lambda w: _("{who} took the role of {role} from {person}").format(
        who=w.who, person=w.subject_user, role=w.role()
    ),
    "invite.created": lambda w: _("{who} created an invitation to join as {role}").format(
        who=w.who, role=w.role()
    ),
    "invite.used": lambda w: _("{who} joined as {role} by invitation").format(
        who=w.who, role=w.role()
    ),
    "broadcast.created": lambda w: _("{who} sent a message to {count} volunteers").format(
        who=w.who, count=w.number("recipients")
    ),
    "broadcast.announced": lambda w: _("{who} announced {activity} to {count} volunteers").format(
        who=w.who, activity=w.activity, count=w.number("recipients")
    ),
    "pledge.created": lambda w: _("{who} pledged {amount} (receipt {receipt})").format(
        who=w.who, amount=w.money(), receipt=w.q(str(w.detail("receipt")))
    ),
    "pledge.received": lambda w: _("{who} marked the pledge {receipt} of {amount} received").format(
        who=w.who, amount=w.money(), receipt=w.q(str(w.detail("receipt")))
    ),
    "pledge.cancelled": lambda w: _("{who} cancelled the pledge {receipt} of {amount}").format(
        who=w.who, amount=w.money(), receipt=w.q(str(w.detail("receipt")))
    ),
    "pledge.withdrawn": lambda w: _("{who} withdrew their pledge {receipt} of {amount}").format(
        who=w.who, amount=w.money(), receipt=w.q(str(w.detail("receipt")))
    ),
    "certificate_issued": lambda w: _("{who} received a service certificate ({code})").format(
        who=w.who, code=w.q(str(w.detail("code")))
    ),
    "stations.import": lambda w: _(
        "{who} loaded the station tree: {created} created, {updated} updated"
    ).format(who=w.who, created=w.number("created"), updated=w.number("updated")),
}


def _unknown(w: _Words) -> str:
    shown = ", ".join(
        f"{w.q(str(key))}={w.q(str(value))}"
        for key, value in sorted(w.entry.details.items())
        if not isinstance(value, dict | list)
    )
    text = _("{who} made a change: {action}").format(who=w.who, action=w.q(w.entry.action))
    return f"{text} ({shown})" if shown else text


def sentence(entry: Entry, locale: str, *, markup: bool = True) -> str:
    """What happened, without the time."""
    words = _Words(entry, locale, markup)
    return SENTENCES.get(entry.action, _unknown)(words)


def when(entry: Entry, locale: str) -> str:
    return format_moment(entry.at, entry.zone, locale)


def line(entry: Entry, locale: str, *, markup: bool = True) -> str:
    """``2026年11月28日 周六 07:00 · 张三 opened check-in for «…»``."""
    text = sentence(entry, locale, markup=markup)
    station = labels.station_name(entry.station, locale) if entry.station is not None else ""
    moment = when(entry, locale)
    if markup:
        moment = f"<i>{moment}</i>"
    if station:
        station = html.quote(station) if markup else station
        return f"{moment} · {station}\n{text}"  # layout only, the same in every language
    return f"{moment}\n{text}"
