"""Translations straight from the .po catalogs, so a fresh clone needs no compile step."""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


class CatalogI18n(I18n):
    """aiogram's I18n, reading ``locales/<lang>/LC_MESSAGES/<domain>.po`` through Babel."""

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        translations: dict[str, gettext.GNUTranslations] = {}
        for folder in sorted(self.path.iterdir()):
            po_path = folder / "LC_MESSAGES" / f"{self.domain}.po"
            if not po_path.is_file():
                continue
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, locale=folder.name)
            buffer = BytesIO()
            write_mo(buffer, catalog, use_fuzzy=False)
            buffer.seek(0)
            translations[folder.name] = gettext.GNUTranslations(buffer)
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


def make_i18n(default_locale: str, path: Path = LOCALES_DIR) -> CatalogI18n:
    return CatalogI18n(path=path, default_locale=default_locale, domain="messages")
