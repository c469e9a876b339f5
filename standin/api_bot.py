"""Bot API methods about the bot itself: identity, updates, webhook, commands, menu."""

from __future__ import annotations

import re
from typing import Any

from standin.errors import ApiError, bad_request
from standin.params import Params
from standin.world import Handler, World

__all__ = ["METHODS"]

_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE = re.compile(r"[a-z]{2}")
_MAX_COMMANDS = 100
_MAX_DESCRIPTION = 256
_SCOPES = {
    "default": (),
    "all_private_chats": (),
    "all_group_chats": (),
    "all_chat_administrators": (),
    "chat": ("chat_id",),
    "chat_administrators": ("chat_id",),
    "chat_member": ("chat_id", "user_id"),
}
_MENU_BUTTONS = frozenset({"commands", "web_app", "default"})
_WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


async def get_me(world: World, params: Params) -> Any:
    """getMe."""
    return {
        **world.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def get_updates(world: World, params: Params) -> Any:
    """getUpdates with offset confirmation and long polling."""
    if world.webhook_url:
        raise ApiError(409, _WEBHOOK_ACTIVE)
    allowed = params.get("allowed_updates")
    if allowed is not None and not (
        isinstance(allowed, list) and all(isinstance(kind, str) for kind in allowed)
    ):
        raise bad_request("can't parse allowed_updates JSON object")
    updates = await world.updates.get(
        offset=params.opt_int("offset") or 0,
        limit=params.opt_int("limit") or 100,
        poll_seconds=float(params.opt_int("timeout") or 0),
        allowed=allowed,
    )
    world.touch_delivered({u.chat_id for u in updates if u.chat_id is not None})
    return [update.as_json() for update in updates]


_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


async def set_webhook(world: World, params: Params) -> Any:
    """setWebhook: from now on queued updates are posted to ``url`` (standin.webhook)
    with ``secret_token`` in the X-Telegram-Bot-Api-Secret-Token header, and
    getUpdates conflicts, as on Telegram."""
    url = params.opt_str("url") or ""
    if url and not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.opt_str("secret_token") or ""
    if secret and not _SECRET.fullmatch(secret):
        raise bad_request("bad webhook: secret token contains unallowed characters")
    connections = params.opt_int("max_connections") or 40
    if not 1 <= connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = params.get("allowed_updates")
    if allowed is not None:
        if not (isinstance(allowed, list) and all(isinstance(kind, str) for kind in allowed)):
            raise bad_request("can't parse allowed_updates JSON object")
        world.updates.set_allowed(allowed)
    if params.flag("drop_pending_updates"):
        world.updates.drop_all()
    world.webhook_url = url
    world.webhook_secret = secret
    world.webhook_max_connections = connections
    world.updates.nudge()
    return True


async def delete_webhook(world: World, params: Params) -> Any:
    """deleteWebhook, optionally dropping pending updates."""
    world.webhook_url = ""
    if params.flag("drop_pending_updates"):
        world.updates.drop_all()
    return True


async def get_webhook_info(world: World, params: Params) -> Any:
    """getWebhookInfo."""
    return {
        "url": world.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": len(world.updates),
        "max_connections": world.webhook_max_connections,
    }


async def answer_true(world: World, params: Params) -> Any:
    """logOut and close: nothing to do."""
    return True


def _scope_key(world: World, params: Params) -> str:
    scope = params.get("scope") or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in _SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    parts = [str(scope["type"])]
    for field in _SCOPES[scope["type"]]:
        if scope.get(field) is None:
            raise bad_request(f"{field} is empty")
        parts.append(str(scope[field]))
    if len(parts) > 1:
        world.target_chat(scope["chat_id"])
    return ":".join(parts)


def _language(params: Params) -> str:
    code = params.opt_str("language_code") or ""
    if code and not _LANGUAGE.fullmatch(code):
        raise bad_request("invalid language code specified")
    return code


def _check_commands(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise bad_request("can't parse commands JSON object")
    if len(value) > _MAX_COMMANDS:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    checked: list[dict[str, str]] = []
    for item in value:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not _COMMAND.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 0 < len(description) <= _MAX_DESCRIPTION:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        if not description.strip():
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        checked.append({"command": command, "description": description})
    return checked


async def set_my_commands(world: World, params: Params) -> Any:
    """setMyCommands, stored per (scope, language_code)."""
    commands = _check_commands(params.get("commands"))
    key = (_scope_key(world, params), _language(params))
    if commands:
        world.stored_commands[key] = commands
    else:
        world.stored_commands.pop(key, None)
    return True


async def get_my_commands(world: World, params: Params) -> Any:
    """getMyCommands for exactly this scope and language."""
    return world.stored_commands.get((_scope_key(world, params), _language(params)), [])


async def delete_my_commands(world: World, params: Params) -> Any:
    """deleteMyCommands."""
    world.stored_commands.pop((_scope_key(world, params), _language(params)), None)
    return True


def _menu_chat(world: World, params: Params) -> int | None:
    chat_id = params.get("chat_id")
    return None if chat_id in (None, "") else world.target_chat(chat_id).id


async def set_chat_menu_button(world: World, params: Params) -> Any:
    """setChatMenuButton."""
    chat_id = _menu_chat(world, params)
    button = params.get("menu_button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in _MENU_BUTTONS:
        raise bad_request("can't parse MenuButton JSON object")
    world.menu_buttons[chat_id] = button
    return True


async def get_chat_menu_button(world: World, params: Params) -> Any:
    """getChatMenuButton."""
    chat_id = _menu_chat(world, params)
    return world.menu_buttons.get(chat_id) or world.menu_buttons.get(None) or {"type": "default"}


METHODS: dict[str, Handler] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "logOut": answer_true,
    "close": answer_true,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "setChatMenuButton": set_chat_menu_button,
    "getChatMenuButton": get_chat_menu_button,
}
