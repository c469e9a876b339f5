"""What services read from the bot's settings, as protocols: the services take any
object with these attributes (the settings do), and never import the Telegram side."""

from __future__ import annotations

from typing import Protocol


class RecordsRules(Protocol):
    """When an activity's records are due, and who hears when they are late."""

    @property
    def timezone(self) -> str: ...

    @property
    def records_due_working_days(self) -> int: ...

    @property
    def admin_ids(self) -> frozenset[int]: ...
