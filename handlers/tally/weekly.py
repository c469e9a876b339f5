"""The Monday message (``services.tally_weekly``): last week's tally of a station for
one of its coordinators, rendered when the outbox sends it."""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.tally.screen import tally_view
from services import access, periods, tally_weekly, when
from services.access import Actor, Permission
from services.errors import InvalidInput, NotFound
from ui.outbox import Rendered, renderer


@renderer(tally_weekly.KIND)
async def render_weekly_tally(session: AsyncSession, payload: dict[str, Any]) -> Rendered | None:
    """Last week's tally for a coordinator, computed when it is sent; None when they
    no longer coordinate the station or it is gone."""
    station_id = int(payload["station_id"])
    user_id = payload.get("user_id")
    if user_id is not None and not await access.allowed(
        session,
        actor=Actor(int(user_id)),
        permission=Permission.VIEW_TALLIES,
        station_id=station_id,
    ):
        return None
    try:
        period = periods.iso_week(int(payload["year"]), int(payload["week"]))
        return await tally_view(
            session,
            station_id,
            period,
            get_i18n().current_locale,
            str(payload.get("tz") or when.DEFAULT_ZONE),
            heading=_("🗓 Your weekly tally"),
        )
    except (NotFound, InvalidInput):
        return None
