"""An activity's record (台账) through the real Dispatcher: staff attach photos (as
Telegram photos, downloaded into the data directory) and a summary, from /roster and
from closing; limits and bad input; a download that fails is kept and fetched when the
record sheet is made; the sheet's text."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from aiogram import Dispatcher
from PIL import Image
from pypdf import PdfReader
from sqlmodel import col, select

from reports import certificate_pdf
from services import activity_records, marks, personal_data
from services.access import Actor
from services.activity_records import MAX_PHOTO_BYTES, MAX_PHOTOS, SUMMARY_MAX
from storage.db import SessionMaker
from storage.models import Activity, ActivityPhoto, AuditLog, TargetGroup
from storage.types import utcnow
from tests.handlers.test_roster import (
    STAFF,
    checked_in_only,
    grant,
    seated_activity,
)
from tests.mocked_bot import Conversation, MockedBot
from ui.callbacks import RosterRecCb

NO_FONT = certificate_pdf.find_cjk_font() is None
NEEDS_FONT = pytest.mark.skipif(NO_FONT, reason="no CJK font installed (fonts-noto-cjk)")


def jpeg(width: int = 64, height: int = 48, colour: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
async def staff(dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker) -> Conversation:
    await grant(sqlite_sessionmaker, STAFF)
    return Conversation(dp, bot, user_id=STAFF, language_code="en")


async def photos(maker: SessionMaker, activity_id: int) -> list[ActivityPhoto]:
    async with maker() as session:
        query = (
            select(ActivityPhoto)
            .where(ActivityPhoto.activity_id == activity_id)
            .order_by(col(ActivityPhoto.id))
        )
        return list((await session.exec(query)).all())


async def open_record(staff: Conversation, title: str) -> str:
    await staff.send("/roster")
    await staff.press(title)
    await staff.press("Record: photos, summary")
    return staff.last_with_buttons().text


async def test_staff_attach_photos_and_a_summary(
    staff: Conversation, bot: MockedBot, sqlite_sessionmaker: SessionMaker, tmp_path: Path
) -> None:
    maker = sqlite_sessionmaker
    activity_id = await seated_activity(maker, [2401, 2402])
    screen = await open_record(staff, "Elder tea party")
    assert "<b>Record of Elder tea party</b>" in screen
    assert "Photos: 0 of 9" in screen and "Summary: none yet" in screen

    out = await staff.press("Add photos")
    assert "as photos (not as files): up to 9 more" in out[-1].text
    big = jpeg(640, 480)
    out = await staff.photo(big, file_id="tea1", sizes=3)
    assert out[-1].text.startswith("Photo 1 of 9 saved.")
    [row] = await photos(maker, activity_id)
    # The largest size is kept, by its file id, and downloaded into the data directory.
    assert (row.file_id, row.uploaded_by, row.width) == ("tea1", STAFF, 1280)
    assert row.stored_path == f"records/{activity_id}/{row.id}.jpg"
    assert (tmp_path / "data" / row.stored_path).read_bytes() == big
    assert row.download_attempts == 1 and row.download_error is None

    # The same photo again (a forwarded copy, a redelivered update): not added twice.
    out = await staff.photo(big, file_id="tea1", sizes=3)
    assert "already in the record (1 of 9)" in out[-1].text
    # A file instead of a photo, a sticker, a text: told what is wanted, nothing added.
    out = await staff.document("tea.jpg", jpeg())
    assert "That came as a file. Please send it as a photo" in out[-1].text
    out = await staff.sticker()
    assert "Please send a photo, or press «Done»." in out[-1].text
    out = await staff.send("here you go")
    assert "Please send a photo" in out[-1].text
    assert len(await photos(maker, activity_id)) == 1

    await staff.press("Done adding photos")
    screen = staff.last_with_buttons().text
    assert "Photos: 1 of 9" in screen and "still to be fetched" not in screen
    # The dialog is over: a photo now goes nowhere near the record.
    await staff.photo(jpeg(), file_id="late")
    assert len(await photos(maker, activity_id)) == 1

    out = await staff.press("Write the summary")
    assert f"at most {SUMMARY_MAX} characters" in out[-1].text
    out = await staff.send("长" * (SUMMARY_MAX + 1))
    assert f"That summary has {SUMMARY_MAX + 1} characters; at most {SUMMARY_MAX}" in out[-1].text
    out = await staff.send("   ")
    assert "Please type the summary" in out[-1].text
    out = await staff.send("为12位独居老人<送餐>，\n\n\n\n陪伴聊天两小时。")
    assert out[-1].text.startswith("Summary saved.")
    assert "为12位独居老人&lt;送餐&gt;，\n\n陪伴聊天两小时。" in out[-1].text
    async with maker() as session:
        activity = await session.get(Activity, activity_id)
        assert activity is not None
        assert activity.summary == "为12位独居老人<送餐>，\n\n陪伴聊天两小时。"
        assert activity.summary_by == STAFF
        actions = (
            await session.exec(select(AuditLog.action).where(AuditLog.subject_id == activity_id))
        ).all()
    assert "record.photo_added" in actions and "record.summary_written" in actions


async def test_photo_limits(
    staff: Conversation, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    activity_id = await seated_activity(maker, [2411])
    await open_record(staff, "Elder tea party")
    await staff.press("Add photos")
    # Every size over the limit: refused, the dialog goes on.
    out = await staff.photo(b"x" * (MAX_PHOTO_BYTES + 1), file_id="huge")
    assert "That photo is too large: at most 5 MB" in out[-1].text
    # The original too large, a smaller size within it: the smaller one is kept.
    out = await staff.photo(b"y" * (MAX_PHOTO_BYTES + 1), file_id="big", sizes=2)
    assert out[-1].text.startswith("Photo 1 of 9 saved.")
    [row] = await photos(maker, activity_id)
    assert row.file_id == "bigs0" and (row.file_size or 0) <= MAX_PHOTO_BYTES
    for n in range(2, MAX_PHOTOS + 1):
        out = await staff.photo(jpeg(colour=(n, n, n)), file_id=f"p{n}")
        assert out[-1].text.startswith(f"Photo {n} of 9 saved.")
    assert "That is the most a record holds." in out[-1].text
    # The dialog ended with the ninth; pressing «Add photos» again is refused.
    await staff.press("Done adding photos")
    screen = staff.last_with_buttons()
    assert "Photos: 9 of 9" in screen.text
    assert not [b for b, _ in screen.buttons() if "Add photos" in b]
    await staff.press_data(RosterRecCb(activity=activity_id, action="p").pack())
    assert staff.answers()[-1].text and "already holds 9 photos" in staff.answers()[-1].text
    # A tenth sent straight to the service is refused too, nothing added.
    async with maker() as session:
        with pytest.raises(Exception, match="photos_full"):
            await activity_records.add_photo(
                session,
                actor=Actor(STAFF),
                activity_id=activity_id,
                file_id="p10",
                file_unique_id="up10",
            )
    assert len(await photos(maker, activity_id)) == MAX_PHOTOS


async def test_no_record_before_the_start_and_none_for_strangers(
    staff: Conversation, dp: Dispatcher, bot: MockedBot, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    activity_id = await seated_activity(maker, [2421], starts_in=timedelta(hours=3))
    screen = await open_record(staff, "Elder tea party")
    assert "can be added once the activity has started" in screen
    buttons = [b for b, _ in staff.last_with_buttons().buttons()]
    assert "📄 Record sheet (PDF)" in buttons and not [b for b in buttons if "Add photos" in b]
    await staff.press_data(RosterRecCb(activity=activity_id, action="p").pack())
    assert "once the activity has started" in (staff.answers()[-1].text or "")

    stranger = Conversation(dp, bot, user_id=2499, language_code="en")
    for action in ("o", "p", "s", "f"):
        await stranger.press_data(
            RosterRecCb(activity=activity_id, action=action).pack(),
            message=staff.last_with_buttons(),
        )
        assert stranger.answers()[-1].text == "You do not have permission for this."
    assert not [m for m in bot.session.sent_to(2499) if m.document]


async def test_closing_offers_the_record(
    staff: Conversation, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    await seated_activity(maker, [2431], starts_in=-timedelta(hours=3))
    await staff.send("/roster")
    await staff.press("Elder tea party")
    await staff.press("Close the records")
    await staff.press("Yes, close the records")
    closed = staff.last_with_buttons()
    assert "are closed" in closed.text and "record sheet" in closed.text
    labels = [b for b, _ in closed.buttons()]
    assert "🗂 Add photos and a summary" in labels and "📄 Record sheet (PDF)" in labels
    await staff.press("Add photos and a summary")
    assert "<b>Record of Elder tea party</b>" in staff.last_with_buttons().text
    await staff.press("Add photos")  # a closed activity's record still takes photos
    out = await staff.photo(jpeg(), file_id="after")
    assert out[-1].text.startswith("Photo 1 of 9 saved.")


@NEEDS_FONT
async def test_record_sheet_with_a_failed_download(
    staff: Conversation, bot: MockedBot, sqlite_sessionmaker: SessionMaker, tmp_path: Path
) -> None:
    maker = sqlite_sessionmaker
    activity_id = await seated_activity(maker, [2441, 2442, 2443], starts_in=-timedelta(hours=3))
    await checked_in_only(maker, activity_id, [2441])
    async with maker() as session:
        await marks.set_beneficiaries(
            session,
            actor=Actor(STAFF),
            activity_id=activity_id,
            group=TargetGroup.ELDERLY,
            count=12,
        )
        await marks.set_beneficiaries(
            session,
            actor=Actor(STAFF),
            activity_id=activity_id,
            group=TargetGroup.CHILDREN,
            count=5,
        )
    await open_record(staff, "Elder tea party")
    await staff.press("Add photos")
    bot.session.failing_downloads = 1
    out = await staff.photo(jpeg(320, 240), file_id="flaky")
    assert "Telegram did not hand over the file just now" in out[-1].text
    [row] = await photos(maker, activity_id)
    assert row.stored_path is None and row.download_attempts == 1
    assert row.download_error is not None and "connection dropped" in row.download_error
    await staff.photo(jpeg(320, 240, (10, 120, 200)), file_id="fine")
    # Telegram forgets a file: that one stays missing and is marked on the sheet.
    await staff.photo(jpeg(), file_id="gone")
    del bot.session.files["gone"]
    (tmp_path / "data" / f"records/{activity_id}/{row.id + 2}.jpg").unlink()
    await staff.press("Done adding photos")
    assert "(1 still to be fetched from Telegram)" in staff.last_with_buttons().text
    await staff.press("Write the summary")
    await staff.send("为独居老人送餐并陪伴聊天。")

    before = len(staff.inbox())
    await staff.press("Record sheet (PDF)")
    [sent] = [m for m in staff.inbox()[before:] if m.document]
    assert sent.file_name == f"record-{activity_id}.pdf"
    assert "Record sheet of <b>Elder tea party</b>" in sent.text
    assert "1 photo could not be fetched from Telegram" in sent.text
    rows = await photos(maker, activity_id)
    assert rows[0].stored_path is not None and rows[0].download_attempts == 2
    assert (tmp_path / "data" / rows[0].stored_path).is_file()
    assert rows[2].stored_path is None and rows[2].download_attempts == 2

    assert sent.document is not None
    reader = PdfReader(io.BytesIO(sent.document))
    text = "".join(
        "".join(page.extract_text().replace("\x00", "").split()) for page in reader.pages
    )
    for expected in (
        "Activityrecord",
        "Elderteaparty",
        "Garbagesorting",
        "西园新村东门",
        "志愿者乙",
        "志愿者丙",
        "3ontheroster·1present·0absent·0mincredited",
        "theelderly12",
        "children5",
        "Total17",
        "为独居老人送餐并陪伴聊天。",
        "Photos(3)",
        "Photo3notavailable",
    ):
        assert expected in text, (expected, text)
    images = [image for page in reader.pages for image in page.images]
    assert len(images) == 2  # the two photos that could be fetched


async def test_erasure_forgets_the_uploader_not_the_photo(
    staff: Conversation, sqlite_sessionmaker: SessionMaker
) -> None:
    maker = sqlite_sessionmaker
    activity_id = await seated_activity(maker, [2451])
    await open_record(staff, "Elder tea party")
    await staff.press("Add photos")
    await staff.photo(jpeg(), file_id="kept")
    await staff.press("Done adding photos")
    await staff.press("Write the summary")
    await staff.send("Tea and talk.")
    async with maker() as session:
        export = await personal_data.export_data(session, STAFF)
    assert [r["file_id"] for r in export["tables"]["activity_photo"]] == ["kept"]
    assert [a["id"] for a in export["activities"]] == [activity_id]
    async with maker() as session:
        await personal_data.erase(session, STAFF, now=utcnow())
    [row] = await photos(maker, activity_id)
    assert row.uploaded_by is None and row.file_id == "kept"
    async with maker() as session:
        activity = await session.get(Activity, activity_id)
        assert activity is not None
        assert activity.summary == "Tea and talk." and activity.summary_by is None
