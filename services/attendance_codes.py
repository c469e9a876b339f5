"""Check-in codes: staff open check-in and get a 6-digit code, unique among the
activities whose code is still live; volunteers type it (or scan its QR code, the
deep link ``/start ci_<code>``), and it names the activity."""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services import audit
from services.access import Actor
from services.attendance_values import CHECKOUT_GRACE, window
from services.errors import InvalidInput, NotFound
from services.roster import managed_locked
from storage.db import write_transaction
from storage.models import Activity, ActivityStatus
from storage.queries import attendance as attendance_queries
from storage.types import utcnow

CODE_DIGITS = 6
CODE_TRIES = 50
# The /start parameter of the check-in QR code: ci_<code>.
DEEP_LINK_PREFIX = "ci_"
# A code that has expired is recognised as such (not as a wrong code) for this long.
EXPIRED_KNOWN_FOR = timedelta(days=30)

_CODE_RE = re.compile(rf"[0-9]{{{CODE_DIGITS}}}")


def clean_code(text: str) -> str:
    """``123456``, ``１２３ ４５６``, ``123-456`` or ``ci_123456`` -> ``123456``."""
    code = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text or ""))
    if code.lower().startswith(DEEP_LINK_PREFIX):
        code = code[len(DEEP_LINK_PREFIX) :]
    if not _CODE_RE.fullmatch(code):
        raise InvalidInput("code_malformed")
    return code


async def find_by_code(session: AsyncSession, code: str, now: datetime) -> Activity:
    """The activity whose live check-in code this is. Raises ``NotFound('code_unknown')``
    for a code that never was, ``InvalidInput('code_expired')`` for one that was."""
    live = await attendance_queries.activities_with_code(session, code, now - CHECKOUT_GRACE)
    if live:
        # Codes are unique among live ones; should two ever collide, the one whose
        # window holds now wins.
        open_now = [a for a in live if window(a)[0] <= now <= window(a)[2]]
        return (open_now or list(live))[0]
    if await attendance_queries.activities_with_code(session, code, now - EXPIRED_KNOWN_FOR):
        raise InvalidInput("code_expired")
    raise NotFound("code_unknown")


def _random_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


async def open_checkin(
    session: AsyncSession, *, actor: Actor, activity_id: int, now: datetime | None = None
) -> Activity:
    """Give the activity a check-in code (once; opening again shows the same code)."""
    now = now or utcnow()
    async with write_transaction(session):
        activity = await managed_locked(session, actor=actor, activity_id=activity_id)
        if activity.status is ActivityStatus.CANCELLED:
            raise InvalidInput("activity_cancelled", title=activity.title)
        if activity.closed_at is not None:
            raise InvalidInput("records_closed", title=activity.title)
        if activity.checkin_code is not None:
            return activity
        if now > activity.ends_at:
            raise InvalidInput("activity_over", title=activity.title)
        for _ in range(CODE_TRIES):
            code = _random_code()
            if not await attendance_queries.activities_with_code(
                session, code, now - CHECKOUT_GRACE
            ):
                break
        else:  # a million codes and only a few hundred live: not in this universe
            raise InvalidInput("no_code_free")
        activity.checkin_code = code
        activity.checkin_opened_at = now
        activity.checkin_opened_by = actor.id
        activity.updated_at = now
        session.add(activity)
        audit.record(
            session,
            actor_id=actor.id,
            action="attendance.checkin_opened",
            station_id=activity.station_id,
            subject_type="activity",
            subject_id=activity.id,
        )
    return activity
