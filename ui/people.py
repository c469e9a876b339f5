"""The older home of the refusal and of people's names and dates, while the features
move: the refusal is in ``ui.errors``, names and dates in ``ui.format``."""

from __future__ import annotations

from ui.errors import no_permission, refuse
from ui.format import day, person, plain_person

__all__ = ["day", "no_permission", "person", "plain_person", "refuse"]
