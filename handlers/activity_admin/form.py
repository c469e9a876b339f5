"""The activity form: kind, title, description, place, start, end, places, target
group, weekly repeat, then the preview. The same steps change one field of a
published activity (mode EDIT), which saves it and tells the volunteers signed up.
Every answer and press re-checks that the presser may still manage the station."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Bot, html
from aiogram.fsm.context import FSMContext
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.activities import rules
from handlers.activity_admin.common import clock, day, error_text, start_picks, told
from services import activity_admin, activity_draft, when
from services.access import Actor
from services.activity_draft import ActivityDraft
from services.errors import InvalidInput, NotAllowed, NotFound
from storage.models import Activity
from storage.types import utcnow
from ui import labels
from ui.errors import no_permission
from ui.form import EDIT, Form, Markup, Run, Step
from ui.format import format_when, station_path, zone_name
from ui.keyboards import activity_admin as kb
from ui.settings import Settings
from ui.states import ActivityDialog

Activities = Run[ActivityDraft]


def zone_of(run: Activities) -> Any:
    return when.zone(run.extra.get("zone"))


def repeat_text(draft: ActivityDraft, zone: Any, locale: str) -> str:
    count = draft.occurrences()
    if count == 1 or draft.starts_at is None:
        return _("once only")
    last = when.weekly(draft.starts_at, count, zone)[-1]
    return _("every week, {count} times in all, the last on {date}").format(
        count=count, date=day(last, zone, locale)
    )


# --- answers ------------------------------------------------------------------------


def set_start(run: Activities, start: datetime, now: datetime) -> None:
    """A new start; an end already given keeps the activity's length."""
    if start < now:
        raise InvalidInput("in_the_past")
    draft = run.draft
    if draft.starts_at is not None and draft.ends_at is not None:
        draft.ends_at = start + (draft.ends_at - draft.starts_at)
    draft.starts_at = start


def set_end(run: Activities, end: datetime, now: datetime) -> None:
    start = run.draft.starts_at
    assert start is not None
    when.validate_schedule(start, end, min(now, start))
    run.draft.ends_at = end


def _title(run: Activities, text: str) -> None:
    run.draft.title = activity_draft.clean_title(text)


def _description(run: Activities, text: str) -> None:
    run.draft.description = activity_draft.clean_description(text)


def _place(run: Activities, text: str) -> None:
    run.draft.place = activity_draft.clean_place(text)


def _starts_at(run: Activities, text: str) -> None:
    now = utcnow()
    set_start(run, when.parse_start(text, now=now, tz=zone_of(run)), now)


def _ends_at(run: Activities, text: str) -> None:
    now, start = utcnow(), run.draft.starts_at
    assert start is not None
    set_end(run, when.parse_end(text, start=start, now=now, tz=zone_of(run)), now)


def _capacity(run: Activities, text: str) -> None:
    run.draft.capacity = activity_draft.parse_capacity(text)


def _repeat(run: Activities, text: str) -> None:
    run.draft.repeat_weeks = activity_draft.parse_repeat(text)


def _pick_description(run: Activities, value: int) -> None:
    run.draft.description = ""  # skipped


def _pick_start(run: Activities, minutes: int) -> None:
    set_start(run, datetime.fromtimestamp(minutes * 60, UTC), utcnow())


def _pick_end(run: Activities, minutes: int) -> None:
    start = run.draft.starts_at
    assert start is not None
    set_end(run, start + timedelta(minutes=minutes), utcnow())


def _pick_capacity(run: Activities, value: int) -> None:
    run.draft.capacity = activity_draft.check_capacity(value)


def _pick_repeat(run: Activities, value: int) -> None:
    run.draft.repeat_weeks = activity_draft.check_repeat(value)


# --- questions ----------------------------------------------------------------------


def _ask_start(run: Activities) -> tuple[str, Markup]:
    zone = zone_of(run)
    text = _(
        "When does it start? Type a date and a time, for example tomorrow 9:00, "
        "Sat 3pm or 11/28 9:00, or pick one below. Times are in {zone}."
    ).format(zone=zone_name(zone, run.locale))
    return text, kb.starts(start_picks(utcnow(), zone, run.locale))


def _ask_end(run: Activities) -> str:
    start, zone = run.draft.starts_at, zone_of(run)
    assert start is not None
    return _(
        "When does it end? It starts {start}. Type a time (11:30, until 5pm) "
        "or a length (2h, 90 min), or pick one below."
    ).format(start=f"{day(start, zone, run.locale)} {clock(start, zone, run.locale)}")


STEPS: tuple[Step[ActivityDraft], ...] = (
    Step(
        "kind",
        ActivityDialog.kind,
        question=lambda run: _("What kind of activity is it?"),
        keyboard=lambda run: kb.kinds(),
    ),
    Step(
        "title",
        ActivityDialog.title,
        question=lambda run: _(
            "The title, as volunteers will see it (at most {max} characters):"
        ).format(max=activity_draft.TITLE_MAX),
        parse=_title,
    ),
    Step(
        "description",
        ActivityDialog.description,
        question=lambda run: _(
            "A description: what volunteers will do, what to bring, whom to ask "
            "(at most {max} characters). Or skip it."
        ).format(max=activity_draft.DESCRIPTION_MAX),
        keyboard=lambda run: kb.skip_description(),
        parse=_description,
        pick=_pick_description,
    ),
    Step(
        "place",
        ActivityDialog.place,
        question=lambda run: _("Where does it take place? (at most {max} characters)").format(
            max=activity_draft.PLACE_MAX
        ),
        parse=_place,
    ),
    Step(
        "starts_at",
        ActivityDialog.starts_at,
        question=_ask_start,
        parse=_starts_at,
        pick=_pick_start,
    ),
    Step(
        "ends_at",
        ActivityDialog.ends_at,
        question=_ask_end,
        keyboard=lambda run: kb.ends(),
        parse=_ends_at,
        pick=_pick_end,
    ),
    Step(
        "capacity",
        ActivityDialog.capacity,
        question=lambda run: _(
            "How many volunteers can take part? Type a number from {min} to {max}."
        ).format(min=activity_draft.CAPACITY_MIN, max=activity_draft.CAPACITY_MAX),
        keyboard=lambda run: kb.capacities(),
        parse=_capacity,
        pick=_pick_capacity,
    ),
    Step(
        "target_group",
        ActivityDialog.target_group,
        question=lambda run: _("Whom does it serve?"),
        keyboard=lambda run: kb.targets(),
    ),
    Step(
        "repeat_weeks",
        ActivityDialog.repeat_weeks,
        question=lambda run: _(
            "Does it repeat every week at the same time? Pick below, or type how many "
            "weeks in all (1 to {max})."
        ).format(max=activity_draft.REPEAT_MAX + 1),
        keyboard=lambda run: kb.repeats(),
        parse=_repeat,
        pick=_pick_repeat,
    ),
)


# --- the preview, the check on every press, saving an edit ---------------------------


async def draft_card(run: Activities) -> tuple[str, Markup]:
    draft, zone, locale = run.draft, zone_of(run), run.locale
    schedule = "—"
    if draft.starts_at and draft.ends_at:
        schedule = format_when(draft.starts_at, draft.ends_at, zone, locale)
    station = await station_path(run.session, int(run.extra["station_id"]), locale)
    lines = [
        _("<b>Please check the activity</b>"),
        "",
        _("Station: {path}").format(path=station),
        _("Kind: {kind}").format(kind=labels.KINDS[draft.kind] if draft.kind else "—"),
        _("Title: {title}").format(title=html.quote(draft.title or "—")),
        _("When: {when}").format(when=schedule),
        _("Repeats: {repeat}").format(repeat=repeat_text(draft, zone, locale)),
        _("Place: {place}").format(place=html.quote(draft.place or "—")),
        _("Places: {capacity}").format(capacity=draft.capacity or "—"),
        _("For: {target}").format(
            target=labels.TARGETS[draft.target_group] if draft.target_group else "—"
        ),
        _("Description: {description}").format(
            description=html.quote(draft.description or "") or "—"
        ),
    ]
    return "\n".join(lines), kb.preview()


async def may_manage(run: Activities) -> bool:
    """The presser may still publish on the form's station."""
    if run.actor is None:
        return False
    try:
        await activity_admin.require_station(
            run.session, actor=run.actor, station_id=int(run.extra["station_id"])
        )
    except NotAllowed:
        return False
    return True


def settings_of(run: Activities) -> Settings:
    settings = run.context.get("settings")
    assert isinstance(settings, Settings)
    return settings


async def save_edit(run: Activities) -> None:
    """A field of a published activity answered: save it; the volunteers are told."""
    field, activity_id = run.field, run.extra.get("activity_id")
    assert field is not None and activity_id is not None and run.actor is not None
    changes: dict[str, Any] = {field: getattr(run.draft, field)}
    if field == "starts_at":  # the end moved with the start
        changes["ends_at"] = run.draft.ends_at
    try:
        _activity, recipients = await activity_admin.edit(
            run.session,
            actor=run.actor,
            activity_id=int(activity_id),
            changes=changes,
            now=utcnow(),
            rules=rules(settings_of(run)),
        )
    except NotAllowed:
        await run.state.clear()
        await run.send(no_permission())
        return
    except (InvalidInput, NotFound) as error:
        await run.send(error_text(error))
        if isinstance(error, NotFound) or error.code in ("activity_cancelled", "activity_over"):
            await run.state.clear()
        else:  # the same question again
            await run.ask(field)
        return
    await run.state.clear()
    text = _("Saved.")
    if recipients:
        text += " " + told(len(recipients))
    await run.send(text)


def _load(data: Mapping[str, Any] | None) -> ActivityDraft:
    return ActivityDraft.from_dict(data)


ACTIVITY: Form[ActivityDraft] = Form(
    name="activity",
    steps=STEPS,
    load=_load,
    dump=ActivityDraft.to_dict,
    preview_state=ActivityDialog.preview,
    preview=draft_card,
    finish=save_edit,
    error_text=error_text,
    guard=may_manage,
)


async def begin_new(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    *,
    station_id: int,
    locale: str,
) -> None:
    zone = await activity_admin.station_zone(session, station_id, settings.timezone)
    await bot.send_message(
        chat_id,
        _(
            "<b>New activity</b> at {station}. A few short questions, then a preview "
            "before anything is published; send /cancel at any time to stop."
        ).format(station=await station_path(session, station_id, locale)),
    )
    await ACTIVITY.start(
        bot,
        chat_id,
        state,
        session,
        locale=locale,
        draft=ActivityDraft(),
        extra={"station_id": station_id, "zone": zone.key},
        actor=actor,
        context={"settings": settings},
    )


async def begin_edit(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    *,
    activity: Activity,
    field: str,
    locale: str,
) -> None:
    zone = await activity_admin.station_zone(session, activity.station_id, settings.timezone)
    await ACTIVITY.start(
        bot,
        chat_id,
        state,
        session,
        locale=locale,
        draft=ActivityDraft.of(activity),
        mode=EDIT,
        field=field,
        extra={
            "station_id": activity.station_id,
            "zone": zone.key,
            "activity_id": activity.id,
        },
        actor=actor,
        context={"settings": settings},
    )
