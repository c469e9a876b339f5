import pytest

from services.errors import InvalidInput
from services.phones import mask, normalize_contact, normalize_mobile


@pytest.mark.parametrize(
    "typed",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "86-13812345678",
        "0086 13812345678",
        "(+86) 138-1234-5678",
        "１３８１２３４５６７８",
        " 13812345678 ",
    ],
)
def test_mainland_forms_normalize(typed: str) -> None:
    assert normalize_mobile(typed) == "+8613812345678"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "1381234567",
        "138123456789",
        "12812345678",
        "23812345678",
        "abc",
        "+1 415 555 0100",
        "010-12345678",
        "86138123456789",
        "+86 10 1234 5678",
    ],
)
def test_other_input_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as error:
        normalize_mobile(typed)
    assert error.value.code == "phone_invalid"


def test_contact_keeps_foreign_numbers_international() -> None:
    assert normalize_contact("8613812345678") == "+8613812345678"
    assert normalize_contact("+852 9123 4567") == "+85291234567"
    with pytest.raises(InvalidInput):
        normalize_contact("12")


def test_mask_hides_the_middle() -> None:
    assert mask("+8613812345678") == "138****5678"
