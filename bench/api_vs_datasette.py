"""Benchmark: this app's API against Datasette serving the same rows, whole HTTP requests on loopback.

    .venv/bin/python bench/api_vs_datasette.py [--runs 21] [--csv-runs 3] [--store PATH] [--no-xlsx]

Datasette (`.venv/bin/pip install -r requirements-bench.txt`) gets what a Datasette user would publish: the rows
the API returns (every published observation, the export's 18 columns with labels and `series_break`)
materialised into one plain table, with an index on each filter column and one made for query (a). Both servers
run one process on loopback: ours `gunicorn -w 1 app:server` (its production server), Datasette `datasette serve`
(uvicorn).
Runs alternate between the two servers; medians [min–max] are printed, with the ratios ours/Datasette:
 (a) a filtered JSON query (one indicator × one profession × one year × every bassin, 408 rows, one page) —
     target ≤ 1.0×, warm, and again right after each full CSV export of (b) (ours after ours, Datasette's after
     Datasette's): a big export must not evict what the small query needs;
 (b) the full CSV export (every row, streamed) — target ≤ 0.5× Datasette, and against the floor: a bare
     `sqlite3` + `csv.writer` dump of the materialised table (target toward 2×);
 (c) the largest XLSX export that fits in one sheet (two BMO vintages, ~870,000 rows), with the worker's peak
     RSS next to a small XLSX export's (memory stays flat), and the whole store as XLSX (refused: 400).
The store is a copy of `--store` (default: one built by `python -m etl build` in a temporary folder).
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
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JSON_FILTERS = {"indicator": "recruitment_projects", "profession": "educateur_specialise", "period": "2023",
                "level": "bassin"}  # one indicator × one profession × one year × every bassin: 408 rows
XLSX_PERIODS = (2021, 2022)
INDEXED = ("indicator_id", "profession_id", "territory_id", "territory_level", "period", "source_id", "breakdown")
QUERY_A_INDEX = ("indicator_id", "profession_id", "period", "territory_level")


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


LINES: dict[str, int] = {}


def fetch(url: str) -> tuple[float, int]:
    """Seconds to receive the whole body, and its size (its line count goes to LINES)."""
    started = time.perf_counter()
    size = lines = 0
    with urllib.request.urlopen(url, timeout=3600) as response:
        while block := response.read(1 << 20):
            size += len(block)
            lines += block.count(b"\n")
    LINES[url] = lines
    return time.perf_counter() - started, size


def materialise(url: str, target: Path) -> tuple[float, int]:
    """The API's rows (every published observation, export columns) as one plain indexed table."""
    sys.path.insert(0, str(ROOT))
    from observatory import exports, queries
    from observatory.store import Store

    started = time.perf_counter()
    rows = 0
    with sqlite3.connect(target) as conn:
        types = {"period": "INTEGER", "is_derived": "INTEGER", "value": "REAL", "numerator": "REAL",
                 "denominator": "REAL"}
        columns = ", ".join(f"{c} {types.get(c, 'TEXT')}" for c in exports.COLUMNS)
        conn.execute(f"CREATE TABLE observations ({columns})")
        insert = f"INSERT INTO observations VALUES ({', '.join('?' * len(exports.COLUMNS))})"
        for chunk in exports.stream_chunks(Store(url), queries.Selection(breakdowns=None)):
            conn.executemany(insert, chunk)
            rows += len(chunk)
        for column in INDEXED:
            conn.execute(f"CREATE INDEX ix_{column} ON observations ({column})")
        # and one index made for query (a), as a publisher tuning Datasette for it would add
        conn.execute(f"CREATE INDEX ix_query_a ON observations ({', '.join(QUERY_A_INDEX)})")
    return time.perf_counter() - started, rows


def bare_dump(db: Path, out: Path) -> tuple[float, int]:
    started = time.perf_counter()
    with sqlite3.connect(db) as conn, out.open("w", newline="", encoding="utf-8") as handle:
        cursor = conn.execute("SELECT * FROM observations")
        writer = csv.writer(handle)
        writer.writerow([d[0] for d in cursor.description])
        writer.writerows(cursor)
    return time.perf_counter() - started, out.stat().st_size


def alternate(runs: int, *actions) -> list[tuple[float, list[float], int]]:
    """Each action `runs` times, interleaved (ours, theirs, ours, …): drift on a shared machine hits both."""
    times: list[list[float]] = [[] for _ in actions]
    sizes = [0] * len(actions)
    for _ in range(runs):
        for i, action in enumerate(actions):
            seconds, sizes[i] = action()
            times[i].append(seconds)
    return [(statistics.median(t), t, s) for t, s in zip(times, sizes)]


class PeakRss:
    """Peak RSS of a process and its children (sampled from /proc every 20 ms while running)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _pids(self) -> list[int]:
        pids = [self.pid]
        try:
            for task in Path(f"/proc/{self.pid}/task").iterdir():
                children = (task / "children").read_text().split()
                pids += [int(c) for c in children]
        except OSError:
            pass
        return pids

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for pid in self._pids():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
                except (OSError, StopIteration):
                    pass
            self.peak = max(self.peak, total * 1024)
            self._stop.wait(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of the filtered JSON query")
    parser.add_argument("--csv-runs", type=int, default=5, help="runs of the full CSV export (each followed by (a'))")
    parser.add_argument("--store", type=Path, help="a built store to copy (default: build one)")
    parser.add_argument("--no-xlsx", action="store_true", help="skip (c)")
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    datasette = shutil.which("datasette", path=str(bin_dir))
    gunicorn = shutil.which("gunicorn", path=str(bin_dir))
    if not datasette or not gunicorn:
        sys.exit("datasette or gunicorn missing: .venv/bin/pip install -r requirements.txt -r requirements-bench.txt")
    with tempfile.TemporaryDirectory() as tmp:
        store, published = Path(tmp) / "observatory.sqlite", Path(tmp) / "published.db"
        url = f"sqlite:///{store}"
        env = {**os.environ, "OBSERVATORY_DB": url}
        if args.store:
            with sqlite3.connect(args.store) as source, sqlite3.connect(store) as target:
                source.backup(target)
        else:
            subprocess.run([sys.executable, "-m", "etl", "build"], cwd=ROOT, env=env, check=True, capture_output=True)
        seconds, rows = materialise(url, published)
        print(f"materialised {rows:,} rows (the API's, export columns) into one table with {len(INDEXED)} indexes "
              f"for Datasette in {seconds:.1f} s")
        ours_port, theirs_port = free_port(), free_port()
        ours = subprocess.Popen([gunicorn, "-w", "1", "-b", f"127.0.0.1:{ours_port}", "--timeout", "600",
                                 "app:server"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        theirs = subprocess.Popen([datasette, "serve", str(published), "-h", "127.0.0.1", "-p", str(theirs_port),
                                   "--setting", "sql_time_limit_ms", "600000",
                                   "--setting", "max_returned_rows", "1000", "--setting", "max_csv_mb", "0"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            ours_base, theirs_base = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{theirs_port}"
            wait(ours_base + "/health", ours)
            wait(theirs_base + "/-/versions.json", theirs)
            ours_json = f"{ours_base}/api/v1/observations?page_size=1000&" + "&".join(
                f"{k}={v}" for k, v in JSON_FILTERS.items())
            theirs_json = (f"{theirs_base}/published/observations.json?indicator_id={JSON_FILTERS['indicator']}"
                           f"&profession_id={JSON_FILTERS['profession']}&period={JSON_FILTERS['period']}"
                           f"&territory_level={JSON_FILTERS['level']}&breakdown__isnull=1&_size=1000&_shape=objects")
            import json

            # Datasette as installed, and tuned as its docs allow (no facet suggestions; the count is kept:
            # ours gives the total too)
            theirs_tuned = theirs_json + "&_nosuggest=1&_nofacet=1"
            ours_rows = len(json.loads(urllib.request.urlopen(ours_json).read())["rows"])
            theirs_rows = len(json.loads(urllib.request.urlopen(theirs_tuned).read())["rows"])
            assert ours_rows == theirs_rows, (ours_rows, theirs_rows)
            for _ in range(5):  # warm both
                fetch(ours_json), fetch(theirs_json), fetch(theirs_tuned)
            json_ours, json_theirs, json_tuned = alternate(
                args.runs, lambda: fetch(ours_json), lambda: fetch(theirs_json), lambda: fetch(theirs_tuned))
            ours_csv = f"{ours_base}/api/v1/observations?format=csv"
            theirs_csv = f"{theirs_base}/published/observations.csv?_stream=on&_size=max"
            after_export: dict[str, list[float]] = {"ours": [], "theirs": []}

            def then_json(side: str, export: str, query: str) -> tuple[float, int]:
                """A full CSV export, then the small JSON query on the same server (only the export is returned;
                the query's time goes to `after_export`)."""
                result = fetch(export)
                after_export[side].append(fetch(query)[0])
                return result
            csv_ours, csv_theirs, floor = alternate(
                args.csv_runs, lambda: then_json("ours", ours_csv, ours_json),
                lambda: then_json("theirs", theirs_csv, theirs_tuned),
                lambda: bare_dump(published, Path(tmp) / "dump.csv"))
            json_after = [(statistics.median(after_export[side]), after_export[side], ours_size)
                          for side, ours_size in (("ours", json_ours[2]), ("theirs", json_tuned[2]))]
            xlsx = None
            if not args.no_xlsx:
                small_url = f"{ours_base}/api/v1/observations?format=xlsx&period=2024"
                large_url = f"{ours_base}/api/v1/observations?format=xlsx&" + "&".join(
                    f"period={p}" for p in XLSX_PERIODS)
                with PeakRss(ours.pid) as small_rss:
                    small = fetch(small_url)
                with PeakRss(ours.pid) as large_rss:
                    large = fetch(large_url)
                large_rows = int(urllib.request.urlopen(large_url.replace("format=xlsx", "format=json&page_size=1"))
                                 .headers["X-Total-Count"])
                try:
                    urllib.request.urlopen(f"{ours_base}/api/v1/observations?format=xlsx")
                    refused = "NOT refused"
                except urllib.error.HTTPError as error:
                    refused = f"HTTP {error.code}: {json.loads(error.read())['error']}"
                xlsx = small, small_rss.peak, large, large_rss.peak, large_rows, refused
        finally:
            for process in (ours, theirs):
                process.terminate()
                process.wait(timeout=20)

    def line(name: str, result) -> str:
        median, times, size = result
        spread = f"[{min(times):.3f}–{max(times):.3f}]" if len(times) > 1 else ""
        return f"  {name:<36}{median:>9.3f} s {spread:<17}{size / 1e6:>9.2f} MB"

    print(f"published rows: {rows:,}; loopback; medians [min–max]; machine shared with other jobs")
    def section(title: str, results: list[tuple[str, tuple]], ratios: str) -> None:
        print(title)
        for name, result in results:
            print(line(name, result))
        print(ratios)

    section(f"(a) filtered JSON query ({' × '.join(JSON_FILTERS.values())}: {ours_rows} rows, one page), "
            f"{args.runs} runs each, warm",
            [("ours  /api/v1/observations", json_ours), ("Datasette observations.json", json_theirs),
             ("Datasette, &_nosuggest=1&_nofacet=1", json_tuned)],
            f"  ratio ours/Datasette: {json_ours[0] / json_theirs[0]:.2f}×; ours/Datasette tuned: "
            f"{json_ours[0] / json_tuned[0]:.2f}× (target ≤ 1.0×)")
    section(f"(a') the same query right after each full CSV export of (b), {args.csv_runs} runs each",
            [("ours  /api/v1/observations", json_after[0]), ("Datasette, &_nosuggest=1&_nofacet=1", json_after[1])],
            f"  ratio ours/Datasette tuned after an export: {json_after[0][0] / json_after[1][0]:.2f}× "
            "(target ≤ 1.0×)")
    section(f"(b) full CSV export ({rows:,} rows), {args.csv_runs} runs each; lines received: ours "
            f"{LINES[ours_csv]:,}, Datasette {LINES[theirs_csv]:,} (header included)",
            [("ours  ?format=csv (streamed)", csv_ours), ("Datasette .csv?_stream=on", csv_theirs),
             ("floor: sqlite3 + csv.writer of it", floor)],
            f"  ratio ours/Datasette: {csv_ours[0] / csv_theirs[0]:.2f}× (target ≤ 0.5×); "
            f"ours/floor: {csv_ours[0] / floor[0]:.2f}× (target toward 2×)")
    if xlsx:
        small, small_peak, large, large_peak, large_rows, refused = xlsx
        print("(c) XLSX, one run each (gunicorn worker + master, peak RSS sampled every 20 ms)")
        print(f"  period=2024 ({small[1] / 1e6:.2f} MB): {small[0]:.2f} s, peak RSS {small_peak / 1e6:.0f} MB")
        print(f"  period={'+'.join(map(str, XLSX_PERIODS))} ({large_rows:,} rows, {large[1] / 1e6:.1f} MB): "
              f"{large[0]:.1f} s (target ≤ 60 s), peak RSS {large_peak / 1e6:.0f} MB")
        print(f"  whole store as XLSX: {refused[:160]}…")


if __name__ == "__main__":
    main()
