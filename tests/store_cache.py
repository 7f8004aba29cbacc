"""The built stores, cached between test sessions by a hash of everything that makes them.

`etl build` over every bundled file costs tens of seconds on SQLite and more on PostgreSQL, yet what it makes
depends only on the bundled data (`data/`), the code of `etl/` and `observatory/`, and the versions of Python and
of the libraries that read files and write the store. So the first session builds each store for real and keeps
it under `.cache/test-store/` (gitignored) named by that hash; later sessions, and the other workers of a
parallel run, copy it (SQLite) or restore it (a `pg_dump` of a real PostgreSQL build) instead of building again;
`made_file` keeps the files the tests fabricate from the bundled data the same way.
Change one of those inputs and the hash changes: the next session builds anew (older entries are removed).

A file lock per backend makes concurrent sessions wait for one build instead of each running it.
`OBSERVATORY_TEST_STORE_CACHE=0` switches the cache off (every session builds, as before).
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / ".cache" / "test-store"
INPUTS = ("data", "etl", "observatory")  # folders whose files change what `etl build` makes
IGNORED = ("__pycache__", "observatory.sqlite")  # generated beside the inputs: never part of the key
LIBRARIES = ("pandas", "numpy", "openpyxl", "python-calamine", "sqlalchemy", "psycopg")
SWITCH = "OBSERVATORY_TEST_STORE_CACHE"  # "0": no cache


def enabled() -> bool:
    return os.environ.get(SWITCH) != "0"


def _input_files() -> Iterator[Path]:
    for folder in INPUTS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and not any(part.startswith(IGNORED) for part in path.relative_to(ROOT).parts):
                yield path


@lru_cache(maxsize=1)
def inputs_hash() -> str:
    """sha256 of Python's and the libraries' versions and of every input file (its path and its bytes)."""
    digest = hashlib.sha256(sys.version.encode())
    for library in LIBRARIES:
        try:
            digest.update(f"\0{library}={metadata.version(library)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"\0{library}=-".encode())
    for path in _input_files():
        digest.update(b"\0" + path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


@contextmanager
def _locked(name: str) -> Iterator[None]:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with (CACHE_DIR / f"{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _prune(keep: Path, suffix: str) -> None:
    """Remove the entries of this kind made from other inputs (they can never be read again)."""
    for old in CACHE_DIR.glob(f"*{suffix}"):
        if old != keep:
            old.unlink(missing_ok=True)


def _remove_sqlite(path: Path) -> None:
    for extra in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{extra}").unlink(missing_ok=True)


def sqlite_store(target: Path, build: Callable[[Path], None]) -> Path:
    """A private copy at `target` of the built SQLite store. `build(path)` makes a store at `path` (the real
    `etl build`); it runs only when the cache has no entry for the current inputs."""
    if not enabled():
        build(target)
        return target
    cached = CACHE_DIR / f"{inputs_hash()}.sqlite"
    if cached.exists():  # an entry appears whole (os.replace): reading it needs no lock
        shutil.copyfile(cached, target)
        return target
    with _locked("sqlite"):
        if not cached.exists():
            partial = cached.with_name(cached.name + ".partial")
            _remove_sqlite(partial)
            build(partial)
            with sqlite3.connect(partial) as conn:  # the WAL folded in: one self-contained file
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            os.replace(partial, cached)
            _remove_sqlite(partial)
            _prune(cached, ".sqlite")
        shutil.copyfile(cached, target)
    return target


def made_file(target: Path, name: str, make: Callable[[Path], None]) -> Path:
    """A copy at `target` of a file the tests make from the bundled data (a fabricated later vintage: seconds of
    openpyxl writing), made by `make(path)` once per inputs hash and `name` (which says every other argument)."""
    if not enabled():
        make(target)
        return target
    cached = CACHE_DIR / f"{inputs_hash()}.{name}"
    if not cached.exists():
        with _locked(name):
            if not cached.exists():
                partial = cached.with_name(cached.name + ".partial")
                make(partial)
                os.replace(partial, cached)
                _prune(cached, f".{name}")
    shutil.copyfile(cached, target)
    return target


def postgres_store(bindir: Path, dsn: dict[str, str], database: str, build: Callable[[], Engine]) -> None:
    """Fill the empty PostgreSQL `database` with the built store: restored from the cached `pg_dump` of a real
    build, else built by `build()` (the real `etl build`) and then dumped into the cache."""
    if not enabled():
        build()
        return
    major = bindir.parent.name if bindir.parent.name.isdigit() else "pg"
    cached = CACHE_DIR / f"{inputs_hash()}.pg{major}.dump"
    connection = ["-h", dsn["host"], "-p", dsn["port"], "-U", dsn["user"]]
    restore = [str(bindir / "pg_restore"), *connection, "-d", database, "--no-owner", "-j", "2", str(cached)]
    if cached.exists():  # an entry appears whole (os.replace): reading it needs no lock
        _run(restore)
        return
    with _locked("postgresql"):
        if cached.exists():  # made by another session while this one waited
            _run(restore)
            return
        build().dispose()
        partial = cached.with_name(cached.name + ".partial")
        _run([str(bindir / "pg_dump"), *connection, "-Fc", "-Z", "1", "-f", str(partial), database])
        os.replace(partial, cached)
        _prune(cached, ".dump")


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-2000:]}")
