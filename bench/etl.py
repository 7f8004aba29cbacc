"""Benchmark: the BMO 2023 workbook loaded end to end, against a plain pandas + openpyxl read of it.

Each measurement runs in a fresh Python process (so peak RSS is that process's own), the load into a
copy of a store that already holds the reference tables (the normal case: `build` loads them once).
Prints the median of RUNS runs for each, and the ratio load / plain read.

    .venv/bin/python bench/etl.py [RUNS]
"""
from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BMO = ROOT / "data/real/francetravail/Base_open_data_BMO_2023.xlsx"

LOAD = """
import json, resource, sys, time
from etl.loader import load_file
from observatory.store import get_engine
engine = get_engine(sys.argv[1])
t = time.perf_counter()
s = load_file(engine, sys.argv[2])
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "rows": s.rows_read, "observations": s.published + s.derived,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
READ = """
import json, resource, sys, time
import pandas as pd
t = time.perf_counter()
frame = pd.read_excel(sys.argv[1], sheet_name="BMO_2023_open_data", engine="openpyxl")
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "rows": len(frame),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(runs: int = 5) -> None:
    sys.path[0] = str(ROOT)  # this file is bench/etl.py: keep it from shadowing the etl package
    from etl.loader import ensure_reference
    from observatory.store import get_engine, init_store

    with tempfile.TemporaryDirectory() as tmp:
        reference = Path(tmp) / "reference.sqlite"
        engine = get_engine(f"sqlite:///{reference}")
        init_store(engine)
        with engine.begin() as conn:
            ensure_reference(conn)
        engine.dispose()
        loads, reads = [], []
        for i in range(runs):  # interleaved, so that machine noise hits both alike
            store = Path(tmp) / f"store{i}.sqlite"
            shutil.copy(reference, store)
            loads.append(run(LOAD, f"sqlite:///{store}", str(BMO)))
            reads.append(run(READ, str(BMO)))
    load_s = statistics.median(r["seconds"] for r in loads)
    read_s = statistics.median(r["seconds"] for r in reads)
    rows, observations = loads[0]["rows"], loads[0]["observations"]
    print(f"BMO 2023 workbook: {BMO.stat().st_size / 1e6:.1f} MB, {rows:,} rows, {observations:,} observations written")
    print(f"runs: {runs} (median; each in a fresh process)")
    print(f"full load (read, validate, aggregate, write, commit): {load_s:.3f} s "
          f"[{min(r['seconds'] for r in loads):.3f}–{max(r['seconds'] for r in loads):.3f}]")
    print(f"  throughput: {rows / load_s:,.0f} source rows/s, {observations / load_s:,.0f} observations/s")
    print(f"  peak RSS of the loading process: {statistics.median(r['peak_mb'] for r in loads):.0f} MB")
    print(f"plain pandas.read_excel(engine='openpyxl'): {read_s:.3f} s "
          f"[{min(r['seconds'] for r in reads):.3f}–{max(r['seconds'] for r in reads):.3f}], "
          f"peak RSS {statistics.median(r['peak_mb'] for r in reads):.0f} MB")
    print(f"ratio full load / plain openpyxl read: {load_s / read_s:.2f}× (target ≤ 0.50×)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
