import pytest

from services.errors import InvalidInput
from services.volunteers import Draft, check_age_group, check_skills, clean_name
from storage.models import AgeGroup


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("王小明", "王小明"),
        ("  王  小明 ", "王 小明"),
        ("Tom Jerry", "Tom Jerry"),
        ("阿卜杜·热合曼", "阿卜杜·热合曼"),
        ("<b>Tom & Jerry</b>", "<b>Tom & Jerry</b>"),
        ("Anne-Marie\n", "Anne-Marie"),
    ],
)
def test_names_are_tidied_not_mangled(typed: str, kept: str) -> None:
    assert clean_name(typed) == kept


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("王", "name_too_short"),
        ("", "name_too_short"),
        ("张" * 41, "name_too_long"),
        ("李雷123", "name_has_digits"),
        ("!!!", "name_no_letters"),
    ],
)
def test_bad_names_say_why(typed: str, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        clean_name(typed)
    assert error.value.code == code


def test_under_14_cannot_register_themselves() -> None:
    with pytest.raises(InvalidInput) as error:
        check_age_group("under_14")
    assert error.value.code == "age_under_14"
    assert check_age_group("14_17") is AgeGroup.TEEN


def test_skills_keep_catalog_order_and_refuse_unknown() -> None:
    assert check_skills(["driving", "first_aid"]) == ["first_aid", "driving"]
    with pytest.raises(InvalidInput):
        check_skills(["juggling"])


def test_teen_draft_needs_guardian_steps() -> None:
    draft = Draft(
        real_name="王小明",
        phone="+8613812345678",
        station_id=1,
        age_group="14_17",
        privacy_consent=True,
    )
    assert draft.missing() == ["guardian_name", "guardian_phone", "guardian_consent"]
    draft.age_group = "18_35"
    assert draft.missing() == []
