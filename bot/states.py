"""Every dialog's states in one place."""

from aiogram.fsm.state import State, StatesGroup


class Registration(StatesGroup):
    language = State()
    name = State()
    phone = State()
    station = State()
    skills = State()
    age = State()
    guardian_name = State()
    guardian_phone = State()
    guardian_consent = State()
    privacy = State()
    summary = State()


class Erasure(StatesGroup):
    confirm = State()
