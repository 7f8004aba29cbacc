"""The observatory as `make serve-public` runs it for the open internet: Debian's nginx (deploy/nginx.conf.template)
in front of gunicorn (deploy/gunicorn.conf.py). A full export is never cut after its `200`, even when it lasts
longer than the worker timeout; slow clients (slowloris) and a full export leave `/health` answering in < 1 s.

Real processes: gunicorn over a copy of the built store (`serve_copy`), nginx as a non-daemon process with its
own prefix on a free loopback port, both stopped by their PID.
"""
from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from observatory import exports, urlstate
from observatory.store import Store
from tests.conftest import ROOT, free_port, serve_copy

GUNICORN = Path(sys.executable).with_name("gunicorn")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WORKER_TIMEOUT = 5  # seconds: far shorter than a full CSV export takes, so a worker killed by it would cut the file
FULL_CSV = "/api/v1/observations?format=csv"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def _request(port: int, path: str, timeout: float = 10, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", path, headers={"Connection": "close", **(headers or {})})
    return conn, conn.getresponse()


@pytest.fixture(scope="module")
def public(built_store, tmp_path_factory):
    """(nginx port, gunicorn port, store url): gunicorn with the deploy config and a 5 s worker timeout, behind
    nginx rendered from the deploy template."""
    if not Path(NGINX).exists():
        pytest.fail("nginx not found (Debian package `nginx`, which ./test.sh installs)", pytrace=False)
    folder = tmp_path_factory.mktemp("public")
    url, env, gunicorn = serve_copy(built_store, folder, [
        str(GUNICORN), "-c", "deploy/gunicorn.conf.py", "-b", "127.0.0.1:{port}",
        "--timeout", str(WORKER_TIMEOUT), "app:server"], log=folder / "gunicorn.log")
    upstream = url.removeprefix("http://")
    prefix = Path(tempfile.mkdtemp(prefix="observatory-nginx-"))  # under /tmp: nginx's workers can reach it
    nginx = None
    try:
        assert gunicorn.poll() is None, (folder / "gunicorn.log").read_text()[-2000:]
        for _attempt in range(3):  # a port picked free may be taken before nginx binds it
            port = free_port()
            subprocess.run([sys.executable, str(ROOT / "deploy/render_nginx.py"), "--listen", f"127.0.0.1:{port}",
                            "--upstream", upstream, "--prefix", str(prefix)], check=True, capture_output=True)
            nginx = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                                      "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            deadline = time.time() + 15
            while nginx.poll() is None and time.time() < deadline:
                try:
                    conn, response = _request(port, "/health", timeout=2)
                    response.read()
                    conn.close()
                    if response.status == 200:
                        break
                except OSError:
                    time.sleep(0.2)
            if nginx.poll() is None:
                break
        assert nginx is not None and nginx.poll() is None, (prefix / "error.log").read_text()[-2000:]
        yield port, int(upstream.rsplit(":", 1)[1]), str(env["OBSERVATORY_DB"])
    finally:
        if nginx is not None:
            _stop(nginx)
        _stop(gunicorn)
        shutil.rmtree(prefix, ignore_errors=True)


class SlowLoris(threading.Thread):
    """A client that sends its request headers one line a second and never finishes them (reconnecting when the
    server drops it): each one held a sync gunicorn worker until its timeout."""

    def __init__(self, port: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.stop, self.lines_sent = port, stop, 0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    while not self.stop.wait(1):
                        sock.sendall(b"X-Slow: 1\r\n")
                        self.lines_sent += 1
            except OSError:
                time.sleep(0.1)


class HealthPoller(threading.Thread):
    """`/health` on a new connection every 0.25 s: its status and time, until stopped."""

    def __init__(self, port: int, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.stop, self.samples = port, stop, []

    def run(self) -> None:
        while not self.stop.is_set():
            start = time.perf_counter()
            try:
                conn, response = _request(self.port, "/health", timeout=30)
                response.read()
                conn.close()
                status = response.status
            except OSError as error:
                status = type(error).__name__
            self.samples.append((status, time.perf_counter() - start))
            self.stop.wait(0.25)


READ_RATE = 15e6  # bytes per second: the client of the finding 3


def test_full_export_complete_through_proxy_with_slow_clients(public):
    """The full CSV (2.5 M rows, ~700 MB) read at 15 MB/s through nginx lasts longer than the worker timeout and
    arrives whole (line count = the store's rows + header), while four slowloris sockets are open and `/health`
    stays < 1 s."""
    port, _upstream, store_url = public
    store = Store(store_url)
    expected = exports.count(store, urlstate.parse(store, {})[0])  # what the query string selects: every row
    stop = threading.Event()
    loris = [SlowLoris(port, stop) for _ in range(4)]
    health = HealthPoller(port, stop)
    for thread in loris:
        thread.start()
    time.sleep(2)  # the slow sockets are open before the export and /health start
    health.start()
    lines = size = 0
    start = time.perf_counter()
    try:
        conn, response = _request(port, FULL_CSV, timeout=120)
        assert response.status == 200
        total = int(response.headers["X-Total-Count"])
        while chunk := response.read(1 << 20):  # http.client raises IncompleteRead on a cut chunked body
            lines += chunk.count(b"\n")
            size += len(chunk)
            ahead = size / READ_RATE - (time.perf_counter() - start)  # read at the 15 MB/s, no faster
            if ahead > 0:
                time.sleep(ahead)
        conn.close()
        elapsed = time.perf_counter() - start
        time.sleep(max(0.0, 12 - elapsed))  # slow sockets outlive nginx's 10 s header timeout at least once
    finally:
        stop.set()
        health.join(timeout=35)
        for thread in loris:
            thread.join(timeout=10)
    assert total == expected
    assert lines == expected + 1, f"{lines - 1} of {expected} rows arrived ({size / 1e6:.0f} MB in {elapsed:.1f} s)"
    print(f"full CSV: {lines - 1} rows, {size / 1e6:.0f} MB in {elapsed:.1f} s; /health max "
          f"{max(s for _, s in health.samples):.3f} s over {len(health.samples)}")
    assert elapsed > WORKER_TIMEOUT, f"the export took {elapsed:.1f} s: too short to prove anything"
    assert all(t.lines_sent >= 3 for t in loris), [t.lines_sent for t in loris]
    assert len(health.samples) >= 10, health.samples
    slow = [(status, round(seconds, 2)) for status, seconds in health.samples if status != 200 or seconds >= 1]
    assert not slow, f"/health slow or failing during the export: {slow} of {len(health.samples)}"


def test_limits_answered_by_proxy_in_french(public):
    """Oversized bodies and headers stop at nginx (never reach a worker); a body too large gets a French JSON."""
    port, _upstream, _store = public
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/_dash-update-component", body=b"x" * (5 * 1024 * 1024),
                 headers={"Content-Type": "application/json", "Connection": "close"})
    response = conn.getresponse()
    body = response.read().decode("utf-8")
    conn.close()
    assert response.status == 413 and "Requête trop volumineuse" in body, body
    assert "X-Observatory-Worker" not in response.headers  # nginx answered: no worker read the body
    conn, response = _request(port, "/health", headers={"X-Big": "x" * 20_000})
    response.read()
    conn.close()
    assert response.status in (400, 431, 494), response.status
    assert "X-Observatory-Worker" not in response.headers
