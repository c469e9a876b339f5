"""Pledges: /pledge (a volunteer promises a small donation to their station's community
fund or to an upcoming activity), /mypledges (their own), /pledges (staff: the open
pledges of their stations, marked received or cancelled). The bot takes no money; it
says so at every step. The outbox messages: the volunteer's thanks or note on a
decision, and the one reminder of a pledge still open.

- ``wizard``: the volunteer's dialog (``wizard_screens`` its screens)
- ``mine``: their own pledges, and withdrawing one
- ``staff``: the staff's list and decisions
- ``notices``: the outbox messages
- ``words``: what these share"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter

from handlers.pledges import mine, notices, staff, wizard
from ui.callbacks import (
    MyPledgesCb,
    MyPledgeWithdrawCb,
    PledgeAmountCb,
    PledgeAnonymousCb,
    PledgeConfirmCb,
    PledgeDecideCb,
    PledgeListCb,
    PledgePurposeCb,
    PledgePurposePageCb,
)
from ui.prompt import ANSWER
from ui.states import PledgeDialog

__all__ = ["make_router", "notices"]


def make_router() -> Router:
    router = Router(name="pledges")
    router.message.filter(F.chat.type == "private")
    router.message.register(wizard.start_pledge, Command("pledge"))
    router.message.register(mine.my_pledges, Command("mypledges"))
    router.message.register(staff.staff_list, Command("pledges"))
    router.message.register(wizard.amount_typed, PledgeDialog.amount, ANSWER)
    callbacks = router.callback_query
    callbacks.register(wizard.purpose_page, PledgeDialog.purpose, PledgePurposePageCb.filter())
    callbacks.register(wizard.purpose_chosen, PledgeDialog.purpose, PledgePurposeCb.filter())
    callbacks.register(wizard.amount_chosen, PledgeDialog.amount, PledgeAmountCb.filter())
    callbacks.register(wizard.anonymity_chosen, PledgeDialog.anonymous, PledgeAnonymousCb.filter())
    callbacks.register(wizard.confirmed, PledgeDialog.confirm, PledgeConfirmCb.filter())
    # Cancel works from every step of the dialog.
    callbacks.register(
        wizard.cancelled,
        StateFilter(PledgeDialog.purpose, PledgeDialog.amount, PledgeDialog.anonymous),
        PledgeConfirmCb.filter(F.action == "cancel"),
    )
    callbacks.register(mine.my_page, MyPledgesCb.filter())
    callbacks.register(mine.my_withdraw, MyPledgeWithdrawCb.filter())
    callbacks.register(staff.staff_page, PledgeListCb.filter())
    callbacks.register(staff.staff_decide, PledgeDecideCb.filter())
    return router
