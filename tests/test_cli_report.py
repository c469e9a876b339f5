"""`volunteer-bot report`, run as a person would: the report printed (plain text) in
Chinese by default or English, written to a file, as a spreadsheet and a chart, and
one-line mistakes with exit status 2."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.__main__ import main
from reports import tally_chart
from services.report_periods import month_of, quarter_of
from storage import migrate
from storage.db import make_engine, make_sessionmaker
from storage.types import utcnow
from tests.handlers.test_tally import Seeded, seed_tally
from tests.unit.test_cli import cli


@pytest.fixture
async def seeded_file(tmp_path: Path) -> Seeded:
    url = f"sqlite:///{tmp_path}/cli.db"
    await migrate.upgrade(url)
    engine = make_engine(url)
    try:
        return await seed_tally(make_sessionmaker(engine))
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
    monkeypatch.delenv("DEFAULT_LOCALE", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    status = main(["report", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _quarter() -> str:
    """The quarter under way: this week's seeded records are in it or the one before."""
    return quarter_of(utcnow().date()).code


def test_prints_the_report_in_chinese_and_english(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    seeded_file: Seeded,
) -> None:
    year = str(utcnow().year)
    status, out, err = run(monkeypatch, capsys, tmp_path, "--station", "hf-ss", "--year", year)
    assert status == 0, err
    assert (
        out.startswith(f"📋 工作报告：蜀山区社会工作服务指导中心\n{year}年度\n")
        and "<b>" not in out
    )
    assert f"对比：{int(year) - 1}年度（同比）\n" in out
    assert "本年度共开展志愿服务活动4场，同比 —（去年同期为零）；" in out  # this week's 3 and 1
    assert "活动场次：4（同比 —）" in out
    status, out, err = run(
        monkeypatch, capsys, tmp_path, "--station", "hf-ss-xy", "--year", year, "--lang", "en"
    )
    assert status == 0, err
    assert "📋 Report: Xiyuan Street Station" in out and "Activities: 3 (year on year —)" in out
    assert "This year, 3 volunteer activities were held, year on year — " in out
    written = tmp_path / "r.txt"
    args = ("--station", "hf-ss", "--quarter", _quarter(), "--out", str(written))
    status, out, err = run(monkeypatch, capsys, tmp_path, *args)
    assert status == 0, err
    assert f"report: {written}" in out
    assert written.read_text().startswith("📋 工作报告：蜀山区社会工作服务指导中心\n")


def test_spreadsheet_and_chart(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    seeded_file: Seeded,
) -> None:
    month = month_of(utcnow().date()).code
    args = ("--station", "hf-ss", "--month", month, "--format", "xlsx", "--lang", "en")
    status, out, err = run(monkeypatch, capsys, tmp_path, *args)
    assert status == 0, err
    name = tmp_path / f"report-hf-ss-{month}.xlsx"
    assert f"report: report-hf-ss-{month}.xlsx" in out
    book = load_workbook(io.BytesIO(name.read_bytes()))
    assert book.sheetnames[0] == "Summary" and "Records on time" in book.sheetnames
    if tally_chart.find_chart_font() is None:
        return
    chart = tmp_path / "c.png"
    args = ("--station", "hf", "--year", str(utcnow().year), "--format", "png", "--out", str(chart))
    status, out, err = run(monkeypatch, capsys, tmp_path, *args)
    assert status == 0, err
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_mistakes_are_one_line_and_status_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    seeded_file: Seeded,
) -> None:
    cases = [
        (("--station", "nowhere", "--year", "2026"), "no station with code 'nowhere'"),
        (("--station", "hf", "--month", "2026-Q3"), "bad period '2026-Q3'"),
        (("--station", "hf", "--month", "2026-13"), "bad period '2026-13'"),
        (("--station", "hf", "--quarter", "2026-Q5"), "bad period '2026-Q5'"),
        (("--station", "hf", "--year", "soon"), "bad period 'soon'"),
        (("--station", "hf", "--year", "2999"), "2999 has not begun yet"),
        (
            ("--station", "hf", "--year", "2026", "--format", "xlsx", "--out", "no/such/a.xlsx"),
            "cannot write",
        ),
    ]
    for args, words in cases:
        status, _out, err = run(monkeypatch, capsys, tmp_path, *args)
        assert status == 2, (args, err)
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith("volunteer-bot: ") and words in err, err
    for args in (("--station", "hf"), ("--station", "hf", "--year", "2026", "--month", "2026-11")):
        with pytest.raises(SystemExit) as stopped:  # argparse: one period, exactly
            run(monkeypatch, capsys, tmp_path, *args)
        assert stopped.value.code == 2
    result = cli(tmp_path, "report", "--station", "nowhere", "--year", "2026")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no station with code 'nowhere'" in result.stderr
