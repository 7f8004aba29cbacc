"""Opening the store: one engine per URL, SQLite tuned (WAL, foreign keys) and the schema created once.

Writers (loads, unloads, builds, private saves) take the store's write lock at the start of their transaction
(`writing`): a second writer waits for the first, up to `lock_timeout()` seconds, then fails with
`StoreBusy`. Readers never wait for a writer (SQLite WAL, PostgreSQL MVCC) and see a load only once it is
committed. A SQLite file that this process may not write (read-only file or folder) is opened read-only, so
the app serves it.

A SQLite store is watched by its identity (device, inode): once seen, a missing file is never recreated by
serving (connections open it with `mode=rw`, which fails on a missing file), `store_problem` says so, and a file
replaced under the same name (a build into a new file moved over it) is reopened — the old engines are disposed
and the `Store` of that URL forgets what it cached. A writer refuses a file it may not write before its
transaction starts (a read-only main file with a writable WAL would otherwise take writes into the WAL).

`Store` is the one object the entry points (app, CLI, benches, scripts, tests) make from a URL and pass down:
its engine, its version, its health and the one bounded cache of everything read from it (`observatory.cache`).
Nothing below the entry points reads the environment to find a store.
"""
from __future__ import annotations

import functools
import os
import threading
import time
import urllib.parse
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TypeVar, cast

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from observatory.cache import DEFAULT_BUDGET_BYTES, MISSING, ByteCache
from observatory.schema import OBSERVATIONS_VIEW_SQL, metadata

DEFAULT_LOCK_TIMEOUT_SECONDS = 60.0
MMAP_BYTES = 4 << 30  # address space only (pages stay the OS's): bigger than any store we serve
# Any constant will do: every writer of every observatory takes the same PostgreSQL advisory lock.
_PG_WRITER_LOCK = 7_061_982


def lock_timeout() -> float:
    """Seconds a writer waits for another writer (`OBSERVATORY_LOCK_TIMEOUT`, default 60)."""
    try:
        return max(0.0, float(os.environ.get("OBSERVATORY_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT_SECONDS)))
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT_SECONDS


def _sqlite_pragmas(read_only: bool):
    def pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout() * 1000)}")
        if not read_only:
            # 16 KiB pages for a new store (no effect on an existing file, which keeps its own): a reload
            # rewrites nearly every page of `observation` (a vintage's rows sit between the other vintages' in
            # key order), and with larger pages that costs a fifth less. Must come before WAL.
            cursor.execute("PRAGMA page_size=16384")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA cache_size=-65536")
        # Reads through a memory map of the file: pages come from the OS page cache, shared by every connection
        # of every worker, instead of being copied into each connection's own cache. A full export scans the
        # whole fact table: with a private cache it evicted the pages a small query needs (4× slower after an
        # export), with the map nothing is evicted.
        cursor.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        cursor.close()
        # pysqlite's own transaction handling defers BEGIN; the engine's "begin" event issues it instead, so
        # that one load is one transaction.
        dbapi_connection.isolation_level = None
    return pragmas


def _begin(conn: Connection) -> None:
    # A writer takes the write lock now (waiting up to busy_timeout), not at its first write: in WAL mode a
    # transaction that read first and then finds another writer's commit fails at once instead of waiting.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("writer") else "BEGIN")


def _read_only_sqlite(path: Path) -> bool:
    """True when this process may read the file but not write it or its folder (WAL needs both)."""
    return path.is_file() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def get_engine(url: str) -> Engine:
    """The engine for `url`; a new one once the SQLite file was replaced (see `store_problem`)."""
    return _engine(url, _generation.get(url, 0))


_generation: dict[str, int] = {}  # bumped when a SQLite file is replaced: the next get_engine opens it anew
_identity: dict[str, tuple[int, int]] = {}  # (device, inode) of each SQLite file seen, by its absolute path


def _key(path: Path) -> str:
    return os.path.abspath(path)


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite store URL (None for other backends, memory and URI forms)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    path = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path)


@lru_cache(maxsize=8)
def _engine(url: str, _generation_number: int) -> Engine:
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        path = sqlite_file(url)
        read_only = False
        if path is not None:
            identity = _file_identity(path)
            if identity is not None:
                _identity[_key(path)] = identity
            if _read_only_sqlite(path):
                read_only = True
                # Nobody can write in a read-only folder, so the file cannot change under us: `immutable`
                # lets SQLite read a WAL-mode file without creating its shared-memory file.
                immutable = "&immutable=1" if not os.access(path.parent, os.W_OK) else ""
                engine = create_engine(f"sqlite:///file:{path.resolve()}?mode=ro{immutable}&uri=true", future=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                event.listen(engine, "do_connect", _never_recreate(path))
        event.listen(engine, "connect", _sqlite_pragmas(read_only))
        event.listen(engine, "begin", _begin)
    _engines.add(engine)
    return engine


def _never_recreate(path: Path):
    """Once the file was seen, connect with `mode=rw`: a deleted store raises instead of coming back empty
    (a build into a file not made yet still creates it)."""
    def connect(_dialect, _record, cargs, cparams) -> None:
        if _key(path) in _identity:
            database = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=rw"
            if cargs:
                cargs[0] = database
            else:
                cparams["database"] = database
            cparams["uri"] = True
    return connect


def store_problem(url: str) -> str | None:
    """Why the store cannot be served now, in English (None when it can): a SQLite file deleted, moved or never
    built. A replaced file (new inode) is reopened here rather than served from the old handle (its `Store`
    sees a new generation and drops its cache). One `stat`."""
    path = sqlite_file(url)
    if path is None:
        return None
    identity = _file_identity(path)
    if identity is None:
        if _key(path) in _identity:
            return "the store is missing: its file was deleted or moved"
        return "store not built (run `python -m etl build`)"
    seen = _identity.setdefault(_key(path), identity)
    if seen != identity:
        old = _engine(url, _generation.get(url, 0))
        _generation[url] = _generation.get(url, 0) + 1
        _identity[_key(path)] = identity
        old.dispose()  # its pooled connections held the replaced file
    return None


def write_problem(engine: Engine) -> str | None:
    """Why a writer cannot write this SQLite store (missing, or a file, WAL or folder it may not write), checked
    before its transaction: None when it can, or for other backends."""
    if engine.dialect.name != "sqlite":
        return None
    path = sqlite_file(str(engine.url))
    if path is None:
        database = (engine.url.database or "").removeprefix("file:")
        if engine.url.query.get("mode") == "ro" or "mode=ro" in database:
            return "the store is read-only for this user: loads need write access to the file and its folder"
        return None
    if not path.exists():  # a store never seen is being built; one seen and gone must not come back empty
        return "the store is missing: its file was deleted or moved" if _key(path) in _identity else None
    files = [path, path.parent] + [f for f in (Path(f"{path}-wal"), Path(f"{path}-shm")) if f.exists()]
    if not all(os.access(f, os.W_OK) for f in files):
        return "the store is read-only for this user: loads need write access to the file and its folder"
    return None


class StoreBusy(Exception):
    """Another writer held the store longer than `lock_timeout()`, or the store cannot be written."""


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One writer's transaction, holding the store's write lock from its first statement to its commit."""
    problem = write_problem(engine)
    if problem:
        raise StoreBusy(problem)
    try:
        with engine.connect() as conn:
            conn.execution_options(writer=True)
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text(f"SET LOCAL lock_timeout = '{int(lock_timeout() * 1000)}ms'"))
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_WRITER_LOCK})
                yield conn
    except OperationalError as error:
        raise StoreBusy(busy_reason(error)) from None


def busy_reason(error: OperationalError) -> str:
    """One sentence for an operational fault of the store (locked, read-only, unreachable)."""
    message = str(error.orig or error).strip().splitlines()[0]
    lowered = message.lower()
    if "locked" in lowered or "lock timeout" in lowered or "lock_timeout" in lowered:
        return (f"the store is locked by another writer: waited {lock_timeout():g} s "
                "(OBSERVATORY_LOCK_TIMEOUT); try again when the other load has finished")
    if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        return "the store is read-only for this user: loads need write access to the file and its folder"
    return f"cannot use the store: {message}"


_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def dispose_engines() -> None:
    """Close the pooled connections of every engine made here (the last SQLite connection to close
    checkpoints the WAL and removes it): what a process must do before leaving by `os._exit`."""
    for engine in list(_engines):
        engine.dispose()


class OutdatedStore(Exception):
    """The store was built by an older version of the schema: `python -m etl build` makes it anew."""


def outdated(engine: Engine) -> str | None:
    """Why an existing store cannot be used by this version (None when it can, or when it is empty)."""
    insp = inspect(engine)
    tables = set(insp.get_table_names())
    if "source" not in tables:
        return None
    missing = [f"{t}.{c.name}" for t in ("source", "observation") if t in tables
               for c in metadata.tables[t].columns if c.name not in {col["name"] for col in insp.get_columns(t)}]
    missing += [t for t in ("series_break", "vintage_label", "store_meta") if t not in tables]
    if engine.dialect.name == "postgresql":  # dimension keys come from identity sequences (not MAX(key) + 1)
        missing += [f"{t}.key identity" for t in ("source", "territory", "profession", "indicator") if t in tables
                    and not any(c["name"] == "key" and c.get("identity") for c in insp.get_columns(t))]
    return f"store built by an older version (missing {', '.join(missing)})" if missing else None


def init_store(engine: Engine) -> None:
    """Create the tables, indexes and the `observations` view if they are missing (idempotent); refuse, before
    writing anything, a store built by an older schema."""
    problem = outdated(engine)
    if problem:
        raise OutdatedStore(f"{problem}: run `python -m etl build` to make it anew")
    metadata.create_all(engine)
    if "observations" not in inspect(engine).get_view_names():
        with engine.begin() as conn:
            conn.execute(text(OBSERVATIONS_VIEW_SQL))


def store_exists(engine: Engine) -> bool:
    """True when the store has its schema and at least one load."""
    insp = inspect(engine)
    if "etl_load" not in insp.get_table_names() or outdated(engine):
        return False  # missing, or built by an older version: `build` makes it anew
    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM etl_load")).scalar_one() > 0


def store_ready(url: str) -> bool:
    """True when the store at `url` is built (for SQLite, without creating a missing file: a reader that only
    asks must not write)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path and path != ":memory:" and not path.startswith("file:") and not Path(path).is_file():
            return False
    try:
        return store_exists(get_engine(url))
    except OperationalError:
        return False


# How long a Store trusts the version it last read: a load becomes visible within this delay.
VERSION_TTL_SECONDS = 1.0


def read_version(engine: Engine) -> int:
    """The version every load and unload bumps in its own transaction (0 for a store without one)."""
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT value FROM store_meta WHERE name = 'version'")).scalar() or 0)
    except SQLAlchemyError:  # a store built before versions existed, or not built yet
        return 0


class Store:
    """One store: its URL, its engine, its version and the one bounded cache of what was read from it.

    Made by the entry points (app, CLI, benches, scripts, tests) and passed down to every reader. Its state is
    (file generation, version), read at most once per `version_ttl` seconds: a load elsewhere, a file replaced
    under the same name or a file gone changes it, and the cache is dropped (its keys carry the state too, so a
    result computed from an older state is never served)."""

    def __init__(self, url: str, *, cache_bytes: int = DEFAULT_BUDGET_BYTES,
                 version_ttl: float = VERSION_TTL_SECONDS) -> None:
        self.url = url
        self.cache = ByteCache(cache_bytes)
        self.version_ttl = version_ttl
        self._checked: tuple[float, tuple[int, int] | None] = (float("-inf"), None)
        self._lock = threading.Lock()

    @classmethod
    def of(cls, engine: Engine, **options) -> Store:
        """The Store of an engine's URL (its password kept: the engine is found again by it)."""
        return cls(engine.url.render_as_string(hide_password=False), **options)

    def __repr__(self) -> str:
        return f"Store({self.engine.url!r})"

    @property
    def engine(self) -> Engine:
        return get_engine(self.url)

    def problem(self) -> str | None:
        """Why the store cannot be served now (`store_problem`), None when it can."""
        return store_problem(self.url)

    def ready(self) -> bool:
        """True when the store is built (`store_ready`)."""
        return store_ready(self.url)

    def version(self) -> int:
        """The store's version, read now."""
        return read_version(self.engine)

    def state(self) -> tuple[int, int] | None:
        """(file generation, version), read at most once per `version_ttl`; None when the store cannot be served
        (a SQLite file deleted, moved or never built): nothing is cached then, and nothing old is served."""
        now = time.monotonic()
        checked_at, state = self._checked
        if now - checked_at < self.version_ttl:
            return state
        with self._lock:
            state = None if self.problem() else (_generation.get(self.url, 0), self.version())
            if state != self._checked[1]:
                self.cache.clear()
            self._checked = (now, state)
        return state

    def cached(self, function: Callable[..., object], *args: object) -> object:
        """`function(self, *args)`, computed once per store state and arguments (the arguments are hashable)."""
        state = self.state()
        if state is None:
            return function(self, *args)
        key = (state, function.__module__, function.__qualname__, args)
        value = self.cache.get(key, MISSING)
        if value is MISSING:
            value = function(self, *args)
            self.cache.put(key, value)
        return value


F = TypeVar("F", bound=Callable[..., object])


def cached(function: F) -> F:
    """Decorator: `function(store, *args)` is kept in the store's one bounded cache (`Store.cached`). Callers
    that change the result must copy it first: it is shared."""
    @functools.wraps(function)
    def through_cache(store: Store, *args: object) -> object:
        return store.cached(function, *args)
    return cast(F, through_cache)
