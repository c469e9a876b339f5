"""Nothing we send can exceed Telegram's limits: 64-byte callback data, 4096 characters."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.callbacks import (
    AgeCb,
    ConsentCb,
    EraseCb,
    LanguageCb,
    ProfileCb,
    SkillCb,
    StationCb,
    SummaryCb,
)
from services.volunteers import SKILLS
from storage.models import AgeGroup


def test_every_callback_payload_fits_64_bytes() -> None:
    biggest: list[CallbackData] = [
        LanguageCb(code="zh_CN"),
        StationCb(action="o", id=2**63 - 1, page=10_000),
        *(SkillCb(code=code) for code in (*SKILLS, "done")),
        *(AgeCb(group=group.value) for group in AgeGroup),
        ConsentCb(what="privacy_yes"),
        SummaryCb(action="guardian_consent"),
        ProfileCb(action="station"),
        EraseCb(confirm=True),
    ]
    for payload in biggest:
        assert len(payload.pack().encode()) <= 64, payload
