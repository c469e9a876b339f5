"""Stale roll-ups: every write that changes a tally figure of a closed week marks
that week's roll-up (``tally_week.version`` + 1), in the writer's own transaction.

One place, three doors, so no write path can forget it:

- the ORM's unit of work (``session.add``, attribute changes, ``session.delete``):
  a session event before each flush marks the weeks the changed rows were in, and
  one after it the weeks they are in now (an activity moved to another week marks
  both);
- ORM-enabled bulk statements (``session.execute(update(Attendance)...)``, delete,
  insert): the rows they touch are found by their WHERE clause first and marked
  before and after; a bulk insert marks every week;
- anything else that writes to these tables (a Core statement on the connection, a
  text() statement) marks every week, checked on the SQL sent to the database.

Only the columns a figure reads count (an attendance row's check-in time does not).
Station tree changes (a new station, a new parent) mark every week: the subtree
totals follow the tree."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, event, exists, inspect, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import ORMExecuteState, Session
from sqlmodel import col

from storage.models import (
    Activity,
    Attendance,
    Beneficiaries,
    Pledge,
    Station,
    TallyWeek,
    Volunteer,
)

# Table -> the columns its figures read.
WATCHED: dict[str, frozenset[str]] = {
    "attendance": frozenset({"activity_id", "volunteer_id", "mark", "minutes", "confirmed"}),
    "beneficiaries": frozenset({"activity_id", "target_group", "count"}),
    "activity": frozenset({"station_id", "kind", "starts_at", "status"}),
    "pledge": frozenset({"station_id", "amount_fen", "status", "created_at"}),
    "volunteer": frozenset({"station_id", "created_at"}),
    "station": frozenset({"parent_id"}),
}
_MODELS: dict[str, Any] = {
    "attendance": Attendance,
    "beneficiaries": Beneficiaries,
    "activity": Activity,
    "pledge": Pledge,
    "volunteer": Volunteer,
    "station": Station,
}
# Set on statements whose marks are taken care of here (the guard lets them pass).
MARKED = "tally_rollups_marked"
_WRITE_SQL = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?", re.IGNORECASE)


def _table(name: str) -> Table:
    return cast(Table, _MODELS[name].__table__)


def _instants(name: str, ids: Iterable[int]) -> Any:
    """The moments whose week the rows ``ids`` of table ``name`` count in (a column
    ``t``): the activity's start, the pledge's or the registration's time."""
    chosen = sorted(set(ids))
    if name in ("attendance", "beneficiaries"):
        source = _MODELS[name]
        return (
            select(col(Activity.starts_at).label("t"))
            .join(source, col(source.activity_id) == col(Activity.id))
            .where(col(source.id).in_(chosen))
        )
    if name == "activity":
        return select(col(Activity.starts_at).label("t")).where(col(Activity.id).in_(chosen))
    model = _MODELS[name]
    return select(col(model.created_at).label("t")).where(col(model.id).in_(chosen))


def _mark_rows(conn: Connection, name: str, ids: Iterable[int]) -> None:
    chosen = sorted(set(ids))
    if not chosen:
        return
    if name == "station":
        mark_all(conn)
        return
    moments = _instants(name, chosen).subquery("moments")
    conn.execute(
        update(TallyWeek)
        .where(
            exists().where(
                moments.c.t >= col(TallyWeek.week_start), moments.c.t < col(TallyWeek.week_end)
            )
        )
        .values(version=col(TallyWeek.version) + 1),
        execution_options={MARKED: True},
    )


def mark_all(conn: Connection) -> None:
    """Every kept week is stale (a write whose rows are not known)."""
    conn.execute(
        update(TallyWeek).values(version=col(TallyWeek.version) + 1),
        execution_options={MARKED: True},
    )


# --- the unit of work -------------------------------------------------------------


def _changed(obj: Any, name: str) -> bool:
    state = inspect(obj)
    return any(state.attrs[column].history.has_changes() for column in WATCHED[name])


def _rows(objects: Iterable[Any], *, changed_only: bool) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for obj in objects:
        name = getattr(getattr(type(obj), "__table__", None), "name", None)
        if name not in WATCHED or obj.id is None:
            continue
        if changed_only and not _changed(obj, name):
            continue
        found.setdefault(name, set()).add(int(obj.id))
    return found


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    """The weeks the changed and deleted rows count in now, before the change."""
    before = _rows(session.deleted, changed_only=False)
    for name, ids in _rows(session.dirty, changed_only=True).items():
        before.setdefault(name, set()).update(ids)
    if before:
        conn = session.connection()
        for name, ids in before.items():
            _mark_rows(conn, name, ids)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    """The weeks the new and changed rows count in after the change."""
    after = _rows(session.new, changed_only=False)
    for name, ids in _rows(session.dirty, changed_only=True).items():
        after.setdefault(name, set()).update(ids)
    if after:
        conn = session.connection()
        for name, ids in after.items():
            _mark_rows(conn, name, ids)


# --- ORM bulk statements ------------------------------------------------------------


def _set_columns(statement: Any) -> set[str] | None:
    """The columns an UPDATE sets, or None when they come with the parameters."""
    values = getattr(statement, "_values", None)
    if not values:
        return None
    return {str(getattr(key, "key", key)) for key in values}


@event.listens_for(Session, "do_orm_execute")
def _bulk(state: ORMExecuteState) -> Any:
    if not (state.is_update or state.is_delete or state.is_insert):
        return None
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name not in WATCHED:
        return None
    if state.is_insert:
        result = state.invoke_statement(execution_options={MARKED: True})
        mark_all(state.session.connection())
        return result
    if state.is_update:
        columns = _set_columns(state.statement)
        params = state.parameters
        if columns is None and isinstance(params, dict):
            columns = set(params)
        if columns is None and isinstance(params, list):
            columns = {key for row in params for key in row}
        if columns is not None and not columns & WATCHED[name]:
            return state.invoke_statement(execution_options={MARKED: True})
    conn = state.session.connection()
    where = getattr(state.statement, "whereclause", None)
    params = state.parameters
    if where is not None:
        key = _table(name).c.id
        ids = [int(i) for i in conn.execute(select(key).where(where), params or {}).scalars()]
    elif isinstance(params, list) and all("id" in row for row in params):
        ids = [int(row["id"]) for row in params]  # a bulk UPDATE by primary key
    else:
        result = state.invoke_statement(execution_options={MARKED: True})
        mark_all(conn)
        return result
    _mark_rows(conn, name, ids)
    result = state.invoke_statement(execution_options={MARKED: True})
    if state.is_update:
        _mark_rows(conn, name, ids)
    return result


# --- everything else: the guard --------------------------------------------------


def watch_engine(engine: Engine) -> None:
    """Mark every week after a write to a watched table that came by none of the
    doors above (a Core statement or text() on the connection)."""

    @event.listens_for(engine, "after_cursor_execute")
    def _guard(
        conn: Connection, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        found = _WRITE_SQL.match(statement)
        if found is None or found.group(1).lower() not in WATCHED:
            return
        options = context.execution_options if context is not None else {}
        # The unit of work's own statements carry the mapper's compiled cache; the
        # flush events above mark them.
        if options.get(MARKED) or "compiled_cache" in options:
            return
        mark_all(conn)
