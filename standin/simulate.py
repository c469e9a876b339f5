"""What simulated users do: each action queues the Update Telegram would send the bot."""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Callable
from typing import Any

from standin.html_check import utf16_len
from standin.markup import inline_buttons, reply_buttons
from standin.media import (
    SAMPLE_OGG,
    SAMPLE_WEBP,
    document_json,
    image_size,
    photo_sides,
    sample_png,
)
from standin.models import PendingQuery, SimChat, SimUser
from standin.text import MAX_TEXT, command_entities
from standin.world import World

__all__ = ["Simulator"]

_SPECIAL_REPLY_BUTTONS = (
    "request_users",
    "request_chat",
    "request_location",
    "request_poll",
    "web_app",
)


class Simulator(World):
    """A World whose users can talk to the bot."""

    def send_text(self, user_id: int, text: str, *, chat_id: int | None = None) -> dict[str, Any]:
        """The user sends ``text`` (a leading /command gets a bot_command entity)."""
        if not text.strip() or utf16_len(text) > MAX_TEXT:
            raise ValueError("a user's text must be non-empty and at most 4096 characters")
        entities = command_entities(text)
        fields: dict[str, Any] = {"text": text}
        if entities:
            fields["entities"] = entities
        return self._user_message(user_id, chat_id, fields)

    def send_contact(
        self, user_id: int, phone_number: str, *, contact_user_id: int | None = None
    ) -> dict[str, Any]:
        """The user shares a contact (their own unless ``contact_user_id`` is given)."""
        owner = self.users.get(user_id if contact_user_id is None else contact_user_id)
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": owner.first_name if owner else str(contact_user_id),
            "user_id": user_id if contact_user_id is None else contact_user_id,
        }
        if owner is not None and owner.last_name:
            contact["last_name"] = owner.last_name
        return self._user_message(user_id, None, {"contact": contact})

    def send_sticker(self, user_id: int) -> dict[str, Any]:
        """The user sends a sticker."""
        file = self.store_file(SAMPLE_WEBP, folder="stickers", file_name=None, mime_type=None)
        sticker = {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "\N{THUMBS UP SIGN}",
            "file_size": len(file.content),
        }
        return self._user_message(user_id, None, {"sticker": sticker})

    def send_photo(
        self,
        user_id: int,
        content: bytes | None = None,
        *,
        caption: str | None = None,
        media_group_id: str | None = None,
    ) -> dict[str, Any]:
        """The user sends a photo (a small generated PNG unless ``content`` is given).
        As in Telegram, the update lists the photo in several sizes, smallest first
        (``media.photo_sides``), each its own file to getFile and download: the last
        is ``content`` itself, the smaller ones grey images of their size."""
        content = content or sample_png(8, 8)
        width, height = image_size(content) or (8, 8)
        sides = photo_sides(width, height)
        photo: list[dict[str, Any]] = []
        for index, (w, h) in enumerate(sides):
            data = content if index == len(sides) - 1 else sample_png(w, h)
            file = self.store_file(data, folder="photos", file_name=None, mime_type="image/jpeg")
            photo.append(
                {
                    "file_id": file.file_id,
                    "file_unique_id": file.file_unique_id,
                    "width": w,
                    "height": h,
                    "file_size": len(data),
                }
            )
        fields: dict[str, Any] = {"photo": photo}
        if caption:
            fields["caption"] = caption
        if media_group_id is not None:
            fields["media_group_id"] = media_group_id
        return self._user_message(user_id, None, fields)

    def send_album(
        self, user_id: int, contents: list[bytes], *, caption: str | None = None
    ) -> list[dict[str, Any]]:
        """The user sends several photos at once (an album, 2 to 10): one message per
        photo sharing a ``media_group_id``, the caption on the first, as Telegram
        delivers them."""
        if not 2 <= len(contents) <= 10:
            raise ValueError("an album holds 2 to 10 photos")
        group = f"{self.next_id():018d}"
        return [
            self.send_photo(
                user_id, content, caption=caption if index == 0 else None, media_group_id=group
            )
            for index, content in enumerate(contents)
        ]

    def send_voice(self, user_id: int) -> dict[str, Any]:
        """The user sends a voice message."""
        file = self.store_file(SAMPLE_OGG, folder="voice", file_name=None, mime_type="audio/ogg")
        voice = {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "duration": 1,
            "mime_type": "audio/ogg",
            "file_size": len(file.content),
        }
        return self._user_message(user_id, None, {"voice": voice})

    def send_document(
        self, user_id: int, file_name: str, content: bytes, *, caption: str | None = None
    ) -> dict[str, Any]:
        """The user sends a file."""
        mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        file = self.store_file(
            content, folder="documents", file_name=file_name, mime_type=mime_type
        )
        fields: dict[str, Any] = {"document": document_json(file)}
        if caption:
            fields["caption"] = caption
        return self._user_message(user_id, None, fields)

    def edit_text(
        self, user_id: int, message_id: int, new_text: str, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """The user edits one of their text messages (an edited_message update)."""
        chat = self.chat(user_id if chat_id is None else chat_id)
        message = chat.user_messages.get(message_id)
        if message is None or message["from"]["id"] != user_id or "text" not in message:
            raise ValueError(f"user {user_id} has no text message {message_id} in chat {chat.id}")
        message["text"] = new_text
        message.pop("entities", None)
        if entities := command_entities(new_text):
            message["entities"] = entities
        message["edit_date"] = int(time.time())
        self._queue("edited_message", message, chat)
        return message

    def press(
        self, user_id: int, message_id: int, callback_data: str, *, chat_id: int | None = None
    ) -> str:
        """The user presses an inline button of a bot message; returns the query id."""
        user = self._sender(user_id)
        chat = self.chat(user_id if chat_id is None else chat_id)
        message = chat.transcript.get(message_id)
        if message is None or message.deleted:
            raise ValueError(f"there is no bot message {message_id} in chat {chat.id}")
        datas = [b.get("callback_data") for b in inline_buttons(message.reply_markup)]
        if callback_data not in datas:
            raise ValueError(f"message {message_id} has no button with data {callback_data!r}")
        query_id = str(4_000_000_000_000 + self.next_id())
        self.pending_queries[query_id] = PendingQuery(query_id, chat.id)
        query = {
            "id": query_id,
            "from": user.as_json(),
            "message": self.message_json(chat, message),
            "chat_instance": str(abs(chat.id) * 7919 + 1),
            "data": callback_data,
        }
        self._queue("callback_query", query, chat)
        return query_id

    def press_text(
        self, user_id: int, button_text: str, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """The user presses a reply-keyboard button that is on screen: sends its text."""
        button = self._reply_button(user_id, chat_id, lambda b: b["text"] == button_text)
        if button.get("request_contact"):
            raise ValueError("this button shares the contact: call share_contact()")
        if any(button.get(kind) for kind in _SPECIAL_REPLY_BUTTONS):
            raise ValueError(f"button {button_text!r} is not supported by the stand-in")
        return self.send_text(user_id, button_text, chat_id=chat_id)

    def share_contact(self, user_id: int, phone_number: str) -> dict[str, Any]:
        """The user presses the on-screen request_contact button and shares their contact."""
        self._reply_button(user_id, None, lambda b: bool(b.get("request_contact")))
        return self.send_contact(user_id, phone_number)

    def _reply_button(
        self, user_id: int, chat_id: int | None, match: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        chat = self.chat(user_id if chat_id is None else chat_id)
        for button in reply_buttons(chat.reply_keyboard):
            if match(button):
                return button
        raise ValueError(f"no such reply keyboard button on screen in chat {chat.id}")

    def _sender(self, user_id: int) -> SimUser:
        user = self.user(user_id)
        if user.blocked:
            raise ValueError(f"user {user_id} blocked the bot; call unblock() first")
        return user

    def _user_message(
        self, user_id: int, chat_id: int | None, fields: dict[str, Any]
    ) -> dict[str, Any]:
        user = self._sender(user_id)
        chat = self.chat(user_id if chat_id is None else chat_id)
        message = {
            "message_id": chat.next_stamp(),
            "from": user.as_json(),
            "chat": chat.as_json(),
            "date": int(time.time()),
            **fields,
        }
        chat.user_messages[message["message_id"]] = message
        self._queue("message", message, chat)
        return message

    def _queue(self, kind: str, payload: dict[str, Any], chat: SimChat) -> None:
        self.updates.push(kind, dict(payload), chat.id)
        chat.touch()
