"""The record's photos on disk: download a Telegram photo (``bot.download``, through
the Bot API's getFile) into the data directory, within the size limit, and read the
photos back for the record sheet. A failed download is told to the services: the
photo stays attached by its file id and is fetched again later."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterable
from pathlib import Path

from aiogram import Bot
from sqlmodel.ext.asyncio.session import AsyncSession

from services import activity_records
from services.activity_records import MAX_PHOTO_BYTES, SheetPhoto

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = 20  # seconds per photo


class _TooLarge(Exception):
    pass


class _Capped(io.BytesIO):
    """A buffer that refuses more than ``MAX_PHOTO_BYTES``: a download stops there."""

    def write(self, data: bytes | bytearray | memoryview, /) -> int:  # type: ignore[override]
        if self.tell() + len(data) > MAX_PHOTO_BYTES:
            raise _TooLarge
        return super().write(data)


def _save(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(target)


async def fetch(
    bot: Bot,
    session: AsyncSession,
    data_dir: Path,
    *,
    activity_id: int,
    photo_id: int,
    file_id: str,
) -> bytes | None:
    """Download one photo into the data directory; its bytes, or None when it failed
    (the failure is recorded, the photo kept by its file id)."""
    relative = activity_records.photo_path(activity_id, photo_id)
    try:
        buffer = await bot.download(file_id, destination=_Capped(), timeout=DOWNLOAD_TIMEOUT)
        assert buffer is not None
        data = buffer.read()
        if not data:
            raise ValueError("empty file")
        await asyncio.to_thread(_save, data_dir / relative, data)
    except _TooLarge:
        await activity_records.download_failed(
            session, photo_id=photo_id, error=f"larger than {MAX_PHOTO_BYTES} bytes"
        )
        return None
    except Exception as error:  # Telegram, the network or the disk: tried again later
        log.warning("record photo %s not downloaded: %r", photo_id, error)
        await activity_records.download_failed(session, photo_id=photo_id, error=repr(error))
        return None
    await activity_records.stored(session, photo_id=photo_id, path=relative)
    return data


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


async def images(
    bot: Bot,
    session: AsyncSession,
    data_dir: Path,
    activity_id: int,
    photos: Iterable[SheetPhoto],
) -> dict[int, bytes]:
    """Each photo's bytes by id: read from the data directory, or downloaded again
    when it is not there (a photo that still fails is left out)."""
    found: dict[int, bytes] = {}
    for photo in photos:
        data = None
        if photo.stored_path is not None:
            data = await asyncio.to_thread(_read, data_dir / photo.stored_path)
        if data is None:
            data = await fetch(
                bot,
                session,
                data_dir,
                activity_id=activity_id,
                photo_id=photo.id,
                file_id=photo.file_id,
            )
        if data is not None:
            found[photo.id] = data
    return found
