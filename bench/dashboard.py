"""Benchmark: a scripted sequence of filter changes against the running dashboard.

Starts `app.py` on a free loopback port (on the bundled store, built if missing), then replays, as the
browser would, the callback requests that filter changes trigger (POST /_dash-update-component, with the
outputs and inputs Dash declares in /_dash-dependencies). Prints, per callback, the p50/p95 of the
server time (request round trip on loopback) and the response sizes; for the map, the payload of a
filter change (values only) apart from that of a level change (which sends the geometry).

    .venv/bin/python bench/dashboard.py [ROUNDS]
"""
from __future__ import annotations

import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def post(url: str, payload: dict) -> tuple[float, int, int]:
    body = json.dumps(payload).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        data = response.read()
        status = response.status
    return time.perf_counter() - started, len(data), status


def outputs_of(spec: str) -> list[dict]:
    parts = spec.strip(".").split("...") if spec.startswith("..") else [spec]
    out = []
    for part in parts:
        ident, prop = part.rsplit(".", 1)
        out.append({"id": ident, "property": prop})
    return out


class Callbacks:
    def __init__(self, base: str) -> None:
        self.base = base
        self.specs = json.loads(get(base + "/_dash-dependencies"))

    def find(self, output_id: str) -> dict:
        return next(s for s in self.specs if any(o["id"] == output_id for o in outputs_of(s["output"])))

    def call(self, output_id: str, values: dict, changed: str) -> tuple[float, int, int]:
        spec = self.find(output_id)
        inputs = [{"id": i["id"], "property": i["property"], "value": values.get(i["id"])} for i in spec["inputs"]]
        state = [{"id": s["id"], "property": s["property"], "value": values.get(s["id"])} for s in spec["state"]]
        payload = {"output": spec["output"], "outputs": outputs_of(spec["output"]), "inputs": inputs,
                   "changedPropIds": [f"{changed}.value"], "state": state}
        return post(self.base + "/_dash-update-component", payload)


def scenario():
    """(callback name, output id that names it, input values, changed input)."""
    for indicator, profession, territory in itertools.product(
            ("recruitment_difficulty_share", "recruitment_projects", "recruitment_projects_difficult"),
            ("travail_social", "educateur_specialise", "aide_a_domicile", "ensemble"), ("FR", "REG-84", "DEP-69")):
        yield "recrutement", "rec-trend", {"rec-indicator": indicator, "rec-profession": profession,
                                           "rec-territory": territory}, "rec-territory"
    for indicator, territory, breakdown in itertools.product(
            ("turnover_rate", "vacancy_rate", "absenteeism_rate"), ("FR", "REG-11", "DEP-33", "REG-03"),
            ("", "esms:500", "esms:246")):
        yield "ressources-humaines", "rh-trend", {"rh-indicator": indicator, "rh-territory": territory,
                                                   "rh-breakdown": breakdown}, "rh-breakdown"
    for indicator, territory in itertools.product(("students_enrolled", "graduates", "training_interruption_rate"),
                                                  ("FR", "REG-11", "REG-53", "REG-04")):
        yield "formation", "form-trend", {"form-indicator": indicator, "form-territory": territory,
                                          "form-profession": "travail_social"}, "form-territory"
    for indicator, profession in itertools.product(
            ("recruitment_difficulty_share", "recruitment_projects", "turnover_rate", "vacancy_rate",
             "students_enrolled"),
            ("travail_social", "aide_a_domicile", "ensemble")):
        yield "territoires (valeurs)", "ter-map", {"ter-indicator": indicator, "ter-profession": profession,
                                                   "ter-level": "departement"}, "ter-indicator"
    for level in ("region", "departement"):
        yield "territoires (niveau)", "ter-map", {"ter-indicator": "turnover_rate", "ter-level": level}, "ter-level"
    for territory in ("FR", "REG-11", "REG-84", "REG-76"):
        yield "filieres", "fil-heatmap", {"fil-territory": territory}, "fil-territory"
    for indicator, level in itertools.product(("recruitment_projects", "turnover_rate", "students_enrolled"),
                                              ("region", "departement")):
        yield "donnees", "data-table", {"data-indicator": indicator, "data-level": level,
                                        "data-profession": "travail_social"}, "data-level"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(rounds: int = 2) -> None:
    sys.path[0] = str(ROOT)  # this file is bench/…: keep the project importable
    port = free_port()
    env = {**os.environ}
    server = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if server.poll() is not None:
                raise RuntimeError(f"the app exited with code {server.returncode} before serving")
            try:
                get(base + "/")
                break
            except OSError:
                time.sleep(0.2)
        callbacks = Callbacks(base)
        timings: dict[str, list[float]] = {}
        sizes: dict[str, list[int]] = {}
        for round_number in range(rounds):
            for name, output_id, values, changed in scenario():
                seconds, size, status = callbacks.call(output_id, values, changed)
                if status != 200:
                    raise RuntimeError(f"{name}: HTTP {status}")
                label = name if rounds == 1 else f"{name} [{'froid' if round_number == 0 else 'cache'}]"
                timings.setdefault(label, []).append(seconds * 1000)
                sizes.setdefault(label, []).append(size)
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"{'callback':<38}{'n':>4}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'p50 KB':>9}{'max KB':>9}")
    for label, values in timings.items():
        print(f"{label:<38}{len(values):>4}{statistics.median(values):>9.1f}{percentile(values, 0.95):>9.1f}"
              f"{max(values):>9.1f}{statistics.median(sizes[label]) / 1024:>9.1f}{max(sizes[label]) / 1024:>9.1f}")
    every = [v for values in timings.values() for v in values]
    print(f"all callbacks: n={len(every)} p50 {statistics.median(every):.1f} ms, p95 {percentile(every, 0.95):.1f} ms "
          "(target p95 < 150 ms)")
    map_values = [s for label, values in sizes.items() if label.startswith("territoires (valeurs)") for s in values]
    print(f"map update payload (filter change, values only): max {max(map_values) / 1024:.1f} KB (target < 300 KB)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
