"""The station walk: from the top of a person's scope down the station tree, a page
of stations at a time; a station with stations under it opens, one without is
picked, and an opened one can be picked itself. Every press asks the services
again, so a revoked role stops the walk at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import scopes
from services.access import Actor, Permission
from services.scopes import ScopeView
from services.stations import StationNode
from ui import labels
from ui.format import station_path
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.paged import nav_row, page_of

STATIONS_PER_PAGE = 8
TOP = scopes.TOP


@dataclass(frozen=True)
class Question:
    """What the walk asks: at the top of the scope, and at an opened station
    (``{path}`` names it, root first)."""

    top: Callable[[], str]
    at: Callable[[], str]


def empty() -> str:
    return _("No stations have been set up yet.")


def keyboard(
    view: ScopeView,
    factory: Callable[..., CallbackData],
    *,
    page: int,
    locale: str,
    pickable: Callable[[StationNode], bool] | None = None,
) -> InlineKeyboardMarkup:
    """A page of stations in scope: open one with children, pick one without; on an
    opened station also pick it (when ``pickable`` allows) and go back.
    ``factory(action=, id=[, page=])`` makes the buttons' data: "o" opens a station
    (0 is the top of the scope), "p" picks it; a ``functools.partial`` of a callback
    class carries other fields along."""
    kb = InlineKeyboardBuilder()
    shown = page_of(view.nodes, page, STATIONS_PER_PAGE)
    for node in shown.items:
        name = labels.station_name(node, locale)
        if node.children:
            kb.button(text=f"{name} ›", callback_data=factory(action="o", id=node.id))
        else:
            kb.button(text=name, callback_data=factory(action="p", id=node.id))
    sizes = [1] * len(shown.items)
    here = view.current.id if view.current else TOP
    row = nav_row(kb, shown, lambda n: factory(action="o", id=here, page=n))
    if row:
        sizes.append(row)
    if view.current is not None:
        if pickable is None or pickable(view.current):
            kb.button(
                text=_("✓ Choose {name}").format(name=labels.station_name(view.current, locale)),
                callback_data=factory(action="p", id=view.current.id),
            )
            sizes.append(1)
        kb.button(text=_("‹ Back"), callback_data=factory(action="o", id=view.parent))
        sizes.append(1)
    kb.adjust(*sizes)
    return kb.as_markup()


async def walk(
    session: AsyncSession,
    *,
    actor: Actor,
    permission: Permission,
    station_id: int,
    page: int,
    factory: Callable[..., CallbackData],
    question: Question,
) -> tuple[str, InlineKeyboardMarkup]:
    """The walk's screen at ``station_id`` (``TOP`` for the top of the scope).
    Raises NotAllowed or NotFound as ``scopes.view`` does."""
    view = await scopes.view(session, actor=actor, permission=permission, station_id=station_id)
    if view.current is None and not view.nodes:
        text = empty()
    elif view.current is None:
        text = question.top()
    else:
        text = question.at().format(path=await station_path(session, view.current.id, actor.locale))
    return text, keyboard(view, factory, page=page, locale=actor.locale)
