"""The certificate PDF: a CJK font is found, Chinese is embedded as text (not boxes),
long lists continue on further pages, the QR code carries the verification link,
and the file stays small."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import segno
from pypdf import PdfReader

from reports import certificate_drawing, certificate_pdf
from reports.certificate_pdf import CjkFont
from services.certificates import StatedActivity, Statement, StationNames
from ui.i18n import make_i18n

NO_FONT = (
    "no CJK font installed (Debian/Ubuntu: apt-get install fonts-noto-cjk), "
    "so certificates are not available on this machine"
)
FONT = certificate_pdf.find_cjk_font()
needs_font = pytest.mark.skipif(FONT is None, reason=NO_FONT)
URL = "https://t.me/station_test_bot?start=verify_7K3MQ9P2XR40"
TITLES = ["垃圾分类督导", "走访慰问独居老人，送去冬季慰问品并了解生活需求", "政策宣传进社区"]


def statement(count: int = 3) -> Statement:
    activities = [
        StatedActivity(
            day=date(2026, 3, 1 + i % 28),
            title=TITLES[i % 3] if count <= 3 else f"{TITLES[i % 3]}{i + 1:03d}",
            station_name="西园新村社区" if i % 2 == 0 else "合肥市社会工作服务指导中心",
            station_name_en="Xiyuan Xincun Community" if i % 2 == 0 else None,
            minutes=90 + i,
        )
        for i in range(count)
    ]
    return Statement(
        code="7K3MQ9P2XR40",
        holder_name="欧阳春花",
        station=StationNames("西园新村社区", "Xiyuan Xincun Community"),
        first_day=date(2026, 1, 1),
        last_day=date(2026, 6, 30),
        total_minutes=15270,
        period_minutes=sum(a.minutes for a in activities),
        activity_count=count,
        activities=activities,
        issued_at=datetime(2026, 6, 30, 17, 0, tzinfo=UTC),  # 1 July in Shanghai
        zone=ZoneInfo("Asia/Shanghai"),
        locale="zh_CN",
    )


def render(value: Statement, locale: str) -> bytes:
    assert FONT is not None
    i18n = make_i18n("zh_CN")
    with i18n.context(), i18n.use_locale(locale):
        return certificate_drawing.render(
            value, locale=locale, font=FONT, verify_url=URL, bot_username="station_test_bot"
        )


def pages_text(document: bytes) -> list[str]:
    # fpdf2 writes CJK fonts with a two-byte encoding that pypdf reads one byte at a
    # time: drop the NULs it leaves between the characters.
    reader = PdfReader(io.BytesIO(document))
    return [page.extract_text().replace("\x00", "") for page in reader.pages]


def squash(text: str) -> str:
    """Without spaces and line breaks: a long title may wrap inside a table cell."""
    return "".join(text.split())


@pytest.fixture
def no_fontconfig(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(certificate_pdf, "FC_PATTERNS", ())
    yield


def test_no_usable_font_is_none(tmp_path: Path, no_fontconfig: None) -> None:
    broken = tmp_path / "broken.ttc"
    broken.write_bytes(b"not a font at all")
    assert certificate_pdf.find_font([]) is None
    assert certificate_pdf.find_font([tmp_path / "missing.ttf", broken]) is None


def test_a_font_without_chinese_is_not_used(no_fontconfig: None) -> None:
    latin = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not latin.is_file():
        pytest.skip("DejaVu Sans is not installed")
    assert certificate_pdf.find_font([latin]) is None


def test_the_noto_collection_gives_its_simplified_chinese_face(no_fontconfig: None) -> None:
    path = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    if not path.is_file():
        pytest.skip(NO_FONT)
    font = certificate_pdf.find_font([path])
    assert font is not None
    # The collection holds JP, KR, SC, TC, HK (and mono) faces; SC is the third.
    assert font.regular == certificate_pdf.FontFile(path, 2)
    assert font.bold.path.name == "NotoSansCJK-Bold.ttc" and font.bold.index == 2


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="fontconfig is not installed")
@needs_font
def test_fontconfig_finds_a_font_when_no_known_path_has_one() -> None:
    font = certificate_pdf.find_font([])
    assert isinstance(font, CjkFont)
    assert certificate_pdf._pick_face(font.regular.path, font.regular.index) == font.regular


@needs_font
def test_chinese_certificate_carries_the_chinese_text() -> None:
    document = render(statement(), "zh_CN")
    [page] = pages_text(document)
    text = squash(page)
    for expected in [
        "欧阳春花",
        "西园新村社区",
        "合肥市社会工作服务指导中心",
        *TITLES,
        "2026年3月1日",  # an activity's day
        "2026年1月1日至6月30日",  # the period
        "2026年7月1日",  # issued, in Shanghai
        "254小时30分钟",  # total hours
        "4小时33分钟",  # hours in the period: 90 + 91 + 92 minutes
        "VS-7K3M-Q9P2-XR40",
        "@station_test_bot",
    ]:
        assert squash(expected) in text, expected
    assert "Xiyuan" not in text
    assert len(document) < 60_000, len(document)  # the fonts are subset


@needs_font
def test_english_certificate_uses_english_names_and_dates() -> None:
    [text] = pages_text(render(statement(), "en"))
    assert "Volunteer service certificate" in text
    assert "Xiyuan Xincun Community" in text
    assert "合肥市社会工作服务指导中心" in squash(text)  # no English name: the Chinese one
    assert "欧阳春花" in text and TITLES[1] in squash(text)
    assert "Mar 1, 2026" in text and "July 1, 2026" in text
    assert "Jan 1 to Jun 30, 2026" in text
    assert "served 4 h 33 min in 3 activities" in " ".join(text.split())


@needs_font
def test_the_rows_of_the_table_add_up_to_its_total() -> None:
    """90, 91 and 92 minutes were once 1.5, 1.5 and 1.5 hours above a total of 4.6:
    each row is now exact to the minute, as the total is."""
    text = squash(pages_text(render(statement(), "zh_CN"))[0])
    for row in ["1小时30分钟", "1小时31分钟", "1小时32分钟"]:
        assert row in text, row
    assert "合计4小时33分钟" in text


@needs_font
def test_a_long_list_continues_on_further_pages() -> None:
    value = statement(70)
    document = render(value, "en")
    pages = pages_text(document)
    assert len(pages) >= 3
    text = squash("".join(pages))
    for item in value.activities:
        assert item.title in text, item.title
    # The column headings are repeated, and every page names the holder and the code.
    for page in pages[1:]:
        assert "Activity" in page and "Hours" in page
    for number, page in enumerate(pages, start=1):
        assert "欧阳春花" in page and "VS-7K3M-Q9P2-XR40" in page
        assert f"Page {number} of {len(pages)}" in page
    assert "Issued by" in pages[-1]
    assert len(document) < 120_000, len(document)


@needs_font
def test_the_qr_code_carries_the_verification_link() -> None:
    reader = PdfReader(io.BytesIO(render(statement(), "zh_CN")))
    [image] = reader.pages[0].images
    picture = image.image
    assert picture is not None
    picture = picture.convert("L")
    expected = segno.make(URL, error="m")
    size = expected.symbol_size(scale=1, border=0)[0]
    scale = picture.width / (size + 4)  # drawn with a border of two modules
    assert picture.width == picture.height and scale == int(scale)
    for y, row in enumerate(expected.matrix):
        for x, dark in enumerate(row):
            pixel = picture.getpixel((int((x + 2.5) * scale), int((y + 2.5) * scale)))
            assert isinstance(pixel, int)
            assert (pixel < 128) == bool(dark), (x, y)


# --- a document a school accepts ----------------------------------------------------


def positions(document: bytes, page: int = -1) -> list[tuple[float, str]]:
    """(height from the page's foot in points, text) of each text run on a page."""
    found: list[tuple[float, str]] = []

    def visit(text: str, cm: object, tm: list[float], *_rest: object) -> None:
        if text.strip():
            found.append((float(tm[5]), text.replace("\x00", "").strip()))

    PdfReader(io.BytesIO(document)).pages[page].extract_text(visitor_text=visit)
    return found


def height_of(document: bytes, wanted: str) -> float:
    return next(y for y, text in positions(document) if wanted in squash(text))


@needs_font
def test_chinese_certificate_states_units_closes_and_names_the_stations_that_served() -> None:
    document = render(statement(), "zh_CN")
    [page] = pages_text(document)
    text = squash(page)
    # Every figure carries its unit.
    for expected in ["期间服务时长4小时33分钟", "期间参加的活动3场", "累计服务时长254小时30分钟"]:
        assert expected in text, expected
    # The title and a footnote say whose record this is, and how to verify it.
    assert "社工站志愿服务记录" in text
    assert "不是全国志愿服务信息系统出具的《志愿服务记录证明》" in text
    assert "/verifyVS-7K3M-Q9P2-XR40" in text
    # The text ends with 特此证明, then the stations that ran the activities, each on
    # its own line (most service first), with room for the seal above the date.
    closing = text.index("特此证明")
    assert closing > text.index("政策宣传进社区")  # after the activities
    issuer = text.index("出具单位（盖章）", closing)
    assert text.index("西园新村社区", issuer) < text.index("合肥市社会工作服务指导中心", issuer)
    lines = [t for _y, t in positions(document)]
    assert "西园新村社区" in lines and "合肥市社会工作服务指导中心" in lines
    seal_room = height_of(document, "合肥市社会工作服务指导中心") - height_of(
        document, "2026年7月1日"
    )
    assert seal_room >= 25 / 25.4 * 72, seal_room  # at least 25 mm blank for the seal


@needs_font
def test_english_certificate_is_the_same_document() -> None:
    document = render(statement(), "en")
    [page] = pages_text(document)
    flat = " ".join(page.split())
    for fact in [
        "Hours in the period 4 h 33 min",
        "Activities in the period 3 activities",
        "Total hours 254 h 30 min",
    ]:
        assert squash(fact) in squash(page), fact
    for expected in [
        "Hereby certified.",
        "Issued by (seal)",
        "the station's own record of service",
        "not a Volunteer Service Record Certificate of the national volunteer service",
        "/verify VS-7K3M-Q9P2-XR40",
    ]:
        assert expected in flat, expected
    closing = flat.index("Hereby certified.")
    assert flat.index("Xiyuan Xincun Community", closing) < flat.index(
        "合肥市社会工作服务指导中心", closing
    )
    assert "July 1, 2026" in flat[closing:]


@needs_font
def test_a_certificate_without_a_bot_name_still_says_how_to_verify() -> None:
    assert FONT is not None
    i18n = make_i18n("zh_CN")
    with i18n.context(), i18n.use_locale("zh_CN"):
        document = certificate_drawing.render(
            statement(), locale="zh_CN", font=FONT, verify_url=URL
        )
    [page] = pages_text(document)
    assert "/verifyVS-7K3M-Q9P2-XR40" in squash(page)
