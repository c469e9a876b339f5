"""Message texts and captions: parse modes, trimming and length limits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from standin.errors import ApiError, bad_request
from standin.html_check import EntityParseError, ParsedText, parse_html, utf16_len
from standin.params import Params

__all__ = ["FormattedText", "command_entities", "read_caption", "read_text", "utf16_slice"]

MAX_TEXT = 4096
MAX_CAPTION = 1024
_TRIM = " \t\r\n"
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")


@dataclass
class FormattedText:
    """Text as the bot sent it, and as Telegram stores it (trimmed plain text + entities)."""

    raw: str
    parse_mode: str | None
    plain: str
    entities: list[dict[str, Any]]


def read_text(params: Params) -> FormattedText:
    """The ``text`` of sendMessage/editMessageText, validated."""
    raw = params.opt_str("text") or ""
    formatted = _format(raw, params, "entities")
    if not formatted.plain:
        raise bad_request("message text is empty")
    if utf16_len(formatted.plain) > MAX_TEXT:
        raise bad_request("message is too long")
    return formatted


def read_caption(params: Params) -> FormattedText | None:
    """The optional ``caption`` of a media message, validated."""
    raw = params.opt_str("caption")
    if not raw:
        return None
    formatted = _format(raw, params, "caption_entities")
    if utf16_len(formatted.plain) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return formatted if formatted.plain else None


def command_entities(text: str) -> list[dict[str, Any]]:
    """A bot_command entity for a leading ``/command`` or ``/command@bot``."""
    match = _COMMAND.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]


def utf16_slice(text: str, offset: int, length: int) -> tuple[int, int]:
    """Convert a UTF-16 (offset, length) into Python string indexes (start, end)."""
    start = end = -1
    units = 0
    for index, char in enumerate(text):
        if units == offset:
            start = index
        if units == offset + length:
            end = index
            break
        units += 2 if ord(char) > 0xFFFF else 1
    if start < 0:
        start = len(text)
    if end < 0:
        end = len(text)
    return start, end


def _format(raw: str, params: Params, entities_field: str) -> FormattedText:
    mode = params.opt_str("parse_mode") or None
    if mode is None:
        entities = params.get(entities_field) or []
        if not isinstance(entities, list):
            raise bad_request(f"can't parse {entities_field} JSON object")
        parsed = ParsedText(raw, list(entities))
    elif mode.lower() == "html":
        try:
            parsed = parse_html(raw)
        except EntityParseError as error:
            raise ApiError(400, error.description) from None
    elif mode.lower() in {"markdown", "markdownv2"}:
        raise bad_request(f"parse_mode {mode} is not supported by the stand-in; use HTML")
    else:
        raise bad_request("unsupported parse_mode")
    trimmed = _trim(parsed)
    return FormattedText(raw, mode, trimmed.text, trimmed.entities)


def _trim(parsed: ParsedText) -> ParsedText:
    """Strip surrounding whitespace like Telegram, shifting and clipping entities."""
    text = parsed.text
    stripped = text.strip(_TRIM)
    if stripped == text:
        return parsed
    shift = utf16_len(text[: len(text) - len(text.lstrip(_TRIM))])
    size = utf16_len(stripped)
    entities: list[dict[str, Any]] = []
    for entity in parsed.entities:
        begin = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, size)
        if end > begin:
            entities.append({**entity, "offset": begin, "length": end - begin})
    return ParsedText(stripped, entities)
