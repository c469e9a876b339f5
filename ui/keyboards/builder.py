"""aiogram's inline keyboard builder without its deep copies.

``KeyboardBuilder.export`` deep-copies every button (pydantic models) and ``add``,
``adjust``, ``buttons`` and ``as_markup`` all call it, so a keyboard of n buttons
made with ``button()`` is copied about n²/2 times: the largest part of the time
/activities and the profile card took in ``benchmarks/updates.py --profile``. Our
code never changes a button once made, so copying the rows is enough: the builder
and the markup it gives out share the buttons, never the lists."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton
from aiogram.utils.keyboard import InlineKeyboardBuilder as _AiogramBuilder


class InlineKeyboardBuilder(_AiogramBuilder):
    """aiogram's ``InlineKeyboardBuilder``, the same in use; rows copied, buttons
    shared."""

    def export(self) -> list[list[InlineKeyboardButton]]:
        return [list(row) for row in self._markup]
