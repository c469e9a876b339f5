"""Typed amounts read into integer fen, each refusal with its own reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.errors import InvalidInput
from services.money import check_fen, parse_fen, yuan, yuan_to_fen

CEILING = 500_000  # ¥5,000


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("50", 5_000),
        ("50.5", 5_050),
        ("50.50", 5_050),
        ("50.05", 5_005),
        ("0.01", 1),
        ("0.5", 50),
        (".5", 50),
        ("50.", 5_000),
        ("¥50", 5_000),
        ("￥50", 5_000),
        ("¥ 50", 5_000),
        ("50元", 5_000),
        ("50 元", 5_000),
        ("50块", 5_000),
        ("50块钱", 5_000),
        ("¥50元", 5_000),
        ("RMB 50", 5_000),
        ("50 yuan", 5_000),
        ("５０", 5_000),
        ("￥５０．５", 5_050),
        ("１，０００", 100_000),
        ("1,000", 100_000),
        ("1,000.25", 100_025),
        ("  50  ", 5_000),
        ("\t200\n", 20_000),
        ("+50", 5_000),
        ("050", 5_000),
        ("50.500", 5_050),  # three decimals, but exactly fen: no loss
        ("5000", 500_000),  # the ceiling itself
        ("4999.99", 499_999),
    ],
)
def test_accepted(typed: str, fen: int) -> None:
    result = parse_fen(typed, ceiling_fen=CEILING)
    assert result == fen
    assert type(result) is int


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "amount_empty"),
        ("   ", "amount_empty"),
        ("0", "amount_zero"),
        ("0.00", "amount_zero"),
        ("¥0", "amount_zero"),
        ("-0", "amount_zero"),
        ("-50", "amount_negative"),
        ("－50", "amount_negative"),  # full-width minus
        ("¥-50", "amount_negative"),
        ("−5", "amount_negative"),  # the minus sign
        ("50.505", "amount_too_precise"),
        ("0.001", "amount_too_precise"),
        ("5000.01", "amount_above_ceiling"),
        ("10000", "amount_above_ceiling"),
        ("1,000,000", "amount_above_ceiling"),
        ("abc", "amount_unreadable"),
        ("五十", "amount_unreadable"),
        ("50元5角", "amount_unreadable"),
        ("1,00", "amount_unreadable"),
        ("1000,000", "amount_unreadable"),
        ("5e3", "amount_unreadable"),
        ("NaN", "amount_unreadable"),
        ("Infinity", "amount_unreadable"),
        ("50 50", "amount_unreadable"),
        ("1.2.3", "amount_unreadable"),
        ("¥¥50", "amount_unreadable"),
        ("٥٠", "amount_unreadable"),  # Arabic-Indic digits
        (".", "amount_unreadable"),
        ("¥", "amount_unreadable"),
        ("9" * 60, "amount_unreadable"),
        ("/pledge", "amount_unreadable"),
    ],
)
def test_refused_with_reason(typed: str, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_fen(typed, ceiling_fen=CEILING)
    assert caught.value.code == code


def test_above_ceiling_names_the_ceiling() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_fen("20.01", ceiling_fen=2_000)
    assert caught.value.params == {"ceiling_fen": 2_000}
    assert parse_fen("20", ceiling_fen=2_000) == 2_000


def test_many_digits_are_not_rounded_into_range() -> None:
    # 30 significant digits: far above the ceiling, never rounded to something valid.
    with pytest.raises(InvalidInput) as caught:
        parse_fen("12345678901234567890123456.001", ceiling_fen=CEILING)
    assert caught.value.code in ("amount_too_precise", "amount_above_ceiling")


def test_quick_amounts_are_held_to_the_same_rules() -> None:
    assert check_fen(5_000, ceiling_fen=CEILING) == 5_000
    for fen, code in (
        (0, "amount_zero"),
        (-1, "amount_negative"),
        (CEILING + 1, "amount_above_ceiling"),
    ):
        with pytest.raises(InvalidInput) as caught:
            check_fen(fen, ceiling_fen=CEILING)
        assert caught.value.code == code


def test_fen_to_yuan_is_exact() -> None:
    assert yuan(5_050) == Decimal("50.50")
    assert yuan(1) == Decimal("0.01")
    assert yuan(123_456_789_012) == Decimal("1234567890.12")
    assert yuan_to_fen(5_000) == 500_000
