"""Keyboards of the registration and profile dialogs."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TypeVar

from aiogram.types import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from services.volunteers import SKILLS
from storage.models import AgeGroup, StationLevel
from ui import labels
from ui.callbacks import (
    AgeCb,
    ConsentCb,
    EraseCb,
    LanguageCb,
    ProfileCb,
    SkillCb,
    SummaryCb,
)
from ui.keyboards.builder import InlineKeyboardBuilder

Markup = TypeVar("Markup", InlineKeyboardMarkup, ReplyKeyboardMarkup)


def per_locale(build: Callable[[], Markup]) -> Callable[[], Markup]:
    """A keyboard that depends only on the language is built once per language
    (aiogram's builder deep-copies every button, which adds up on busy days)."""
    built: dict[str, Markup] = {}

    @functools.wraps(build)
    def cached() -> Markup:
        locale = get_i18n().current_locale
        if locale not in built:
            built[locale] = build()
        return built[locale]

    return cached


# Where one may live: a street, or a community.
PICKABLE = (StationLevel.STREET, StationLevel.COMMUNITY)


def languages(current: str | None = None) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code, name in labels.LANGUAGES.items():
        kb.button(
            text=("✓ " if code == current else "") + name, callback_data=LanguageCb(code=code)
        )
    kb.adjust(2)
    return kb.as_markup()


@per_locale
def share_phone() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder=_("or type 11 digits"),
    )


def skills(chosen: Sequence[str]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code in SKILLS:
        mark = "✅ " if code in chosen else ""
        kb.button(text=mark + str(labels.SKILLS[code]), callback_data=SkillCb(code=code))
    kb.button(text=_("Done ➡️"), callback_data=SkillCb(code="done"))
    kb.adjust(*([2] * (len(SKILLS) // 2)), 1)
    return kb.as_markup()


@per_locale
def age_groups() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for group in AgeGroup:
        kb.button(text=str(labels.AGE_GROUPS[group]), callback_data=AgeCb(group=group.value))
    kb.adjust(1)
    return kb.as_markup()


@per_locale
def guardian_consent() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ My guardian agrees"), callback_data=ConsentCb(what="guardian_yes"))
    return kb.as_markup()


@per_locale
def privacy() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ I agree"), callback_data=ConsentCb(what="privacy_yes"))
    kb.button(text=_("✖️ I do not agree"), callback_data=ConsentCb(what="privacy_no"))
    kb.adjust(1)
    return kb.as_markup()


def _edit_buttons(kb: InlineKeyboardBuilder, factory: type[SummaryCb] | type[ProfileCb]) -> None:
    kb.button(text=_("✏️ Name"), callback_data=factory(action="name"))
    kb.button(text=_("✏️ Phone"), callback_data=factory(action="phone"))
    kb.button(text=_("✏️ Station"), callback_data=factory(action="station"))
    kb.button(text=_("✏️ Skills"), callback_data=factory(action="skills"))
    kb.button(text=_("✏️ Age group"), callback_data=factory(action="age"))


@per_locale
def summary() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Confirm and register"), callback_data=SummaryCb(action="ok"))
    _edit_buttons(kb, SummaryCb)
    kb.button(text=_("✖️ Cancel"), callback_data=SummaryCb(action="cancel"))
    kb.adjust(1, 2, 2, 1, 1)
    return kb.as_markup()


@per_locale
def profile() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    _edit_buttons(kb, ProfileCb)
    kb.button(text=_("🌐 Language"), callback_data=ProfileCb(action="lang"))
    kb.adjust(2, 2, 2)
    return kb.as_markup()


@per_locale
def erase() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🗑 Yes, erase my data"), callback_data=EraseCb(confirm=True))
    kb.button(text=_("Keep my data"), callback_data=EraseCb(confirm=False))
    kb.adjust(1)
    return kb.as_markup()
