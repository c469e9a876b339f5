"""Hours recorded on someone's behalf, the Telegram side: add someone to an
activity's records after the fact from its roster (``late``), and /import_hours,
the spreadsheet template and its import (``sheet``)."""

from aiogram import F, Router
from aiogram.filters import Command

from handlers.backfill import late, sheet
from ui.callbacks import ImportStationCb, RosterAddCb
from ui.prompt import ANSWER
from ui.states import BackfillDialog


def make_router() -> Router:
    router = Router(name="backfill")
    router.message.filter(F.chat.type == "private")
    router.message.register(sheet.start, Command("import_hours"))
    router.message.register(sheet.sheet_sent, BackfillDialog.sheet, F.document)
    router.message.register(sheet.not_a_file, BackfillDialog.sheet, ANSWER)
    router.message.register(late.person_typed, BackfillDialog.person, ANSWER)
    router.message.register(late.minutes_typed, BackfillDialog.minutes, ANSWER)
    router.callback_query.register(late.add_pressed, RosterAddCb.filter())
    router.callback_query.register(sheet.station_walked, ImportStationCb.filter())
    return router
