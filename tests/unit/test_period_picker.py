"""The period picker: this week and last week on buttons, the previous and next period
under a result, typed periods read back, and forged button data refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from services import periods
from services.errors import InvalidInput
from ui import period_picker
from ui.callbacks import TallyTypeCb, TallyViewCb
from ui.i18n import make_i18n
from ui.keyboards.builder import InlineKeyboardBuilder

TODAY = date(2026, 11, 25)  # a Wednesday of ISO week 48


@pytest.fixture
def en() -> Iterator[None]:
    i18n = make_i18n("zh_CN")
    with i18n.context(), i18n.use_locale("en"):
        yield


def data(period: periods.Period) -> TallyViewCb:
    first, last = period_picker.ordinals(period)
    return TallyViewCb(action="t", station=1, first=first, last=last)


def test_this_week_last_week_and_typed(en: None) -> None:
    markup = period_picker.keyboard(
        TODAY,
        "en",
        pick=data,
        typed=TallyTypeCb(station=1),
        extra=[("More", TallyTypeCb(station=2))],
    )
    rows = [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]
    assert [len(row) for row in rows] == [1, 1, 1, 1]
    (this_text, this_data), (last_text, last_data) = rows[0][0], rows[1][0]
    assert this_text.startswith("This week (Nov 23") and last_text.startswith("Last week (Nov 16")
    assert this_data == data(periods.iso_week(2026, 48)).pack()
    assert last_data == data(periods.iso_week(2026, 47)).pack()
    assert rows[2][0] == ("⌨️ Another week or dates", TallyTypeCb(station=1).pack())
    assert rows[3][0][0] == "More"


def test_no_next_period_before_it_has_begun(en: None) -> None:
    this = periods.week_of(TODAY)
    kb = InlineKeyboardBuilder()
    assert period_picker.step_row(kb, this, TODAY, data) == 1
    kb = InlineKeyboardBuilder()
    assert period_picker.step_row(kb, this.previous(), TODAY, data) == 2
    texts = [b.text for row in kb.as_markup().inline_keyboard for b in row]
    assert texts == ["‹ Previous period", "Next period ›"]


def test_typed_periods_are_read_back(en: None) -> None:
    assert period_picker.read("2026-W47", TODAY) == periods.iso_week(2026, 47)
    assert period_picker.read("2026-11-01 至 2026-11-30", TODAY).days == 30
    with pytest.raises(InvalidInput) as future:
        period_picker.read("2026-W49", TODAY)
    assert "has not begun yet" in period_picker.error(future.value)
    with pytest.raises(InvalidInput) as nonsense:
        period_picker.read("next tuesday", TODAY)
    assert period_picker.error(nonsense.value) == period_picker.unreadable()


def test_forged_button_periods_are_refused() -> None:
    week = periods.iso_week(2026, 47)
    assert period_picker.from_button(*period_picker.ordinals(week)) == week
    assert period_picker.from_button(5, 2) is None  # reversed
    assert period_picker.from_button(0, 1) is None  # no such day
    long = date(2024, 1, 1).toordinal(), date(2026, 1, 1).toordinal()
    assert period_picker.from_button(*long) is None  # longer than MAX_DAYS
