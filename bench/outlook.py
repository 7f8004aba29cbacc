"""Outlook bench: how fast a projection answers, and how long every family × territory takes.

    .venv/bin/python bench/outlook.py [--requests 200] [--store data/observatory.sqlite]

1. Starts the app (`python app.py`, one process, on a copy of the store) and times `GET /api/v1/projections`
   over HTTP, whole request to whole answer, for a rotation of families × territories × scenario parameters
   (each scenario new to the process, so no answer comes from a cache of answers): p50 / p95 / max, in ms.
   The first request (which reads the store's inputs once) is reported apart.
   Issue 21: the same for département projections alone (half of them with the driver, half with a growth set).
2. In process: every FAP-87 family × (France + every région + every département), central scenario, to 2035:
   total seconds.
Prints its figures; stops what it started, by PID. Bars: p95 < 200 ms (issue 16), a département's p95 < 100 ms and
every family × every département < 60 s (issue 21).
"""
from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/: its etl.py would hide the etl package
_spec = importlib.util.spec_from_file_location("bench_dashboard", ROOT / "bench" / "dashboard.py")
dashboard = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dashboard)
free_port = dashboard.free_port
percentile = dashboard.percentile  # q as a fraction: 0.95


def fetch(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return (time.perf_counter() - started) * 1000, status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--store", default=str(ROOT / "data" / "observatory.sqlite"))
    args = parser.parse_args()

    from observatory import outlook, outlook_data
    from observatory.store import Store

    folder = Path(tempfile.mkdtemp(prefix="bench-outlook-"))
    store = folder / "observatory.sqlite"
    shutil.copy(args.store, store)
    url = f"sqlite:///{store}"
    data = outlook_data.store(Store(url))
    regions = tuple(t for t in data.territories if t.startswith("REG-"))
    departements = tuple(t for t in data.territories if t.startswith("DEP-"))

    started = time.perf_counter()
    for family in data.families.values():
        covered = tuple(t for t in (*regions, *departements) if family.covers(t))
        outlook.project_many(family, outlook.Scenario(), ("FR", *covered), horizon=2035)
    every = time.perf_counter() - started

    port = free_port()
    env = {**os.environ, "OBSERVATORY_DB": url, "PORT": str(port)}
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if fetch(base + "/health")[1] == 200:
                    break
            except OSError:
                time.sleep(0.3)
        families = [*data.social, "aide_a_domicile", "educateur_specialise", "A0Z", "R4Z"]
        shifts = [-2, -1, 0, 0.5, 1, 1.5, 2, 3]
        pairs = [(p, t) for p in families for t in ("FR", *regions)
                 if t == "FR" or t in data.families[outlook_data.resolve(p, data)].region_share.index]
        combos = itertools.cycle([(p, t, s) for (p, t), s in itertools.product(pairs, shifts)])
        first, status = fetch(f"{base}/api/v1/projections?profession=T2A&territory=FR")
        assert status == 200, status
        times, errors = [], 0
        for i in range(args.requests):
            profession, territory, shift = next(combos)
            growth = round(-1 + (i % 40) * 0.1, 1)  # a scenario the process has not seen
            ms, status = fetch(f"{base}/api/v1/projections?profession={profession}&territory={territory}"
                               f"&retirement_age_shift={shift}&demand_growth={growth}&to=2035")
            times.append(ms)
            errors += status != 200
        dep_pairs = itertools.cycle([(f, d) for f in data.social for d in departements
                                     if data.families[f].covers(d)])
        dep_times = []
        for i in range(args.requests):
            family, territory = next(dep_pairs)
            growth = "" if i % 2 else f"&demand_growth={round(-1 + (i % 40) * 0.1, 1)}"
            ms, status = fetch(f"{base}/api/v1/projections?profession={family}&territory={territory}"
                               f"&retirement_age_shift={(i % 7) * 0.5 - 1}{growth}&to=2035")
            dep_times.append(ms)
            errors += status != 200
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)

    print(f"families in the store: {len(data.families)}; territories: France + {len(regions)} régions + "
          f"{len(departements)} départements")
    print(f"every family × every territory (départements too), central scenario to 2035, in process: {every:.2f} s "
          "(bar: < 60 s)")
    print(f"GET /api/v1/projections, first request (reads the inputs): {first:.0f} ms")
    print(f"GET /api/v1/projections, {len(times)} requests: p50 {statistics.median(times):.1f} ms, "
          f"p95 {percentile(times, 0.95):.1f} ms, max {max(times):.1f} ms (bar: p95 < 200 ms)")
    print(f"GET /api/v1/projections?territory=DEP-…, {len(dep_times)} requests: p50 "
          f"{statistics.median(dep_times):.1f} ms, p95 {percentile(dep_times, 0.95):.1f} ms, "
          f"max {max(dep_times):.1f} ms (bar: p95 < 100 ms); errors over both: {errors}")


if __name__ == "__main__":
    main()
