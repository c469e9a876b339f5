"""States of the staff's broadcast dialog: station, skills, text, preview."""

from aiogram.fsm.state import State, StatesGroup


class BroadcastDialog(StatesGroup):
    station = State()
    skills = State()
    text = State()
    preview = State()
