"""Placeholder: filled in by the change that adds this feature."""

from aiogram import Router


def make_router() -> Router:
    return Router(name="settings_menu")
