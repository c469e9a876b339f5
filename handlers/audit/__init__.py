"""/audit: admins and coordinators read the latest changes in their stations, a page
at a time, and narrow them to one activity or one person (``log``)."""

from aiogram import F, Router
from aiogram.filters import Command

from handlers.audit import log
from ui.callbacks import AuditCb


def make_router() -> Router:
    router = Router(name="audit")
    router.message.filter(F.chat.type == "private")
    router.message.register(log.show, Command("audit"))
    router.callback_query.register(log.paged, AuditCb.filter())
    return router
