"""The key of certificate verification codes: made once and kept in the database.

Why the database: the certificates whose codes it checks live there, so a backup
or a move to another server carries both together, and every process of the bot
(the poller, the command line) reads the same key. It is not derived from the bot
token, so rotating a leaked token leaves every certificate verifying.

Before this key was stored, it was derived from the token (or CERTIFICATE_SECRET).
The first start after the upgrade keeps that derived key when certificates exist,
so the codes already printed keep verifying; a database without certificates gets
32 random bytes. CERTIFICATE_SECRET, when set, still wins over the stored key."""

from __future__ import annotations

import base64
import secrets

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import write_transaction
from storage.queries import certificates as certificate_queries
from storage.types import utcnow

NAME = "certificate_key"
KEY_BYTES = 32


async def _stored(session: AsyncSession) -> bytes | None:
    value = await certificate_queries.setting(session, NAME)
    return base64.b64decode(value) if value else None


async def key(session: AsyncSession, *, configured: bytes | None, legacy: bytes) -> bytes:
    """The key to issue and check codes with. ``configured``: CERTIFICATE_SECRET, if
    set; ``legacy``: the key the bot used before it stored one (derived from the
    token), kept when certificates were issued under it. Stores the key the first
    time; of two processes doing so at once, the first one's key is kept."""
    stored = await _stored(session)
    if stored is None:
        stored = await _store(session, legacy)
    return configured if configured is not None else stored


async def _store(session: AsyncSession, legacy: bytes) -> bytes:
    async with write_transaction(session):
        issued = await certificate_queries.any_issued(session)
        chosen = legacy if issued else secrets.token_bytes(KEY_BYTES)
        await certificate_queries.keep_setting(
            session, NAME, base64.b64encode(chosen).decode(), utcnow()
        )
        stored = await _stored(session)
    assert stored is not None
    return stored
