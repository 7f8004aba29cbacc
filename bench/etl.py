"""Benchmark: `python -m etl load` of the BMO 2023 workbook into a full store, against a plain
`pandas.read_excel(engine="openpyxl")` of its data sheet, both timed as whole processes.

Each run is a fresh `python` process timed on the wall clock from launch to exit (interpreter start-up,
imports, the work, the commit and closing the store all count); its peak RSS and CPU time (user + system, all
threads) come from `wait4`. On a machine shared with other work the wall clock stretches with the contention;
the CPU time does not (but it also counts the read-ahead thread's work, which on an idle machine runs beside
the imports), so both ratios are printed. The
load goes into a copy of a **full store** (every bundled file, built once by `python -m etl build`), so
it replaces the 2023 rows already there, as a reload does. Loads and reads alternate, so that machine
noise hits both alike. Prints the median and range of RUNS runs of each, and the ratio load / read.

    .venv/bin/python bench/etl.py [RUNS] [--build]

`--build` also times RUNS runs of `python -m etl build` into a fresh store (wall clock, peak RSS). The
full store is built once in any case, and that first build is reported too.
"""
from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BMO = ROOT / "data/real/francetravail/Base_open_data_BMO_2023.xlsx"
SHEET = "BMO_2023_open_data"
READ = f"import pandas, sys; pandas.read_excel(sys.argv[1], sheet_name={SHEET!r}, engine='openpyxl')"


def timed(argv: list[str], env: dict[str, str] | None = None) -> dict:
    """Run one process to its end: wall-clock seconds, CPU seconds, peak RSS (MB) and its standard output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out, stderr=err,
                                 stdin=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if child.returncode:
        raise SystemExit(f"{' '.join(argv)} failed ({child.returncode}):\n{stdout}\n{stderr[-3000:]}")
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
            "stdout": stdout}


def store_env(path: Path) -> dict[str, str]:
    return {"OBSERVATORY_DB": f"sqlite:///{path}"}


def build(store: Path) -> dict:
    for stale in store.parent.glob(store.name + "*"):
        stale.unlink()
    return timed([sys.executable, "-m", "etl", "build"], store_env(store))


def copy_store(full: Path, store: Path) -> None:
    for stale in store.parent.glob(store.name + "*"):
        stale.unlink()
    shutil.copyfile(full, store)
    wal = full.with_name(full.name + "-wal")  # none when `build` closed the store cleanly (checkpointed)
    if wal.exists():
        shutil.copyfile(wal, store.with_name(store.name + "-wal"))


def describe(label: str, runs: list[dict]) -> str:
    seconds = [r["seconds"] for r in runs]
    return (f"{label}: median {statistics.median(seconds):.3f} s [{min(seconds):.3f}–{max(seconds):.3f}], "
            f"CPU {statistics.median(r['cpu'] for r in runs):.2f} s, "
            f"peak RSS {statistics.median(r['peak_mb'] for r in runs):.0f} MB")


def main(runs: int = 5, with_build: bool = False) -> None:
    # as ./run.sh and ./test.sh leave it: our modules compiled (this machine sets PYTHONDONTWRITEBYTECODE)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "app.py", "observatory", "etl", "pages"], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    load_cmd = [sys.executable, "-m", "etl", "load", str(BMO), "--source", "bmo"]
    read_cmd = [sys.executable, "-c", READ, str(BMO)]
    with tempfile.TemporaryDirectory(prefix="bench-etl-") as tmp:
        full, store = Path(tmp) / "full.sqlite", Path(tmp) / "store.sqlite"
        first_build = build(full)
        loads, reads = [], []
        for i in range(runs):  # interleaved, alternating which goes first
            for step in ((0, 1) if i % 2 == 0 else (1, 0)):
                if step == 0:
                    copy_store(full, store)
                    loads.append(timed(load_cmd, store_env(store)))
                else:
                    reads.append(timed(read_cmd))
        builds = [build(Path(tmp) / "fresh.sqlite") for _ in range(runs)] if with_build else []
    written = re.search(r"observations written ([\d,]+)", loads[0]["stdout"])
    rows = re.search(r"rows read ([\d,]+)", loads[0]["stdout"])
    load_s = statistics.median(r["seconds"] for r in loads)
    read_s = statistics.median(r["seconds"] for r in reads)
    print(f"BMO 2023 workbook: {BMO.stat().st_size / 1e6:.1f} MB, {rows and rows[1]} rows read, "
          f"{written and written[1]} observations written")
    print(f"runs: {runs} of each, whole processes, wall clock (median [min–max])")
    print(describe("plain read   python -c 'pandas.read_excel(…, engine=\"openpyxl\")'", reads))
    print(describe("full load    python -m etl load … --source bmo (into a full store)", loads))
    print(f"ratio load / read: {load_s / read_s:.2f}× (target ≤ 0.45×); per run: "
          + ", ".join(f"{a['seconds'] / b['seconds']:.2f}" for a, b in zip(loads, reads)))
    cpu = statistics.median(r["cpu"] for r in loads) / statistics.median(r["cpu"] for r in reads)
    print(f"CPU-time ratio load / read: {cpu:.2f}×; load average now {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs (contention stretches the wall clock)")
    print(describe("build (the full store, once) python -m etl build", [first_build]))
    if builds:
        print(describe(f"build ({runs} runs) python -m etl build", builds))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--build"]
    main(int(args[0]) if args else 5, with_build="--build" in sys.argv[1:])
