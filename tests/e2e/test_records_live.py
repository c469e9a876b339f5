"""Staff attach photos to an activity's record through the stand-in over real HTTP:
an album of three, each downloaded with getFile and the file route into the data
directory; a download Telegram fails is kept by its file id and fetched when the
record sheet is made. On each database backend."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from services import roles
from standin import DOWNLOAD
from standin.media import sample_png
from storage.models import ActivityPhoto
from storage.types import utcnow
from tests.e2e.conftest import Live, LiveChat
from tests.factories import make_activity

STAFF = 9301


async def test_an_album_and_a_failed_download(live: Live, tmp_path: Path) -> None:
    station = live.stations["hf-ss-xy-xyxc"]
    async with live.sessionmaker() as session:
        await roles.grant(
            session, user_id=STAFF, role="staff", station_code="hf-ss-xy-xyxc", actor_id=None
        )
    activity_id = await make_activity(
        live.sessionmaker,
        station,
        now=utcnow(),
        capacity=10,
        starts_in=-timedelta(minutes=30),
        title="Riverside cleanup",
    )
    staff = LiveChat(live.standin, STAFF, "en")
    await staff.say("/roster", "Riverside cleanup")
    await staff.press("Riverside cleanup", "Roster: Riverside cleanup")
    await staff.press("Record: photos, summary", "Record of Riverside cleanup")
    await staff.press("Add photos", "up to 9 more")

    contents = [sample_png(400 + 10 * n, 300) for n in range(3)]
    sent = live.standin.send_album(STAFF, contents)
    await live.standin.wait_for_message(
        STAFF, predicate=lambda m: "Photo 3 of 9 saved." in m.plain_text, timeout=15
    )
    live.standin.fail_next(DOWNLOAD, error_code=502, description="Bad Gateway")
    flaky = sample_png(500, 500)
    mark = live.standin.mark(STAFF)
    live.standin.send_photo(STAFF, flaky)
    answer = await live.standin.wait_for_message(
        STAFF, predicate=lambda m: "Photo 4 of 9" in m.plain_text, after=mark, timeout=15
    )
    assert "Telegram did not hand over the file just now" in answer.plain_text

    async with live.sessionmaker() as session:
        rows = list(
            (
                await session.exec(
                    select(ActivityPhoto)
                    .where(ActivityPhoto.activity_id == activity_id)
                    .order_by(col(ActivityPhoto.id))
                )
            ).all()
        )
    largest = {m["photo"][-1]["file_id"]: c for m, c in zip(sent, contents, strict=True)}
    kept = {r.file_id: r for r in rows}
    assert set(largest) < set(kept) and len(rows) == 4
    for file_id, content in largest.items():
        row = kept[file_id]
        assert row.stored_path is not None
        assert (tmp_path / "data" / row.stored_path).read_bytes() == content
    [failed] = [r for r in rows if r.file_id not in largest]
    assert failed.stored_path is None and failed.download_error is not None

    await staff.say("/roster", "Riverside cleanup")
    await staff.press("Riverside cleanup", "Roster: Riverside cleanup")
    await staff.press("Record: photos, summary", "(1 still to be fetched from Telegram)")
    # The first sheet loads fpdf2 and subsets a CJK font: seconds on a busy machine.
    document = await staff.press("Record sheet (PDF)", "Record sheet of", timeout=30)
    assert document.document is not None
    assert document.document.file_name == f"record-{activity_id}.pdf"
    assert "could not be fetched" not in document.plain_text
    async with live.sessionmaker() as session:
        again = await session.get(ActivityPhoto, failed.id)
        assert again is not None and again.stored_path is not None
    assert (tmp_path / "data" / again.stored_path).read_bytes() == flaky
