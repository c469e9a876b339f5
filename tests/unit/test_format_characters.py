"""Unicode format characters (category Cf: right-to-left overrides, zero-width spaces
and joiners, invisible separators) never reach a stored name, title or place: they
are taken out, and what is left must still be a name, a title or a place."""

from __future__ import annotations

import unicodedata

import pytest

from services import activity_draft, volunteers
from services.errors import InvalidInput

RLO, PDF, ZWSP, ZWJ, BOM, WJ = "\u202e", "\u202c", "\u200b", "\u200d", "\ufeff", "\u2060"
INVISIBLE = [RLO, PDF, ZWSP, ZWJ, BOM, WJ, "\u200e", "\u2066", "\u00ad", "\U000e0041"]


def visible(text: str) -> bool:
    return not any(unicodedata.category(ch) == "Cf" for ch in text)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (f"{RLO}王小明{PDF}", "王小明"),
        (f"王{ZWSP}小{ZWJ}明", "王小明"),
        (f"{BOM}Li{WJ} Lei", "Li Lei"),
        (f"Ann{RLO}exe.gpj", "Annexe.gpj"),
    ],
)
def test_names_lose_format_characters(typed: str, stored: str) -> None:
    assert volunteers.clean_name(typed) == stored


def test_a_name_of_format_characters_only_is_too_short() -> None:
    with pytest.raises(InvalidInput) as caught:
        volunteers.clean_name("".join(INVISIBLE) + "李")
    assert caught.value.code == "name_too_short"


@pytest.mark.parametrize("clean", [activity_draft.clean_title, activity_draft.clean_place])
def test_titles_and_places_lose_format_characters(clean: object) -> None:
    assert callable(clean)
    assert clean(f"周六{ZWSP}垃圾{RLO}分类{PDF}督导") == "周六垃圾分类督导"
    with pytest.raises(InvalidInput):
        clean("".join(INVISIBLE))


def test_descriptions_lose_them_and_keep_their_lines() -> None:
    typed = f"带好手套{ZWSP}\n{RLO}注意安全\n\n\n结束后合影{BOM}"
    assert activity_draft.clean_description(typed) == "带好手套\n注意安全\n\n结束后合影"


@pytest.mark.parametrize("char", INVISIBLE)
def test_every_kind_is_taken_out(char: str) -> None:
    assert visible(volunteers.clean_name(f"张{char}三"))
    assert visible(activity_draft.clean_title(f"敬老{char}活动"))
    assert visible(activity_draft.clean_place(f"西园{char}新村"))
