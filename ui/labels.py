"""Translated names for the domain's enumerations, shown to people."""

from __future__ import annotations

from aiogram.utils.i18n import lazy_gettext as __

from storage.models import (
    ActivityKind,
    AgeGroup,
    RoleKind,
    Station,
    StationLevel,
    TargetGroup,
    VolunteerStatus,
)

SKILLS = {
    "first_aid": __("First aid"),
    "tutoring": __("Tutoring"),
    "elder_care": __("Caring for older people"),
    "counseling": __("Psychological support"),
    "legal": __("Legal advice"),
    "computer": __("Computers and phones"),
    "arts": __("Arts and performance"),
    "photography": __("Photography and publicity"),
    "driving": __("Driving"),
    "repair": __("Household repairs"),
    "sign_language": __("Sign language"),
    "foreign_language": __("Foreign languages"),
}

AGE_GROUPS = {
    AgeGroup.UNDER_14: __("Under 14"),
    AgeGroup.TEEN: __("14 to 17"),
    AgeGroup.YOUNG: __("18 to 35"),
    AgeGroup.MIDDLE: __("36 to 59"),
    AgeGroup.SENIOR: __("60 or over"),
}

LEVELS = {
    StationLevel.CITY: __("city"),
    StationLevel.DISTRICT: __("district"),
    StationLevel.STREET: __("street or town"),
    StationLevel.COMMUNITY: __("community"),
}

ROLES = {
    RoleKind.STAFF: __("station staff"),
    RoleKind.COORDINATOR: __("coordinator"),
}

STATUSES = {
    VolunteerStatus.ACTIVE: __("active"),
    VolunteerStatus.PENDING: __("waiting for the station's approval"),
    VolunteerStatus.DECLINED: __("not approved"),
}

KINDS = {
    ActivityKind.HOME_VISIT: __("Home visits"),
    ActivityKind.GARBAGE_SORTING: __("Garbage sorting"),
    ActivityKind.POLICY_PROMOTION: __("Policy promotion"),
    ActivityKind.ELDER_CARE: __("Elder care"),
    ActivityKind.CHILD_CARE: __("Child care"),
    ActivityKind.DISABILITY_SUPPORT: __("Disability support"),
    ActivityKind.CLEANUP: __("Environment clean-up"),
    ActivityKind.OTHER: __("Other"),
}

TARGETS = {
    TargetGroup.ELDERLY: __("the elderly"),
    TargetGroup.CHILDREN: __("children"),
    TargetGroup.FAMILIES_IN_DIFFICULTY: __("families in difficulty"),
    TargetGroup.DISABLED: __("people with disabilities"),
    TargetGroup.GENERAL_PUBLIC: __("the general public"),
}

# Language names are written in their own language, the same in every locale.
LANGUAGES = {"zh_CN": "中文", "en": "English"}


def station_name(station: Station | object, locale: str) -> str:
    """The station's English name in English where it has one, else its name."""
    name_en = getattr(station, "name_en", None)
    if locale == "en" and name_en:
        return str(name_en)
    return str(getattr(station, "name", ""))
