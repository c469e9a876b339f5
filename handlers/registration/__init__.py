"""Registration: language, name, phone, home station, skills, age group, guardian,
privacy notice, summary (a form of ui/form.py). The same steps edit one field of a
saved profile (``begin_profile_edit``, from /profile).

- form.py: the steps, the summary, saving an edited profile
- answers.py: answers given with buttons or a contact, and the summary's buttons
- station.py: the walk down the station tree
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandStart, StateFilter

from handlers.registration.answers import (
    age_chosen,
    guardian_agreed,
    language_chosen,
    phone_shared,
    phone_typed,
    privacy_answered,
    skill_toggled,
    start,
    summary_action,
)
from handlers.registration.form import REGISTRATION, begin, begin_profile_edit
from handlers.registration.station import station_walk
from ui.callbacks import AgeCb, ConsentCb, LanguageCb, SkillCb, StationCb, SummaryCb
from ui.prompt import ANSWER
from ui.states import Registration

__all__ = ["begin", "begin_profile_edit", "make_router"]


def make_router() -> Router:
    router = Router(name="registration")
    router.message.filter(F.chat.type == "private")
    router.message.register(start, CommandStart())
    router.callback_query.register(language_chosen, Registration.language, LanguageCb.filter())
    router.message.register(phone_shared, Registration.phone, F.contact)
    router.message.register(phone_typed, Registration.phone, ANSWER)
    router.message.register(
        REGISTRATION.typed, StateFilter(*REGISTRATION.states(typed=True)), ANSWER
    )
    router.callback_query.register(station_walk, Registration.station, StationCb.filter())
    router.callback_query.register(skill_toggled, Registration.skills, SkillCb.filter())
    router.callback_query.register(age_chosen, Registration.age, AgeCb.filter())
    router.callback_query.register(
        guardian_agreed, Registration.guardian_consent, ConsentCb.filter(F.what == "guardian_yes")
    )
    router.callback_query.register(privacy_answered, Registration.privacy, ConsentCb.filter())
    router.callback_query.register(summary_action, Registration.summary, SummaryCb.filter())
    return router
