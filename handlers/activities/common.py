"""What the volunteer's activity screens share: the offer rules from the settings,
an activity's time in its station's zone, and the Yes / No of an offered seat."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import stations
from services.activities import OfferRules
from storage.models import Activity
from ui.callbacks import OfferCb
from ui.format import format_when
from ui.keyboards.builder import InlineKeyboardBuilder
from ui.settings import Settings


def rules(settings: Settings) -> OfferRules:
    return OfferRules(
        offer_for=timedelta(hours=settings.offer_hours),
        lead=timedelta(hours=settings.offer_lead_hours),
        late_cancel=timedelta(hours=settings.late_cancel_hours),
        timezone=settings.timezone,
    )


def when(activity: Activity, zone: ZoneInfo, locale: str) -> str:
    return format_when(activity.starts_at, activity.ends_at, zone, locale)


async def zone(session: AsyncSession, activity: Activity, default: str) -> ZoneInfo:
    """The time zone of the activity's station (``default`` where it has none)."""
    return await stations.zone(session, activity.station_id, default)


def offer_buttons(kb: InlineKeyboardBuilder, activity_id: int) -> None:
    """ "Yes, I'll come" and "No, pass it on" for a seat held for the volunteer."""
    kb.button(text=_("✅ Yes, I'll come"), callback_data=OfferCb(activity=activity_id, accept=True))
    kb.button(text=_("✖️ No, pass it on"), callback_data=OfferCb(activity=activity_id, accept=False))
