"""The bot as a wheel, installed as `pip install .` would, run from another directory.

What this proves: everything the bot reads at run time (translation catalogs, the
sandbox's example station tree, the Alembic migrations) is inside the package, not
read from the source tree or the working directory. The wheel is built from a copy
of this checkout and installed with ``--no-deps`` into a fresh venv whose only other
import path is the test interpreter's site-packages (a .pth file), so the tested
dependencies are reused without a download; the checkout's own editable install is
not visible there (its .pth hook is only run for a real site directory), which the
first test checks. Then ``volunteer-bot --help`` and the sandbox's first answer to
``/start``, from an empty directory: the answer is in Chinese, so the catalogs came
from the wheel. A missing catalog is named as such, not as a database problem."""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Not copied into the build: environments, caches, build output, local data.
LEFT_OUT = shutil.ignore_patterns(
    ".git", ".venv*", "data", "build", "dist", "*.egg-info", "__pycache__", "*_cache"
)
FIRST_ANSWER_WAIT = 90.0  # seconds; the first run migrates a new SQLite database


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    python: Path
    command: Path
    site_packages: Path
    elsewhere: Path

    def env(self) -> dict[str, str]:
        """The caller's environment without anything that points at this checkout or
        at a database or token of its own."""
        dropped = ("PYTHONPATH", "DATABASE_URL", "BOT_TOKEN", "VIRTUAL_ENV", "PYTHONHOME")
        env = {k: v for k, v in os.environ.items() if k not in dropped}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return env


def _run(args: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        **kwargs,  # type: ignore[arg-type]
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    source, dist, venv = base / "source", base / "dist", base / "venv"
    shutil.copytree(ROOT, source, ignore=LEFT_OUT)
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--wheel-dir", dist, source]
    )  # fmt: skip
    [wheel] = dist.glob("volunteer_station_bot-*.whl")
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    site_packages = Path(
        _run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site_packages / "tested_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
         "--no-index", "--quiet", wheel]
    )  # fmt: skip
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return Installed(wheel, venv, python, venv / "bin" / "volunteer-bot", site_packages, elsewhere)


def test_the_code_comes_from_the_wheel(installed: Installed) -> None:
    where = _run(
        [installed.python, "-c",
         "import bot, locales, storage; print(bot.__file__, locales.__file__, storage.__file__)"],
        cwd=installed.elsewhere, env=installed.env(),
    ).stdout.split()  # fmt: skip
    for path in where:
        assert Path(path).is_relative_to(installed.site_packages), path


def test_the_wheel_carries_its_licence(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = wheel.namelist()
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        assert "License-Expression: MIT" in wheel.read(metadata).decode()
        [licence] = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert wheel.read(licence).startswith(b"MIT License")


def test_the_wheel_carries_the_export_mapping(installed: Installed) -> None:
    """The default column layout of `export hours` is read from the package."""
    with zipfile.ZipFile(installed.wheel) as wheel:
        assert "services/hours_export.yaml" in wheel.namelist()
    shown = _run(
        [installed.python, "-c",
         "from services import hours_export; print(len(hours_export.default_mapping().columns))"],
        cwd=installed.elsewhere, env=installed.env(),
    ).stdout  # fmt: skip
    assert shown.strip() == "9"


def test_help_from_another_directory(installed: Installed) -> None:
    result = _run([installed.command, "--help"], cwd=installed.elsewhere, env=installed.env())
    assert "sandbox" in result.stdout and "migrate" in result.stdout


class Sandbox:
    """``volunteer-bot sandbox`` on a pipe: lines typed in, what it prints read back."""

    def __init__(self, installed: Installed) -> None:
        self.process = subprocess.Popen(
            [str(installed.command), "sandbox"],
            cwd=installed.elsewhere,
            env=installed.env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def type(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def wait_for(self, starts: str, timeout: float) -> str:
        """The first printed line (after any prompt) that starts with ``starts``."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            text = line.lstrip("> ").lstrip()
            if text.startswith(starts):
                return text
        raise AssertionError(f"no line starting {starts!r}; the sandbox printed:\n" + self.output)

    @property
    def output(self) -> str:
        return "\n".join(self.seen)

    def close(self) -> int:
        if self.process.poll() is None:
            with contextlib.suppress(BrokenPipeError):
                self.type("/quit")
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@pytest.fixture
def sandbox(installed: Installed) -> Iterator[Sandbox]:
    shutil.rmtree(installed.elsewhere / "data", ignore_errors=True)
    running = Sandbox(installed)
    try:
        yield running
    finally:
        running.close()


def test_the_sandbox_answers_from_another_directory(sandbox: Sandbox) -> None:
    banner = sandbox.wait_for("sandbox: database", FIRST_ANSWER_WAIT)
    assert "14 example stations loaded" in banner  # the example tree came with the wheel
    sandbox.type("/start")
    answer = sandbox.wait_for("#", FIRST_ANSWER_WAIT)  # "#2 ← 欢迎来到…"
    # In Chinese, the sandbox's default language: the zh_CN catalog came with the wheel.
    assert "欢迎来到社工站志愿服务平台" in answer, sandbox.output
    assert sandbox.close() == 0, sandbox.output


def test_a_missing_catalog_is_named(installed: Installed) -> None:
    catalog = installed.site_packages / "locales" / "zh_CN" / "LC_MESSAGES" / "messages.po"
    hidden = catalog.with_suffix(".hidden")
    catalog.rename(hidden)
    try:
        result = subprocess.run(
            [str(installed.command), "sandbox"],
            cwd=installed.elsewhere,
            env=installed.env(),
            input="/quit\n",
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        hidden.rename(catalog)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "database" not in result.stderr
    assert "zh_CN/LC_MESSAGES/messages.po" in result.stderr, result.stderr
