"""Validation of reply_markup objects the way Telegram checks them."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from standin.errors import ApiError, bad_request

__all__ = ["inline_buttons", "parse_markup", "reply_buttons"]

_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_URL_SCHEMES = frozenset({"http", "https", "tg", "ton"})
_MAX_CALLBACK_DATA = 64


def parse_markup(value: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
    """Validate a decoded reply_markup and return it normalised (None values dropped)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    markup: dict[str, Any] = _drop_none(value)
    if "inline_keyboard" in markup:
        _check_inline(markup["inline_keyboard"])
        return markup
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        markup["keyboard"] = _check_keyboard(markup["keyboard"])
        return markup
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    raise bad_request(
        'can\'t find field "inline_keyboard", "keyboard", "remove_keyboard" '
        'or "force_reply" in reply markup'
    )


def inline_buttons(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Inline keyboard buttons of ``markup``, row by row (empty if none)."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return [button for row in markup["inline_keyboard"] for button in row]


def reply_buttons(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Reply keyboard buttons of ``markup``, row by row (empty if none)."""
    if not markup or "keyboard" not in markup:
        return []
    return [button for row in markup["keyboard"] for button in row]


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _drop_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_drop_none(item) for item in value]
    return value


def _rows(rows: Any, field: str, owner: str) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{field}" of the {owner} must be an Array of Arrays')
    return rows


def _check_inline(rows: Any) -> None:
    for row in _rows(rows, "inline_keyboard", "InlineKeyboardMarkup"):
        for button in row:
            _check_inline_button(button)


def _check_inline_button(button: Any) -> None:
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, dict):
        raise bad_request(prefix + "InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise bad_request(prefix + 'Field "text" must be of type String')
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [key for key in _INLINE_ACTIONS if key in button]
    if not actions:
        raise bad_request(prefix + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(prefix + "only one of the optional fields must be used")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 0 < len(data.encode()) <= _MAX_CALLBACK_DATA:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        _check_url(button["url"])


def _check_url(url: Any) -> None:
    error: ApiError = bad_request(f"inline keyboard button URL {url!r} is invalid: Wrong HTTP URL")
    if not isinstance(url, str):
        raise error
    try:
        parts = urlsplit(url)
    except ValueError:
        raise error from None
    if parts.scheme.lower() not in _URL_SCHEMES or not parts.netloc:
        raise error


def _check_keyboard(rows: Any) -> list[list[dict[str, Any]]]:
    checked: list[list[dict[str, Any]]] = []
    for row in _rows(rows, "keyboard", "ReplyKeyboardMarkup"):
        buttons: list[dict[str, Any]] = []
        for button in row:
            if isinstance(button, str):
                button = {"text": button}
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request(
                    'can\'t parse keyboard button: Field "text" must be of type String'
                )
            if not button["text"].strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            buttons.append(button)
        checked.append(buttons)
    return checked
