"""A local stand-in of the Telegram Bot API for end-to-end tests, benchmarks and the sandbox."""

from standin.html_check import EntityParseError, check_html, parse_html
from standin.models import SentDocument, SentMessage
from standin.server import DOWNLOAD, BotAPIStandin

__all__ = [
    "DOWNLOAD",
    "BotAPIStandin",
    "EntityParseError",
    "SentDocument",
    "SentMessage",
    "check_html",
    "parse_html",
]
