"""An activity's record sheet (活动台账) from plain values, in Chinese and English: the
details, attendance with marks and minutes, beneficiaries by group with the total,
the summary and the photos (one that cannot be read is noted in its place); a long
roster runs over pages with the headings repeated. docs/screens/record_sheet.png is
rendered from ``sample()``."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from reports import certificate_pdf
from services.activity_records import RecordSheet, SheetLine, SheetPhoto
from storage.models import ActivityKind, ActivityStatus, AttendanceMark, TargetGroup
from ui.i18n import make_i18n

FONT = certificate_pdf.find_cjk_font()
needs_font = pytest.mark.skipif(
    FONT is None, reason="no CJK font installed (Debian/Ubuntu: apt-get install fonts-noto-cjk)"
)
START = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # Saturday 28 November, 09:00 in Hefei
NAMES = ("王秀英", "李建国", "张丽", "刘洋", "陈静", "杨帆", "黄磊", "赵敏")


def scene(
    width: int, height: int, sky: tuple[int, int, int], ground: tuple[int, int, int]
) -> bytes:
    """A small JPEG standing in for a photo: sky, ground, a few people."""
    image = Image.new("RGB", (width, height), sky)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height * 3 // 5, width, height), fill=ground)
    for n in range(4):
        x = width // 6 + n * width // 5
        draw.ellipse((x - 12, height // 2 - 40, x + 12, height // 2 - 16), fill=(240, 200, 170))
        draw.rectangle((x - 16, height // 2 - 14, x + 16, height // 2 + 40), fill=(200, 40, 40))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def sample(people: int = 8, photos: int = 3) -> RecordSheet:
    marks = (AttendanceMark.PRESENT, AttendanceMark.PRESENT, AttendanceMark.LATE, None)
    lines = []
    for n in range(people):
        mark = AttendanceMark.ABSENT if n == 5 else marks[n % 4]
        came = mark in (AttendanceMark.PRESENT, AttendanceMark.LATE)
        lines.append(
            SheetLine(
                name=NAMES[n % len(NAMES)] if n < len(NAMES) else f"志愿者{n:03d}",
                walk_in=n == people - 1,
                mark=mark,
                checked_in_at=START + timedelta(minutes=5 + 20 * (mark is AttendanceMark.LATE))
                if came
                else None,
                checked_out_at=START + timedelta(hours=2) if came else None,
                minutes=(100 if mark is AttendanceMark.LATE else 120) if came else None,
                recorded=mark is not None,
            )
        )
    return RecordSheet(
        activity_id=12,
        title="重阳敬老：独居老人上门探访",
        kind=ActivityKind.ELDER_CARE,
        station_name="西园新村社区",
        station_name_en="Xiyuan Xincun Community",
        place="西园新村3栋至9栋",
        starts_at=START,
        ends_at=START + timedelta(hours=2),
        zone=ZoneInfo("Asia/Shanghai"),
        organiser="周晓梅",
        closed_at=START + timedelta(days=1, hours=2),
        status=ActivityStatus.PUBLISHED,
        lines=lines,
        beneficiaries={TargetGroup.ELDERLY: 23, TargetGroup.FAMILIES_IN_DIFFICULTY: 4},
        photos=[SheetPhoto(n + 1, f"file{n}", f"records/12/{n + 1}.jpg") for n in range(photos)],
        summary=(
            "志愿者分成三组，为23位独居老人送去重阳糕和米面油，帮助4户困难家庭清扫房间，"
            "并为老人测量血压、讲解防诈骗知识。老人们反映良好，下次计划增加理发服务。"
        ),
        made_at=START + timedelta(days=1, hours=3),
    )


def images(count: int = 3) -> dict[int, bytes]:
    colours = [((150, 190, 230), (90, 150, 80)), ((230, 220, 190), (160, 120, 80))]
    return {
        n + 1: scene(800, 600, *colours[n % 2]) if n % 3 != 2 else scene(600, 800, *colours[0])
        for n in range(count)
    }


def pdf(value: RecordSheet, locale: str, found: dict[int, bytes]) -> bytes:
    from reports import record_sheet_files

    assert FONT is not None
    i18n = make_i18n("zh_CN")
    with i18n.context(), i18n.use_locale(locale):
        return record_sheet_files.sheet_pdf(value, locale=locale, font=FONT, images=found)


def text_of(document: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(document))
    return "".join(
        "".join(p.extract_text().replace("\x00", "").split()) for p in reader.pages
    ), reader


def test_the_sheet_counts() -> None:
    value = sample()
    assert (len(value.lines), value.present, value.absent) == (8, 5, 1)
    assert value.minutes == 3 * 120 + 2 * 100 and value.served == 27


@needs_font
def test_the_chinese_sheet_holds_everything() -> None:
    document = pdf(sample(), "zh_CN", images())
    text, reader = text_of(document)
    for expected in (
        "活动台账",
        "重阳敬老：独居老人上门探访",
        "助老",  # the kind
        "西园新村社区",
        "西园新村3栋至9栋",
        "周晓梅",
        "2026年11月28日",
        "09:00",
        "王秀英",
        "李建国",
        "迟到",
        "缺席",
        "名单8人·到场5人·缺席1人·计入时长9小时20分钟",
        "老年人23",
        "困难家庭4",
        "27",
        "下次计划增加理发服务",
        "活动照片（3张）",
    ):
        assert expected in text, (expected, text)
    assert sum(len(page.images) for page in reader.pages) == 3


@needs_font
def test_an_unreadable_photo_is_noted_and_a_long_roster_runs_over() -> None:
    found = images(2)
    found[2] = b"not a jpeg"
    value = sample(people=60, photos=3)
    text, reader = text_of(pdf(value, "en", found))
    assert "Photos(3)" in text and "Photo2notavailable" in text and "Photo3notavailable" in text
    assert sum(len(page.images) for page in reader.pages) == 1
    assert len(reader.pages) >= 2
    pages = ["".join(p.extract_text().replace("\x00", "").split()) for p in reader.pages]
    with_rows = [page for page in pages if "志愿者0" in page]
    assert len(with_rows) >= 2
    assert all("No.NameMarkCheck-inCheck-outTime" in page for page in with_rows)
    assert "志愿者059(walk-in)" in text
