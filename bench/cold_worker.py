"""Benchmark: the filtered JSON query (408 rows) as the first request of a fresh gunicorn worker, then warm.

    .venv/bin/python bench/cold_worker.py [RUNS] [--store PATH]

Each run starts `gunicorn -w 1 app:server` on the store (default: data/observatory.sqlite), waits for `/health`,
times the query once (the worker's first user request, after its start-up warm-up) and then 7 more times.
Prints, per run, the time to ready, the first query and the warm median.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_vs_datasette import JSON_FILTERS, ROOT, fetch, free_port  # noqa: E402 (the same query as there)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", type=int, nargs="?", default=3)
    parser.add_argument("--store", type=Path, default=ROOT / "data/observatory.sqlite")
    args = parser.parse_args()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    env = {**os.environ, "OBSERVATORY_DB": f"sqlite:///{args.store.resolve()}"}
    for _ in range(args.runs):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        query = f"{base}/api/v1/observations?page_size=1000&" + "&".join(f"{k}={v}" for k, v in JSON_FILTERS.items())
        server = subprocess.Popen([gunicorn, "-w", "1", "-b", f"127.0.0.1:{port}", "app:server"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            started = time.perf_counter()
            while True:
                try:
                    urllib.request.urlopen(base + "/health", timeout=5).read()
                    break
                except OSError:
                    if server.poll() is not None or time.perf_counter() - started > 120:
                        raise SystemExit("the worker never answered /health") from None
                    time.sleep(0.1)
            ready = time.perf_counter() - started
            first = fetch(query)[0]
            warm = statistics.median(fetch(query)[0] for _ in range(7))
            print(f"worker ready in {ready:.1f} s; first query {1000 * first:.0f} ms, then {1000 * warm:.0f} ms")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
