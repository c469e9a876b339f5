"""The printable sign-in sheet (签到表) of an activity, as PDF and XLSX, from plain
values: station, activity, date and place at the head of every page, one numbered row
per person with the name, the phone's last four digits, check-in and check-out times
and room to sign; 300 people run over several pages with the headings repeated."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from reports import certificate_pdf, signin_sheet_files
from services.signin_sheet import SheetLine, SigninSheet, phone_tail
from ui.i18n import make_i18n

FONT = certificate_pdf.find_cjk_font()
needs_font = pytest.mark.skipif(
    FONT is None, reason="no CJK font installed (Debian/Ubuntu: apt-get install fonts-noto-cjk)"
)
START = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # Saturday 5 December, 09:00 in Hefei
SURNAMES = "王李张刘陈杨黄赵吴周"


def name(number: int) -> str:
    return f"{SURNAMES[number % 10]}志愿者{number:03d}"


def phone(number: int) -> str:
    return f"+86138{number:08d}"


def sheet(people: int = 300) -> SigninSheet:
    lines = [
        SheetLine(
            name=name(n),
            phone_tail=phone_tail(phone(n)),
            checked_in_at=START + timedelta(minutes=5) if n % 3 == 0 else None,
            checked_out_at=START + timedelta(hours=2, minutes=1) if n % 6 == 0 else None,
            walk_in=n > people - 2,
        )
        for n in range(1, people + 1)
    ]
    return SigninSheet(
        activity_id=12,
        station_name="西园新村社区",
        station_name_en="Xiyuan Xincun Community",
        title="垃圾分类督导：东区桶站值守",
        place="西园新村东门",
        starts_at=START,
        ends_at=START + timedelta(hours=2),
        zone=ZoneInfo("Asia/Shanghai"),
        lines=lines,
    )


def pdf(value: SigninSheet, locale: str) -> bytes:
    assert FONT is not None
    i18n = make_i18n("zh_CN")
    with i18n.context(), i18n.use_locale(locale):
        return signin_sheet_files.sheet_pdf(value, locale=locale, font=FONT)


def xlsx(value: SigninSheet, locale: str) -> bytes:
    i18n = make_i18n("zh_CN")
    with i18n.context(), i18n.use_locale(locale):
        return signin_sheet_files.sheet_xlsx(value, locale=locale)


def pages(document: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(document))
    return ["".join(p.extract_text().replace("\x00", "").split()) for p in reader.pages]


def test_only_the_last_four_digits_of_a_phone_are_kept() -> None:
    assert phone_tail("+8613812345678") == "5678"
    assert phone_tail("138 1234 5678") == "5678"
    assert phone_tail(None) is None and phone_tail("12") is None


@needs_font
def test_three_hundred_people_paginate_with_the_head_and_headings_on_every_page() -> None:
    value = sheet(300)
    document = pdf(value, "zh_CN")
    found = pages(document)
    assert len(found) >= 8, len(found)
    for number, page in enumerate(found, start=1):
        for expected in [
            "签到表",
            "西园新村社区",
            "垃圾分类督导：东区桶站值守",
            "西园新村东门",
            "2026年12月5日",
            "序号",
            "姓名",
            "手机尾号",
            "签到时间",
            "签退时间",
            "签名",
            f"第{number}/{len(found)}页",
        ]:
            assert expected in page, (number, expected)
    text = "".join(found)
    for n in range(1, 301):
        assert text.count(name(n)) == 1, name(n)
        assert phone(n)[3:] not in text  # never the whole number
    assert "****0003" in text and "09:05" in text and "11:01" in text
    assert len(document) < 400_000, len(document)


@needs_font
def test_the_english_sheet() -> None:
    [page] = pages(pdf(sheet(5), "en"))
    for expected in ["Sign-insheet", "XiyuanXincunCommunity", "No.", "Name", "Signature"]:
        assert expected in page, expected
    assert "Check-in" in page and "Check-out" in page and "Phone(last4)" in page


def test_the_spreadsheet_has_one_numbered_row_per_person_and_prints_its_headings() -> None:
    value = sheet(300)
    book = load_workbook(io.BytesIO(xlsx(value, "zh_CN")))
    ws = book.active
    assert ws is not None
    cells = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    flat = " ".join(str(c) for row in cells for c in row if c is not None)
    for expected in ["签到表", "西园新村社区", "垃圾分类督导：东区桶站值守", "西园新村东门"]:
        assert expected in flat, expected
    head = next(i for i, row in enumerate(cells) if row[0] == "序号")
    assert list(cells[head]) == ["序号", "姓名", "手机尾号", "签到时间", "签退时间", "签名"]
    body = cells[head + 1 : head + 301]
    assert [row[0] for row in body] == list(range(1, 301))
    assert [row[1] for row in body[:298]] == [name(n) for n in range(1, 299)]
    assert [row[1] for row in body[298:]] == [f"{name(n)} （临时参加）" for n in (299, 300)]
    assert body[2][2] == "****0003" and body[2][3] == "09:05" and body[5][4] == "11:01"
    assert body[0][3] in (None, "") and body[0][5] in (None, "")
    assert all(phone(n)[3:] not in flat for n in range(1, 301))
    # Printed, the headings repeat on every page and the columns fit the paper's width.
    assert ws.print_title_rows == f"${head + 1}:${head + 1}"
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
