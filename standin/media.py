"""Files and media objects: image sniffing, sample contents and Bot API JSON shapes."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from standin.models import StoredFile

__all__ = [
    "PHOTO_SIDES",
    "SAMPLE_OGG",
    "SAMPLE_WEBP",
    "document_json",
    "image_size",
    "photo_json",
    "photo_sides",
    "sample_png",
]

SAMPLE_OGG = b"OggS\x00\x02" + bytes(58)
SAMPLE_WEBP = (
    b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00"
    b"\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
)
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The longest side of each size Telegram makes of a photo a user sends (s, m, x, y, w).
PHOTO_SIDES = (90, 320, 800, 1280, 2560)
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def sample_png(width: int = 1, height: int = 1) -> bytes:
    """A valid grey PNG image of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        _PNG_MAGIC
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


def image_size(content: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, JPEG, GIF or WebP image; None if it is not one."""
    if content.startswith(_PNG_MAGIC) and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    if content[:6] in (b"GIF87a", b"GIF89a") and len(content) >= 10:
        width, height = struct.unpack("<HH", content[6:10])
        return int(width), int(height)
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return 512, 512
    if content.startswith(b"\xff\xd8"):
        return _jpeg_size(content)
    return None


def _jpeg_size(content: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 9 <= len(content):
        if content[pos] != 0xFF:
            return None
        marker = content[pos + 1]
        (length,) = struct.unpack(">H", content[pos + 2 : pos + 4])
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", content[pos + 5 : pos + 9])
            return int(width), int(height)
        pos += 2 + int(length)
    return None


def document_json(file: StoredFile) -> dict[str, Any]:
    """The Bot API ``Document`` object."""
    data: dict[str, Any] = {
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "file_size": len(file.content),
    }
    if file.file_name is not None:
        data["file_name"] = file.file_name
    if file.mime_type is not None:
        data["mime_type"] = file.mime_type
    return data


def photo_json(file: StoredFile) -> list[dict[str, Any]]:
    """The Bot API photo field: a list with one ``PhotoSize``."""
    width, height = image_size(file.content) or (1, 1)
    return [
        {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "width": width,
            "height": height,
            "file_size": len(file.content),
        }
    ]


def photo_sides(width: int, height: int) -> list[tuple[int, int]]:
    """The sizes Telegram makes of a ``width`` x ``height`` photo, smallest first:
    each of ``PHOTO_SIDES`` below its longest side, then the photo itself (scaled down
    to 2560 at most)."""
    longest = max(width, height, 1)
    sizes: list[tuple[int, int]] = []
    for side in PHOTO_SIDES[:-1]:
        if side >= longest:
            break
        sizes.append((max(1, width * side // longest), max(1, height * side // longest)))
    scale = min(1.0, PHOTO_SIDES[-1] / longest)
    sizes.append((max(1, round(width * scale)), max(1, round(height * scale))))
    return sizes
