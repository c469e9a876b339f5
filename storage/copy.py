"""Whole-database copies: ``backup`` (a SQLite file, copied while the bot runs) and
``copy_database`` (every row of our tables into another, empty database: SQLite to
PostgreSQL, normally).

A problem the person at the terminal can fix is raised as :class:`CopyRefused`, one
line; the command line shows it as it shows its other mistakes."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage import migrate, rollup_marks
from storage.db import async_url, first_line, for_writing, make_engine

# Rows per INSERT: what copy_database holds in memory at a time.
CHUNK_ROWS = 5_000
# The tables a backup's line names, with the total of all.
MAIN_TABLES = ("volunteer", "activity", "signup", "attendance", "pledge", "outbox")


class CopyRefused(Exception):
    """A copy or backup that cannot be made, and why, in one line."""


def tables() -> list[Table]:
    """Our tables, each after the tables it refers to (alembic_version is not one)."""
    return list(SQLModel.metadata.sorted_tables)


def shown(url: str) -> str:
    """A database URL as it may be printed: without its password."""
    return make_url(url).render_as_string(hide_password=True)


# --- backup (SQLite) ----------------------------------------------------------------


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int  # bytes
    rows: dict[str, int]  # every table of the copy -> its rows


def sqlite_file(url: str) -> Path:
    """The file of a SQLite database URL; PostgreSQL and in-memory databases are refused."""
    parsed = make_url(async_url(url))
    if parsed.get_backend_name() != "sqlite":
        raise CopyRefused(
            f"backup copies SQLite databases; {shown(url)} is PostgreSQL: "
            "use pg_dump (e.g. pg_dump -Fc -f FILE DATABASE)"
        )
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise CopyRefused(f"backup needs a database file, not {shown(url)}")
    return Path(database)


async def backup(url: str, target: Path, *, force: bool = False) -> Backup:
    """Copy the SQLite database at ``url`` to ``target`` with SQLite's online backup,
    consistent while the bot keeps writing; the copy passes ``PRAGMA integrity_check``
    before it takes ``target``'s name, so a failure never leaves half a file there.
    An existing ``target`` is replaced only with ``force``."""
    source = sqlite_file(url)
    return await asyncio.to_thread(_backup, source, target, force)


def _backup(source: Path, target: Path, force: bool) -> Backup:
    if not source.is_file():
        raise CopyRefused(f"no database file at {source}")
    if target.is_dir():
        raise CopyRefused(f"{target} is a directory: name the backup file")
    if target.exists() and not force:
        raise CopyRefused(f"{target} exists: give --force to replace it")
    if target.exists() and target.samefile(source):
        raise CopyRefused(f"{target} is the database itself")
    folder = target.parent
    if not folder.is_dir():
        raise CopyRefused(f"no such directory: {folder}")
    try:
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise CopyRefused(f"cannot write in {folder}: {exc.strerror or exc}") from exc
    os.close(handle)
    part = Path(name)
    try:
        rows = _copy_file(source, part)
        with part.open("rb") as written:
            os.fsync(written.fileno())
        if target.exists() and not force:  # made meanwhile
            raise CopyRefused(f"{target} exists: give --force to replace it")
        os.replace(part, target)
    except OSError as exc:
        raise CopyRefused(f"cannot write {target}: {exc.strerror or exc}") from exc
    except sqlite3.Error as exc:
        raise CopyRefused(f"cannot back up {source}: {first_line(exc)}") from exc
    finally:
        for leftover in (part, *(Path(f"{part}{tail}") for tail in ("-journal", "-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
    return Backup(path=target, size=target.stat().st_size, rows=rows)


def _copy_file(source: Path, part: Path) -> dict[str, int]:
    """Back ``source`` up into the file ``part``, check the copy and count its rows."""
    # mode=rw: a missing database is an error, not a new empty file.
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True, timeout=30)
    try:
        writer = sqlite3.connect(part)
        try:
            # All pages in one step: one read transaction, one snapshot. (In steps,
            # a write by the bot between two steps would start the copy over.) With
            # WAL the bot's writers do not wait for it.
            reader.backup(writer)
            # One self-contained file, whatever the database's journal mode.
            writer.execute("PRAGMA journal_mode=DELETE").fetchall()
            verdict = [row[0] for row in writer.execute("PRAGMA integrity_check")]
            if verdict != ["ok"]:
                raise CopyRefused(f"the copy failed its integrity check: {verdict[0]}")
            names = [
                row[0]
                for row in writer.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            return {
                name: writer.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                for name in names
            }
        finally:
            writer.close()
    finally:
        reader.close()


# --- copy-db ------------------------------------------------------------------------


def same_database(first: str, second: str) -> bool:
    """Whether two URLs name one database (as far as their text tells: the emptiness
    check of copy_database catches the rest)."""
    a, b = make_url(async_url(first)), make_url(async_url(second))
    if a.get_backend_name() != b.get_backend_name():
        return False
    if a.get_backend_name() == "sqlite":
        if not a.database or not b.database or ":memory:" in (a.database, b.database):
            return False
        return Path(a.database).resolve() == Path(b.database).resolve()
    local = {None, "", "localhost", "127.0.0.1", "::1"}

    def place(url: Any) -> tuple[Any, ...]:
        host = "localhost" if url.host in local else url.host
        return (host, url.port or 5432, url.database or url.username)

    return place(a) == place(b)


def refuse_itself(source_url: str, target_url: str) -> None:
    if same_database(source_url, target_url):
        raise CopyRefused(f"{shown(target_url)} is the database being copied")


async def copy_database(
    source_url: str,
    target_url: str,
    *,
    chunk: int = CHUNK_ROWS,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Copy every row of our tables from ``source_url`` into ``target_url``, keys and
    all, and return each table's rows. The target is migrated to the latest revision
    first and must hold no row; the rows go in, in one transaction, ``chunk`` at a
    time, read from one snapshot of the source; PostgreSQL's sequences are set past
    the keys copied; then every table's rows are counted on both sides. Any failure
    leaves the target as empty as it was. ``progress`` hears of each table copied."""
    refuse_itself(source_url, target_url)
    try:
        await migrate.upgrade(target_url)
    except (SQLAlchemyError, OSError) as exc:
        raise CopyRefused(f"cannot migrate {shown(target_url)}: {first_line(exc)}") from exc
    there = await migrate.current(target_url)
    here = await migrate.current(source_url)
    if here != there:
        raise CopyRefused(
            f"{shown(source_url)} is at revision {here}, the target at {there}: "
            "run `volunteer-bot migrate` first"
        )
    # No pool, no cache of people: two connections, used once.
    source = make_engine(source_url, poolclass=NullPool, user_cache_size=0)
    target = make_engine(target_url, poolclass=NullPool, user_cache_size=0)
    try:
        async with source.connect() as reading, target.connect() as plain:
            writing = await for_writing(plain)
            async with _snapshot(reading), writing.begin():
                await _refuse_rows(writing, target_url)
                copied: dict[str, int] = {}
                for table in tables():
                    copied[table.name] = await _copy_table(reading, writing, table, chunk)
                    if progress is not None:
                        progress(table.name, copied[table.name])
                if writing.dialect.name == "postgresql":
                    await _reset_sequences(writing)
                await _compare_counts(reading, writing, copied)
    except SQLAlchemyError as exc:
        raise CopyRefused(
            f"copy to {shown(target_url)} failed, nothing was kept: {first_line(exc)}"
        ) from exc
    finally:
        await source.dispose()
        await target.dispose()
    return copied


@asynccontextmanager
async def _snapshot(conn: AsyncConnection) -> AsyncIterator[AsyncConnection]:
    """One read transaction on the source, so every table is read as of one moment
    even while the bot writes: SQLite's (a deferred BEGIN: with WAL the snapshot holds
    up no writer) or PostgreSQL's REPEATABLE READ."""
    if conn.dialect.name == "postgresql":
        await conn.execution_options(isolation_level="REPEATABLE READ")
        await conn.begin()
    else:
        await conn.begin()
        # storage.db leaves reads in autocommit; this one needs a transaction.
        await conn.exec_driver_sql("BEGIN")
    try:
        yield conn
    finally:
        await conn.rollback()  # it only read


async def _refuse_rows(conn: AsyncConnection, url: str) -> None:
    holding = [
        table.name
        for table in tables()
        if (await conn.execute(select(1).select_from(table).limit(1))).first() is not None
    ]
    if holding:
        raise CopyRefused(
            f"{shown(url)} already holds rows (in {', '.join(holding)}): "
            "copy-db fills an empty database only"
        )


async def _copy_table(
    reading: AsyncConnection, writing: AsyncConnection, table: Table, chunk: int
) -> int:
    """Every row of ``table``, by its key, through the models' column types (time
    zones, JSON, enumerations come back as they went in)."""
    # Core inserts are marked as seen by storage.rollup_marks: the weeks they touch
    # are copied as they stand, not marked stale.
    statement = insert(table).execution_options(**{rollup_marks.MARKED: True})
    query = select(table).order_by(*table.primary_key.columns)
    count = 0
    if _self_references(table):
        # A tree (the stations): parents before children, each row's parent already
        # in. Such tables are small, and read whole.
        rows = [dict(row) for row in (await reading.execute(query)).mappings()]
        ordered = _parents_first(table, rows)
        for start in range(0, len(ordered), chunk):
            await writing.execute(statement, ordered[start : start + chunk])
        return len(ordered)
    result = await reading.stream(query)
    async for part in result.mappings().partitions(chunk):
        await writing.execute(statement, [dict(row) for row in part])
        count += len(part)
    return count


def _self_references(table: Table) -> list[tuple[str, str]]:
    """(column, referred column) of each foreign key from ``table`` to itself."""
    return [
        (key.parent.key, key.column.key) for key in table.foreign_keys if key.column.table is table
    ]


def _parents_first(table: Table, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    references = _self_references(table)
    placed: dict[str, set[Any]] = {referred: set() for _, referred in references}
    ordered: list[dict[str, Any]] = []
    waiting = list(rows)
    while waiting:
        ready = [row for row in waiting if _placed(row, references, placed)]
        if not ready:
            raise CopyRefused(
                f"{table.name}: {len(waiting)} rows refer to rows missing from the source"
            )
        ready_ids = {id(row) for row in ready}
        for row in ready:
            for referred in placed:
                placed[referred].add(row[referred])
        ordered += ready
        waiting = [row for row in waiting if id(row) not in ready_ids]
    return ordered


def _placed(
    row: dict[str, Any], references: list[tuple[str, str]], placed: dict[str, set[Any]]
) -> bool:
    """Whether every row ``row`` refers to is already placed."""
    return all(row[column] is None or row[column] in placed[to] for column, to in references)


async def _reset_sequences(conn: AsyncConnection) -> None:
    """Set each serial key's sequence to the largest key copied, so that the next row
    the bot adds gets the key after it."""
    for table in tables():
        column = table.autoincrement_column
        if column is None:
            continue
        quoted = conn.dialect.identifier_preparer.format_table(table)
        await conn.execute(
            select(
                func.setval(
                    func.pg_get_serial_sequence(quoted, column.name),
                    func.coalesce(func.max(column), 1),
                    func.max(column).is_not(None),
                )
            ).select_from(table)
        )


async def _count(conn: AsyncConnection, table: Table) -> int:
    return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


async def _compare_counts(
    reading: AsyncConnection, writing: AsyncConnection, copied: dict[str, int]
) -> None:
    for table in tables():
        source, target = await _count(reading, table), await _count(writing, table)
        if not source == target == copied[table.name]:
            raise CopyRefused(
                f"{table.name}: {source} rows in the source, {target} in the target: "
                "nothing was kept"
            )
