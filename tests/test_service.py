"""The observatory as a service: several gunicorn workers over one store, a load while users browse, and the
operational faults an operator meets (a locked store, a read-only store, two loads at once).

Real processes throughout: `gunicorn -w 3 app:server`, `python -m etl load`, SQLite files on disk.
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from observatory.store import writing
from tests.conftest import BMO_2023, ROOT, serve_copy, snapshot
from tests.test_series import later_vintage

GUNICORN = Path(sys.executable).with_name("gunicorn")
TRAFFIC = [  # what browsing users ask, valid before and after the load
    "/health",
    "/api/v1/observations?indicator=recruitment_projects&territory=FR&format=json",
    "/api/v1/observations?indicator=recruitment_projects&level=region&format=csv",
    "/api/v1/indicators",
    "/recrutement",
    "/api/v1/projections?profession=T2A&territory=REG-84&retirement_age_shift=1",  # the outlook, per worker
    "/perspectives?profession=V4Z",
]


THINK = 0.2  # seconds between a browsing client's requests


def get(port: int, path: str, timeout: float = 30) -> tuple[int, dict, bytes]:
    """One request on a new connection (so that gunicorn hands it to any of its workers)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def served(built_store, tmp_path_factory):
    """`gunicorn -w 3 app:server` over a copy of the built store; stopped (by its PID) at the end."""
    folder = tmp_path_factory.mktemp("service")
    url, env, server = serve_copy(built_store, folder, [str(GUNICORN), "-w", "3", "-b", "127.0.0.1:{port}",
                                                        "--timeout", "120", "app:server"],
                                  log=folder / "gunicorn.log")
    port = int(url.rsplit(":", 1)[1])
    store = folder / "observatory.sqlite"
    try:
        workers: set[str] = set()
        deadline = time.time() + 120
        while len(workers) < 3 and time.time() < deadline:
            try:
                status, headers, _ = get(port, "/health", timeout=5)
                if status == 200:
                    workers.add(headers["X-Observatory-Worker"])
            except OSError:
                time.sleep(0.3)
        assert len(workers) == 3, (folder / "gunicorn.log").read_text()[-2000:]
        yield {"port": port, "env": env, "store": store, "folder": folder, "workers": workers}
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_importing_app_never_writes_the_store(tmp_path):
    """Workers import `app`: on a missing store they must not create nor build it (/health says 503)."""
    store = tmp_path / "absent.sqlite"
    env = {**os.environ, "OBSERVATORY_DB": f"sqlite:///{store}"}
    code = ("import app; c = app.server.test_client(); r = c.get('/health'); "
            "print(r.status_code, r.get_json()['status'])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("503 store not built")
    assert not store.exists()


def test_a_load_during_traffic_reaches_every_worker_without_errors(served):
    """While 12 clients browse, a new BMO vintage is loaded: no request fails, and within 10 s of the load's
    end every worker serves the new vintage (its caches follow the store version). Each client reads what it got
    for `THINK` seconds before its next request, as a person does: the three workers stay busy without the
    clients taking the load's processor away from it."""
    port, year = served["port"], 2025
    fixture = later_vintage(BMO_2023, served["folder"] / f"Base_open_data_BMO_{year}.xlsx", year,
                            new_bassin=(9901, "BASSIN NOUVEAU DE TEST"))
    probe = f"/api/v1/observations?indicator=recruitment_projects&territory=FR&period={year}&format=json"
    before = get(port, probe)
    assert before[0] == 200 and json.loads(before[2])["total"] == 0
    new_territory = "/api/v1/observations?indicator=recruitment_projects&territory=BE-9901-971&format=json"
    assert get(port, new_territory)[0] == 400  # not known yet

    stop = threading.Event()
    results: list[tuple[str, int | str, float]] = []

    def browse(offset: int) -> None:
        i = offset
        while not stop.is_set():
            path = TRAFFIC[i % len(TRAFFIC)]
            started = time.perf_counter()
            try:
                status = get(port, path)[0]
            except OSError as error:
                status = f"{type(error).__name__}: {error}"
            results.append((path, status, time.perf_counter() - started))
            i += 1
            stop.wait(THINK)

    clients = [threading.Thread(target=browse, args=(i,), daemon=True) for i in range(12)]
    for client in clients:
        client.start()
    time.sleep(2)
    loaded = subprocess.run([sys.executable, "-m", "etl", "load", str(fixture)], cwd=ROOT, env=served["env"],
                            capture_output=True, text=True, timeout=300)
    load_end = time.time()
    assert loaded.returncode == 0, loaded.stderr[-2000:]

    # For each worker: when it first answered with the new vintage, and the latest request it still answered
    # from the old store. Staleness is counted from when a request was made, not when a busy worker answered.
    serving_new: dict[str, float] = {}
    knowing_new: dict[str, float] = {}
    stale_until: dict[str, float] = {}
    workers = served["workers"]
    while (len(serving_new) < len(workers) or len(knowing_new) < len(workers)) and time.time() - load_end < 60:
        for path, seen in ((probe, serving_new), (new_territory, knowing_new)):
            asked = time.time() - load_end
            status, headers, body = get(port, path)
            worker = headers.get("X-Observatory-Worker")
            if status == 200 and json.loads(body)["total"] > 0:
                seen.setdefault(worker, asked)
            else:
                stale_until[worker] = max(asked, stale_until.get(worker, 0.0))
        time.sleep(0.05)
    time.sleep(1)
    stop.set()
    for client in clients:
        client.join(timeout=60)

    failures = [r for r in results if r[1] != 200]
    assert len(results) > 50, f"too little traffic to prove anything: {len(results)} requests"
    assert failures == [], failures[:10]
    assert set(serving_new) == set(knowing_new) == workers, (serving_new, knowing_new, workers)
    assert max(stale_until.values(), default=0.0) < 10, stale_until  # no worker answered from the old store



def test_the_health_route_reports_the_store_version(served):
    status, headers, body = get(served["port"], "/health")
    assert status == 200 and b'"store_version"' in body and headers["X-Observatory-Worker"] in served["workers"]


def test_an_oversized_request_is_refused_before_it_is_read(served):
    """The upload's limit holds on the request itself: a 10 MB body gets 413 in French, the server stays up."""
    conn = http.client.HTTPConnection("127.0.0.1", served["port"], timeout=30)
    conn.putrequest("POST", "/_dash-update-component")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(10_000_000))
    conn.endheaders()
    conn.send(b"{" + b" " * 65536)  # the rest is never sent: the answer must not wait for it
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    assert response.status == 413
    assert "trop volumineuse" in body
    assert get(served["port"], "/health")[0] == 200


def run_etl(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "etl", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def store_env(engine) -> dict:
    return {**os.environ, "OBSERVATORY_DB": engine.url.render_as_string(hide_password=False)}


def test_a_locked_store_waits_then_fails_with_one_line_and_nothing_written(store):
    """Another writer holds the store (SQLite's write lock, PostgreSQL's advisory lock): a load waits
    OBSERVATORY_LOCK_TIMEOUT seconds, then says so in one line and writes nothing."""
    before = snapshot(store)
    holder = writing(store)
    holder.__enter__()
    try:
        env = {**store_env(store), "OBSERVATORY_LOCK_TIMEOUT": "2"}
        started = time.perf_counter()
        out = run_etl(env, "load", str(ROOT / "data/real/dares/evol_mmo.csv"))
        waited = time.perf_counter() - started
    finally:
        holder.__exit__(None, None, None)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = error_lines(out.stderr)
    assert len(lines) == 1 and "locked by another writer" in lines[0] and "waited 2 s" in lines[0], out.stderr
    assert waited >= 2
    assert snapshot(store) == before


def test_concurrent_loads_serialise(store):
    env = store_env(store)
    store.dispose()
    files = [ROOT / "data/real/dares/evol_mmo.csv", ROOT / "data/real/dares/tensions.csv",
             ROOT / "data/real/dares/part_femmes.csv"]
    runs = [subprocess.Popen([sys.executable, "-m", "etl", "load", str(f)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in files]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], [err[-500:] for _, err in outputs]
    with store.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM etl_load WHERE status = 'loaded'").scalar() == 3


def make_read_only(folder: Path) -> bool:
    """Make `folder` and its files unwritable, even for root (immutable attribute) where the system allows it."""
    targets = [*folder.iterdir(), folder]
    if os.geteuid() != 0:
        for target in targets:
            target.chmod(0o555 if target.is_dir() else 0o444)
        return True
    return subprocess.run(["chattr", "+i", *map(str, targets)], capture_output=True).returncode == 0


def undo_read_only(folder: Path) -> None:
    targets = [*folder.iterdir(), folder]
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", *map(str, targets)], capture_output=True)
    for target in targets:
        target.chmod(0o755 if target.is_dir() else 0o644)


def test_a_read_only_store_is_served_and_refuses_loads_with_one_line(built_store, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    shutil.copy(built_store.url.database, folder / "observatory.sqlite")
    if not make_read_only(folder):
        pytest.skip("this machine cannot make a folder read-only for root (chattr +i refused): run as non-root")
    try:
        env = {**os.environ, "OBSERVATORY_DB": f"sqlite:///{folder / 'observatory.sqlite'}"}
        out = run_etl(env, "load", str(ROOT / "data/real/dares/evol_mmo.csv"))
        assert out.returncode == 2 and "Traceback" not in out.stderr
        lines = error_lines(out.stderr)
        assert len(lines) == 1 and "read-only" in lines[0], out.stderr
        code = ("import app; c = app.server.test_client(); "
                "print(c.get('/health').status_code, "
                "c.get('/api/v1/observations?indicator=recruitment_projects&territory=FR').status_code)")
        served = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=120)
        assert served.returncode == 0, served.stderr[-2000:]
        assert served.stdout.split() == ["200", "200"]
        assert sorted(p.name for p in folder.iterdir()) == ["observatory.sqlite"]
    finally:
        undo_read_only(folder)
