"""Scale bench: the same measures on the bundled store and on one with ~30× the establishment data.

    .venv/bin/python bench/scale.py [--establishments 30000] [--rounds 2] [--store-dir DIR]

Generates the illustrative TDBMS files for N establishments (`python -m etl illustrative --establishments N
--output TMP`, same layouts), builds two stores in a temporary folder with `python -m etl build` (the bundled
one, and one whose illustrative files are the generated ones), then, for each store:
- load: rows read per second of the TDBMS loads (the files that grow), from the build's own summary, and the
  whole build's time and peak RSS;
- API: p50/p95 of filtered JSON queries (`/api/v1/observations`, the TDBMS indicators by territory and
  category, and a BMO one) on a running app;
- dashboard: p50/p95 of the callback requests of `bench/dashboard.py`'s scenario (filter changes on every
  page, peer bands included), plus « Mon établissement »'s comparison of the bundled example file (the first
  call, which reads the peers' figures, and the median of the next three);
- memory: the app's peak RSS (`python app.py`, one process: VmHWM from /proc) after all of it.
Prints both columns and the ratio scaled/bundled. Everything it starts it stops by PID.
"""
from __future__ import annotations

import argparse
import base64
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/: its etl.py would hide the etl package (a namespace package)
from bench.dashboard import Callbacks, free_port, get, outputs_of, percentile, post, scenario  # noqa: E402

BUILD = ("import sys; from pathlib import Path; import etl.build as b; "
         "b.ILLUSTRATIVE_DIR = Path(sys.argv[1]) if sys.argv[1] else b.ILLUSTRATIVE_DIR; "
         "from etl.__main__ import main, _exit; _exit(main(['build']))")
API_QUERIES = [
    *(f"indicator={i}&territory={t}&page_size=1000" for i in ("turnover_rate", "vacancy_rate", "absenteeism_rate")
      for t in ("FR", "REG-11", "DEP-69", "DEP-2A")),
    *(f"indicator={i}&level=departement&breakdown=esms:500&page_size=1000" for i in ("turnover_rate", "entry_rate")),
    "indicator=turnover_rate&level=region&period=2023&page_size=1000",
    "indicator=recruitment_projects&territory=REG-84&profession=educateur_specialise&page_size=1000",
]


def build(store: Path, illustrative: Path | None) -> dict:
    """`python -m etl build` into `store` (illustrative files from `illustrative`): time, peak RSS, TDBMS loads."""
    env = {**os.environ, "OBSERVATORY_DB": f"sqlite:///{store}"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", BUILD, str(illustrative or "")], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    rows = loaded = observations = 0
    load_seconds = 0.0
    for match in re.finditer(r"→ adapter tdbms.*\n\s+rows read ([\d,]+).*\n\s+observations written ([\d,]+).*\n"
                             r"\s+done in ([\d.]+) s", done.stdout):
        rows += int(match.group(1).replace(",", ""))
        observations += int(match.group(2).replace(",", ""))
        load_seconds += float(match.group(3))
        loaded += 1
    counts = dict(re.findall(r"^\s+(\w+)\s+([\d,]+)$", done.stdout.split("row counts:")[-1], re.M))
    return {"build_s": seconds, "build_rss_mb": peak / 1024 if peak > before else None, "tdbms_files": loaded,
            "tdbms_rows": rows, "tdbms_observations": observations, "tdbms_load_s": load_seconds,
            "establishments": int(counts.get("establishment", "0").replace(",", "")),
            "establishment_observations": int(counts.get("establishment_observation", "0").replace(",", "")),
            "observations": int(counts.get("observation", "0").replace(",", ""))}


def own_figures_call(base: str) -> float:
    """« Mon établissement »: upload the bundled example (3 establishments) and compare them with their peers."""
    callbacks = Callbacks(base)
    spec = next(s for s in callbacks.specs if "own-" in s["output"] and any(
        i["id"] == "own-upload" for i in s["inputs"]))
    content = base64.b64encode((ROOT / "data/templates/exemple_mon_etablissement.xlsx").read_bytes()).decode()
    values = {("own-upload", "contents"): "data:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;"
              "base64," + content, ("own-upload", "filename"): "exemple_mon_etablissement.xlsx",
              ("own-level", "value"): "departement"}
    inputs = [{"id": i["id"], "property": i["property"], "value": values.get((i["id"], i["property"]))}
              for i in spec["inputs"]]
    state = [{"id": s["id"], "property": s["property"], "value": values.get((s["id"], s["property"]))}
             for s in spec["state"]]
    payload = {"output": spec["output"], "outputs": outputs_of(spec["output"]), "inputs": inputs, "state": state,
               "changedPropIds": ["own-upload.contents"]}
    seconds, _size, status = post(base + "/_dash-update-component", payload)
    if status != 200:
        raise RuntimeError(f"own figures: HTTP {status}")
    return seconds


def serve_and_measure(store: Path, rounds: int) -> dict:
    port = free_port()
    env = {**os.environ, "OBSERVATORY_DB": f"sqlite:///{store}"}
    app = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if app.poll() is not None:
                raise RuntimeError(f"the app exited with code {app.returncode}")
            try:
                get(base + "/health")
                break
            except OSError:
                time.sleep(0.2)
        api_times, callback_times = [], []
        for _ in range(rounds):
            for query in API_QUERIES:
                started = time.perf_counter()
                with urllib.request.urlopen(f"{base}/api/v1/observations?{query}", timeout=120) as response:
                    response.read()
                api_times.append(1000 * (time.perf_counter() - started))
            callbacks = Callbacks(base)
            for _name, output_id, values, changed in scenario():
                seconds, _size, status = callbacks.call(output_id, values, changed)
                if status != 200:
                    raise RuntimeError(f"{output_id}: HTTP {status}")
                callback_times.append(1000 * seconds)
        own = [1000 * own_figures_call(base) for _ in range(4)]  # the first reads the peers' figures
        status = Path(f"/proc/{app.pid}/status").read_text()
        peak = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
    finally:
        app.terminate()
        app.wait(timeout=20)
    return {"api_p50": statistics.median(api_times), "api_p95": percentile(api_times, 0.95),
            "callback_p50": statistics.median(callback_times), "callback_p95": percentile(callback_times, 0.95),
            "own_cold_ms": own[0], "own_warm_ms": statistics.median(own[1:]), "app_peak_rss_mb": peak,
            "api_n": len(api_times), "callback_n": len(callback_times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--establishments", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of API queries and callbacks per store")
    parser.add_argument("--store-dir", type=Path, help="keep the stores and files there (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.store_dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        generated = folder / f"illustrative_{args.establishments}"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "etl", "illustrative", "--establishments", str(args.establishments),
                        "--output", str(generated)], cwd=ROOT, check=True, capture_output=True)
        generate_s = time.perf_counter() - started
        results = {}
        for name, illustrative in (("bundled", None), ("scaled", generated)):
            store = folder / f"{name}.sqlite"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{store}{suffix}").unlink(missing_ok=True)
            results[name] = build(store, illustrative) | serve_and_measure(store, args.rounds)
    bundled, scaled = results["bundled"], results["scaled"]
    print(f"generated {args.establishments:,} establishments × 7 TDBMS years in {generate_s:.1f} s; "
          "loopback; machine shared with other jobs")
    rows = [
        ("establishments", "establishments", "{:,.0f}"),
        ("establishment figures", "establishment_observations", "{:,.0f}"),
        ("observations (whole store)", "observations", "{:,.0f}"),
        ("TDBMS rows read (7 files)", "tdbms_rows", "{:,.0f}"),
        ("TDBMS load time (s, 7 files)", "tdbms_load_s", "{:.2f}"),
        ("TDBMS load rows/s", None, "{:,.0f}"),
        ("whole build (s)", "build_s", "{:.1f}"),
        (f"API JSON p50 (ms, n={bundled['api_n']})", "api_p50", "{:.1f}"),
        ("API JSON p95 (ms)", "api_p95", "{:.1f}"),
        (f"callbacks p50 (ms, n={bundled['callback_n']})", "callback_p50", "{:.1f}"),
        ("callbacks p95 (ms)", "callback_p95", "{:.1f}"),
        ("own figures vs peers, 1st (ms)", "own_cold_ms", "{:.0f}"),
        ("own figures vs peers, next (ms)", "own_warm_ms", "{:.0f}"),
        ("app peak RSS (MB)", "app_peak_rss_mb", "{:.0f}"),
    ]
    for result in (bundled, scaled):
        result["rate"] = result["tdbms_rows"] / result["tdbms_load_s"]
    print(f"{'':<34}{'bundled':>14}{'scaled':>14}{'ratio':>9}")
    for label, key, fmt in rows:
        key = key or "rate"
        a, b = bundled[key], scaled[key]
        print(f"{label:<34}{fmt.format(a):>14}{fmt.format(b):>14}{(b / a if a else float('nan')):>8.2f}×")


if __name__ == "__main__":
    main()
