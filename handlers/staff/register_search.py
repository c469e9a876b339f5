"""The register's search: the words typed (part of a name, the phone's last digits,
a skill in either language, a star level) read into a ``Search``, said back in a
message or a spreadsheet's title, and kept in the dialog data, where it holds for
every station's register until cleared or another /volunteers."""

from __future__ import annotations

from aiogram import html
from aiogram.fsm.context import FSMContext
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from services import register
from services.errors import DomainError
from services.register import Search
from ui import labels
from ui.format import join
from ui.settings import Settings

# The search in force (typed text) in the dialog data.
SEARCH_KEY = "register_search"


def skill_words() -> dict[str, str]:
    """Skill codes and their names in both languages, as words of a search."""
    words = register.skill_codes()
    i18n = get_i18n()
    for locale in i18n.available_locales:
        with i18n.use_locale(locale):
            words.update({str(name).lower(): code for code, name in labels.SKILLS.items()})
    return words


def parse(text: str, settings: Settings) -> Search:
    return register.parse_search(text, skill_words(), len(settings.star_thresholds))


def search_text(search: Search, *, markup: bool = True) -> str:
    parts = []
    if search.name:
        parts.append(html.quote(search.name) if markup else search.name)
    if search.phone_tail:
        parts.append(_("phone ending {digits}").format(digits=search.phone_tail))
    if search.skill:
        parts.append(str(labels.SKILLS[search.skill]))
    if search.stars is not None:
        parts.append(_("{stars}★").format(stars=search.stars))
    return join(parts)


async def saved_search(state: FSMContext, settings: Settings) -> Search:
    """The search in force, if any."""
    saved = (await state.get_data()).get(SEARCH_KEY)
    if not isinstance(saved, str) or not saved:
        return register.NO_SEARCH
    try:
        return parse(saved, settings)
    except DomainError:
        return register.NO_SEARCH


async def keep_search(state: FSMContext, text: str | None) -> None:
    await state.update_data({SEARCH_KEY: text or None})
