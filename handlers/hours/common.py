"""What the hours screens share: the answer to someone not registered, the font the
PDF needs, ending one's own dialog step, and the certificates' key."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from services import certificate_key as certificate_keys
from ui.settings import Settings


def not_registered() -> str:
    return _("You are not registered yet. Send /start to register.")


def no_font() -> str:
    return _(
        "Service certificates are not available on this server yet: no Chinese font "
        "is installed. Please tell your station staff."
    )


async def leave(state: FSMContext, own: State) -> None:
    """End our own dialog step; another feature's dialog is left as it is."""
    if await state.get_state() == own.state:
        await state.clear()


async def certificate_key(session: AsyncSession, settings: Settings) -> bytes:
    """The key codes are issued and checked with (kept in the database)."""
    return await certificate_keys.key(
        session,
        configured=settings.configured_certificate_key(),
        legacy=settings.legacy_certificate_key(),
    )
