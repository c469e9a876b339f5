"""The rooms of the code and what each may import (ARCHITECTURE.md): handlers never
reach storage's queries, sessions or engine; services never import aiogram or the
Telegram side; reports take plain values; nothing imports the wiring in ``bot/``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# room -> module prefixes it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "ui": ("bot", "handlers", "storage.queries", "storage.db"),
    "handlers": ("bot", "storage.queries", "storage.db"),
    "reports": (
        "bot",
        "handlers",
        "aiogram.types",
        "aiogram.client",
        "storage.queries",
        "storage.db",
    ),
    # services compose storage.queries; they build no SQL of their own
    "services": (
        "bot",
        "ui",
        "handlers",
        "reports",
        "aiogram",
        "sqlmodel.select",
        "sqlmodel.col",
        "sqlmodel.func",
        "sqlmodel.text",
        "sqlalchemy.select",
        "sqlalchemy.update",
        "sqlalchemy.delete",
        "sqlalchemy.insert",
        "sqlalchemy.text",
        "sqlalchemy.func",
        "sqlalchemy.dialects",
        "sqlalchemy.sql",
    ),
    "storage": ("bot", "ui", "handlers", "reports", "services", "aiogram"),
    "standin": ("bot", "ui", "handlers", "reports", "services", "storage"),
}


def imports_of(path: Path, *, package: str | None = None) -> list[tuple[int, str]]:
    """Every module a file imports, with its line, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if package is None:
        package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            # "from storage import queries" imports storage.queries
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
            found.append((node.lineno, base))
    return found


def breaks(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def violations(room: str) -> list[str]:
    out = []
    for path in sorted((ROOT / room).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for line, module in imports_of(path):
            if breaks(module, FORBIDDEN[room]):
                out.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return sorted(set(out))


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_each_room_imports_only_what_it_may(room: str) -> None:
    assert violations(room) == []


def test_the_rule_sees_a_forbidden_import(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text(
        "from storage import queries\nfrom bot.app import build_bot\n"
        "from storage.models import Station\nfrom . import sibling\n"
    )
    found = [m for _, m in imports_of(source, package="handlers.feature")]
    assert {m for m in found if breaks(m, FORBIDDEN["handlers"])} == {
        "storage.queries",
        "bot.app",
        "bot.app.build_bot",
    }
    assert "handlers.feature.sibling" in found
    assert breaks("aiogram.types", FORBIDDEN["services"])


def test_keyboards_are_built_without_deep_copies() -> None:
    """aiogram's keyboard builder copies every button on every button added
    (ui/keyboards/builder.py); only that module may import it."""
    builder = ROOT / "ui" / "keyboards" / "builder.py"
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for room in ("bot", "handlers", "ui", "reports", "services", "standin")
        for path in sorted((ROOT / room).rglob("*.py"))
        if path != builder
        for line, module in imports_of(path)
        if breaks(module, ("aiogram.utils.keyboard",))
    ]
    assert found == []
