"""Money as people type it, read into integer fen (1 yuan = 100 fen) with Decimal,
never float. Accepted: ``50``, ``50.5``, ``50.50``, ``¥50``, ``￥50``, ``50元``,
``50块``, ``50块钱``, ``RMB 50``, full-width digits, ``1,000`` (thousands grouped by
three), spaces around. Each refusal is an ``InvalidInput`` with its own code:

- ``amount_empty``: nothing typed
- ``amount_unreadable``: not a number (letters, Chinese numerals, ``1,00``, ``5e3``)
- ``amount_negative``: below zero
- ``amount_too_precise``: more than two decimals (``50.505``; ``50.500`` is fine)
- ``amount_zero``: zero
- ``amount_above_ceiling``: more than the ceiling (param ``ceiling_fen``)
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation, localcontext

from services.errors import InvalidInput

FEN_PER_YUAN = 100
_MAX_TEXT = 40
# After NFKC: full-width digits, ￥ and ，．are their ASCII forms already.
_PREFIXES = ("¥", "rmb", "cny")
_SUFFIXES = ("块钱", "元整", "元", "块", "圆", "rmb", "cny", "yuan")
_MINUS = ("-", "−", "–", "—")
_NUMBER = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d*)?")


def _strip_marks(text: str) -> str:
    """Take off one currency mark before and one unit after, with spaces around."""
    lowered = text.lower()
    for prefix in _PREFIXES:
        if lowered.startswith(prefix):
            text, lowered = text[len(prefix) :].strip(), lowered[len(prefix) :].strip()
            break
    for suffix in _SUFFIXES:
        if lowered.endswith(suffix):
            text = text[: len(text) - len(suffix)].strip()
            break
    return text


def parse_fen(text: str, *, ceiling_fen: int) -> int:
    """A typed amount in yuan as integer fen, more than zero and at most
    ``ceiling_fen``; raises ``InvalidInput`` with the reason (see the module)."""
    cleaned = unicodedata.normalize("NFKC", text or "").strip()
    if not cleaned:
        raise InvalidInput("amount_empty")
    if len(cleaned) > _MAX_TEXT:
        raise InvalidInput("amount_unreadable")
    negative = False
    if cleaned.startswith(_MINUS):  # -50, -¥50
        negative, cleaned = True, cleaned[1:].strip()
    cleaned = _strip_marks(cleaned)
    if cleaned.startswith(_MINUS):  # ¥-50
        negative, cleaned = True, cleaned[1:].strip()
    if cleaned.startswith("+"):
        cleaned = cleaned[1:].strip()
    if not cleaned or not any(c.isdigit() for c in cleaned):
        raise InvalidInput("amount_unreadable")
    if not cleaned.isascii() or _NUMBER.fullmatch(cleaned) is None:
        raise InvalidInput("amount_unreadable")
    with localcontext() as exact:
        exact.prec = 2 * _MAX_TEXT  # no rounding for anything this short
        try:
            value = Decimal(cleaned.replace(",", ""))
        except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numbers
            raise InvalidInput("amount_unreadable") from exc
        fen = value * FEN_PER_YUAN
    if negative and value != 0:
        raise InvalidInput("amount_negative")
    if fen != fen.to_integral_value():
        raise InvalidInput("amount_too_precise")
    if fen == 0:
        raise InvalidInput("amount_zero")
    if fen > ceiling_fen:
        raise InvalidInput("amount_above_ceiling", ceiling_fen=ceiling_fen)
    return int(fen)


def check_fen(fen: int, *, ceiling_fen: int) -> int:
    """An amount already in fen (a quick button), held to the same rules."""
    if fen < 0:
        raise InvalidInput("amount_negative")
    if fen == 0:
        raise InvalidInput("amount_zero")
    if fen > ceiling_fen:
        raise InvalidInput("amount_above_ceiling", ceiling_fen=ceiling_fen)
    return fen


def yuan(fen: int) -> Decimal:
    """Fen as an exact Decimal of yuan, for formatting: 5050 -> Decimal('50.50')."""
    return (Decimal(fen) / FEN_PER_YUAN).quantize(Decimal("0.01"))


def yuan_to_fen(amount: int) -> int:
    """Whole yuan (the ceiling setting) in fen."""
    return amount * FEN_PER_YUAN
