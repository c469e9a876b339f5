"""The command menu, in every language we speak."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

# Telegram matches the menu to the client's language by its two-letter code.
MENU_LANGUAGES = {"zh_CN": "zh", "en": "en"}


def menu() -> list[BotCommand]:
    return [
        BotCommand(command="start", description=_("Register or start over")),
        BotCommand(command="activities", description=_("Upcoming activities")),
        BotCommand(command="my", description=_("Your activities")),
        BotCommand(command="checkin", description=_("Check in at an activity")),
        BotCommand(command="hours", description=_("Your service hours")),
        BotCommand(command="certificate", description=_("A service certificate")),
        BotCommand(command="pledge", description=_("Pledge a small donation")),
        BotCommand(command="settings", description=_("Settings")),
        BotCommand(command="profile", description=_("Your profile")),
        BotCommand(command="language", description=_("Change language")),
        BotCommand(command="help", description=_("What you can do")),
        BotCommand(command="mydata", description=_("A copy of your data")),
        BotCommand(command="delete_me", description=_("Erase your data")),
        BotCommand(command="cancel", description=_("Leave the current dialog")),
    ]


async def set_menus(bot: Bot, i18n: I18n) -> None:
    """The menu for Chinese and English clients, and the default for all others."""
    targets = [*MENU_LANGUAGES.items(), (i18n.default_locale, None)]
    for locale, code in targets:
        with i18n.context(), i18n.use_locale(locale):
            commands = menu()
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)


async def set_chat_menu(bot: Bot, chat_id: int) -> None:
    """A user who picked a language other than their client's gets the menu in it."""
    await bot.set_my_commands(menu(), scope=BotCommandScopeChat(chat_id=chat_id))
