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
