"""Strict validation of Telegram-HTML formatted text, modelled on Telegram's own parser."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EntityParseError", "ParsedText", "check_html", "parse_html", "utf16_len"]

_PREFIX = "Bad Request: can't parse entities: "
_SPACES = frozenset(" \t\r\n\v\f")
_SPECIAL = re.compile(r"[<&]")
_NAMED_ENTITY = re.compile(r"&([A-Za-z]+);")
_NUMERIC_ENTITY = re.compile(r"&#(?:([0-9]{1,8})|[xX]([0-9A-Fa-f]{1,7}));")
_LOOKS_LIKE_ENTITY = re.compile(r"&#?[A-Za-z0-9]+;")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class EntityParseError(ValueError):
    """Raised for text Telegram would reject; ``description`` is Telegram-like."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass
class ParsedText:
    """Plain text plus Telegram message entities (UTF-16 offsets)."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    argument: str
    expandable: bool
    offset: int


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def check_html(text: str) -> str:
    """Validate ``text`` and return it as plain text; raise EntityParseError if invalid."""
    return parse_html(text).text


def parse_html(text: str) -> ParsedText:
    """Parse Telegram HTML into plain text and entities, raising EntityParseError if invalid."""
    return _Parser(text).run()


class _Parser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.out: list[str] = []
        self.offset = 0  # UTF-16 offset in the output
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def fail(self, detail: str, pos: int | None = None) -> EntityParseError:
        if pos is not None:
            detail = f"{detail} at byte offset {len(self.src[:pos].encode())}"
        return EntityParseError(_PREFIX + detail)

    def emit(self, chunk: str) -> None:
        if chunk:
            self.out.append(chunk)
            self.offset += utf16_len(chunk)

    def run(self) -> ParsedText:
        src, pos = self.src, 0
        while (match := _SPECIAL.search(src, pos)) is not None:
            start = match.start()
            self.emit(src[pos:start])
            if src[start] == "&":
                char, pos = self.entity(start)
                self.emit(char)
            elif src.startswith("</", start):
                pos = self.end_tag(start)
            else:
                pos = self.start_tag(start)
        self.emit(src[pos:])
        if self.stack:
            raise self.fail(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), self.entities)

    def entity(self, pos: int) -> tuple[str, int]:
        """Decode the character reference at ``pos``; return it and the position after it."""
        src = self.src
        if (named := _NAMED_ENTITY.match(src, pos)) and named.group(1) in _NAMED:
            return _NAMED[named.group(1)], named.end()
        if numeric := _NUMERIC_ENTITY.match(src, pos):
            dec, hexa = numeric.groups()
            code = int(dec) if dec is not None else int(hexa, 16)
            if 0 < code < 0x110000 and not 0xD800 <= code <= 0xDFFF:
                return chr(code), numeric.end()
        if looks := _LOOKS_LIKE_ENTITY.match(src, pos):
            raise self.fail(f'Unsupported HTML entity "{looks.group(0)}"', pos)
        raise self.fail("Character '&' is reserved and must be escaped as \"&amp;\"", pos)

    def skip_spaces(self, i: int) -> int:
        while i < len(self.src) and self.src[i] in _SPACES:
            i += 1
        return i

    def start_tag(self, begin: int) -> int:
        src, n = self.src, len(self.src)
        i = begin + 1
        while i < n and src[i] not in _SPACES and src[i] != ">":
            i += 1
        if i >= n:
            raise self.fail("Unclosed start tag", begin)
        name = src[begin + 1 : i].lower()
        if name not in _ENTITY_TYPES:
            raise self.fail(f'Unsupported start tag "{name}"', begin)
        argument, expandable = "", False
        while True:
            i = self.skip_spaces(i)
            if i >= n:
                raise self.fail(f'Unclosed start tag "{name}"', begin)
            if src[i] == ">":
                break
            attr_begin = i
            while i < n and src[i] not in _SPACES and src[i] not in "=>":
                i += 1
            attr = src[attr_begin:i].lower()
            if not attr:
                raise self.fail(f'Empty attribute name in the tag "{name}"', begin)
            i = self.skip_spaces(i)
            if i >= n or src[i] != "=":
                if name == "blockquote" and attr == "expandable":
                    expandable = True
                    continue
                raise self.fail(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}"', begin
                )
            value, i = self.attribute_value(self.skip_spaces(i + 1), name, begin)
            if (name, attr) in {("a", "href"), ("tg-emoji", "emoji-id")}:
                argument = value
            elif (name, attr) == ("span", "class") and value.startswith("tg-"):
                argument = value[3:]
            elif (name, attr) == ("code", "class") and value.startswith("language-"):
                argument = value[9:]
        if name == "span" and argument != "spoiler":
            raise self.fail('Tag "span" must have class "tg-spoiler"', begin)
        if name == "tg-emoji" and not (argument.isdigit() and int(argument) > 0):
            raise EntityParseError(_PREFIX + "Invalid custom emoji identifier specified")
        self.stack.append(_OpenTag(name, argument, expandable, self.offset))
        return i + 1

    def attribute_value(self, i: int, tag: str, begin: int) -> tuple[str, int]:
        src, n = self.src, len(self.src)
        if i >= n:
            raise self.fail(f'Unclosed start tag "{tag}"', begin)
        quote = src[i]
        if quote not in "'\"":
            token_begin = i
            while i < n and (src[i].isalnum() or src[i] in ".-"):
                i += 1
            if i >= n or (src[i] not in _SPACES and src[i] != ">"):
                raise self.fail("Unexpected end of name token", token_begin)
            return src[token_begin:i].lower(), i
        end = src.find(quote, i + 1)
        if end < 0:
            raise self.fail("Unclosed start tag", begin)
        return self.decode_attribute(i + 1, end), end + 1

    def decode_attribute(self, start: int, end: int) -> str:
        parts: list[str] = []
        pos = start
        while (amp := self.src.find("&", pos, end)) >= 0:
            parts.append(self.src[pos:amp])
            char, pos = self.entity(amp)
            parts.append(char)
        parts.append(self.src[pos:end])
        return "".join(parts)

    def end_tag(self, begin: int) -> int:
        src, n = self.src, len(self.src)
        if not self.stack:
            raise self.fail("Unexpected end tag", begin)
        i = begin + 2
        while i < n and src[i] not in _SPACES and src[i] != ">":
            i += 1
        end_name = src[begin + 2 : i].lower()
        i = self.skip_spaces(i)
        if i >= n or src[i] != ">":
            raise self.fail("Unclosed end tag", begin)
        tag = self.stack[-1]
        if end_name and end_name != tag.name:
            raise self.fail(
                f"Unmatched end tag at byte offset {len(src[:begin].encode())}, "
                f'expected "</{tag.name}>", found "</{end_name}>"'
            )
        self.stack.pop()
        self.close_entity(tag)
        return i + 1

    def close_entity(self, tag: _OpenTag) -> None:
        length = self.offset - tag.offset
        if length <= 0:
            return
        entity: dict[str, Any] = {
            "type": _ENTITY_TYPES[tag.name],
            "offset": tag.offset,
            "length": length,
        }
        if tag.name == "a":
            if not tag.argument:
                return
            entity["url"] = tag.argument
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.argument
        elif tag.name == "blockquote" and tag.expandable:
            entity["type"] = "expandable_blockquote"
        elif tag.name == "code" and tag.argument:
            entity["language"] = tag.argument
        elif tag.name == "pre" and self.entities:
            inner = self.entities[-1]
            same_span = inner["offset"] == tag.offset and inner["length"] == length
            if inner["type"] == "code" and same_span and "language" in inner:
                self.entities.pop()
                entity["language"] = inner["language"]
        if tag.name == "code" and tag.argument and not self._inside("pre"):
            del entity["language"]
        self.entities.append(entity)

    def _inside(self, name: str) -> bool:
        return any(open_tag.name == name for open_tag in self.stack)
