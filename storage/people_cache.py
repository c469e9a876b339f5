"""A bounded per-process cache of the user and volunteer rows that every update loads
(``queries.get_user_with_volunteer``), so that an update from someone already known
costs no database round trip.

Every write to the ``user`` or ``volunteer`` table goes through an engine, and each
engine made by ``storage.db.make_engine`` carries the one listener that sees them
all (``watch``): an ORM flush, a bulk ``update``/``delete``, a Core or textual
statement alike. A write empties the cache of every engine on that database at once,
and again when its transaction ends (commit or rollback); while a transaction that
wrote is open, nothing read is kept, so no reader caches a value that is about to
change or to be rolled back. Entries also expire after ``ttl`` seconds, which bounds
how long a write from another process (a second worker, a script) goes unseen; with
several workers set ``USER_CACHE_SIZE=0``, which turns the cache off.

Handlers get their own copies of the cached rows, attached to their update's session
as if just loaded (``session.merge(..., load=False)``: no SQL), so changing and
saving them works as before and never changes the cached ones."""

from __future__ import annotations

import copy
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.sql.dml import Insert, Update, UpdateBase
from sqlalchemy.sql.elements import TextClause

from storage.models import User, Volunteer

DEFAULT_SIZE = 10_000
DEFAULT_TTL = 60.0
TABLES = frozenset({User.__tablename__, Volunteer.__tablename__})
# Statements that never change a row (textual ones are read conservatively: anything
# else that is not a SELECT counts as a write).
_NOT_WRITES = (
    "SELECT",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE",
    "PRAGMA",
    "SET",
    "SHOW",
)

Entry = tuple[float, User, Volunteer | None]
Row = TypeVar("Row", User, Volunteer)


class PeopleCache:
    """User id -> (expiry, user, volunteer) for one engine; least recently used
    entries go first beyond ``size``."""

    def __init__(self, size: int, ttl: float) -> None:
        self.size = size
        self.ttl = ttl
        self._entries: OrderedDict[int, Entry] = OrderedDict()
        self._by_volunteer: dict[int, int] = {}  # volunteer id -> user id, of entries
        self.generation = 0  # bumped by every write: a read begun before it is not kept
        self.writing = 0  # transactions that wrote and have not ended
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def invalidate(self) -> None:
        self._entries.clear()
        self._by_volunteer.clear()
        self.generation += 1

    def drop(self, user_ids: Iterable[int], volunteer_ids: Iterable[int] = ()) -> None:
        """Forget these people (by user id, or by their volunteer row's id)."""
        self.generation += 1
        for volunteer_id in volunteer_ids:
            user_id = self._by_volunteer.get(volunteer_id)
            if user_id is not None:
                self._forget(user_id)
        for user_id in user_ids:
            self._forget(user_id)

    def _forget(self, user_id: int) -> None:
        entry = self._entries.pop(user_id, None)
        if entry is not None and entry[2] is not None and entry[2].id is not None:
            self._by_volunteer.pop(entry[2].id, None)

    def get(self, user_id: int) -> tuple[User, Volunteer | None] | None:
        entry = self._entries.get(user_id)
        if entry is None:
            self.misses += 1
            return None
        expires, user, volunteer = entry
        if expires < time.monotonic():
            self._forget(user_id)
            self.misses += 1
            return None
        self._entries.move_to_end(user_id)
        self.hits += 1
        return user, volunteer

    def put(self, generation: int, user_id: int, user: User, volunteer: Volunteer | None) -> None:
        """Keep detached copies of rows read when the generation was ``generation``,
        unless something wrote since or is writing now."""
        if generation != self.generation or self.writing:
            return
        self._forget(user_id)
        self._entries[user_id] = (
            time.monotonic() + self.ttl,
            _detached_copy(user),
            _detached_copy(volunteer) if volunteer is not None else None,
        )
        if volunteer is not None and volunteer.id is not None:
            self._by_volunteer[volunteer.id] = user_id
        while len(self._entries) > self.size:
            self._forget(next(iter(self._entries)))


def _column_values(row: Any) -> dict[str, Any]:
    state = inspect(row)
    return {
        prop.key: copy.deepcopy(state.dict[prop.key])
        for prop in state.mapper.column_attrs
        if prop.key in state.dict
    }


def _detached_copy(row: Row) -> Row:
    """A copy of a loaded row that belongs to no session, as clean as if just loaded."""
    clone = type(row)(**_column_values(row))
    make_transient_to_detached(clone)
    return clone


def attach(session: Session, row: Row) -> Row:
    """A copy of a cached row in ``session``, persistent and clean: no SQL is run.
    Mutable values (lists) are copied so the cached row never changes."""
    with session.no_autoflush:
        merged = session.merge(row, load=False)
    state = inspect(merged)
    for attr in state.mapper.column_attrs:
        value = state.dict.get(attr.key)
        if isinstance(value, list | dict):
            state.dict[attr.key] = copy.deepcopy(value)
    return merged


# --- which caches an engine's writes reach ---------------------------------------------

_by_engine: weakref.WeakKeyDictionary[Engine, PeopleCache] = weakref.WeakKeyDictionary()
_by_database: dict[str, weakref.WeakSet[PeopleCache]] = {}


def of(engine: Engine | None) -> PeopleCache | None:
    """The cache of a (sync) engine, None when it has none (size 0)."""
    return _by_engine.get(engine) if engine is not None else None


def _database(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _siblings(engine: Engine) -> weakref.WeakSet[PeopleCache]:
    return _by_database.setdefault(_database(engine), weakref.WeakSet())


def _writes_people(statement: Any) -> bool:
    if isinstance(statement, UpdateBase):
        table = getattr(statement, "table", None)
        return getattr(table, "name", None) in TABLES
    if isinstance(statement, TextClause | str):
        text = statement.text if isinstance(statement, TextClause) else statement
        return not text.lstrip().upper().startswith(_NOT_WRITES)
    return False


Keys = tuple[set[int], set[int]]  # user ids, volunteer ids


def _param_sets(multiparams: Any, params: Any) -> list[dict[str, Any]]:
    found: list[Any] = []
    for item in (*(multiparams or ()), params):
        if isinstance(item, list | tuple):
            found.extend(item)
        elif item:
            found.append(item)
    return [p for p in found if isinstance(p, dict)]


def _keys(statement: Any, multiparams: Any, params: Any) -> Keys | None:
    """Whom a write concerns, when the statement says so: the rows the ORM's unit of
    work inserts and updates name them (an update binds the primary key as
    ``user_id`` / ``volunteer_id``). None: anyone (the whole cache goes)."""
    if not isinstance(statement, Insert | Update):
        return None
    table = getattr(statement.table, "name", None)
    sets = _param_sets(multiparams, params)
    if not sets:
        return None
    users: set[int] = set()
    volunteers: set[int] = set()
    for values in sets:
        if isinstance(statement, Insert):
            if table == Volunteer.__tablename__ and values.get("user_id") is not None:
                users.add(int(values["user_id"]))  # their entry said: no volunteer
        elif table == User.__tablename__ and values.get("user_id") is not None:
            users.add(int(values["user_id"]))
        elif table == Volunteer.__tablename__ and values.get("volunteer_id") is not None:
            volunteers.add(int(values["volunteer_id"]))
            if values.get("user_id") is not None:
                users.add(int(values["user_id"]))  # the row now names them
        else:
            return None
    return users, volunteers


def watch(engine: Engine, *, size: int = DEFAULT_SIZE, ttl: float = DEFAULT_TTL) -> None:
    """Give ``engine`` a cache of ``size`` entries (none when 0) and the listener that
    empties it, and every other cache on the same database, on any write to the user
    or volunteer rows. Engines without a cache still tell the others of their writes."""
    siblings = _siblings(engine)
    if size > 0:
        cache = PeopleCache(size, ttl)
        _by_engine[engine] = cache
        siblings.add(cache)

    # The people each connection's open transaction wrote (None: anyone). Kept here,
    # not in ``conn.info``: that belongs to the database connection, which a broken
    # connection no longer has, and the rollback that ends its transaction must still
    # count it ended.
    open_writes: weakref.WeakKeyDictionary[Connection, Keys | None] = weakref.WeakKeyDictionary()

    def wrote(conn: Connection, statement: Any, multiparams: Any, params: Any) -> None:
        keys = _keys(statement, multiparams, params)
        pending: Keys | None = open_writes.get(conn)
        if conn not in open_writes:
            for cache in list(siblings):
                cache.writing += 1
            pending = (set(), set())
        if pending is not None and keys is not None:
            pending[0].update(keys[0])
            pending[1].update(keys[1])
        else:
            pending = None
        open_writes[conn] = pending
        for cache in list(siblings):
            if keys is None:
                cache.invalidate()
            else:
                cache.drop(*keys)

    def ended(conn: Connection) -> None:
        if conn not in open_writes:
            return
        pending: Keys | None = open_writes.pop(conn)
        for cache in list(siblings):
            cache.writing = max(0, cache.writing - 1)
            if pending is None:
                cache.invalidate()
            else:
                cache.drop(*pending)

    @event.listens_for(engine, "before_execute")
    def _before(
        conn: Connection,
        clauseelement: Any,
        multiparams: Any,
        params: Any,
        execution_options: Any,
    ) -> None:
        del execution_options
        if _writes_people(clauseelement):
            wrote(conn, clauseelement, multiparams, params)

    @event.listens_for(engine, "after_execute")
    def _after(
        conn: Connection,
        clauseelement: Any,
        multiparams: Any,
        params: Any,
        execution_options: Any,
        result: Any,
    ) -> None:
        del execution_options, result
        if _writes_people(clauseelement):
            wrote(conn, clauseelement, multiparams, params)  # again: a read begun meanwhile
            if not conn.in_transaction():
                ended(conn)  # autocommit: the write is already visible

    @event.listens_for(engine, "commit")
    def _commit(conn: Connection) -> None:
        ended(conn)

    @event.listens_for(engine, "rollback")
    def _rollback(conn: Connection) -> None:
        ended(conn)

    @event.listens_for(engine, "engine_disposed")
    def _disposed(_engine: Engine) -> None:
        for cache in list(siblings):
            cache.invalidate()
