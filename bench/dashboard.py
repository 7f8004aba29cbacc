"""Benchmark: every page, every callback and every asset of the running dashboard, timed and weighed.

Starts `app.py` on a free loopback port (on the bundled store, built if missing), then does what browsers do:
for every page of the navigation, GETs the page and asks Dash's router for its layout; then, for every server
callback whose inputs are on that page, replays the request a change of each of its inputs sends (POST
/_dash-update-component, outputs and inputs as /_dash-dependencies declares them), with realistic values: the
page's initial values, and each dropdown, slider or number moved in turn to values spread over its options or
range. Every script, style sheet and map geometry the pages load is fetched once.

Prints one line per page layout, callback and asset: n, p50/p95/max of the time (round trip on loopback),
p50/p95 of the server's CPU time for the request (its `Server-Timing` header, which `serve` turns on: on a
shared, loaded machine the wall-clock time mostly measures the other jobs) and the largest response; flags
`!` a wall-clock p95 over 150 ms or a response over 300 KB (issue 19), `c` a CPU p95 over 150 ms. The first
round meets cold caches (`froid`; the app warms the default views at start), the next ones warm caches
(`cache`); the second table pools every round.

    .venv/bin/python bench/dashboard.py [ROUNDS]

Callbacks that write the store (saving or deleting one's own figures) are not replayed: the bench only reads.
"""
from __future__ import annotations

import itertools
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_MS, MAX_KB = 150, 300  # issue 19: every callback's p95 under 150 ms, no response over 300 KB
SPREAD = 6  # values tried per dropdown, slider or number input (spread over its options or range)
ROUTER = "_pages_content"  # Dash pages' router: its output is the page's layout
WRITERS = ("own-saved", "own-removed", "own-confirm")  # outputs of callbacks that write the store (not replayed)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, payload: dict | None = None) -> tuple[float, bytes, int, float | None]:
    """(seconds, body, status, server CPU ms) of a GET, or of a JSON POST when `payload` is given. The CPU time
    is the app's `Server-Timing` (set by `serve`): what the request cost the server, however loaded the machine."""
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        body = response.read()
        seconds = time.perf_counter() - started
        cpu = re.search(r"cpu;dur=([\d.]+)", response.headers.get("Server-Timing") or "")
        return seconds, body, response.status, float(cpu.group(1)) if cpu else None


def get(url: str) -> bytes:
    return fetch(url)[1]


def post(url: str, payload: dict) -> tuple[float, int, int]:
    """(seconds, size, status) of a JSON POST."""
    seconds, body, status, _cpu = fetch(url, payload)
    return seconds, len(body), status


@contextmanager
def serve(env: dict | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """`app.py` on a free loopback port (its environment: `env`, else this process's), until the block ends;
    yields its base URL and its process once /health answers."""
    port = free_port()
    env = {**(env or os.environ), "OBSERVATORY_SERVER_TIMING": "1"}
    server = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if server.poll() is not None:
                raise RuntimeError(f"the app exited with code {server.returncode} before serving")
            try:
                get(base + "/health")
                break
            except OSError:
                time.sleep(0.2)
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=10)


def outputs_of(spec: str) -> list[dict]:
    parts = spec[2:-2].split("...") if spec.startswith("..") else [spec]
    return [dict(zip(("id", "property"), part.rsplit(".", 1))) for part in parts]


def components(node, found: dict | None = None) -> dict[str, dict]:
    """id → {"type", "props"} of every component with an id in a layout's JSON."""
    found = {} if found is None else found
    if isinstance(node, list):
        for item in node:
            components(item, found)
    elif isinstance(node, dict):
        if "props" in node and "type" in node:
            ident = node["props"].get("id")
            if isinstance(ident, str):
                found[ident] = {"type": node["type"], "props": node["props"]}
            for value in node["props"].values():
                components(value, found)
        else:
            for value in node.values():
                components(value, found)
    return found


def spread(values: list, count: int = SPREAD) -> list:
    """`count` values spread over a list, first and last included."""
    if len(values) <= count:
        return list(values)
    return [values[round(i * (len(values) - 1) / (count - 1))] for i in range(count)]


def alternatives(component: dict, prop: str) -> list:
    """Realistic values a user may give an input: a dropdown's options, a slider's or number's range, a
    checklist's boxes."""
    props, kind = component["props"], component["type"]
    if prop != "value":
        return []
    if kind == "Dropdown":
        options = props.get("options") or []
        return spread([o["value"] if isinstance(o, dict) else o for o in options])
    if kind in ("Slider", "Input") and props.get("min") is not None and props.get("max") is not None:
        low, high = props["min"], props["max"]
        return [round(low + (high - low) * i / (SPREAD - 1), 6) for i in range(SPREAD)]
    options = [o["value"] if isinstance(o, dict) else o for o in props.get("options") or []]
    if kind == "RadioItems":
        return options
    if kind == "Checklist":  # « Comparer avec »: each box alone, then all of them, then none
        return [[o] for o in options] + [options, []]
    return []


class Measures:
    """Times (ms) and sizes (bytes) per line of the table, in insertion order. (A plain class: the other benches
    load this file by path, outside `sys.modules`, where a dataclass cannot resolve its annotations.)"""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self.sizes: dict[str, list[int]] = {}
        self.cpu: dict[str, list[float]] = {}

    def add(self, label: str, seconds: float, size: int, cpu: float | None = None) -> None:
        self.times.setdefault(label, []).append(seconds * 1000)
        self.sizes.setdefault(label, []).append(size)
        self.cpu.setdefault(label, []).extend([cpu] if cpu is not None else [])


def payload(spec: dict, values: dict[tuple[str, str], object], changed: list[str]) -> dict:
    """The body of the request a callback's inputs send (values by (id, property)), as the renderer writes it."""
    outputs = outputs_of(spec["output"])
    return {"output": spec["output"], "outputs": outputs if spec["output"].startswith("..") else outputs[0],
            "inputs": [{**i, "value": values.get((i["id"], i["property"]))} for i in spec["inputs"]],
            "state": [{**s, "value": values.get((s["id"], s["property"]))} for s in spec["state"]],
            "changedPropIds": changed}


class Callbacks:
    """The app's callbacks as /_dash-dependencies declares them."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.specs = json.loads(get(base + "/_dash-dependencies"))

    def find(self, output_id: str) -> dict:
        return next(s for s in self.specs if any(o["id"] == output_id for o in outputs_of(s["output"])))

    def request(self, spec: dict, values: dict[tuple[str, str], object], changed: list[str]):
        """(seconds, body, server CPU ms) of the callback's request."""
        seconds, body, status, cpu = fetch(self.base + "/_dash-update-component", payload(spec, values, changed))
        if status not in (200, 204):
            raise RuntimeError(f"{spec['output']}: HTTP {status}")
        return seconds, body, cpu

    def call(self, output_id: str, values: dict, changed: str) -> tuple[float, int, int]:
        """The callback writing `output_id`, with dropdown values by id, `changed` the dropdown moved."""
        seconds, body, _cpu = self.request(self.find(output_id), {(k, "value"): v for k, v in values.items()},
                                           [f"{changed}.value"])
        return seconds, len(body), 200


class Dashboard(Callbacks):
    """The running app, seen as a browser sees it: its shell, its pages, their callbacks."""

    def __init__(self, base: str) -> None:
        super().__init__(base)
        self.shell = components(json.loads(get(base + "/_dash-layout")))

    def pages(self) -> list[str]:
        """Every page the shell links to (navigation, brand, footer)."""
        links = re.findall(r'"href": "(/[^"#?]*)"', json.dumps(json.loads(get(self.base + "/_dash-layout"))))
        return sorted({path for path in links if not path.startswith(("/assets", "/modeles", "/carte"))})

    def router(self) -> dict:
        return next(s for s in self.specs if s["output"].startswith(f"..{ROUTER}."))

    def page_callbacks(self, ids: set[str]) -> list[dict]:
        """The server callbacks a page fires: every input on the page (or the shell's URL), not the router's."""
        return [s for s in self.specs if not s.get("clientside_function") and ROUTER not in s["output"]
                and not any(o["id"] in WRITERS for o in outputs_of(s["output"]))
                and all(i["id"] in ids for i in s["inputs"]) and any(i["id"] in ids - {"url"} for i in s["inputs"])]


def callback_name(spec: dict) -> str:
    first = outputs_of(spec["output"])[0]
    more = len(outputs_of(spec["output"])) - 1
    return f"{first['id']}.{first['property'].split('@')[0]}" + (f" (+{more})" if more else "")


def replay_page(board: Dashboard, path: str, measures: Measures, temperature: str, assets: set[str]) -> None:
    """One page: its HTML, its layout from the router, then each callback with each input moved in turn."""
    seconds, html_page, _, cpu = fetch(board.base + path)
    measures.add(f"page {path} (HTML)", seconds, len(html_page), cpu)
    assets.update(re.findall(r'(?:src|href)="(/(?:assets|_dash-component-suites)/[^"]+)"', html_page.decode()))
    values = {("_pages_location", "pathname"): path, ("_pages_location", "search"): "",
              ("url", "pathname"): path, ("url", "search"): "", ("url", "hash"): "",
              ("url", "href"): board.base + path}
    seconds, body, cpu = board.request(board.router(), values, ["_pages_location.pathname"])
    measures.add(f"page {path} (layout) [{temperature}]", seconds, len(body), cpu)
    layout = json.loads(body)["response"][ROUTER]["children"]
    assets.update(re.findall(r'"(/carte/[^"]+)"', json.dumps(layout)))  # (Dash's JSON writes "/" as \u002f)
    found = {**board.shell, **components(layout)}
    for ident, component in found.items():
        for prop, value in component["props"].items():
            values.setdefault((ident, prop), value)
    for spec in board.page_callbacks(set(found)):
        label = f"{path} {callback_name(spec)} [{temperature}]"
        seconds, body, cpu = board.request(spec, values, [f"{i['id']}.{i['property']}" for i in spec["inputs"]])
        measures.add(label, seconds, len(body), cpu)
        for moved in spec["inputs"]:
            key = (moved["id"], moved["property"])
            for value in alternatives(found.get(moved["id"], {"type": "", "props": {}}), moved["property"]):
                if value != values.get(key):
                    seconds, body, cpu = board.request(spec, {**values, key: value}, [f"{key[0]}.{key[1]}"])
                    measures.add(label, seconds, len(body), cpu)


def scenario():
    """A scripted sequence of filter changes (bench/scale.py replays it): (callback name, output id that names
    it, dropdown values by id, the dropdown changed)."""
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


def print_table(measures: Measures) -> list[str]:
    """The table; returns the flagged lines (`!`: wall-clock p95 over 150 ms or a response over 300 KB; `c`: the
    server's CPU p95 itself over 150 ms, a cost no quieter machine would remove)."""
    flagged = []
    print(f"{'':3}{'page / callback / asset':<58}{'n':>4}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'cpu p50':>8}"
          f"{'cpu p95':>8}{'max KB':>8}")
    for label, times in measures.times.items():
        p95, size, cpu = percentile(times, 0.95), max(measures.sizes[label]) / 1024, measures.cpu[label] or [0.0]
        timed = not label.startswith("asset")
        flag = ("!" if (timed and p95 > MAX_MS) or size > MAX_KB else "") + (
            "c" if timed and percentile(cpu, 0.95) > MAX_MS else "")
        if flag:
            flagged.append(f"{flag:<3}{label}")
        print(f"{flag:<3}{label[:58]:<58}{len(times):>4}{statistics.median(times):>8.1f}{p95:>8.1f}"
              f"{max(times):>8.1f}{statistics.median(cpu):>8.1f}{percentile(cpu, 0.95):>8.1f}{size:>8.1f}")
    return flagged


def pooled(measures: Measures) -> Measures:
    """Callbacks over every round (`[froid]`, `[cache]` merged): the p95 the issue asks for."""
    out = Measures()
    for label, times in measures.times.items():
        name = re.sub(r" \[(froid|cache)\]$", "", label)
        if " page " in f" {name}" and "(HTML)" in name:
            continue
        out.times.setdefault(name, []).extend(times)
        out.sizes.setdefault(name, []).extend(measures.sizes[label])
        out.cpu.setdefault(name, []).extend(measures.cpu[label])
    return out


def main(rounds: int = 2) -> None:
    sys.path[0] = str(ROOT)  # this file is bench/…: keep the project importable
    measures, assets = Measures(), set()
    with serve() as (base, _server):
        board = Dashboard(base)
        for round_number in range(rounds):
            for path in board.pages():
                replay_page(board, path, measures, "froid" if round_number == 0 else "cache", assets)
        for asset in sorted(assets) + ["/assets/topojson/world_110m.json"]:
            seconds, body, _, cpu = fetch(base + asset)
            measures.add(f"asset {asset.split('?')[0]}", seconds, len(body), cpu)
    print(f"By round ({rounds}; `froid`: first requests after start):")
    print_table(measures)
    print("\nEvery round pooled (the issue's figure):")
    flagged = print_table(pooled(measures))
    calls = [label for label in measures.times if not label.startswith(("asset", "page"))]
    wall = [t for label in calls for t in measures.times[label]]
    cpu = [t for label in calls for t in measures.cpu[label]]
    print(f"\nall callbacks: n={len(wall)} wall p50 {statistics.median(wall):.1f} ms, p95 {percentile(wall, 0.95):.1f} "
          f"ms; server CPU p50 {statistics.median(cpu):.1f} ms, p95 {percentile(cpu, 0.95):.1f} ms; largest response "
          f"{max(max(s) for s in measures.sizes.values()) / 1024:.1f} KB; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    print(f"flagged (p95 > {MAX_MS} ms or > {MAX_KB} KB): {len(flagged)}" + "".join(f"\n  {f}" for f in flagged))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
