"""Nothing we send can exceed Telegram's limits: 64-byte callback data, 4096 characters."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from services.volunteers import SKILLS
from storage.models import AgeGroup
from tests.callback_catalog import OTHER_INTS, TEXT_VALUES, factories, field_kind, id_kind
from ui.callbacks import (
    CB_INT_MAX,
    AgeCb,
    ConsentCb,
    EraseCb,
    LanguageCb,
    ProfileCb,
    SkillCb,
    StationCb,
    SummaryCb,
)


def test_every_callback_payload_fits_64_bytes() -> None:
    biggest: list[CallbackData] = [
        LanguageCb(code="zh_CN"),
        StationCb(action="o", id=CB_INT_MAX, page=CB_INT_MAX),
        *(SkillCb(code=code) for code in (*SKILLS, "done")),
        *(AgeCb(group=group.value) for group in AgeGroup),
        ConsentCb(what="privacy_yes"),
        SummaryCb(action="guardian_consent"),
        ProfileCb(action="station"),
        EraseCb(confirm=True),
    ]
    for payload in biggest:
        assert len(payload.pack().encode()) <= 64, payload


def test_every_factory_at_its_largest_fits_64_bytes() -> None:
    """Each factory with every number at the bound and every text at its longest."""
    for factory in factories():
        values = {}
        for name in factory.model_fields:
            kind = field_kind(factory, name)
            if kind == "int":
                values[name] = CB_INT_MAX
            elif kind == "bool":
                values[name] = False
            else:
                values[name] = max(TEXT_VALUES[(factory.__prefix__, name)], key=len)
        payload = factory(**values).pack()
        assert len(payload.encode()) <= 64, payload


def test_the_catalog_knows_every_factory_and_text_field() -> None:
    """tests/callback_catalog.py must name the values of each text field, and which
    numbers are ids, or the forging and walking tests would miss a factory."""
    for factory in factories():
        for name in factory.model_fields:
            kind = field_kind(factory, name)
            if kind == "str":
                assert (factory.__prefix__, name) in TEXT_VALUES, (factory, name)
            if kind == "int":
                assert id_kind(factory, name) or name in OTHER_INTS, (factory, name)
    assert len(factories()) >= 56
