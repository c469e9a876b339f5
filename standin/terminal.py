"""A terminal chat client: a person talks to the bot through the stand-in.

Type a message and press Enter. Buttons are shown numbered, ``[1]``, ``[2]`` ...: a
bare number presses that button of the bot's last message, unless the bot is waiting
for typed text (it asked a question: then the number is the answer) or its last
message has no buttons. ``#2`` presses button 2 of the latest message with buttons in
any case; a leading backslash sends the rest literally (``\\42``). ``/quit`` or
Ctrl-D ends the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

from standin.markup import inline_buttons, reply_buttons
from standin.media import image_size
from standin.models import SentMessage
from standin.server import BotAPIStandin
from standin.text import utf16_slice

__all__ = ["DEFAULT_DOWNLOADS", "AwaitingText", "InputFunc", "run_terminal"]

InputFunc = Callable[[str], Awaitable[str]]
"""Shows a prompt and returns one line; raises EOFError at the end of input."""
AwaitingText = Callable[[], Awaitable[bool]]
"""Whether the bot waits for the person to type an answer (the sandbox asks the bot's
dialog state); a number typed then is the answer, not a button."""

DEFAULT_DOWNLOADS = Path("data/sandbox-downloads")
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"
_CALLBACK_WAIT = 15.0
_PICK = re.compile(r"#\s*(\d+)")


async def run_terminal(
    standin: BotAPIStandin,
    *,
    user_id: int,
    input_func: InputFunc | None = None,
    output: TextIO = sys.stdout,
    download_dir: Path | str = DEFAULT_DOWNLOADS,
    awaiting_text: AwaitingText | None = None,
) -> None:
    """Chat with the bot as ``user_id`` (who must exist) until /quit or end of input.
    ``awaiting_text``: asked before a bare number is taken as a button."""
    view = _ChatView(standin, user_id, output, Path(download_dir), awaiting_text)
    read = input_func or read_stdin
    follower = asyncio.create_task(view.follow())
    try:
        while True:
            try:
                line = (await view.ask(read, "> ")).strip()
            except EOFError:
                break
            if line == "/quit":
                break
            if line:
                await view.act(line, read)
    finally:
        follower.cancel()
        for task in (follower, *view.tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        view.show_changes()


async def read_stdin(prompt: str) -> str:
    """input() in a daemon thread, so the event loop keeps running (and exiting)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def deliver(result: str | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result or "")

    def worker() -> None:
        try:
            line, error = input(prompt), None
        except BaseException as caught:  # EOFError, KeyboardInterrupt...
            line, error = None, caught
        with contextlib.suppress(RuntimeError):  # the loop may be closed already
            loop.call_soon_threadsafe(deliver, line, error)

    threading.Thread(target=worker, daemon=True).start()
    return await future


class _ChatView:
    """Renders the bot's side of the private chat and turns typed lines into user actions."""

    def __init__(
        self,
        standin: BotAPIStandin,
        user_id: int,
        out: TextIO,
        downloads: Path,
        awaiting_text: AwaitingText | None = None,
    ):
        standin.user(user_id)  # fail early for an unknown user
        self.awaiting_text = awaiting_text
        self.standin = standin
        self.user_id = user_id
        self.out = out
        self.downloads = downloads
        self.tty = out.isatty()
        self.seen = standin.mark(user_id)
        self.prompt: str | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def ask(self, read: InputFunc, prompt: str) -> str:
        self.prompt = prompt
        try:
            return await read(prompt)
        finally:
            self.prompt = None

    async def follow(self) -> None:
        """Print bot messages and edits as they happen."""
        while True:
            try:
                await self.standin.wait_for_message(self.user_id, after=self.seen, timeout=3600)
            except TimeoutError:
                continue
            self.show_changes()

    def show_changes(self) -> None:
        changes = self.standin.changes(self.user_id, self.seen)
        if not changes:
            return
        self.seen = changes[-1].stamp
        lines: list[str] = []
        for message in changes:
            if not message.deleted:
                lines.extend(self.render(message))
        self.write(lines)

    def write(self, lines: list[str]) -> None:
        if not lines:
            return
        if self.prompt is not None and self.tty:
            self.out.write("\r\x1b[K")
        elif self.prompt is not None:
            self.out.write("\n")
        self.out.write("\n".join(lines) + "\n")
        if self.prompt is not None:
            self.out.write(self.prompt)
        self.out.flush()

    def render(self, message: SentMessage) -> list[str]:
        marker = "↻" if message.edits else "←"
        head = f"#{message.message_id} {marker} "
        body: list[str] = []
        if message.document is not None:
            body.append(f"📎 {self.save(message, message.document.file_name)}")
        if message.photo is not None:
            body.append(f"🖼 {self.save(message, 'photo' + _image_suffix(message.photo))}")
        if message.plain_text:
            body.extend(self.styled(message).split("\n"))
        lines = [head + body[0] if body else head.rstrip()]
        lines.extend(" " * len(head) + line for line in body[1:])
        return lines + self.render_buttons(message)

    def render_buttons(self, message: SentMessage) -> list[str]:
        markup = message.reply_markup
        rows: list[list[dict[str, Any]]] = []
        prefix = "  "
        if inline_buttons(markup) and markup is not None:
            rows = markup["inline_keyboard"]
        elif reply_buttons(markup) and markup is not None:
            rows, prefix = markup["keyboard"], "  ⌨ "
        lines, number = [], 0
        for row in rows:
            cells = []
            for button in row:
                number += 1
                cells.append(f"[{number}] {_label(button)}")
            lines.append(prefix + "  ".join(cells))
        return lines

    def styled(self, message: SentMessage) -> str:
        text = message.plain_text
        if not self.tty:
            return text
        marks: list[tuple[int, str]] = []
        for entity in message.entities:
            if entity["type"] == "bold":
                start, end = utf16_slice(text, entity["offset"], entity["length"])
                marks += [(start, _BOLD), (end, _RESET)]
        for index, code in sorted(marks, key=lambda mark: mark[0], reverse=True):
            text = text[:index] + code + text[index:]
        return text

    def save(self, message: SentMessage, name: str) -> Path:
        content = message.document.content if message.document else message.photo or b""
        self.downloads.mkdir(parents=True, exist_ok=True)
        path = self.downloads / f"{message.message_id}-{Path(name).name or 'file'}"
        path.write_bytes(content)
        return path

    def latest_with_buttons(self) -> tuple[SentMessage, list[dict[str, Any]]] | None:
        """The buttons ``#N`` picks from: the latest message that has any."""
        keyboard = self.standin.chat(self.user_id).reply_keyboard
        for message in reversed(self.standin.messages(self.user_id)):
            if message.deleted:
                continue
            if buttons := inline_buttons(message.reply_markup):
                return message, buttons
            if keyboard is not None and message.reply_markup is keyboard:
                return message, reply_buttons(keyboard)
        return None

    def buttons_in_view(self) -> tuple[SentMessage, list[dict[str, Any]]] | None:
        """The buttons a bare number picks from: those of the bot's last message, or
        the reply keyboard still shown under it."""
        last = self.standin.last_message(self.user_id)
        if last is None:
            return None
        if buttons := inline_buttons(last.reply_markup):
            return last, buttons
        keyboard = self.standin.chat(self.user_id).reply_keyboard
        return (last, reply_buttons(keyboard)) if keyboard is not None else None

    async def act(self, line: str, read: InputFunc) -> None:
        try:
            if not await self.press(line, read):
                self.standin.send_text(self.user_id, line.removeprefix("\\") or line)
        except ValueError as error:
            self.write([f"! {error}"])

    async def press(self, line: str, read: InputFunc) -> bool:
        """Act on a button number; False if ``line`` is to be sent as text."""
        if picked := _PICK.fullmatch(line):
            found = self.latest_with_buttons()
            number = int(picked.group(1))
            if found is None or not 1 <= number <= len(found[1]):
                raise ValueError(f"no button [{number}] to press")
        elif line.isdigit():
            found = self.buttons_in_view()
            number = int(line)
            if found is None or not 1 <= number <= len(found[1]):
                return False
            if self.awaiting_text is not None and await self.awaiting_text():
                return False  # the bot asked for a number: this is the answer
        else:
            return False
        message, buttons = found
        button = buttons[number - 1]
        if inline_buttons(message.reply_markup):
            self.press_inline(message, button)
        elif button.get("request_contact"):
            phone = (await self.ask(read, "phone: ")).strip()
            self.standin.share_contact(self.user_id, phone)
        else:
            self.standin.press_text(self.user_id, button["text"])
        return True

    def press_inline(self, message: SentMessage, button: dict[str, Any]) -> None:
        if "url" in button:
            self.write([f"  ↗ {button['url']}"])
            return
        if "callback_data" not in button:
            raise ValueError("this button is not supported by the terminal")
        query_id = self.standin.press(self.user_id, message.message_id, button["callback_data"])
        task = asyncio.create_task(self.show_answer(query_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def show_answer(self, query_id: str) -> None:
        try:
            text, alert = await self.standin.wait_callback_answer(query_id, _CALLBACK_WAIT)
        except TimeoutError:
            self.write([f"! {query_id} ⌛"])
            return
        if text:
            self.write([f"{'‼' if alert else '·'} {text}"])


def _label(button: dict[str, Any]) -> str:
    text = str(button["text"])
    if button.get("request_contact"):
        return f"☎ {text}"
    if "url" in button:
        return f"{text} ↗"
    return text


def _image_suffix(content: bytes) -> str:
    if content.startswith(b"\x89PNG"):
        return ".png"
    return ".jpg" if image_size(content) is not None else ".bin"
