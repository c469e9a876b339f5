"""What the bot loads at startup: documents' libraries wait for the first document.

Seen: the startup font check read the Chinese font through matplotlib and fpdf2
(about 100 MiB of the process's resident memory) before anyone asked for a chart
or a certificate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
import psutil
from bot import app
before = psutil.Process().memory_info().rss
app._check_fonts()
grew = (psutil.Process().memory_info().rss - before) / 2**20
print("matplotlib" in sys.modules, round(grew))
"""


def test_the_startup_font_check_reads_no_font() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    matplotlib, grew = done.stdout.split()
    assert matplotlib == "False"
    assert int(grew) < 10, f"the font check added {grew} MiB"


def test_the_document_libraries_wait_for_the_first_document() -> None:
    """fpdf2, openpyxl (with numpy and PIL) and matplotlib: about 40 MiB that the bot
    held from startup; now loaded by the first certificate, sheet, chart or file; and
    segno with the first check-in QR code."""
    probe = (
        "import sys\nfrom bot import app\n"
        "print(' '.join(m for m in ('fpdf', 'openpyxl', 'numpy', 'PIL', 'matplotlib', 'segno')"
        " if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""
