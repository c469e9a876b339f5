"""States of the attendance dialogs: the code a volunteer types to check in, and
what staff type on a roster (a person's minutes, a group's beneficiaries)."""

from aiogram.fsm.state import State, StatesGroup


class CheckinDialog(StatesGroup):
    code = State()


class RosterDialog(StatesGroup):
    minutes = State()
    beneficiaries = State()
