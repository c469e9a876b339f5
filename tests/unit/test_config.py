"""Settings: defaults, parsing, and one clear line with exit status 2 when wrong."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ui.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def make(**env: str) -> Settings:
    return Settings(_env_file=None, **env)  # type: ignore[arg-type]


def test_defaults() -> None:
    settings = make()
    assert settings.bot_token is None
    assert settings.telegram_api_base == "https://api.telegram.org"
    assert settings.database_url.startswith("sqlite:///data/")
    assert settings.default_locale == "zh_CN"
    assert settings.timezone == "Asia/Shanghai"
    assert settings.admin_ids == frozenset()


def test_admin_ids_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "111, 222,333")
    monkeypatch.setenv("TELEGRAM_API_BASE", "http://127.0.0.1:8081/")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.admin_ids == {111, 222, 333}
    assert settings.telegram_api_base == "http://127.0.0.1:8081"


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("ADMIN_IDS", "12,abc", "ADMIN_IDS"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE"),
        ("DEFAULT_LOCALE", "fr", "DEFAULT_LOCALE"),
        ("BOT_TOKEN", "not-a-token", "BOT_TOKEN"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("TELEGRAM_API_BASE", "ftp://x", "TELEGRAM_API_BASE"),
    ],
)
def test_wrong_setting_is_one_line_and_exit_2(
    tmp_path: Path, name: str, value: str, words: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL")}
    env[name] = value
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert words in lines[0] and "Traceback" not in result.stderr


def test_run_without_token_says_so(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr
