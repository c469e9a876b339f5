"""The translation catalogs, ``<lang>/LC_MESSAGES/messages.po``, shipped as package
data and read through ``importlib.resources`` (see ``ui.i18n``)."""
