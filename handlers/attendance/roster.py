"""/roster: staff pick an activity of a station where they manage activities and see
everyone holding a seat, and every walk-in (``roster_screen``). From there they open
check-in (``codes``), mark people present, late or absent, confirm or correct minutes
(``marks``), record beneficiaries by target group (``beneficiaries``), and close the
records, which credits the confirmed hours (``closing``); and keep the activity's
record, photos and a summary, and its record sheet (``records``). Every button re-checks the
presser's permission in the database. The notices about records are rendered by
``notices`` (imported here, so they are registered with the router)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command

from handlers.attendance import (
    notices,  # noqa: F401  (the outbox's records notices)
    records,
)
from handlers.attendance.activity_list import list_page, show_list
from handlers.attendance.beneficiaries import count_typed, open_beneficiaries
from handlers.attendance.closing import close_pressed
from handlers.attendance.codes import open_code
from handlers.attendance.marks import marked, minutes_typed, open_person
from handlers.attendance.roster_screen import open_roster
from ui.callbacks import (
    RosterBenCb,
    RosterCb,
    RosterCloseCb,
    RosterCodeCb,
    RosterListCb,
    RosterMarkCb,
    RosterPersonCb,
)
from ui.prompt import ANSWER
from ui.states import RosterDialog


def make_router() -> Router:
    router = Router(name="roster")
    router.message.filter(F.chat.type == "private")
    router.message.register(show_list, Command("roster"))
    router.message.register(minutes_typed, RosterDialog.minutes, ANSWER)
    router.message.register(count_typed, RosterDialog.beneficiaries, ANSWER)
    router.callback_query.register(list_page, RosterListCb.filter())
    router.callback_query.register(open_roster, RosterCb.filter())
    router.callback_query.register(open_person, RosterPersonCb.filter())
    router.callback_query.register(marked, RosterMarkCb.filter())
    router.callback_query.register(open_code, RosterCodeCb.filter())
    router.callback_query.register(open_beneficiaries, RosterBenCb.filter())
    router.callback_query.register(close_pressed, RosterCloseCb.filter())
    records.register(router)
    return router
