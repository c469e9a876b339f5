"""The audit log: who did what, when."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditLog


def record(
    session: AsyncSession,
    *,
    actor_id: int | None,
    action: str,
    station_id: int | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    **details: Any,
) -> AuditLog:
    entry = AuditLog(
        actor_id=actor_id,
        action=action,
        station_id=station_id,
        subject_type=subject_type,
        subject_id=subject_id,
        details=details,
    )
    session.add(entry)
    return entry
