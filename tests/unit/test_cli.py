"""The command line, run as a person would: output, exit status, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL")}
    base |= {"DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", "PYTHONPATH": str(ROOT)} | env
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=base,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_list_and_grant(tmp_path: Path) -> None:
    imported = cli(tmp_path, "stations", "import", str(ROOT / "bot" / "example_stations.yaml"))
    assert imported.returncode == 0, imported.stderr
    assert "14 created, 0 updated" in imported.stdout
    again = cli(tmp_path, "stations", "import", str(ROOT / "bot" / "example_stations.yaml"))
    assert "0 created, 14 updated" in again.stdout
    listed = cli(tmp_path, "stations", "list")
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("hf  合肥市")
    assert any(line.startswith("      hf-ss-xy-xyxc  西园新村社区") for line in lines)
    assert any("hf-ss-hp" in line and "[approval]" in line for line in lines)
    granted = cli(tmp_path, "grant", "123456", "coordinator", "hf-ss")
    assert granted.returncode == 0 and "granted: 123456 coordinator hf-ss" in granted.stdout
    assert "already held" in cli(tmp_path, "grant", "123456", "coordinator", "hf-ss").stdout
    migrated = cli(tmp_path, "migrate")
    assert migrated.returncode == 0 and "up to date" in migrated.stdout


def test_mistakes_get_one_line_and_status_2(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("stations: [\n", encoding="utf-8")
    no_name = tmp_path / "noname.yaml"
    no_name.write_text("stations:\n  - code: x\n", encoding="utf-8")
    cases = [
        (("stations", "import", str(tmp_path / "missing.yaml")), "no such file"),
        (("stations", "import", str(bad_yaml)), "not valid YAML"),
        (("stations", "import", str(no_name)), "code and name are required"),
        (("grant", "1", "staff", "nowhere"), "station_not_found"),
    ]
    for args, words in cases:
        result = cli(tmp_path, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert words in result.stderr and "Traceback" not in result.stderr


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    result = cli(tmp_path, "migrate", DATABASE_URL="postgresql://nobody@127.0.0.1:9/none")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "cannot" in result.stderr and "Traceback" not in result.stderr


def test_the_sandbox_names_a_missing_station_tree(tmp_path: Path) -> None:
    """SANDBOX_STATIONS pointing nowhere is said, not silently an empty sandbox."""
    missing = tmp_path / "nowhere.yaml"
    result = cli(tmp_path, "sandbox", SANDBOX_STATIONS=str(missing))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == f"volunteer-bot: no such file: {missing}"
