"""Keyboards of the staff features: invites, the team, approvals. (The station walk
is ``ui.station_picker``; the yes/no screens are ``ui.confirm``.)"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from services.roles import TeamMember
from services.scopes import ScopeView
from storage.models import RoleKind
from ui import confirm, labels, station_picker
from ui.callbacks import (
    InviteRoleCb,
    InviteStationCb,
    PendingCb,
    PendingNoticeCb,
    PendingPageCb,
    TeamRevokeCb,
    TeamStationCb,
)
from ui.format import plain_person
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.paged import Page, nav_row

MEMBERS_PER_PAGE = 8
PENDING_PER_PAGE = 5
LABEL_MAX = 24


def short(text: str) -> str:
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1] + "…"


def station_walk(
    view: ScopeView,
    factory: Callable[..., CallbackData],
    *,
    page: int,
    locale: str,
) -> InlineKeyboardMarkup:
    """The station walk's keyboard, for handlers/tally.py and handlers/broadcast.py
    until they call ``ui.station_picker`` themselves (their packages on the
    i13-broadcast-tally branch do): then this goes."""
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


def team(shown: Page[TeamMember], *, station_id: int, back_to: int) -> InlineKeyboardMarkup:
    """A Revoke button per role shown (with the plain display name), paging, back."""
    kb = InlineKeyboardBuilder()
    for member in shown.items:
        kb.button(
            text=_("✖️ Revoke {name} ({role})").format(
                name=short(plain_person(member.name, member.user_id)),
                role=labels.ROLES[member.role],
            ),
            callback_data=TeamRevokeCb(role=member.role_id),
        )
    sizes = [1] * len(shown.items)
    row = nav_row(kb, shown, lambda n: TeamStationCb(action="p", id=station_id, page=n))
    if row:
        sizes.append(row)
    kb.button(text=_("‹ Back"), callback_data=TeamStationCb(action="o", id=back_to))
    sizes.append(1)
    kb.adjust(*sizes)
    return kb.as_markup()


def pending(volunteer_ids: Sequence[int], shown: Page[int]) -> InlineKeyboardMarkup:
    """Approve and Decline for each volunteer listed (numbered from the page's first),
    paging."""
    kb = InlineKeyboardBuilder()
    page = shown.number
    for number, volunteer_id in enumerate(volunteer_ids, start=shown.first):
        kb.button(
            text=_("✅ Approve {number}").format(number=number),
            callback_data=PendingCb(volunteer=volunteer_id, approve=True, page=page),
        )
        kb.button(
            text=_("✖️ Decline {number}").format(number=number),
            callback_data=PendingCb(volunteer=volunteer_id, approve=False, page=page),
        )
    sizes = [2] * len(volunteer_ids)
    row = nav_row(kb, shown, lambda n: PendingPageCb(page=n))
    if row:
        sizes.append(row)
    kb.adjust(*sizes)
    return kb.as_markup()


def approval_notice(volunteer_id: int) -> InlineKeyboardMarkup:
    """Approve and Decline on the notice that one volunteer is waiting."""
    return confirm.keyboard(
        yes=PendingNoticeCb(volunteer=volunteer_id, approve=True),
        yes_text=_("✅ Approve"),
        no=PendingNoticeCb(volunteer=volunteer_id, approve=False),
        no_text=_("✖️ Decline"),
        side_by_side=True,
    )


def revoke_done(station_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("‹ Back to the team"), callback_data=TeamStationCb(action="p", id=station_id))
    return kb.as_markup()
