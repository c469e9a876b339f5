"""Mainland China mobile numbers, as people type them."""

from __future__ import annotations

import re

from services.errors import InvalidInput

_SEPARATORS = re.compile(r"[\s\-().\u3000\u2010-\u2015\uff0d]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋", "0123456789+")


def normalize_mobile(text: str) -> str:
    """Return ``+86`` and the 11 digits, or raise ``InvalidInput('phone_invalid')``.

    Accepts 13812345678, 138 1234 5678, 138-1234-5678, +86 138 1234 5678,
    86-13812345678, 0086 13812345678 and full-width digits.
    """
    digits = _SEPARATORS.sub("", text.translate(_FULLWIDTH_DIGITS))
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    if not _MOBILE.fullmatch(digits):
        raise InvalidInput("phone_invalid")
    return "+86" + digits


def normalize_contact(phone_number: str) -> str:
    """A number shared with Telegram's contact button: mainland numbers are
    normalized; numbers from elsewhere are kept in international form."""
    try:
        return normalize_mobile(phone_number)
    except InvalidInput:
        digits = re.sub(r"\D", "", phone_number)
        if not 7 <= len(digits) <= 15:
            raise
        return "+" + digits


def mask(phone: str) -> str:
    """+8613812345678 -> 138****5678, for lists other people see."""
    local = phone.removeprefix("+86")
    if len(local) < 7:
        return "*" * len(local)
    return local[:3] + "*" * (len(local) - 7) + local[-4:]
