"""The database as the command line and the sandbox prepare it: migrated, the
certificate key kept, a station tree loaded from YAML; and the one-line problems
the person at the terminal can fix."""

from __future__ import annotations

import asyncio
import os
import sys
from importlib.resources.abc import Traversable
from typing import Any

import yaml
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from services import certificate_key
from storage import migrate
from storage.db import first_line, make_engine, make_sessionmaker
from ui.settings import Settings


class UsageError(Exception):
    """A problem the person at the terminal can fix; shown as one line, exit status 2."""


def safe_url(settings: Settings) -> str:
    return make_url(settings.database_url).render_as_string(hide_password=True)


async def prepare(settings: Settings, *, apart: bool = False) -> None:
    """Bring the schema up to date, and keep the certificate key: the first start
    after the upgrade stores the key derived from the current token, before anyone
    can rotate it (see services.certificate_key). ``apart``: migrate in a child
    process, so that a process that runs for long never loads Alembic."""
    try:
        if apart:
            await _upgrade_apart(settings)
        else:
            await migrate.upgrade(settings.database_url)
        await keep_certificate_key(settings)
    except SQLAlchemyError as exc:
        raise UsageError(f"cannot migrate {safe_url(settings)}: {first_line(exc)}") from exc


async def _upgrade_apart(settings: Settings) -> None:
    # The child finds our packages where this process found them.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "storage.migrate",
        stdin=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    _, err = await child.communicate(settings.database_url.encode() + b"\n")
    if child.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        problem = lines[-1] if lines else f"exit status {child.returncode}"
        raise UsageError(f"cannot migrate {safe_url(settings)}: {problem}")


async def keep_certificate_key(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            await certificate_key.key(
                session,
                configured=settings.configured_certificate_key(),
                legacy=settings.legacy_certificate_key(),
            )
    finally:
        await engine.dispose()


def load_tree(path: Traversable) -> list[dict[str, Any]]:
    """A station tree from a YAML file (a path, or a file shipped in a package)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(f"no such file: {path}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not valid YAML: {first_line(exc)}") from exc
    tree = data.get("stations") if isinstance(data, dict) else data
    if not isinstance(tree, list):
        raise UsageError(f"{path}: expected a list of stations under `stations:`")
    return tree
