"""`volunteer-bot export hours`, run as a person would: the default layout (shipped
with the package), a mapping file of one's own, CSV and XLSX, and bad mapping files
named with their problem in one line and exit status 2."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.__main__ import main
from services import hours_export
from services.errors import InvalidInput
from storage import migrate
from storage.db import make_engine, make_sessionmaker
from tests.storage.test_register import ZONE, World, seed_register
from tests.unit.test_cli import cli


@pytest.fixture
async def seeded_file(tmp_path: Path) -> World:
    url = f"sqlite:///{tmp_path}/cli.db"  # the database `cli` points the command at
    await migrate.upgrade(url)
    engine = make_engine(url)
    try:
        return await seed_register(make_sessionmaker(engine))
    finally:
        await engine.dispose()


def run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    *args: str,
) -> tuple[int, str, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    status = main(["export", "hours", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def span(world: World) -> tuple[str, str]:
    today = world.now.astimezone(ZONE).date()
    return str(today - timedelta(days=500)), str(today)


def test_default_layout_as_csv_and_xlsx(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    seeded_file: World,
) -> None:
    first, last = span(seeded_file)
    status, out, err = run(
        monkeypatch, capsys, tmp_path, "--station", "hf-ss", "--from", first, "--to", last
    )
    assert status == 0, err
    table = list(csv.reader(io.StringIO(out)))
    assert table[0][:3] == ["姓名", "手机号码", "活动名称"] and len(table[0]) == 9
    assert sorted((r[0], r[7]) for r in table[1:]) == [
        ("张三", "100.00"),
        ("张三", "2.00"),
        ("李四", "1.50"),
    ]
    assert {r[3] for r in table[1:]} == {"助老", "环境整治"}
    sheet = tmp_path / "hours.xlsx"
    status, _out, err = run(
        monkeypatch, capsys, tmp_path, "--station", "hf-bh", "--from", first, "--to", last,
        "--out", str(sheet),
    )  # fmt: skip
    assert status == 0, err
    assert f"1 rows: {sheet}" in err
    rows = list(load_workbook(io.BytesIO(sheet.read_bytes())).active.iter_rows(values_only=True))
    assert rows[1][0] == "赵六" and rows[1][1] == "13900040004"
    assert rows[1][7] == pytest.approx(0.83)  # 50 minutes


def test_a_mapping_of_ones_own(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    seeded_file: World,
) -> None:
    mapping = tmp_path / "mine.yaml"
    mapping.write_text(
        "language: en\nhours_decimals: 1\ndate_format: '%d/%m/%Y'\ncolumns:\n"
        "  - {header: Volunteer, field: name}\n"
        "  - {header: Minutes, field: minutes}\n"
        "  - {header: Hours, field: hours}\n"
        "  - {header: Kind, field: kind}\n"
        "  - {header: Day, field: date}\n"
        "  - {header: Code, field: station_code}\n",
        encoding="utf-8",
    )
    first, last = span(seeded_file)
    out_file = tmp_path / "mine.csv"
    status, _out, err = run(
        monkeypatch, capsys, tmp_path, "--station", "hf-ss-hp", "--from", first, "--to", last,
        "--mapping", str(mapping), "--out", str(out_file),
    )  # fmt: skip
    assert status == 0, err
    table = list(csv.reader(io.StringIO(out_file.read_bytes().decode("utf-8-sig"))))
    day = (seeded_file.now - timedelta(days=400)).astimezone(ZONE).strftime("%d/%m/%Y")
    assert table == [
        ["Volunteer", "Minutes", "Hours", "Kind", "Day", "Code"],
        ["李四", "90", "1.5", "Elder care", day, "hf-ss-hp"],
    ]


BAD = [
    ("columns: [", "not valid YAML at line"),
    ("- a\n- b\n", "must be a mapping with a 'columns' list"),
    ("colums: []\n", "unknown key 'colums'"),
    ("columns: []\n", "'columns' must be a list of at least one column"),
    ("columns:\n  - {header: 姓名}\n", "column 1 must have exactly 'header' and 'field'"),
    ("columns:\n  - {header: 身份证号, field: id_number}\n", "unknown field 'id_number'"),
    ("columns:\n  - {header: '', field: name}\n", "column 1's header must be a text"),
    (
        "columns:\n  - {header: A, field: name}\n  - {header: A, field: phone}\n",
        "column 2: the header 'A' is used twice",
    ),
    ("hours_decimals: 5\ncolumns:\n  - {header: A, field: name}\n", "'hours_decimals' must be"),
    ("language: fr\ncolumns:\n  - {header: A, field: name}\n", "'language' must be one of"),
    ("date_format: YYYY\ncolumns:\n  - {header: A, field: name}\n", "has no % code"),
]


@pytest.mark.parametrize(("text", "words"), BAD)
def test_bad_mappings_are_named(text: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        hours_export.parse_mapping(text)
    assert caught.value.code == "export.bad_mapping"
    assert words in str(caught.value.params["detail"])


def test_mistakes_are_one_line_and_status_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    seeded_file: World,
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns:\n  - {header: 身份证号, field: id_number}\n", encoding="utf-8")
    period = ("--from", "2026-01-01", "--to", "2026-12-31")
    cases = [
        (("--station", "nowhere", *period), "no station with code 'nowhere'"),
        (("--station", "hf", "--from", "2026-13-01", "--to", "2026-12-31"), "bad date"),
        (("--station", "hf", "--from", "2026-12-31", "--to", "2026-01-01"), "comes before"),
        (("--station", "hf", *period, "--mapping", str(bad)), "unknown field 'id_number'"),
        (("--station", "hf", *period, "--mapping", str(tmp_path / "none.yaml")), "cannot read"),
        (("--station", "hf", *period, "--out", str(tmp_path / "x.pdf")), "must end in .csv"),
        (("--station", "hf", *period, "--out", str(tmp_path / "no" / "x.csv")), "cannot write"),
    ]
    for args, words in cases:
        status, _out, err = run(monkeypatch, capsys, tmp_path, *args)
        assert status == 2, (args, err)
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith("volunteer-bot: ") and words in err, err
    # once for real, in a process of its own
    result = cli(tmp_path, "export", "hours", "--station", "hf", *period, "--mapping", str(bad))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"mapping {bad}: column 1 (身份证号): unknown field 'id_number'" in result.stderr


def test_the_default_mapping_is_package_data() -> None:
    text = hours_export.default_mapping_text()
    mapping = hours_export.parse_mapping(text)
    assert [c.field for c in mapping.columns] == [
        "name", "phone", "title", "kind", "date", "start", "end", "hours", "station",
    ]  # fmt: skip
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert 'services = ["hours_export.yaml"]' in pyproject
