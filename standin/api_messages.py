"""Bot API methods about messages, callback queries, chats and files."""

from __future__ import annotations

import mimetypes
import time
from typing import Any

from standin.errors import ApiError, bad_request
from standin.html_check import utf16_len
from standin.markup import inline_buttons, parse_markup
from standin.media import image_size
from standin.models import SentMessage, SimChat, StoredFile
from standin.params import Params, UploadedFile
from standin.text import read_caption, read_text
from standin.world import Handler, World

__all__ = ["METHODS"]

MAX_UPLOAD = 50 * 1024 * 1024
MAX_PHOTO = 10 * 1024 * 1024
MAX_DOWNLOAD = 20 * 1024 * 1024
MAX_CALLBACK_ANSWER = 200
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


def _check_reply_target(chat: SimChat, params: Params) -> None:
    reply = params.get("reply_parameters")
    if isinstance(reply, dict):
        target, lenient = reply.get("message_id"), bool(reply.get("allow_sending_without_reply"))
    else:
        target = params.opt_int("reply_to_message_id")
        lenient = params.flag("allow_sending_without_reply")
    if target is None or lenient:
        return
    if not isinstance(target, int | str) or not str(target).lstrip("-").isdigit():
        raise bad_request("can't parse reply parameters JSON object")
    sent = chat.transcript.get(int(target))
    if int(target) not in chat.user_messages and (sent is None or sent.deleted):
        raise bad_request("message to be replied not found")


async def send_message(world: World, params: Params) -> Any:
    """sendMessage."""
    chat = world.target_chat(params.get("chat_id"))
    text = read_text(params)
    markup = parse_markup(params.get("reply_markup"))
    _check_reply_target(chat, params)
    world.check_rate(chat)
    return world.message_json(chat, world.record_bot_message(chat, text, markup))


def _read_upload(
    world: World, params: Params, field: str, limit: int
) -> tuple[bytes, str | None, str | None]:
    upload = params.upload(field)
    if upload is None:
        raise bad_request(f"there is no {field} in the request")
    if isinstance(upload, str):
        known = world.files.get(upload)
        if known is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return known.content, known.file_name, known.mime_type
    if not upload.content:
        raise bad_request("file must be non-empty")
    if len(upload.content) > limit:
        raise ApiError(413, "Request Entity Too Large")
    return upload.content, upload.filename, _mime(upload)


def _mime(upload: UploadedFile) -> str | None:
    if upload.content_type and upload.content_type != "application/octet-stream":
        return upload.content_type
    return mimetypes.guess_type(upload.filename)[0] or upload.content_type or None


async def send_document(world: World, params: Params) -> Any:
    """sendDocument (uploads, or a file_id of a known file)."""
    chat = world.target_chat(params.get("chat_id"))
    content, file_name, mime_type = _read_upload(world, params, "document", MAX_UPLOAD)
    caption = read_caption(params)
    markup = parse_markup(params.get("reply_markup"))
    _check_reply_target(chat, params)
    world.check_rate(chat)
    file = world.store_file(
        content, folder="documents", file_name=file_name or "document", mime_type=mime_type
    )
    return world.message_json(chat, world.record_bot_message(chat, caption, markup, file=file))


async def send_photo(world: World, params: Params) -> Any:
    """sendPhoto (the upload must really be an image)."""
    chat = world.target_chat(params.get("chat_id"))
    content, _, _ = _read_upload(world, params, "photo", MAX_PHOTO)
    if image_size(content) is None:
        raise bad_request("IMAGE_PROCESS_FAILED")
    caption = read_caption(params)
    markup = parse_markup(params.get("reply_markup"))
    _check_reply_target(chat, params)
    world.check_rate(chat)
    file = world.store_file(content, folder="photos", file_name=None, mime_type="image/jpeg")
    message = world.record_bot_message(chat, caption, markup, file=file, photo=True)
    return world.message_json(chat, message)


def _message_to_edit(world: World, params: Params) -> tuple[SimChat, SentMessage]:
    if params.get("inline_message_id") is not None:
        raise bad_request("inline messages are not supported by the stand-in")
    chat = world.target_chat(params.get("chat_id"))
    message_id = params.req_int("message_id", "message identifier is not specified")
    message = chat.transcript.get(message_id)
    if message is None or message.deleted:
        if message_id in chat.user_messages:
            raise bad_request("message can't be edited")
        raise bad_request("message to edit not found")
    return chat, message


def _apply_edit(chat: SimChat, message: SentMessage) -> None:
    message.edits += 1
    message.edit_date = int(time.time())
    message.stamp = chat.next_stamp()
    chat.log_change(message)


def _current_inline(message: SentMessage) -> dict[str, Any] | None:
    return message.reply_markup if inline_buttons(message.reply_markup) else None


async def edit_message_text(world: World, params: Params) -> Any:
    """editMessageText (a missing reply_markup removes the inline keyboard, as in Telegram)."""
    chat, message = _message_to_edit(world, params)
    if message.file_id is not None:
        raise bad_request("there is no text in the message to edit")
    text = read_text(params)
    markup = parse_markup(params.get("reply_markup"), inline_only=True)
    same_text = text.plain == message.plain_text and text.entities == message.entities
    if same_text and markup == _current_inline(message):
        raise bad_request(NOT_MODIFIED)
    message.text, message.plain_text = text.raw, text.plain
    message.parse_mode, message.entities = text.parse_mode, text.entities
    if markup is not None or _current_inline(message) is not None:
        message.reply_markup = markup
    _apply_edit(chat, message)
    world.stats.messages_edited += 1
    return world.message_json(chat, message)


async def edit_message_reply_markup(world: World, params: Params) -> Any:
    """editMessageReplyMarkup."""
    chat, message = _message_to_edit(world, params)
    markup = parse_markup(params.get("reply_markup"), inline_only=True)
    if markup == _current_inline(message):
        raise bad_request(NOT_MODIFIED)
    message.reply_markup = markup
    _apply_edit(chat, message)
    world.stats.messages_edited += 1
    return world.message_json(chat, message)


async def delete_message(world: World, params: Params) -> Any:
    """deleteMessage (bot messages, and users' messages in private chats)."""
    chat = world.target_chat(params.get("chat_id"))
    message_id = params.req_int("message_id", "message identifier is not specified")
    message = chat.transcript.get(message_id)
    if message is not None and not message.deleted:
        message.deleted = True
        message.stamp = chat.next_stamp()
        chat.log_change(message)
        return True
    if message_id in chat.user_messages:
        if chat.user is None:
            raise bad_request("message can't be deleted")
        del chat.user_messages[message_id]
        return True
    raise bad_request("message to delete not found")


async def answer_callback_query(world: World, params: Params) -> Any:
    """answerCallbackQuery (each query can be answered once)."""
    query_id = params.opt_str("callback_query_id")
    if not query_id:
        raise bad_request("callback_query_id is empty")
    text = params.opt_str("text") or None
    if text is not None and utf16_len(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")
    query = world.pending_queries.get(query_id)
    if query is None or query.answered:
        raise bad_request(QUERY_INVALID)
    query.answered = True
    world.record_answer(query_id, text, params.flag("show_alert"))
    return True


async def send_chat_action(world: World, params: Params) -> Any:
    """sendChatAction."""
    world.target_chat(params.get("chat_id"))
    if params.opt_str("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


async def get_chat(world: World, params: Params) -> Any:
    """getChat (a ChatFullInfo with the required fields)."""
    chat = world.target_chat(params.get("chat_id"))
    info = chat.as_json()
    gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
    info.update(
        accent_color_id=0,
        max_reaction_count=11,
        accepted_gift_types={name: False for name in (*gifts, "gifts_from_channels")},
    )
    return info


async def get_file(world: World, params: Params) -> Any:
    """getFile."""
    file: StoredFile | None = world.files.get(params.opt_str("file_id") or "")
    if file is None:
        raise bad_request("invalid file_id")
    if len(file.content) > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return file.as_json()


METHODS: dict[str, Handler] = {
    "sendMessage": send_message,
    "sendDocument": send_document,
    "sendPhoto": send_photo,
    "editMessageText": edit_message_text,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "answerCallbackQuery": answer_callback_query,
    "sendChatAction": send_chat_action,
    "getChat": get_chat,
    "getFile": get_file,
}
