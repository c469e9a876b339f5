"""/report: the report a coordinator signs, for a station and everything under it:
a month, quarter or year with the same period a year earlier (同比) and the period
before (环比), the summary paragraph, the most active stations, the records-on-time
rates and the pledges at work; as a chart (PNG) and a spreadsheet (XLSX) on buttons.

- ``choose``: /report, the station walk and the period (buttons or typed);
- ``screen``: the report screen, the period before and after, the chart and the
  spreadsheet."""

from aiogram import F, Router
from aiogram.filters import Command

from handlers.report.choose import FIGURES, not_text, start, station_walked
from handlers.report.screen import viewed
from ui.callbacks import ReportStationCb, ReportTypeCb, ReportViewCb
from ui.prompt import ANSWER
from ui.states import ReportDialog


def make_router() -> Router:
    router = Router(name="report")
    router.message.filter(F.chat.type == "private")
    router.message.register(start, Command("report"))
    router.message.register(FIGURES.period_typed, ReportDialog.period, ANSWER)
    router.message.register(not_text, ReportDialog.period, ~F.text)
    router.callback_query.register(station_walked, ReportStationCb.filter())
    router.callback_query.register(FIGURES.type_asked, ReportTypeCb.filter())
    router.callback_query.register(viewed, ReportViewCb.filter())
    return router
