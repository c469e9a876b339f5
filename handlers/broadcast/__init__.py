"""/broadcast: staff write to the volunteers of a station and every station under it,
optionally only those with chosen skills: station, skills, text, a preview with the
number of recipients, then send. Published activities can be announced the same way.
The sender's progress message is edited as the outbox sends, then becomes the report.

- ``dialog``: /broadcast, the station walk and the skills;
- ``compose``: the text, the preview and send;
- ``announce``: announcing a published activity;
- ``progress``: the sender's progress message and report (``report_progress``, called
  by the scheduler);
- ``renderers``: what the outbox sends (the message, the announcement, the report)."""

from aiogram import F, Router
from aiogram.filters import Command, StateFilter

from handlers.broadcast import renderers  # noqa: F401  (registers the outbox's kinds)
from handlers.broadcast.announce import announce_button, announce_pressed
from handlers.broadcast.compose import not_text, preview_action, send, text_typed
from handlers.broadcast.dialog import skill_toggled, start, station_walked
from handlers.broadcast.progress import report_progress
from ui.callbacks import AnnounceCb, BcPreviewCb, BcSkillCb, BcStationCb
from ui.prompt import ANSWER
from ui.states import BroadcastDialog

__all__ = ["announce_button", "make_router", "report_progress"]


def make_router() -> Router:
    router = Router(name="broadcast")
    router.message.filter(F.chat.type == "private")
    router.message.register(start, Command("broadcast"))
    router.message.register(
        text_typed, StateFilter(BroadcastDialog.text, BroadcastDialog.preview), ANSWER
    )
    router.message.register(not_text, BroadcastDialog.text, ~F.text)
    router.callback_query.register(station_walked, BroadcastDialog.station, BcStationCb.filter())
    router.callback_query.register(skill_toggled, BroadcastDialog.skills, BcSkillCb.filter())
    # Send in any state: a replayed button still meets the checks.
    router.callback_query.register(send, BcPreviewCb.filter(F.action == "send"))
    router.callback_query.register(preview_action, BroadcastDialog.preview, BcPreviewCb.filter())
    router.callback_query.register(announce_pressed, AnnounceCb.filter())
    return router
