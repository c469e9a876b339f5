"""Every action the services write to the audit log has its translated sentence, and
an action without one still reads."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from services.audit_log import Entry
from storage.models import Activity, ActivityKind, PledgeStatus, TargetGroup, Volunteer
from ui import audit_text
from ui.i18n import make_i18n

ROOT = Path(__file__).resolve().parents[2]
CHOICE = r'action="([\w.]+)"\s*\+\s*\(\s*"(\w+)"\s+if\s+\w+\s+else\s+"(\w+)"'


def written_actions() -> set[str]:
    """The action names in the services' ``audit.record(...)`` calls."""
    found: set[str] = set()
    for path in (ROOT / "services").glob("*.py"):
        text = path.read_text()
        for call in re.finditer(r"audit\.record\((.*?)\n\s*\)", text, re.S):
            body = call.group(1)
            if m := re.search(r'action="([^"]+)"\s+if\s+\w+\s+else\s+"([^"]+)"', body):
                found |= {m.group(1), m.group(2)}
            elif m := re.search(
                r'action="([\w.]+)"\s*\+\s*\(\s*"(\w+)"\s+if\s+\w+\s+else\s+"(\w+)"', body
            ):
                found |= {m.group(1) + m.group(2), m.group(1) + m.group(3)}
            elif m := re.search(r'action="([\w.]+)"\s*\+\s*status\.value', body):
                found |= {m.group(1) + s.value for s in PledgeStatus if s is not PledgeStatus.OPEN}
            elif m := re.search(r'action="([^"]+)"', body):
                found.add(m.group(1))
            elif re.search(r"action=(RECORDED|IMPORTED_ROW|IMPORTED)\b", body):
                continue  # services.backfill's constants, checked below
            else:
                raise AssertionError(f"{path.name}: an action this test cannot read: {body!r}")
    from services import backfill

    return found | {backfill.RECORDED, backfill.IMPORTED_ROW, backfill.IMPORTED}


def entry(action: str, **details: object) -> Entry:
    activity = Activity(
        id=5,
        station_id=1,
        kind=ActivityKind.OTHER,
        title="Tea <party>",
        place="",
        capacity=1,
        target_group=TargetGroup.ELDERLY,
    )
    return Entry(
        id=1,
        at=datetime(2026, 11, 21, 1, 5, tzinfo=UTC),
        zone=ZoneInfo("Asia/Shanghai"),
        action=action,
        actor_id=9101,
        actor_name="张三",
        station=None,
        activity=activity,
        volunteer=Volunteer(id=3, station_id=1, real_name="王芳"),
        subject_user_id=None,
        subject_user_name=None,
        details=dict(details),
    )


def test_every_written_action_has_a_sentence() -> None:
    actions = written_actions()
    assert len(actions) > 25 and "attendance.corrected" in actions
    assert actions <= set(audit_text.SENTENCES), actions - set(audit_text.SENTENCES)


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_sentences_read(locale: str) -> None:
    i18n = make_i18n("zh_CN")
    with i18n.context(), i18n.use_locale(locale):
        corrected = entry(
            "attendance.corrected",
            old={"mark": "present", "minutes": 120, "confirmed": True},
            new={"mark": "late", "minutes": 90, "confirmed": True},
        )
        line = audit_text.line(corrected, locale)
        unknown = audit_text.line(entry("something.new", n=3, nested={"a": 1}), locale)
        plain = audit_text.sentence(corrected, locale, markup=False)
    if locale == "en":
        assert line == (
            "<i>Sat, Nov 21, 2026, 09:05</i>\n张三 changed the attendance of 王芳 at "
            "«Tea &lt;party&gt;»: present · 2 h → late · 1 h 30 min"
        )
        assert unknown.endswith("张三 made a change: something.new (n=3)")
        assert plain.endswith("«Tea <party>»: present · 2 h → late · 1 h 30 min")
    else:
        assert "09:05" in line and "张三" in line and "→" in line
        assert "changed" not in line  # translated
        assert "something.new" in unknown and "n=3" in unknown
