"""Keyboards of attendance: the staff's roster screens and the volunteer's check-out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from ui import confirm
from ui.callbacks import (
    CheckoutCb,
    RosterAddCb,
    RosterBenCb,
    RosterCb,
    RosterCloseCb,
    RosterCodeCb,
    RosterListCb,
    RosterMarkCb,
    RosterPersonCb,
    RosterRecCb,
    RosterSheetCb,
)
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.paged import Page, nav_row

LABEL_MAX = 28


def short(text: str, limit: int = LABEL_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def roster_list(items: Sequence[tuple[int, str]], *, page: Page[Any]) -> InlineKeyboardMarkup:
    """One button per activity (its number and title), and paging."""
    kb = InlineKeyboardBuilder()
    for activity_id, label in items:
        kb.button(text=short(label, 40), callback_data=RosterCb(activity=activity_id))
    nav = nav_row(kb, page, lambda n: RosterListCb(page=n))
    kb.adjust(*([1] * len(items)), *([nav] if nav else []))
    return kb.as_markup()


def roster(
    activity_id: int,
    people: Sequence[tuple[int, str]],
    *,
    page: Page[Any],
    can_open: bool,
    can_close: bool,
    can_add: bool = False,
) -> InlineKeyboardMarkup:
    """A button per person on the page (two a row), paging, then the actions."""
    kb = InlineKeyboardBuilder()
    for volunteer_id, label in people:
        kb.button(
            text=short(label),
            callback_data=RosterPersonCb(
                activity=activity_id, volunteer=volunteer_id, page=page.number
            ),
        )
    sizes = [2] * (len(people) // 2) + [1] * (len(people) % 2)
    nav = nav_row(kb, page, lambda n: RosterCb(activity=activity_id, page=n))
    if nav:
        sizes.append(nav)
    if can_open:
        kb.button(text=_("📲 Check-in code"), callback_data=RosterCodeCb(activity=activity_id))
        sizes.append(1)
    kb.button(
        text=_("🖨 Sign-in sheet (PDF)"), callback_data=RosterSheetCb(activity=activity_id, fmt="p")
    )
    kb.button(
        text=_("🖨 Sign-in sheet (Excel)"),
        callback_data=RosterSheetCb(activity=activity_id, fmt="x"),
    )
    sizes.append(2)
    kb.button(text=_("👥 Beneficiaries"), callback_data=RosterBenCb(activity=activity_id))
    kb.button(
        text=_("🗂 Record: photos, summary"),
        callback_data=RosterRecCb(activity=activity_id, action="o"),
    )
    actions = 2
    if can_add:
        kb.button(
            text=_("➕ Add someone"),
            callback_data=RosterAddCb(activity=activity_id, page=page.number),
        )
        actions += 1
    if can_close:
        kb.button(text=_("🔒 Close the records"), callback_data=RosterCloseCb(activity=activity_id))
        actions += 1
    sizes += [2, 1] if actions == 3 else [actions]
    kb.button(text=_("🔄 Refresh"), callback_data=RosterCb(activity=activity_id, page=page.number))
    kb.button(text=_("‹ Activities"), callback_data=RosterListCb(page=0))
    sizes.append(2)
    kb.adjust(*sizes)
    return kb.as_markup()


def person(
    activity_id: int, volunteer_id: int, *, page: int, confirm_label: str | None
) -> InlineKeyboardMarkup:
    """Present, late, absent; confirm a check-in without check-out; type minutes; back."""

    def mark(action: str) -> RosterMarkCb:
        return RosterMarkCb(activity=activity_id, volunteer=volunteer_id, action=action, page=page)

    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Present"), callback_data=mark("present"))
    kb.button(text=_("⏰ Late"), callback_data=mark("late"))
    kb.button(text=_("✖️ Absent"), callback_data=mark("absent"))
    sizes = [3]
    if confirm_label is not None:
        kb.button(text=confirm_label, callback_data=mark("confirm"))
        sizes.append(1)
    kb.button(text=_("✏️ Correct the time"), callback_data=mark("minutes"))
    kb.button(
        text=_("‹ Back to the roster"), callback_data=RosterCb(activity=activity_id, page=page)
    )
    sizes += [1, 1]
    kb.adjust(*sizes)
    return kb.as_markup()


def beneficiaries(activity_id: int, groups: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
    """One button per target group (its label and count), and back."""
    kb = InlineKeyboardBuilder()
    for group, label in groups:
        kb.button(
            text=short(label, 40), callback_data=RosterBenCb(activity=activity_id, group=group)
        )
    kb.button(text=_("‹ Back to the roster"), callback_data=RosterCb(activity=activity_id))
    kb.adjust(1)
    return kb.as_markup()


def back_to_roster(activity_id: int, page: int = 0) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("‹ Back to the roster"), callback_data=RosterCb(activity=activity_id, page=page)
    )
    return kb.as_markup()


def close_confirm(activity_id: int) -> InlineKeyboardMarkup:
    return confirm.keyboard(
        yes=RosterCloseCb(activity=activity_id, confirm=True),
        yes_text=_("🔒 Yes, close the records"),
        no=RosterCb(activity=activity_id),
        no_text=_("‹ Back to the roster"),
    )


def open_roster(activity_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📋 Open the roster"), callback_data=RosterCb(activity=activity_id))
    return kb.as_markup()


def checkout(activity_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🏁 Check out"), callback_data=CheckoutCb(activity=activity_id))
    return kb.as_markup()


def record(activity_id: int, *, can_add: bool, photos_left: bool) -> InlineKeyboardMarkup:
    """The record screen: add photos, write the summary, the record sheet, back."""
    kb = InlineKeyboardBuilder()
    sizes: list[int] = []
    if can_add:
        if photos_left:
            kb.button(
                text=_("📷 Add photos"), callback_data=RosterRecCb(activity=activity_id, action="p")
            )
        kb.button(
            text=_("✏️ Write the summary"),
            callback_data=RosterRecCb(activity=activity_id, action="s"),
        )
        sizes.append(2 if photos_left else 1)
    kb.button(
        text=_("📄 Record sheet (PDF)"), callback_data=RosterRecCb(activity=activity_id, action="f")
    )
    kb.button(text=_("‹ Back to the roster"), callback_data=RosterCb(activity=activity_id))
    sizes += [1, 1]
    kb.adjust(*sizes)
    return kb.as_markup()


def photos_done(activity_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✅ Done adding photos"), callback_data=RosterRecCb(activity=activity_id, action="d")
    )
    return kb.as_markup()


def after_closing(activity_id: int) -> InlineKeyboardMarkup:
    """Closing done: add the photos and the summary, get the record sheet, or go back."""
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("🗂 Add photos and a summary"),
        callback_data=RosterRecCb(activity=activity_id, action="o"),
    )
    kb.button(
        text=_("📄 Record sheet (PDF)"), callback_data=RosterRecCb(activity=activity_id, action="f")
    )
    kb.button(text=_("‹ Back to the roster"), callback_data=RosterCb(activity=activity_id))
    kb.adjust(1)
    return kb.as_markup()
