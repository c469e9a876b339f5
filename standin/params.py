"""Reading Bot API call parameters from any of the encodings Telegram accepts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from standin.errors import ApiError, bad_request

__all__ = ["Params", "UploadedFile", "read_params"]

JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "menu_button",
        "link_preview_options",
        "reply_parameters",
        "media",
    }
)
_FORMS = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
_TRUE = frozenset({"true", "1", "True"})
_FALSE = frozenset({"false", "0", "False", ""})


@dataclass(frozen=True)
class UploadedFile:
    """A file sent as a part of a multipart request."""

    filename: str
    content: bytes
    content_type: str


class Params:
    """Decoded parameters of one call with typed accessors raising Telegram-like errors."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, name: str) -> Any:
        """The raw (JSON-decoded) value or None."""
        return self.values.get(name)

    def opt_str(self, name: str) -> str | None:
        """A string parameter; numbers are converted like Telegram does."""
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise bad_request(f"parameter {name!r} must be a string")

    def opt_int(self, name: str) -> int | None:
        """An integer parameter or None when absent."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise bad_request(f"parameter {name!r} must be an integer")
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(f"parameter {name!r} must be an integer") from None

    def req_int(self, name: str, missing: str | None = None) -> int:
        """A required integer parameter; ``missing`` is the error detail when absent."""
        value = self.opt_int(name)
        if value is None:
            raise bad_request(missing or f"{name} is empty")
        return value

    def flag(self, name: str) -> bool:
        """A Boolean parameter (absent means False)."""
        value = self.values.get(name)
        if value is None or isinstance(value, bool):
            return bool(value)
        if str(value) in _TRUE:
            return True
        if str(value) in _FALSE:
            return False
        raise bad_request(f"parameter {name!r} must be a Boolean")

    def upload(self, name: str) -> UploadedFile | str | None:
        """A file parameter: an uploaded part (direct or ``attach://``) or a file_id/URL."""
        value = self.values.get(name)
        if value is None or isinstance(value, UploadedFile):
            return value
        text = str(value)
        if text.startswith("attach://"):
            part = self.values.get(text.removeprefix("attach://"))
            if not isinstance(part, UploadedFile):
                raise bad_request(f"file {text!r} was not found in the request")
            return part
        return text

    def loggable(self) -> dict[str, Any]:
        """A copy for the request log."""
        return dict(self.values)


async def read_params(request: web.Request) -> Params:
    """Merge query-string and body parameters, decoding JSON-valued fields."""
    values: dict[str, Any] = dict(request.query)
    content_type = request.content_type
    if content_type == "application/json" and request.can_read_body:
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON request body") from None
        if not isinstance(body, dict):
            raise bad_request("JSON request body must be an object")
        values.update(body)
    elif content_type in _FORMS:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                content = value.file.read()
                values[key] = UploadedFile(value.filename, content, value.content_type)
            else:
                values[key] = value
    for key in JSON_FIELDS.intersection(values):
        values[key] = _decode_json(key, values[key])
    return Params(values)


def _decode_json(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        if key == "reply_markup":
            raise bad_request("can't parse reply keyboard markup JSON object") from None
        raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
