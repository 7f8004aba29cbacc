"""The test tiers: which markers a test needs, read from what it uses, so that a new test is marked without anyone
thinking of it. `make test-fast` runs the tests with none of them; `./test.sh` runs them all.

- `browser`: a real headless Chromium (`dash_duo`);
- `full_store`: the store `etl build` makes from every bundled file (`built_store`, the app on it, its PostgreSQL
  twin); a test that loads a full build's worth of files itself says so with an explicit mark;
- `postgres`: the session's throw-away PostgreSQL cluster (its fixtures, or `store` on the `postgresql` backend);
- `service`: real server processes started through `conftest.serve_copy` (python app.py, gunicorn, nginx);
- `fuzz`: property-based tests (hypothesis), many examples each.

`tests/test_tiers.py` checks the fast tier against the fixtures each test really uses (`report`).
"""
from __future__ import annotations

import inspect
import json
from functools import cache
from pathlib import Path

MARKERS = ("browser", "service", "postgres", "full_store", "fuzz")
FIXTURES = {
    "browser": {"dash_duo", "dash_br", "dash_thread_server", "_shared_browser"},
    "full_store": {"built_store", "dash_app", "pg_built_store"},
    "postgres": {"pg_cluster", "pg_reference", "pg_built_store"},
}
SERVICE_CALLS = ("serve_copy(",)  # the one helper that starts a server process over a copy of the built store
REPORT = "OBSERVATORY_TIER_REPORT"  # environment: a file where the collected tests are described (JSON)


@cache
def _source(function) -> str:
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""


def _functions(item) -> list:
    """The test function and the function of every fixture it uses."""
    info = getattr(item, "_fixtureinfo", None)
    fixtures = [d.func for defs in info.name2fixturedefs.values() for d in defs] if info else []
    return [getattr(item, "function", None), *fixtures]


def backend(item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("backend") if callspec is not None else None


def needed(item) -> set[str]:
    """The tier markers an item needs, from its fixtures, its `backend` parameter and its source."""
    names = set(getattr(item, "fixturenames", ()))
    found = {marker for marker, fixtures in FIXTURES.items() if names & fixtures}
    if backend(item) == "postgresql":
        found.add("postgres")
    if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
        found.add("fuzz")
    if any(call in _source(function) for function in _functions(item) for call in SERVICE_CALLS):
        found.add("service")
    return found


def mark(items) -> None:
    """Give each item the tier markers it needs and lacks."""
    import pytest

    for item in items:
        present = {m.name for m in item.iter_markers()}
        for marker in sorted(needed(item) - present):
            item.add_marker(getattr(pytest.mark, marker))


def described(item) -> dict:
    return {"markers": sorted({m.name for m in item.iter_markers()}),
            "fixtures": sorted(getattr(item, "fixturenames", ())), "backend": backend(item)}


def report(target: Path, selected, deselected) -> None:
    target.write_text(json.dumps({"selected": {item.nodeid: described(item) for item in selected},
                                  "deselected": {item.nodeid: described(item) for item in deselected}}))


# Rough seconds a test of each tier takes on a 2-core machine, for a file `DURATIONS` does not know yet.
WEIGHTS = {"service": 6.0, "browser": 4.0, "fuzz": 2.0, "postgres": 1.0, "full_store": 0.5}
# Seconds each test file took in a whole run (only their order matters). Refresh after a run of
# `./test.sh --junitxml=run.xml` with `.venv/bin/python tests/tiers.py run.xml`.
DURATIONS = Path(__file__).with_name("durations.json")


@cache
def _durations() -> dict[str, float]:
    try:
        return json.loads(DURATIONS.read_text())
    except (OSError, ValueError):
        return {}


def scheduled(items: list, workers: int) -> list:
    """The items file by file (pytest-xdist `--dist loadfile` hands out whole files, in this order since
    `conftest.pytest_configure` turns off its own reordering by test count), longest files first (their last run's
    seconds, else an estimate from their markers): the last files handed out are short, so the workers end
    together. xdist gives each worker one file at the start, then the next one in line when its tests are down to
    two; the last worker's first file is the longest one that needs no built store: on a clean clone it runs
    while the first worker builds the store, instead of waiting for that build. Only the order changes: every
    test still runs."""
    files: dict[str, list] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)
    known = _durations()

    def weight(name: str) -> float:
        if name in known:
            return known[name]
        return sum(max((WEIGHTS.get(m.name, 0.0) for m in item.iter_markers()), default=0.1) for item in files[name])

    def needs_no_build(name: str) -> bool:
        return not any(set(getattr(item, "fixturenames", ())) & FIXTURES["full_store"] for item in files[name])

    order = sorted(files, key=lambda name: (-weight(name), name))
    if workers > 1:
        unbuilt = [name for name in order[1:] if needs_no_build(name)]
        if unbuilt and workers <= len(order):
            order.remove(unbuilt[0])
            order.insert(workers - 1, unbuilt[0])
    return [item for name in order for item in files[name]]


if __name__ == "__main__":  # tests/durations.json from a run's JUnit XML report
    import sys
    import xml.etree.ElementTree as ElementTree

    seconds: dict[str, float] = {}
    for case in ElementTree.parse(sys.argv[1]).iter("testcase"):
        name = "tests/" + case.get("classname").split(".")[1] + ".py"
        seconds[name] = round(seconds.get(name, 0.0) + float(case.get("time", 0)), 1)
    DURATIONS.write_text(json.dumps(dict(sorted(seconds.items())), indent=0) + "\n")
