"""Yes/no confirmation: two buttons under a question, the safe answer last."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from ui.keyboards.builder import InlineKeyboardBuilder


def keyboard(
    *,
    yes: CallbackData,
    yes_text: str,
    no: CallbackData,
    no_text: str | None = None,
    side_by_side: bool = False,
) -> InlineKeyboardMarkup:
    """The confirming button first, then the one that keeps things as they are."""
    kb = InlineKeyboardBuilder()
    kb.button(text=yes_text, callback_data=yes)
    kb.button(text=no_text or _("✖️ Cancel"), callback_data=no)
    kb.adjust(2 if side_by_side else 1)
    return kb.as_markup()
