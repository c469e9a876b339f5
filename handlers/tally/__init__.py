"""/tally: the figures of a station and every station under it, for staff (their
station) and coordinators (their subtree): this week, last week, an ISO week or a
date range, with the previous period beside them, one line per child station and
the summary sentence; as a chart (PNG) and a spreadsheet (XLSX) on buttons under
the text.

- ``choose``: /tally, the station walk and the period (buttons or typed);
- ``screen``: the tally screen, its previous and next period, the chart and the
  spreadsheet;
- ``weekly``: the Monday message (``services.tally_weekly``), rendered when sent."""

from aiogram import F, Router
from aiogram.filters import Command

from handlers.tally import weekly  # noqa: F401  (registers the Monday message's renderer)
from handlers.tally.choose import FIGURES, not_text, start, station_walked
from handlers.tally.screen import viewed
from ui.callbacks import TallyStationCb, TallyTypeCb, TallyViewCb
from ui.prompt import ANSWER
from ui.states import TallyDialog


def make_router() -> Router:
    router = Router(name="tally")
    router.message.filter(F.chat.type == "private")
    router.message.register(start, Command("tally"))
    router.message.register(FIGURES.period_typed, TallyDialog.period, ANSWER)
    router.message.register(not_text, TallyDialog.period, ~F.text)
    router.callback_query.register(station_walked, TallyStationCb.filter())
    router.callback_query.register(FIGURES.type_asked, TallyTypeCb.filter())
    router.callback_query.register(viewed, TallyViewCb.filter())
    return router
