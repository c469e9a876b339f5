"""Staff publish activities (/new_activity): station, kind, title, description, place,
start, end, places, target group, weekly repeat, a preview, then publish (a form of
ui/form.py). /manage lists the upcoming activities of the stations one manages, to
edit one field with the same steps or to cancel; the volunteers signed up are told.

- form.py: the form's steps, preview, the check on every press, saving an edit
- new.py: /new_activity, the station, the answers given with buttons, publishing
- manage.py: /manage, its pages, edit and cancel
- notices.py: what the volunteers signed up are told
- common.py: error texts, dates and times, the start's quick picks
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter

from handlers.activity_admin import notices
from handlers.activity_admin.form import ACTIVITY
from handlers.activity_admin.manage import cancel_chosen, edit_chosen, manage_page, show_manage
from handlers.activity_admin.new import (
    kind_chosen,
    new_activity,
    preview_action,
    publish,
    quick_pick,
    station_chosen,
    target_chosen,
)
from ui.callbacks import (
    ActCancelCb,
    ActEditCb,
    ActKindCb,
    ActManageCb,
    ActPreviewCb,
    ActQuickCb,
    ActStationCb,
    ActTargetCb,
)
from ui.prompt import ANSWER
from ui.states import ActivityDialog

__all__ = ["make_router", "notices"]

QUICK_STATES = (
    ActivityDialog.description,
    ActivityDialog.starts_at,
    ActivityDialog.ends_at,
    ActivityDialog.capacity,
    ActivityDialog.repeat_weeks,
)


def make_router() -> Router:
    router = Router(name="activity_admin")
    router.message.filter(F.chat.type == "private")
    router.message.register(new_activity, Command("new_activity"))
    router.message.register(show_manage, Command("manage"))
    router.message.register(ACTIVITY.typed, StateFilter(*ACTIVITY.states(typed=True)), ANSWER)
    router.callback_query.register(station_chosen, ActivityDialog.station, ActStationCb.filter())
    router.callback_query.register(kind_chosen, ActivityDialog.kind, ActKindCb.filter())
    router.callback_query.register(target_chosen, ActivityDialog.target_group, ActTargetCb.filter())
    router.callback_query.register(quick_pick, StateFilter(*QUICK_STATES), ActQuickCb.filter())
    # Publish in any state: a replayed button still meets the permission check.
    router.callback_query.register(publish, ActPreviewCb.filter(F.action == "publish"))
    router.callback_query.register(preview_action, ActivityDialog.preview, ActPreviewCb.filter())
    router.callback_query.register(manage_page, ActManageCb.filter())
    router.callback_query.register(edit_chosen, ActEditCb.filter())
    router.callback_query.register(cancel_chosen, ActCancelCb.filter())
    return router
