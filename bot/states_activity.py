"""States of the staff's activity dialog: publishing a new activity, and editing one
field of a published one with the same steps."""

from aiogram.fsm.state import State, StatesGroup


class ActivityDialog(StatesGroup):
    station = State()
    kind = State()
    title = State()
    description = State()
    place = State()
    starts_at = State()
    ends_at = State()
    capacity = State()
    target_group = State()
    repeat_weeks = State()
    preview = State()
