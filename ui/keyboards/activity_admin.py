"""Keyboards of the staff's activity dialog and of /manage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from storage.models import ActivityKind, TargetGroup
from ui import confirm, labels
from ui.callbacks import (
    ActCancelCb,
    ActEditCb,
    ActKindCb,
    ActManageCb,
    ActPreviewCb,
    ActQuickCb,
    ActStationCb,
    ActTargetCb,
)
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.paged import Page, nav_row, page_of

STATIONS_PER_PAGE = 8
CAPACITY_PICKS = (5, 10, 20, 30, 50)
END_PICKS = (1, 2, 3)  # hours after the start
REPEAT_PICKS = (4, 8, 12)  # weeks in all

# Fields of a draft the preview can change, and of a published activity /manage can.
DRAFT_FIELDS = (
    "kind",
    "title",
    "description",
    "place",
    "starts_at",
    "ends_at",
    "capacity",
    "target_group",
    "repeat_weeks",
)
PUBLISHED_FIELDS = (
    "title",
    "description",
    "place",
    "starts_at",
    "ends_at",
    "capacity",
    "target_group",
)


def field_label(field: str) -> str:
    return {
        "kind": _("✏️ Kind"),
        "title": _("✏️ Title"),
        "description": _("✏️ Description"),
        "place": _("✏️ Place"),
        "starts_at": _("✏️ Start"),
        "ends_at": _("✏️ End"),
        "capacity": _("✏️ Places"),
        "target_group": _("✏️ Target group"),
        "repeat_weeks": _("✏️ Repeat"),
    }[field]


def stations(items: Sequence[tuple[int, str]], *, page: int) -> tuple[InlineKeyboardMarkup, int]:
    """Stations as (id, name), a page at a time; returns the page actually shown."""
    kb = InlineKeyboardBuilder()
    shown = page_of(items, page, STATIONS_PER_PAGE)
    for station_id, name in shown.items:
        kb.button(text=name, callback_data=ActStationCb(id=station_id))
    sizes = [1] * len(shown.items)
    paging = nav_row(kb, shown, lambda n: ActStationCb(id=0, page=n))
    if paging:
        sizes.append(paging)
    kb.adjust(*sizes)
    return kb.as_markup(), shown.number


def kinds() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for kind in ActivityKind:
        kb.button(text=str(labels.KINDS[kind]), callback_data=ActKindCb(kind=kind.value))
    kb.adjust(2)
    return kb.as_markup()


def targets() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for group in TargetGroup:
        kb.button(text=str(labels.TARGETS[group]), callback_data=ActTargetCb(group=group.value))
    kb.adjust(1)
    return kb.as_markup()


def skip_description() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Skip ➡️"), callback_data=ActQuickCb(step="d", value=0))
    return kb.as_markup()


def starts(picks: Sequence[tuple[str, datetime]]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for text, moment in picks:
        minutes = int(moment.timestamp()) // 60  # epoch minutes: fit the field until 6053
        kb.button(text=text, callback_data=ActQuickCb(step="s", value=minutes))
    kb.adjust(2)
    return kb.as_markup()


def ends() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for hours in END_PICKS:
        kb.button(
            text=_("+{hours} h").format(hours=hours),
            callback_data=ActQuickCb(step="e", value=hours * 60),
        )
    kb.adjust(len(END_PICKS))
    return kb.as_markup()


def capacities() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for number in CAPACITY_PICKS:
        kb.button(text=str(number), callback_data=ActQuickCb(step="c", value=number))
    kb.adjust(len(CAPACITY_PICKS))
    return kb.as_markup()


def repeats() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Once only"), callback_data=ActQuickCb(step="r", value=0))
    for weeks in REPEAT_PICKS:
        kb.button(
            text=_("{weeks} weeks").format(weeks=weeks),
            callback_data=ActQuickCb(step="r", value=weeks - 1),
        )
    kb.adjust(1, len(REPEAT_PICKS))
    return kb.as_markup()


def preview() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Publish"), callback_data=ActPreviewCb(action="publish"))
    kb.button(text=_("✏️ Edit a field"), callback_data=ActPreviewCb(action="edit"))
    kb.button(text=_("✖️ Cancel"), callback_data=ActPreviewCb(action="cancel"))
    kb.adjust(1, 2)
    return kb.as_markup()


def draft_fields() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for field in DRAFT_FIELDS:
        kb.button(text=field_label(field), callback_data=ActPreviewCb(action=field))
    kb.button(text=_("‹ Back"), callback_data=ActPreviewCb(action="back"))
    kb.adjust(2, 2, 2, 2, 1, 1)
    return kb.as_markup()


def published_fields(activity_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for field in PUBLISHED_FIELDS:
        kb.button(text=field_label(field), callback_data=ActEditCb(id=activity_id, field=field))
    kb.adjust(2)
    return kb.as_markup()


def manage(activity_ids: Sequence[int], *, page: int, pages: int) -> InlineKeyboardMarkup:
    """Edit and Cancel for each listed activity (numbered as in the text), and paging."""
    kb = InlineKeyboardBuilder()
    sizes = []
    for number, activity_id in enumerate(activity_ids, start=1):
        kb.button(
            text=_("✏️ Edit {number}").format(number=number),
            callback_data=ActEditCb(id=activity_id),
        )
        kb.button(
            text=_("✖️ Cancel {number}").format(number=number),
            callback_data=ActCancelCb(id=activity_id),
        )
        sizes.append(2)
    paging = nav_row(kb, Page(activity_ids, page, pages, 0, 0), lambda n: ActManageCb(page=n))
    if paging:
        sizes.append(paging)
    kb.adjust(*sizes)
    return kb.as_markup()


def confirm_cancel(activity_id: int) -> InlineKeyboardMarkup:
    return confirm.keyboard(
        yes=ActCancelCb(id=activity_id, action="yes"),
        yes_text=_("🗑 Yes, cancel it"),
        no=ActCancelCb(id=activity_id, action="keep"),
        no_text=_("Don't cancel"),
    )
