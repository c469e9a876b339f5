"""/hours: a volunteer's service hours and star level (``my_hours``). /certificate: a
service certificate as a PDF (``certificate``). /verify CODE (and the QR code's
/start verify_<code>): is a certificate genuine, and what does it state; open to
anyone (``verify``)."""

from aiogram import F, Router
from aiogram.filters import Command, CommandStart

from handlers.hours.certificate import ask_period, period_chosen, period_typed
from handlers.hours.common import certificate_key
from handlers.hours.my_hours import show_hours
from handlers.hours.verify import code_typed, verify, verify_link
from services import certificates
from ui.callbacks import CertPeriodCb
from ui.prompt import ANSWER
from ui.states import CertificateDialog, VerifyDialog

__all__ = ["certificate_key", "make_router"]


def make_router() -> Router:
    router = Router(name="hours")
    router.message.filter(F.chat.type == "private")
    router.message.register(
        verify_link,
        CommandStart(deep_link=True, magic=F.args.startswith(certificates.DEEP_LINK)),
    )
    router.message.register(verify, Command("verify"))
    router.message.register(code_typed, VerifyDialog.code, ANSWER)
    router.message.register(show_hours, Command("hours"))
    router.message.register(ask_period, Command("certificate"))
    router.message.register(period_typed, CertificateDialog.period, ANSWER)
    router.callback_query.register(period_chosen, CertPeriodCb.filter())
    return router
