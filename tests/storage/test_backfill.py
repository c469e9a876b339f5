"""Hours recorded on someone's behalf, on each backend: the spreadsheet import (all or
nothing, row by row reasons, idempotent, audited under the operator, limits), a
person added to an activity's records late (also without a phone or Telegram), the
hours marked as recorded by staff, and erasure of such a person."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from openpyxl import Workbook
from sqlmodel import col, func, select

from services import backfill, closing, hours, personal_data, roles
from services.access import Actor
from services.backfill import SheetRefused
from services.errors import InvalidInput, NotAllowed
from storage.db import SessionMaker
from storage.models import Activity, Attendance, AuditLog, Volunteer
from tests import factories
from tests.factories import make_volunteers

NOW = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)  # Saturday 09:00 in Hefei
STAFF = 7401
STATION = "hf-ss-xy-xyxc"
HEADER = ["姓名", "手机号", "活动日期", "活动名称", "时长"]


def sheet(rows: list[list[Any]], header: list[str] | None = None) -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(header or HEADER)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def staff_of(maker: SessionMaker, user_id: int = STAFF, code: str = STATION) -> Actor:
    async with maker() as session:
        await roles.grant(session, user_id=user_id, role="staff", station_code=code, actor_id=None)
    return Actor(user_id, locale="en")


async def count(maker: SessionMaker, model: Any, *where: Any) -> int:
    async with maker() as session:
        return int(
            (await session.exec(select(func.count()).select_from(model).where(*where))).one()
        )


async def run_import(maker: SessionMaker, actor: Actor, station: int, content: bytes) -> Any:
    async with maker() as session:
        return await backfill.import_hours(
            session,
            actor=actor,
            station_id=station,
            content=content,
            default_zone="Asia/Shanghai",
            now=NOW,
        )


GOOD: list[list[Any]] = [
    ["王芳", "13912345678", date(2026, 10, 3), "敬老院探访", 2.5],
    ["李强", 13987654321, "2026/10/3", "敬老院探访", "90分钟"],
    ["张奶奶", None, "2026年9月30日", "社区清洁", 1],
]


async def test_import_adds_credits_audits_and_is_idempotent(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    maker, station = sessionmaker, tree[STATION]
    actor = await staff_of(maker)
    result = await run_import(maker, actor, station, sheet(GOOD))
    assert (result.rows, result.added, result.changed, result.already) == (3, 3, 0, 0)
    assert (result.new_people, result.new_activities) == (3, 2)
    assert result.minutes == 150 + 90 + 60

    async with maker() as session:
        people = {
            v.real_name: v
            for v in (await session.exec(select(Volunteer).where(Volunteer.station_id == station)))
        }
        assert people["王芳"].phone == "+8613912345678" and people["王芳"].user_id is None
        assert people["张奶奶"].phone is None
        visit = (await session.exec(select(Activity).where(Activity.title == "敬老院探访"))).one()
        assert visit.closed_at is not None and visit.station_id == station
        assert visit.ends_at - visit.starts_at == timedelta(minutes=150)  # the longest row
        wang = people["王芳"].id
        assert wang is not None
        assert await hours.credited_minutes(session=session, volunteer_id=wang) == 150
        credited = await hours.credited_activities(session=session, volunteer_id=wang)
        assert [(c.title, c.by_staff) for c in credited] == [("敬老院探访", True)]
        entries = (
            await session.exec(select(AuditLog).where(AuditLog.action == "attendance.imported"))
        ).all()
    assert len(entries) == 3 and {e.actor_id for e in entries} == {STAFF}
    assert sorted(e.details["new"]["minutes"] for e in entries) == [60, 90, 150]
    assert all(e.details["old"] is None for e in entries)
    assert await count(maker, AuditLog, AuditLog.action == "hours.imported") == 1

    # The same file again, and one with a new row: only the new row is added.
    again = await run_import(maker, actor, station, sheet(GOOD))
    assert (again.added, again.changed, again.already, again.new_people) == (0, 0, 3, 0)
    more = await run_import(
        maker, actor, station, sheet([*GOOD, ["王芳", "139 1234 5678", "2026-10-04", "读书会", 1]])
    )
    assert (more.added, more.already, more.new_people, more.new_activities) == (1, 3, 0, 1)
    assert await count(maker, Attendance) == 4
    assert await count(maker, AuditLog, AuditLog.action == "attendance.imported") == 4
    assert await count(maker, AuditLog, AuditLog.action == "hours.imported") == 2


async def test_a_bad_row_refuses_the_whole_file_row_by_row(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    maker, station = sessionmaker, tree[STATION]
    actor = await staff_of(maker)
    rows: list[list[Any]] = [
        *GOOD,
        ["", "13912345678", "2026-10-03", "x", 1],  # row 5: no name
        ["赵六", "12345", "2026-10-03", "x", 1],  # row 6: bad phone
        ["赵六", None, "2027-01-01", "x", 1],  # row 7: future
        ["赵六", None, "someday", "x", 1],  # row 8: not a date
        ["赵六", None, "2026-10-03", "", 1],  # row 9: no title
        ["赵六", None, "2026-10-03", "x", 0],  # row 10: no hours
        ["赵六", None, "2026-10-03", "x", 30],  # row 11: more than a day
        ["王芳", "13912345678", "2026-10-03", "敬老院探访", 1],  # row 12: same as row 2
    ]
    with pytest.raises(SheetRefused) as refused:
        await run_import(maker, actor, station, sheet(rows))
    got = [(p.number, p.code) for p in refused.value.problems]
    assert got == [
        (5, "import_no_name"),
        (6, "import_bad_phone"),
        (7, "import_future_date"),
        (8, "import_bad_date"),
        (9, "import_no_title"),
        (10, "import_no_hours"),
        (11, "import_bad_hours"),
        (12, "import_duplicate_row"),
    ]
    assert refused.value.problems[-1].params == {"row": 2}
    assert await count(maker, Attendance) == 0
    assert await count(maker, Volunteer) == 0
    assert (
        await count(
            maker, AuditLog, col(AuditLog.action).in_([backfill.IMPORTED, backfill.IMPORTED_ROW])
        )
        == 0
    )


async def test_limits_and_unreadable_files(
    sessionmaker: SessionMaker, tree: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backfill, "MAX_ROWS", 40)  # the rule, without a 2,000-row import
    maker, station = sessionmaker, tree[STATION]
    actor = await staff_of(maker)
    too_many = [["某人", None, "2026-10-03", f"活动{i}", 1] for i in range(backfill.MAX_ROWS + 1)]
    cases = [
        (sheet(too_many), "import_too_many_rows"),
        (b"x" * (backfill.MAX_FILE_BYTES + 1), "import_too_big"),
        (b"not a spreadsheet", "import_unreadable"),
        (sheet([]), "import_empty"),
    ]
    for content, code in cases:
        with pytest.raises(InvalidInput) as error:
            await run_import(maker, actor, station, content)
        assert error.value.code == code
    assert await count(maker, Attendance) == 0
    # Exactly the limit is fine.
    exact = await run_import(maker, actor, station, sheet(too_many[: backfill.MAX_ROWS]))
    assert exact.added == backfill.MAX_ROWS


async def test_rows_find_registered_volunteers_by_phone_and_need_permission(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    maker, station = sessionmaker, tree[STATION]
    await make_volunteers(maker, station, [7501])  # phone +8613800000000
    actor = await staff_of(maker)
    stranger = Actor(7599, locale="en")
    content = sheet([["小名", "13800000000", "2026-10-03", "读书会", 2]])
    with pytest.raises(NotAllowed):
        await run_import(maker, stranger, station, content)
    # Staff of another station may not import into this one.
    other = await staff_of(maker, 7502, "hf-ss-hp-wyl")
    with pytest.raises(NotAllowed):
        await run_import(maker, other, station, content)
    result = await run_import(maker, actor, station, content)
    assert (result.added, result.new_people) == (1, 0)
    async with maker() as session:
        registered = (await session.exec(select(Volunteer).where(Volunteer.user_id == 7501))).one()
        assert registered.id is not None
        assert await hours.credited_minutes(session=session, volunteer_id=registered.id) == 120


async def test_added_late_without_phone_or_telegram(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    maker, station = sessionmaker, tree[STATION]
    actor = await staff_of(maker)
    activity_id = await factories.make_activity(
        maker, station, now=NOW, capacity=10, starts_in=-timedelta(hours=3), hours=2
    )
    async with maker() as session:
        done = await backfill.record_on_behalf(
            session,
            actor=actor,
            activity_id=activity_id,
            name=" 张  奶奶 ",
            phone=None,
            minutes=90,
            now=NOW,
        )
    assert done.new_person and done.changed
    assert done.volunteer.user_id is None and done.volunteer.real_name == "张 奶奶"
    assert done.attendance.on_behalf and done.attendance.credited_at is None
    # The same again changes nothing and leaves no second trace; the same name finds her.
    async with maker() as session:
        same = await backfill.record_on_behalf(
            session,
            actor=actor,
            activity_id=activity_id,
            name="张 奶奶",
            phone=None,
            minutes=90,
            now=NOW,
        )
    assert not same.changed and not same.new_person
    assert same.volunteer.id == done.volunteer.id
    assert await count(maker, AuditLog, AuditLog.action == backfill.RECORDED) == 1
    # More than the activity's length is refused; a stranger is refused first.
    async with maker() as session:
        with pytest.raises(InvalidInput) as error:
            await backfill.record_on_behalf(
                session,
                actor=actor,
                activity_id=activity_id,
                name="x",
                phone=None,
                minutes=121,
                now=NOW,
            )
        assert error.value.code == "minutes_out_of_range"
        with pytest.raises(NotAllowed):
            await backfill.record_on_behalf(
                session,
                actor=Actor(7599),
                activity_id=activity_id,
                name="x",
                phone=None,
                minutes=1,
                now=NOW,
            )
    # Closing credits her hours, marked as recorded by staff.
    async with maker() as session:
        await closing.close(session, actor=actor, activity_id=activity_id, now=NOW)
    assert done.volunteer.id is not None
    async with maker() as session:
        credited = await hours.credited_activities(session=session, volunteer_id=done.volunteer.id)
    assert [(c.minutes, c.by_staff) for c in credited] == [(90, True)]


async def test_erasing_a_person_added_without_telegram(
    sessionmaker: SessionMaker, tree: dict[str, int]
) -> None:
    maker, station = sessionmaker, tree[STATION]
    actor = await staff_of(maker)
    await run_import(maker, actor, station, sheet(GOOD[:1]))
    async with maker() as session:
        person = (await session.exec(select(Volunteer).where(Volunteer.real_name == "王芳"))).one()
        assert person.id is not None
        with pytest.raises(NotAllowed):
            await personal_data.erase_unlinked(
                session, actor=Actor(7599), volunteer_id=person.id, now=NOW
            )
        assert await personal_data.erase_unlinked(
            session, actor=actor, volunteer_id=person.id, now=NOW
        )
    async with maker() as session:
        gone = await session.get(Volunteer, person.id)
        assert gone is not None and gone.erased_at is not None
        assert gone.real_name is None and gone.phone is None
        # The hours still count (anonymously); the name is no longer found.
        assert await hours.credited_minutes(session=session, volunteer_id=person.id) == 150
        assert not await personal_data.erase_unlinked(
            session, actor=actor, volunteer_id=person.id, now=NOW
        )
    # A new row with her phone makes a new person: nothing leads back to the erased one.
    again = await run_import(
        maker, actor, station, sheet([["王芳", "13912345678", "2026-10-05", "读书会", 1]])
    )
    assert again.new_people == 1
    erased = await count(maker, AuditLog, AuditLog.action == "volunteer.erased")
    assert erased == 1


def test_typed_people() -> None:
    assert backfill.parse_person("王芳 138 1234 5678") == ("王芳", "+8613812345678")
    assert backfill.parse_person("+86 13812345678 王芳") == ("王芳", "+8613812345678")
    assert backfill.parse_person("  张 奶奶 ") == ("张 奶奶", None)
    for text, code in (("", "backfill_name_missing"), ("王芳 1234567", "phone_invalid")):
        with pytest.raises(InvalidInput) as error:
            backfill.parse_person(text)
        assert error.value.code == code
