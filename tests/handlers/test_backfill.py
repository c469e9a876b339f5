"""Hours recorded on someone's behalf, through the Dispatcher: /import_hours hands out
the template, takes it back as a file (refused row by row, or imported once), and
the volunteer sees the hours marked as recorded by staff; from a roster, staff add
someone late (without a phone or Telegram); strangers are refused."""

from __future__ import annotations

import io
from datetime import timedelta

from aiogram import Dispatcher
from aiogram.methods import GetFile
from openpyxl import load_workbook
from sqlmodel import select

from services import backfill
from storage.db import SessionMaker
from storage.models import Attendance, AuditLog, Role, Volunteer
from storage.types import utcnow
from tests.factories import make_activity, make_volunteers
from tests.handlers.test_roster import NO_PERMISSION, STAFF, grant, station_id
from tests.mocked_bot import Conversation, MockedBot, Sent
from ui.callbacks import ImportStationCb, RosterAddCb


def filled(template: Sent, rows: list[list[object]]) -> bytes:
    assert template.document is not None
    book = load_workbook(io.BytesIO(template.document))
    sheet = book.worksheets[0]
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=number, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def template_for(staff: Conversation, station: int) -> Sent:
    out = await staff.send("/import_hours")
    assert "Import hours into which station's records?" in out[-1].text
    out = await staff.press_data(ImportStationCb(action="p", id=station).pack())
    [template] = [m for m in out if m.document is not None]
    return template


async def test_import_hours_by_file(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    station = await station_id(maker)
    await grant(maker, STAFF)
    await make_volunteers(maker, station, [2301])  # phone +86 138 0000 0000
    staff = Conversation(dp, bot, user_id=STAFF, language_code="en")
    volunteer = Conversation(dp, bot, user_id=2301, language_code="en")

    template = await template_for(staff, station)
    assert template.file_name == "hours-template.xlsx"
    assert "fill in this template" in template.text and "2000 rows" in template.text
    book = load_workbook(io.BytesIO(template.document or b""))
    header = [c.value for c in book.worksheets[0][1]]
    assert header == ["Name", "Phone", "Activity date", "Activity title", "Hours"]

    today = utcnow().date()
    day = (today - timedelta(days=30)).isoformat()
    rows: list[list[object]] = [
        ["志愿者乙", "13800000000", day, "Reading club", 2],
        ["Grandma Zhang", None, day, "Reading club", 1.5],
    ]
    # A bad file first: a future date and unreadable hours, and nothing is imported.
    bad: list[list[object]] = [
        *rows,
        ["Li", None, (today + timedelta(days=2)).isoformat(), "Tea", "lots"],
    ]
    out = await staff.document("hours.xlsx", filled(template, bad))
    report = out[-1].text
    assert "The file was not imported: 1 rows need fixing." in report
    assert "• Row 4: the activity date is in the future" in report
    assert "send the whole file again" in report
    async with maker() as session:
        assert (await session.exec(select(Attendance))).all() == []

    out = await staff.document("hours.xlsx", filled(template, rows))
    done = out[-1].text
    assert "<b>Hours imported into" in done and "Added: 2" in done and "New people: 1" in done
    assert "Time added: 3 h 30 min" in done
    # The dialog is over: another file is not taken, and the same file again adds nothing.
    await staff.send("/import_hours")
    await staff.press_data(ImportStationCb(action="p", id=station).pack())
    out = await staff.document("hours.xlsx", filled(template, rows))
    assert "Added: 0" in out[-1].text and "Already there (not counted again): 2" in out[-1].text
    async with maker() as session:
        imported = (await session.exec(select(Attendance))).all()
        entries = (
            await session.exec(select(AuditLog).where(AuditLog.action == backfill.IMPORTED_ROW))
        ).all()
    assert len(imported) == 2 and all(a.on_behalf for a in imported)
    assert len(entries) == 2 and {e.actor_id for e in entries} == {STAFF}

    out = await volunteer.send("/hours")
    assert "Reading club · 2 h (recorded by staff)" in out[-1].text
    assert "Total: 2 h" in out[-1].text


async def test_files_refused_before_reading(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    station = await station_id(maker)
    await grant(maker, STAFF)
    staff = Conversation(dp, bot, user_id=STAFF, language_code="en")
    await template_for(staff, station)
    out = await staff.document("big.xlsx", b"x", file_size=backfill.MAX_FILE_BYTES + 1)
    assert "That file is too big: at most 1024 KB" in out[-1].text
    out = await staff.document("notes.txt", b"hello")
    assert "I could not read that file" in out[-1].text
    out = await staff.send("here it is")
    assert "Please send the filled-in template as a file" in out[-1].text
    out = await staff.send("/cancel")
    out = await staff.document("hours.xlsx", b"hello")
    assert all("imported" not in m.text for m in out)
    # A role revoked after the template was handed out: refused, and nothing downloaded.
    await template_for(staff, station)
    async with maker() as session:
        for role in (await session.exec(select(Role).where(Role.user_id == STAFF))).all():
            await session.delete(role)
        await session.commit()
    downloads = sum(isinstance(r, GetFile) for r in staff.session.requests)
    out = await staff.document("hours.xlsx", b"hello")
    assert NO_PERMISSION in out[-1].text
    assert sum(isinstance(r, GetFile) for r in staff.session.requests) == downloads


async def test_strangers_are_refused(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    station = await station_id(maker)
    activity = await make_activity(
        maker, station, now=utcnow(), capacity=5, starts_in=-timedelta(hours=1)
    )
    stranger = Conversation(dp, bot, user_id=2399, language_code="en")
    out = await stranger.send("/import_hours")
    assert NO_PERMISSION in out[-1].text
    await stranger.press_data(ImportStationCb(action="p", id=station).pack(), message=out[-1])
    await stranger.press_data(RosterAddCb(activity=activity).pack(), message=out[-1])
    assert [a.text for a in stranger.answers()] == [NO_PERMISSION, NO_PERMISSION]


async def test_adding_someone_late_from_the_roster(
    dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    station = await station_id(maker)
    await grant(maker, STAFF)
    staff = Conversation(dp, bot, user_id=STAFF, language_code="en")
    await make_activity(
        maker, station, now=utcnow(), capacity=5, starts_in=-timedelta(hours=1), title="Tea"
    )
    later = await make_activity(
        maker, station, now=utcnow(), capacity=5, starts_in=timedelta(hours=5), title="Later"
    )
    await staff.send("/roster")
    await staff.press("Later")
    assert "Add someone" not in str(staff.last_with_buttons().buttons())
    out = await staff.press_data(RosterAddCb(activity=later).pack())
    assert "Later has not started yet" in (staff.answers()[-1].text or "")

    await staff.send("/roster")
    await staff.press("Tea")
    out = await staff.press("Add someone")
    assert "Who is to be added to the records of <b>Tea</b>?" in out[-1].text
    out = await staff.send("Grandma Zhang 1234567")
    assert "mainland mobile number" in out[-1].text
    out = await staff.send("Grandma Zhang")
    assert "How long did Grandma Zhang serve at <b>Tea</b>?" in out[-1].text
    out = await staff.send("0")
    assert "above zero" in out[-1].text
    out = await staff.send("5")
    assert "more than the activity's length" in out[-1].text
    out = await staff.send("1.5")
    assert out[-1].text.startswith(
        "Added Grandma Zhang to the records with 1 h 30 min, as a new person at the station."
    )
    assert "Grandma Zhang</b> (walk-in)" in out[-1].text
    async with maker() as session:
        person = (
            await session.exec(select(Volunteer).where(Volunteer.real_name == "Grandma Zhang"))
        ).one()
    assert person.user_id is None and person.phone is None
