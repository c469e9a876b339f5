"""States of the volunteer's pledge dialog (/pledge)."""

from aiogram.fsm.state import State, StatesGroup


class PledgeDialog(StatesGroup):
    purpose = State()
    amount = State()
    anonymous = State()
    confirm = State()
