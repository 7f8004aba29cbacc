"""The test tiers: `make test-fast` selects no test that needs a browser, the built store, PostgreSQL, a served
process or many fuzz examples, and every such test carries its marker (given by tests/tiers.py from the fixtures
it uses), so that the whole suite (`./test.sh`) is the fast tier plus the marked tests."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests import tiers as tier_rules
from tests.conftest import ROOT
from tests.tiers import FIXTURES, MARKERS, REPORT

HEAVY_FIXTURES = set().union(*FIXTURES.values())


def fast_expression() -> str:
    """The marker expression `make test-fast` passes to pytest (read from the Makefile, the one place it is)."""
    makefile = (ROOT / "Makefile").read_text()
    expression = re.search(r"^FAST = (.+)$", makefile, re.MULTILINE).group(1).strip()
    recipe = r'^test-fast:.*\n(?:\t.*\n)*?\t.*pytest -m "\$\(FAST\)"'  # other lines may come before pytest's
    assert re.search(recipe, makefile, re.MULTILINE), "test-fast uses FAST"
    return expression


@pytest.fixture(scope="module")
def tiers(tmp_path_factory) -> dict[str, dict[str, dict]]:
    """What `make test-fast` selects and leaves out (collected in a subprocess, not run): for each test, its
    markers, its fixtures and its backend."""
    report = tmp_path_factory.mktemp("tiers") / "tiers.json"
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "-m", fast_expression()], cwd=ROOT, env={**os.environ, REPORT: str(report)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(report.read_text())


def test_the_fast_tier_needs_no_browser_no_built_store_no_postgresql(tiers):
    assert all(f"not {marker}" in fast_expression() for marker in MARKERS)
    fast, rest = tiers["selected"], tiers["deselected"]
    assert len(fast) > 100 and len(rest) > 100
    for nodeid, test in fast.items():
        assert not set(test["markers"]) & set(MARKERS), nodeid
        assert not set(test["fixtures"]) & HEAVY_FIXTURES, nodeid
        assert test["backend"] != "postgresql", nodeid
    for nodeid, test in rest.items():  # the whole suite is the fast tier plus the marked tests
        assert set(test["markers"]) & set(MARKERS), nodeid


def test_every_heavy_test_carries_its_marker(tiers):
    every_test = {**tiers["selected"], **tiers["deselected"]}
    for nodeid, test in every_test.items():
        fixtures, markers = set(test["fixtures"]), set(test["markers"])
        for marker, needs in FIXTURES.items():
            if fixtures & needs:
                assert marker in markers, (nodeid, marker)
        if test["backend"] == "postgresql":
            assert "postgres" in markers, nodeid
    assert {m for test in every_test.values() for m in test["markers"]} >= set(MARKERS)


class _Item:
    """What `tiers.scheduled` reads of a pytest item."""

    def __init__(self, nodeid: str, *markers: str, fixtures: tuple[str, ...] = ("built_store",)):
        self.nodeid, self._markers = nodeid, [pytest.Mark(m, (), {}) for m in markers]
        self.fixturenames = fixtures

    def iter_markers(self):
        return iter(self._markers)

    def get_closest_marker(self, name: str):
        return next((m for m in self._markers if m.name == name), None)


def test_the_schedule_only_reorders_whole_files(monkeypatch):
    """Every collected test runs once, files stay whole, the longest go first, and the second worker starts on
    the longest file that needs no built store (it runs while the first worker builds)."""
    monkeypatch.setattr(tier_rules, "_durations", lambda: {"tests/test_a.py": 1.0, "tests/test_b.py": 90.0})
    items = [_Item("tests/test_a.py::t1"), _Item("tests/test_c.py::t1", "browser"), _Item("tests/test_a.py::t2"),
             _Item("tests/test_b.py::t1"), _Item("tests/test_d.py::t1", "postgres", fixtures=("tmp_path",)),
             *[_Item(f"tests/test_e{n}.py::t") for n in range(20)]]
    def files(scheduled: list) -> list[str]:
        names = [i.nodeid.split("::")[0] for i in scheduled]
        runs = [name for k, name in enumerate(names) if k == 0 or names[k - 1] != name]
        assert len(runs) == len(set(runs)), "a file split in two"
        return runs

    alone = tier_rules.scheduled(items, 1)
    assert sorted(i.nodeid for i in alone) == sorted(i.nodeid for i in items)
    # 90 s, then a browser test (~4 s), then 1 s known and ~1 s estimated (by name), then the short ones
    assert files(alone)[:4] == ["tests/test_b.py", "tests/test_c.py", "tests/test_a.py", "tests/test_d.py"]
    two = tier_rules.scheduled(items, 2)
    assert sorted(i.nodeid for i in two) == sorted(i.nodeid for i in items)
    assert files(two)[:2] == ["tests/test_b.py", "tests/test_d.py"]  # test_d needs no built store


def test_xdist_hands_out_files_in_the_schedules_order(pytestconfig):
    """pytest-xdist's `loadfile` sorts files by their number of tests unless told not to: the schedule above
    would be lost (the longest files came last, and the run ended on one worker)."""
    assert pytestconfig.option.loadscopereorder is False
