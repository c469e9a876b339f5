"""The person's own account: /cancel and /help (which work inside any dialog), the
language, the profile, a copy of their data and its erasure."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter

from handlers.account.help import cancel, show_help
from handlers.account.language import choose_language, language_set
from handlers.account.my_data import ask_erase, erase, my_data
from handlers.account.profile import edit_profile, show_profile
from ui.callbacks import EraseCb, LanguageCb, ProfileCb
from ui.states import Erasure


def make_router() -> Router:
    router = Router(name="account")
    router.message.filter(F.chat.type == "private")
    router.message.register(cancel, Command("cancel"))
    router.message.register(show_help, Command("help"))
    router.message.register(choose_language, Command("language"))
    router.callback_query.register(language_set, StateFilter(None), LanguageCb.filter())
    router.message.register(show_profile, Command("profile"))
    router.callback_query.register(edit_profile, ProfileCb.filter())
    router.message.register(my_data, Command("mydata"))
    router.message.register(ask_erase, Command("delete_me"))
    router.callback_query.register(erase, Erasure.confirm, EraseCb.filter())
    return router
