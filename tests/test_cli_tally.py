"""`volunteer-bot tally`, run as a person would: the figures in English, the files,
and one-line mistakes with exit status 2."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.__main__ import main
from reports import tally_chart
from storage import migrate
from storage.db import make_engine, make_sessionmaker
from tests.handlers.test_tally import Seeded, seed_tally
from tests.unit.test_cli import cli


@pytest.fixture
async def seeded_file(tmp_path: Path) -> Seeded:
    url = f"sqlite:///{tmp_path}/cli.db"  # the database `cli` points the command at
    await migrate.upgrade(url)
    engine = make_engine(url)
    try:
        return await seed_tally(make_sessionmaker(engine))
    finally:
        await engine.dispose()


def week_of(seeded: Seeded, which: str) -> str:
    period = seeded.this_week if which == "this" else seeded.last_week
    assert period.iso_week is not None
    year, week = period.iso_week
    return f"{year}-W{week}"


async def test_prints_the_figures_and_writes_the_files(tmp_path: Path, seeded_file: Seeded) -> None:
    sheet, chart = tmp_path / "t.xlsx", tmp_path / "t.png"
    args = ["tally", "--station", "hf-ss", "--week", week_of(seeded_file, "this"), "--lang", "en"]
    args += ["--xlsx", str(sheet)]
    if tally_chart.find_chart_font() is not None:
        args += ["--png", str(chart)]
    result = cli(tmp_path, *args)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "📊 Tally: Shushan District Guidance Centre" in out and "<b>" not in out
    assert "Activities: 3 (previous: 1, +2)" in out
    assert "Volunteer participations: 6 (previous: 1, +5)" in out
    assert "• Xiyuan Street Station: activities 2 · participations 5" in out
    assert f"Week {week_of(seeded_file, 'this').split('W')[1]}, " in out
    assert f"spreadsheet: {sheet}" in out
    book = load_workbook(io.BytesIO(sheet.read_bytes()))
    assert len(list(book["Attendance"].iter_rows())) == 1 + 6
    if "--png" in args:
        assert chart.read_bytes().startswith(b"\x89PNG") and f"chart: {chart}" in out


def run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    *args: str,
    english: bool = True,
) -> tuple[int, str, str]:
    """The same command in this process (a subprocess costs seconds): status, out, err;
    in English unless ``english`` is False or --lang is given."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    if english and "--lang" not in args:
        args = (*args, "--lang", "en")
    status = main(["tally", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_default_is_last_week_and_ranges_work(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    seeded_file: Seeded,
) -> None:
    status, out, err = run(monkeypatch, capsys, tmp_path, "--station", "hf-ss-xy")
    assert status == 0, err
    assert "Tally: Xiyuan Street Station" in out
    assert "Last week: 1 volunteer activity, 1 volunteer participation" in out
    first, last = seeded_file.last_week.first, seeded_file.this_week.last
    status, out, err = run(
        monkeypatch, capsys, tmp_path, "--station", "hf-ss", "--from", str(first), "--to", str(last)
    )
    assert status == 0, err
    assert "Activities: 4 (previous: 0, +4)" in out


def test_mistakes_are_one_line_and_status_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    seeded_file: Seeded,
) -> None:
    cases = [
        (("--station", "nowhere"), "no station with code 'nowhere'"),
        (("--station", "hf", "--week", "2026-W54"), "no such ISO week"),
        (("--station", "hf", "--week", "soon"), "bad period 'soon'"),
        (("--station", "hf", "--from", "2026-11-30", "--to", "2026-11-01"), "comes before"),
        (("--station", "hf", "--from", "2026-11-01"), "--from and --to go together"),
        (("--station", "hf", "--week", "2026-W47", "--from", "2026-11-01"), "not both"),
        (("--station", "hf", "--xlsx", str(tmp_path / "no" / "such" / "dir.xlsx")), "cannot write"),
    ]
    for args, words in cases:
        status, _out, err = run(monkeypatch, capsys, tmp_path, *args)
        assert status == 2, (args, err)
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith("volunteer-bot: ") and words in err, err
    # and once for real, in a process of its own
    result = cli(tmp_path, "tally", "--station", "nowhere")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "no station with code 'nowhere'" in result.stderr
    assert "Traceback" not in result.stderr


def test_language_defaults_to_the_default_locale_and_can_be_chosen(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    seeded_file: Seeded,
) -> None:
    """Seen by a Chinese coordinator: the command printed English whatever the bot's
    DEFAULT_LOCALE was. It follows DEFAULT_LOCALE (zh_CN unless set); --lang chooses."""
    week = ("--station", "hf-ss", "--week", week_of(seeded_file, "this"))
    monkeypatch.delenv("DEFAULT_LOCALE", raising=False)
    status, out, err = run(monkeypatch, capsys, tmp_path, *week, "--xlsx", "t.xlsx", english=False)
    assert status == 0, err
    assert "📊 统计：蜀山区社会工作服务指导中心" in out
    assert "活动场次：3（上期 1，+2）" in out
    assert "服务时长：6小时30分钟（上期 1小时，+5小时30分钟）" in out
    assert "本周开展志愿服务活动3场" in out and "服务时长6小时30分钟" in out
    book = load_workbook(tmp_path / "t.xlsx")
    assert "汇总" in book.sheetnames

    status, out, err = run(monkeypatch, capsys, tmp_path, *week, "--lang", "en")
    assert status == 0, err
    assert "Activities: 3 (previous: 1, +2)" in out
    assert "Service time: 6 h 30 min (previous: 1 h, +5 h 30 min)" in out

    monkeypatch.setenv("DEFAULT_LOCALE", "en")
    status, out, err = run(monkeypatch, capsys, tmp_path, *week, english=False)
    assert status == 0, err
    assert "Tally: Shushan District Guidance Centre" in out

    with pytest.raises(SystemExit) as stopped:
        run(monkeypatch, capsys, tmp_path, *week, "--lang", "fr")
    assert stopped.value.code == 2 and "invalid choice: 'fr'" in capsys.readouterr().err
