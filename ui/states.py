"""Every dialog's states, in one place."""

from __future__ import annotations

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


class CheckinDialog(StatesGroup):
    code = State()


class RosterDialog(StatesGroup):
    minutes = State()
    beneficiaries = State()
    photos = State()
    summary = State()


class BackfillDialog(StatesGroup):
    person = State()  # name and phone of someone added to the records late
    minutes = State()  # the time they served
    sheet = State()  # the filled-in spreadsheet of hours


class BroadcastDialog(StatesGroup):
    station = State()
    skills = State()
    text = State()
    preview = State()


class CertificateDialog(StatesGroup):
    period = State()


class VerifyDialog(StatesGroup):
    code = State()


class PledgeDialog(StatesGroup):
    purpose = State()
    amount = State()
    anonymous = State()
    confirm = State()


class TallyDialog(StatesGroup):
    period = State()


class RegisterDialog(StatesGroup):
    search = State()  # a search typed for a station's register


class ReportDialog(StatesGroup):
    period = State()
