"""States of /certificate (a typed period) and /verify (a typed code)."""

from aiogram.fsm.state import State, StatesGroup


class CertificateDialog(StatesGroup):
    period = State()


class VerifyDialog(StatesGroup):
    code = State()
