"""Keyboards of the staff features: the station walk, invites, the team, approvals."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from services.roles import TeamMember
from services.scopes import ScopeView
from storage.models import RoleKind
from ui import labels, station_picker
from ui.callbacks import (
    InviteConfirmCb,
    InviteRoleCb,
    InviteStationCb,
    PendingCb,
    PendingNoticeCb,
    PendingPageCb,
    TeamRevokeCb,
    TeamStationCb,
)

STATIONS_PER_PAGE = 8
MEMBERS_PER_PAGE = 8
PENDING_PER_PAGE = 5
LABEL_MAX = 24


def short(text: str) -> str:
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1] + "…"


def pages(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def station_walk(
    view: ScopeView,
    factory: Callable[..., CallbackData],
    *,
    page: int,
    locale: str,
) -> InlineKeyboardMarkup:
    """The station walk's keyboard (``ui.station_picker.keyboard``)."""
    return station_picker.keyboard(view, factory, page=page, locale=locale)


def invite_roles(station_id: int, back_to: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for kind in RoleKind:
        kb.button(
            text=str(labels.ROLES[kind]),
            callback_data=InviteRoleCb(station=station_id, role=kind.value),
        )
    kb.button(text=_("‹ Back"), callback_data=InviteStationCb(action="o", id=back_to))
    kb.adjust(2, 1)
    return kb.as_markup()


def invite_confirm(station_id: int, role: RoleKind) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✅ Create the link"),
        callback_data=InviteConfirmCb(station=station_id, role=role.value, ok=True),
    )
    kb.button(
        text=_("✖️ Cancel"),
        callback_data=InviteConfirmCb(station=station_id, role=role.value, ok=False),
    )
    kb.adjust(1)
    return kb.as_markup()


def team(
    members: Sequence[tuple[TeamMember, str]],
    *,
    station_id: int,
    page: int,
    total: int,
    back_to: int,
) -> InlineKeyboardMarkup:
    """A Revoke button per role shown (with the plain display name), paging, back."""
    kb = InlineKeyboardBuilder()
    for member, name in members:
        kb.button(
            text=_("✖️ Revoke {name} ({role})").format(
                name=short(name), role=labels.ROLES[member.role]
            ),
            callback_data=TeamRevokeCb(role=member.role_id),
        )
    sizes = [1] * len(members)
    count = pages(total, MEMBERS_PER_PAGE)
    row = 0
    if page > 0:
        kb.button(
            text=_("‹ Previous"),
            callback_data=TeamStationCb(action="p", id=station_id, page=page - 1),
        )
        row += 1
    if page < count - 1:
        kb.button(
            text=_("Next ›"), callback_data=TeamStationCb(action="p", id=station_id, page=page + 1)
        )
        row += 1
    if row:
        sizes.append(row)
    kb.button(text=_("‹ Back"), callback_data=TeamStationCb(action="o", id=back_to))
    sizes.append(1)
    kb.adjust(*sizes)
    return kb.as_markup()


def revoke_confirm(role_id: int, station_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✖️ Yes, revoke"), callback_data=TeamRevokeCb(role=role_id, confirm=True))
    kb.button(text=_("Keep the role"), callback_data=TeamStationCb(action="p", id=station_id))
    kb.adjust(1)
    return kb.as_markup()


def pending(
    volunteer_ids: Sequence[int], *, first: int, page: int, total: int
) -> InlineKeyboardMarkup:
    """Approve and Decline for each volunteer listed (numbered from ``first``), paging."""
    kb = InlineKeyboardBuilder()
    for number, volunteer_id in enumerate(volunteer_ids, start=first):
        kb.button(
            text=_("✅ Approve {number}").format(number=number),
            callback_data=PendingCb(volunteer=volunteer_id, approve=True, page=page),
        )
        kb.button(
            text=_("✖️ Decline {number}").format(number=number),
            callback_data=PendingCb(volunteer=volunteer_id, approve=False, page=page),
        )
    sizes = [2] * len(volunteer_ids)
    count = pages(total, PENDING_PER_PAGE)
    row = 0
    if page > 0:
        kb.button(text=_("‹ Previous"), callback_data=PendingPageCb(page=page - 1))
        row += 1
    if page < count - 1:
        kb.button(text=_("Next ›"), callback_data=PendingPageCb(page=page + 1))
        row += 1
    if row:
        sizes.append(row)
    kb.adjust(*sizes)
    return kb.as_markup()


def approval_notice(volunteer_id: int) -> InlineKeyboardMarkup:
    """Approve and Decline on the notice that one volunteer is waiting."""
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✅ Approve"), callback_data=PendingNoticeCb(volunteer=volunteer_id, approve=True)
    )
    kb.button(
        text=_("✖️ Decline"), callback_data=PendingNoticeCb(volunteer=volunteer_id, approve=False)
    )
    kb.adjust(2)
    return kb.as_markup()


def revoke_done(station_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("‹ Back to the team"), callback_data=TeamStationCb(action="p", id=station_id))
    return kb.as_markup()
