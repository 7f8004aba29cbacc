"""Opening the store: one engine per URL, SQLite tuned (WAL, foreign keys) and the schema created once."""
from __future__ import annotations

import weakref
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event, inspect, text

from observatory.config import database_url
from observatory.schema import OBSERVATIONS_VIEW_SQL, metadata


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # 16 KiB pages for a new store (no effect on an existing file, which keeps its own): a reload rewrites
    # nearly every page of `observation` (a vintage's rows sit between the other vintages' in key order), and
    # with larger pages that costs a fifth less; range reads by indicator are no slower. Must come before WAL.
    cursor.execute("PRAGMA page_size=16384")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()
    # pysqlite's own transaction handling defers BEGIN; the engine's "begin" event issues it instead, so that
    # one load is one transaction.
    dbapi_connection.isolation_level = None


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (default: `OBSERVATORY_DB` or the bundled SQLite file)."""
    url = url or database_url()
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    _engines.add(engine)
    return engine


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
