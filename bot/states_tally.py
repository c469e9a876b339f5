"""States of /tally: a typed week or date range."""

from aiogram.fsm.state import State, StatesGroup


class TallyDialog(StatesGroup):
    period = State()
