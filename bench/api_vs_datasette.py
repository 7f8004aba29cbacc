"""Benchmark: this app's API against Datasette serving the same SQLite store, on loopback, in one run.

Times (a) a filtered JSON query and (b) the full CSV export of `observations`, for both servers, and the
floor: a bare `sqlite3` + `csv.writer` dump of the same view. Prints medians and the ratio ours/Datasette.
Needs Datasette (`.venv/bin/pip install -r requirements-bench.txt`).

    .venv/bin/python bench/api_vs_datasette.py [--runs 3] [--csv-runs 3]

The store is a copy of the bundled one built by `python -m etl build` (published sources only, so that
both servers hold the same rows).
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JSON_FILTER = {"indicator": "recruitment_difficulty_share", "territory": "FR"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(url: str, process: subprocess.Popen) -> None:
    for _ in range(900):
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}) before serving {url}")
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} never answered")


def fetch(url: str) -> tuple[float, int]:
    """Seconds to receive the whole body, and its size."""
    started = time.perf_counter()
    size = 0
    with urllib.request.urlopen(url, timeout=3600) as response:
        while block := response.read(1 << 20):
            size += len(block)
    return time.perf_counter() - started, size


def bare_dump(store: Path, out: Path) -> tuple[float, int]:
    started = time.perf_counter()
    with sqlite3.connect(store) as conn, out.open("w", newline="", encoding="utf-8") as handle:
        cursor = conn.execute("SELECT * FROM observations")
        writer = csv.writer(handle)
        writer.writerow([d[0] for d in cursor.description])
        writer.writerows(cursor)
    return time.perf_counter() - started, out.stat().st_size


def median_of(runs: int, action) -> tuple[float, list[float], int]:
    times, size = [], 0
    for _ in range(runs):
        seconds, size = action()
        times.append(seconds)
    return statistics.median(times), times, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="runs of the filtered JSON query")
    parser.add_argument("--csv-runs", type=int, default=3, help="runs of the full CSV export")
    args = parser.parse_args()
    datasette = shutil.which("datasette", path=str(Path(sys.executable).parent)) or shutil.which("datasette")
    if not datasette:
        sys.exit("datasette is missing: .venv/bin/pip install -r requirements-bench.txt")
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "observatory.sqlite"
        env = {**os.environ, "OBSERVATORY_DB": f"sqlite:///{store}"}
        subprocess.run([sys.executable, "-m", "etl", "build"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        with sqlite3.connect(store) as conn:
            rows = conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        ours_port, theirs_port = free_port(), free_port()
        ours = subprocess.Popen([sys.executable, "app.py", "--port", str(ours_port)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        theirs = subprocess.Popen([datasette, "serve", str(store), "-h", "127.0.0.1", "-p", str(theirs_port),
                                   "--setting", "sql_time_limit_ms", "600000",
                                   "--setting", "max_returned_rows", "1000"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            ours_base, theirs_base = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{theirs_port}"
            wait(ours_base + "/api/v1/indicators", ours)
            wait(theirs_base + "/-/versions.json", theirs)
            ours_json = (f"{ours_base}/api/v1/observations?indicator={JSON_FILTER['indicator']}"
                         f"&territory={JSON_FILTER['territory']}&page_size=1000")
            theirs_json = (f"{theirs_base}/observatory/observations.json?indicator_id={JSON_FILTER['indicator']}"
                           f"&territory_id={JSON_FILTER['territory']}&_size=1000&_shape=objects")
            ours_csv = f"{ours_base}/api/v1/observations?format=csv"
            theirs_csv = f"{theirs_base}/observatory/observations.csv?_stream=on&_size=max"
            fetch(ours_json), fetch(theirs_json)  # warm both
            json_ours = median_of(args.runs, lambda: fetch(ours_json))
            json_theirs = median_of(args.runs, lambda: fetch(theirs_json))
            csv_ours = median_of(args.csv_runs, lambda: fetch(ours_csv))
            csv_theirs = median_of(args.csv_runs, lambda: fetch(theirs_csv))
            floor = median_of(args.csv_runs, lambda: bare_dump(store, Path(tmp) / "dump.csv"))
        finally:
            for process in (ours, theirs):
                process.terminate()
                process.wait(timeout=20)

    def line(name: str, result) -> str:
        median, times, size = result
        spread = f"[{min(times):.3f}–{max(times):.3f}]" if len(times) > 1 else ""
        return f"  {name:<34}{median:>9.3f} s {spread:<17}{size / 1e6:>8.1f} MB"

    print(f"store: {rows:,} rows in the observations view; loopback; medians")
    print("(a) filtered JSON query (one indicator, France, up to 1,000 rows)")
    print(line("ours  /api/v1/observations", json_ours))
    print(line("Datasette observations.json", json_theirs))
    print(f"  ratio ours/Datasette: {json_ours[0] / json_theirs[0]:.2f}× (target ≤ 1.0×)")
    print(f"(b) full CSV export of observations ({rows:,} rows)")
    print(line("ours  ?format=csv (streamed)", csv_ours))
    print(line("Datasette .csv?_stream=on", csv_theirs))
    print(line("floor: sqlite3 + csv.writer", floor))
    print(f"  ratio ours/Datasette: {csv_ours[0] / csv_theirs[0]:.2f}× (target ≤ 0.5×); "
          f"ours/floor: {csv_ours[0] / floor[0]:.2f}×")


if __name__ == "__main__":
    main()
