"""Translations straight from the .po catalogs, so a fresh clone needs no compile step.
The catalogs are package data of ``locales`` and are read through importlib.resources,
so an installed wheel finds them whatever the working directory."""

from __future__ import annotations

import gettext
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from importlib.resources.abc import Traversable
from io import BytesIO

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from ui.settings import SUPPORTED_LOCALES

DOMAIN = "messages"


class MissingCatalog(Exception):
    """A language the bot speaks has no catalog where the package keeps it: the
    installation is incomplete."""

    def __init__(self, name: str, place: Traversable) -> None:
        super().__init__(
            f"translation catalog locales/{name} is missing (looked in {place}); reinstall the bot"
        )
        self.name = name


def catalogs() -> Traversable:
    """The ``locales`` package: ``<lang>/LC_MESSAGES/messages.po`` for each language."""
    return resources.files("locales")


class CatalogI18n(I18n):
    """aiogram's I18n, reading ``<lang>/LC_MESSAGES/<domain>.po`` through Babel, for
    each language the bot speaks."""

    def __init__(
        self,
        *,
        default_locale: str,
        place: Traversable | None = None,
        languages: Sequence[str] = SUPPORTED_LOCALES,
        domain: str = DOMAIN,
    ) -> None:
        self.place = place if place is not None else catalogs()
        self.languages = tuple(languages)
        # aiogram keeps ``path`` for its own .mo loader, which find_locales replaces.
        super().__init__(path=str(self.place), default_locale=default_locale, domain=domain)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for language in self.languages:
            name = f"{language}/LC_MESSAGES/{self.domain}.po"
            po_file = self.place.joinpath(language, "LC_MESSAGES", f"{self.domain}.po")
            if not po_file.is_file():
                raise MissingCatalog(name, self.place)
            catalog = read_po(BytesIO(po_file.read_bytes()), locale=language)
            buffer = BytesIO()
            write_mo(buffer, catalog, use_fuzzy=False)
            buffer.seek(0)
            translations[language] = gettext.GNUTranslations(buffer)
        return translations

    @contextmanager
    def context(self) -> Iterator[I18n]:
        # ContextInstanceMixin keeps one context variable per class, and aiogram's
        # gettext reads I18n's: register there, not under this subclass.
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)


def make_i18n(default_locale: str, place: Traversable | None = None) -> CatalogI18n:
    return CatalogI18n(default_locale=default_locale, place=place)
