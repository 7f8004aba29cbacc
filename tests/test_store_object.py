"""One store object: made at the entry points and passed down (nothing below them looks for a store in the
environment), with one cache bounded in bytes that never serves what an older version of the store held."""
from __future__ import annotations

import ast
import itertools
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from etl.loader import load_file
from observatory import queries, views
from observatory.cache import ByteCache, size_of
from observatory.store import VERSION_TTL_SECONDS, Store
from tests.conftest import EVOL_MMO

ROOT = Path(__file__).resolve().parent.parent
STORE_NAMES = {"OBSERVATORY_DB", "database_url"}
DEFINED_IN = Path("observatory/config.py")  # the one definition, which only entry points call


def store_lookups(path: Path) -> list[str]:
    """Where a file names the store's environment variable or `database_url` (docstrings aside)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        name = (node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else
                node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else
                next((a.name for a in node.names if a.name in STORE_NAMES), None)
                if isinstance(node, ast.ImportFrom) else None)
        if name in STORE_NAMES:
            found.append(f"{path.name}:{node.lineno} {name}")
    return found


BELOW_THE_ENTRY_POINTS = sorted(p for p in [*(ROOT / "observatory").rglob("*.py"), *(ROOT / "pages").rglob("*.py")]
                                if p.relative_to(ROOT) != DEFINED_IN)


@pytest.mark.parametrize("path", BELOW_THE_ENTRY_POINTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_below_the_entry_points_looks_for_the_store(path):
    assert store_lookups(path) == []


def test_the_store_rule_would_catch_a_lookup(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('import os\nfrom observatory.config import database_url\n'
                      'def f():\n    return os.environ.get("OBSERVATORY_DB") or database_url()\n')
    assert len(store_lookups(sample)) == 3


@pytest.fixture
def dares_store(reference_db, tmp_path) -> tuple[Path, str]:
    """A small real SQLite store: the reference tables and the DARES turnover file (2,112 figures)."""
    path = tmp_path / "small.sqlite"
    shutil.copy(reference_db, path)
    url = f"sqlite:///{path}"
    load_file(Store(url).engine, EVOL_MMO)
    return path, url


def test_the_cache_stays_under_its_byte_bound(dares_store):
    _path, url = dares_store
    dims = queries.dimensions(Store(url))
    budget = 4 * size_of(dims)  # the dimensions (a quarter: the most one value may take) and small frames
    store = Store(url, cache_bytes=budget)
    professions = sorted(set(queries.select(store, queries.Selection(sources=("dares_mmo",))).profession_id))
    held, sizes = [], []
    windows = (tuple(range(2007, 2013)), tuple(range(2013, 2020)), None)  # frames of 6, 7 and 13 years
    for profession, periods, breakdowns in itertools.product(professions, windows, (("",), None)):
        selection = queries.Selection(professions=(profession,), periods=periods, breakdowns=breakdowns)
        frame = queries.select(store, selection)
        assert queries.select(store, selection).equals(frame)  # a hit: the same rows
        assert store.cache.bytes <= budget
        held.append(len(store.cache))
        sizes.append(store.cache.bytes)
    assert len(held) > 500 and max(sizes) > budget * 0.8  # it kept what fitted…
    assert held[-1] < len(held) - 200  # …and dropped the least recently used beyond its bound, again and again
    # a value above a quarter of the budget is served, never kept (it would flush what small queries need)
    everything = queries.select(store, queries.Selection(breakdowns=None))
    assert size_of(everything) > budget / 4 and store.cache.bytes <= budget
    assert all(not isinstance(v, pd.DataFrame) or len(v) < len(everything) for v, _ in store.cache._entries.values())


def test_a_large_frame_is_measured_on_a_sample_within_a_few_percent():
    rows = 60_000
    frame = pd.DataFrame({"label": [("x" * (i % 97)) + str(i) for i in range(rows)], "value": range(rows),
                          "code": pd.array([f"C{i % 500}" for i in range(rows)], dtype="string")})
    exact = int(frame.memory_usage(deep=True).sum())
    assert abs(size_of(frame) - exact) < 0.05 * exact
    assert abs(size_of(frame["label"]) - frame["label"].memory_usage(deep=True)) < 0.05 * exact


def test_sizes_are_in_bytes():
    frame = pd.DataFrame({"label": ["x" * 100] * 1000, "value": range(1000)})
    assert size_of(frame) >= 100 * 1000 and size_of(b"a" * 5000) >= 5000
    assert 100_000 <= size_of({i: ("x" * 100, i) for i in range(1000)}) < 1_000_000
    cache = ByteCache(10_000)
    for n in range(100):
        cache.put(n, b"b" * 1000)
        assert cache.bytes <= 10_000
    assert cache.get(99) and cache.get(0) is None  # the least recently used went first


def test_a_new_store_version_is_never_served_stale(reference_db, tmp_path):
    path = tmp_path / "store.sqlite"
    shutil.copy(reference_db, path)
    store = Store(f"sqlite:///{path}")
    dares = queries.Selection(sources=("dares_mmo",), breakdowns=None)
    assert queries.select(store, dares).empty and queries.sources_for(store, "turnover_rate_all_contracts") == ()
    version = store.version()
    load_file(store.engine, EVOL_MMO)  # another writer: a load bumps the version in its own transaction
    assert store.version() > version
    time.sleep(VERSION_TTL_SECONDS + 0.1)  # a process trusts the version it read for at most this long
    assert len(queries.select(store, dares)) == 2112
    assert queries.sources_for(store, "turnover_rate_all_contracts") == ("dares_mmo",)
    assert views.names.source_label(store, "dares_mmo").startswith("DARES")
    fresh = Store(store.url)  # what a process started now reads
    assert queries.select(store, dares).equals(queries.select(fresh, dares))
