"""Load bench: `gunicorn -w 3 app:server` under a bounded loopback load while a new BMO vintage is loaded.

    .venv/bin/python bench/load.py [--threads 30] [--seconds 40] [--workers 3] [--store PATH]

Serves a copy of a built store (`--store`, default: one built by `python -m etl build` in a temporary folder)
with gunicorn on a free 127.0.0.1 port; `--threads` client threads then send, for `--seconds`, a fixed mix of
requests, each on a new connection: pages (`/`, `/recrutement?…`), a Dash callback
(`POST /_dash-update-component`, the recruitment chart), the API as JSON (filtered) and as CSV (a filtered
extract), and `/health`. Midway, `python -m etl load` loads a 2025 BMO vintage (made from the 2023 workbook as
tests/test_series.py makes it). Prints requests/s, p50/p95 per kind, the errors (anything but HTTP 200; must
be 0), the load's time, and how long after it every worker served the new vintage (by /health's store
version and the 2025 rows in the API). Stops what it started (gunicorn's master, the loader), by PID.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/: its etl.py would hide the etl package (a namespace package)
from bench import dashboard  # noqa: E402 (after the path fix above)
from bench.dashboard import Callbacks, free_port, percentile  # noqa: E402

YEAR = 2025
PAGES = [
    ("page /", "/"),
    ("page /recrutement", "/recrutement?indicateur=recruitment_projects&profession=educateur_specialise"
                          "&territoire=REG-84"),
    ("page /ressources-humaines", "/ressources-humaines?indicateur=turnover_rate&territoire=DEP-69"),
]
API = [
    ("api json", "/api/v1/observations?indicator=turnover_rate&territory=FR&territory=REG-84&territory=DEP-69"
                 "&page_size=1000"),
    ("api json", "/api/v1/observations?indicator=recruitment_projects&profession=educateur_specialise"
                 "&level=departement&page_size=500"),
    ("api csv", "/api/v1/observations?indicator=recruitment_projects&territory=REG-84&format=csv"),
    ("health", "/health"),
]
WEIGHTS = {"page": 3, "callback": 3, "api json": 4, "api csv": 2, "health": 2}  # per path (callback: per page)
CALLBACK_VALUES = [{"rec-indicator": i, "rec-profession": p, "rec-territory": t}
                   for i in ("recruitment_projects", "recruitment_difficulty_share")
                   for p in ("educateur_specialise", "aide_a_domicile", "travail_social")
                   for t in ("FR", "REG-84", "DEP-69", "REG-11")]


def request(port: int, method: str, path: str, body: bytes | None = None,
            timeout: float = 60) -> tuple[int, dict, bytes]:
    """One request on a new connection (gunicorn hands it to any worker)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Connection": "close"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def callback_payload(callbacks: Callbacks, values: dict) -> bytes:
    spec = callbacks.find("rec-trend")
    inputs = [{"id": i["id"], "property": i["property"], "value": values.get(i["id"])} for i in spec["inputs"]]
    state = [{"id": s["id"], "property": s["property"], "value": values.get(s["id"])} for s in spec["state"]]
    return json.dumps({"output": spec["output"], "outputs": dashboard.outputs_of(spec["output"]), "inputs": inputs,
                       "state": state, "changedPropIds": ["rec-territory.value"]}).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--store", type=Path, help="a built store to copy (default: build one)")
    args = parser.parse_args()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    if not gunicorn:
        sys.exit("gunicorn is missing: .venv/bin/pip install -r requirements.txt")
    from tests.conftest import BMO_2023
    from tests.test_series import later_vintage

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "observatory.sqlite"
        env = {**os.environ, "OBSERVATORY_DB": f"sqlite:///{store}"}
        if args.store:
            with sqlite3.connect(args.store) as source, sqlite3.connect(store) as target:
                source.backup(target)
        else:
            subprocess.run([sys.executable, "-m", "etl", "build"], cwd=ROOT, env=env, check=True, capture_output=True)
        fixture = later_vintage(BMO_2023, Path(tmp) / f"Base_open_data_BMO_{YEAR}.xlsx", YEAR)
        port = free_port()
        log = (Path(tmp) / "gunicorn.log").open("wb")
        server = subprocess.Popen([gunicorn, "-w", str(args.workers), "-b", f"127.0.0.1:{port}", "--timeout", "120",
                                   "app:server"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        loader: subprocess.Popen | None = None
        try:
            workers: dict[str, int] = {}
            deadline = time.time() + 120
            while len(workers) < args.workers and time.time() < deadline:
                try:
                    status, headers, body = request(port, "GET", "/health", timeout=5)
                    if status == 200:
                        workers[headers["X-Observatory-Worker"]] = json.loads(body)["store_version"]
                except OSError:
                    time.sleep(0.3)
            if len(workers) < args.workers:
                raise RuntimeError((Path(tmp) / "gunicorn.log").read_text()[-2000:])
            version_before = max(workers.values())
            callbacks = Callbacks(f"http://127.0.0.1:{port}")
            payloads = [callback_payload(callbacks, v) for v in CALLBACK_VALUES]
            mix = ([("page", name, path) for name, path in PAGES for _ in range(WEIGHTS["page"])]
                   + [("callback", "callback rec-trend", None)] * WEIGHTS["callback"] * len(PAGES)
                   + [(kind, kind, path) for kind, path in API for _ in range(WEIGHTS[kind])])
            results: list[tuple[str, object, float, float]] = []  # kind, status, seconds, time
            stop = threading.Event()

            def client(seed: int) -> None:
                rng = random.Random(seed)
                while not stop.is_set():
                    kind, name, path = rng.choice(mix)
                    started = time.perf_counter()
                    try:
                        if kind == "callback":
                            status = request(port, "POST", "/_dash-update-component", rng.choice(payloads))[0]
                        else:
                            status = request(port, "GET", path)[0]
                    except OSError as error:
                        status = f"{type(error).__name__}: {error}"
                    results.append((name, status, time.perf_counter() - started, time.time()))

            threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.threads)]
            began = time.time()
            for thread in threads:
                thread.start()
            time.sleep(args.seconds / 2)
            load_started = time.time()
            loader = subprocess.Popen([sys.executable, "-m", "etl", "load", str(fixture)], cwd=ROOT, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            out, err = loader.communicate(timeout=600)
            load_ended = time.time()
            if loader.returncode != 0:
                raise RuntimeError(f"etl load failed: {err[-2000:]}")
            probe = f"/api/v1/observations?indicator=recruitment_projects&territory=FR&period={YEAR}&page_size=1"
            serving_new: dict[str, float] = {}
            while len(serving_new) < args.workers and time.time() - load_ended < 30:
                status, headers, body = request(port, "GET", probe)
                if status == 200 and json.loads(body)["total"] > 0:
                    serving_new.setdefault(headers["X-Observatory-Worker"], time.time() - load_ended)
                time.sleep(0.02)
            remaining = began + args.seconds - time.time()
            if remaining > 0:
                time.sleep(remaining)
            stop.set()
            for thread in threads:
                thread.join(timeout=120)
            ended = time.time()
            version_after = json.loads(request(port, "GET", "/health")[2])["store_version"]
        finally:
            if loader is not None and loader.poll() is None:
                loader.terminate()
                loader.wait(timeout=30)
            server.terminate()  # the master stops its workers
            server.wait(timeout=60)
            log.close()

    elapsed = ended - began
    errors = [r for r in results if r[1] != 200]
    during = [r for r in results if load_started <= r[3] <= load_ended]
    print(f"gunicorn -w {args.workers}, {args.threads} client threads, {elapsed:.0f} s on loopback "
          "(machine shared with other jobs); every request on a new connection")
    print(f"{'kind':<28}{'n':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'errors':>8}")
    kinds = sorted({r[0] for r in results})
    for kind in kinds + ["all"]:
        part = [r for r in results if kind in ("all", r[0])]
        ms = [1000 * r[2] for r in part]
        print(f"{kind:<28}{len(part):>7}{len(part) / elapsed:>8.1f}{statistics.median(ms):>9.1f}"
              f"{percentile(ms, 0.95):>9.1f}{max(ms):>9.1f}{sum(1 for r in part if r[1] != 200):>8}")
    during_ms = [1000 * r[2] for r in during]
    print(f"etl load of BMO {YEAR} (midway): {load_ended - load_started:.1f} s, store version {version_before} → "
          f"{version_after}; {len(during)} requests answered during it (p95 "
          f"{percentile(during_ms, 0.95) if during_ms else float('nan'):.1f} ms, "
          f"{sum(1 for r in during if r[1] != 200)} errors)")
    print(f"every worker served {YEAR} within {max(serving_new.values()) if serving_new else float('nan'):.2f} s of "
          f"the load's end ({len(serving_new)}/{args.workers} workers seen)")
    print(f"errors: {len(errors)}" + (f" — first: {errors[:5]}" if errors else ""))
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
