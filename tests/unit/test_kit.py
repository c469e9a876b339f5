"""The screen kit's pure parts: pages, the error catalogue, confirmation buttons."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from services.errors import InvalidInput, NotAllowed
from ui import confirm, errors
from ui.callbacks import ActCancelCb
from ui.i18n import make_i18n
from ui.paged import page_of, window

ROOT = Path(__file__).resolve().parents[2]


def test_a_page_stays_within_the_pages_there_are() -> None:
    items = list(range(17))
    assert page_of(items, 0, 8).items == list(range(8))
    last = page_of(items, 5, 8)  # an old button past the end
    assert (last.number, last.count, list(last.items)) == (2, 3, [16])
    assert (last.first, last.last) == (17, 17)
    assert page_of([], 3, 8).count == 1  # an empty list still has its one page
    assert page_of(items, -1, 8).number == 0
    counted = window(9, total=17, per_page=5)
    assert (counted.number, list(counted.items)) == (3, [15, 16])


@pytest.fixture
def zh() -> object:
    i18n = make_i18n("zh_CN")
    with i18n.context(), i18n.use_locale("zh_CN"):
        yield i18n


def test_the_catalogue_shows_parameters_as_people_read_them(zh: object) -> None:
    at = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    text = errors.error_text(
        InvalidInput("checkin_not_open", title="<Tea & talk>", at=at),
        zone=ZoneInfo("Asia/Shanghai"),
    )
    assert "&lt;Tea &amp; talk&gt;" in text and "09:00" in text
    assert errors.error_text(NotAllowed("not_allowed")) == errors.no_permission()
    alert = errors.error_text(InvalidInput("activity_cancelled", title="Tea & talk"), plain=True)
    assert "Tea & talk" in alert and "<b>" not in alert
    unknown = errors.error_text(InvalidInput("no_such_code"))
    assert unknown == errors.general()


def test_a_title_picks_the_titled_text(zh: object) -> None:
    with_title = errors.error_text(InvalidInput("activity_cancelled", title="义诊"))
    without = errors.error_text(InvalidInput("activity_cancelled"))
    assert "义诊" in with_title and with_title != without


def test_minutes_limits_read_as_durations(zh: object) -> None:
    text = errors.error_text(InvalidInput("minutes_out_of_range", max=150))
    assert "2小时30分钟" in text


def test_every_code_a_service_raises_by_name_has_a_text() -> None:
    """Codes raised with a literal in services/: each has its text in the catalogue,
    or is answered by its own screen (listed here with where)."""
    answered_elsewhere = {
        # the check-in dialog asks for the code again, with the attempts left
        "code_malformed",
        "code_unknown",
        "no_code_free",
        # the reminder's "still coming?" answer
        "seat_gone",
        # the roster asks for the minutes after a mark
        "minutes_needed",
        # the certificate and tally dialogs have their own answers
        "no_hours",
        "tally.bad_period",
        "report.bad_period",
        # the command line prints these (never in chat)
        "stations_file_invalid",
        "station.not_found",
        "bad_token",
        # forged or stale button data: "no longer active"
        "action_unknown",
        "age_unknown",
        "kind_unknown",
        "field_not_editable",
        "bad_status",
        "role_not_found",
        "volunteer_not_found",
        "registration_incomplete",
    }
    raised: set[str] = set()
    pattern = re.compile(
        r"(?:InvalidInput|NotFound|NotAllowed|Conflict|DomainError)\(\s*\"([a-z_.]+)\""
    )
    for path in (ROOT / "services").rglob("*.py"):
        raised |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert raised, "the pattern finds the services' codes"
    missing = sorted(c for c in raised - answered_elsewhere if not errors.knows(c))
    assert missing == []


def test_confirmation_puts_the_safe_answer_last(zh: object) -> None:
    markup = confirm.keyboard(
        yes=ActCancelCb(id=1, action="yes"),
        yes_text="是",
        no=ActCancelCb(id=1, action="keep"),
    )
    (yes,), (no,) = markup.inline_keyboard
    assert yes.text == "是" and no.text == "✖️ 取消"
    assert no.callback_data == ActCancelCb(id=1, action="keep").pack()
