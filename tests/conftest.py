"""Shared fixtures: real SQLite files in a temporary folder and a throw-away PostgreSQL cluster, built with the
real ETL.

`store` is parametrised over both backends (`sqlite`, `postgresql`): a test that takes it runs on each. The
PostgreSQL cluster is started by the session itself (`initdb` in a temporary folder, a free port on 127.0.0.1)
and stopped at its end. Without PostgreSQL binaries the `postgresql` tests fail, unless `OBSERVATORY_TEST_PG=0`
(then they are skipped): CI must prove PostgreSQL.
"""
from __future__ import annotations

import glob
import itertools
import math
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from dash.testing.application_runners import ThreadedRunner
from selenium.webdriver.chrome.options import Options
from sqlalchemy import Engine, func, select, text

from etl.__main__ import batch_gc
from etl.build import build
from etl.loader import ensure_reference
from observatory.api import STORE_KEY
from observatory.schema import metadata
from observatory.store import Store, dispose_engines, get_engine, init_store
from tests import store_cache, tiers
from tests.shared_browser import SharedBrowser

ROOT = Path(__file__).resolve().parent.parent
BMO_2023 = ROOT / "data/real/francetravail/Base_open_data_BMO_2023.xlsx"
EVOL_MMO = ROOT / "data/real/dares/evol_mmo.csv"


def pytest_setup_options():
    """Headless Chromium for dash_duo, kept off the closed network. One renderer process is reused from page to
    page (no site isolation, at most two renderers): the scripts it compiled (Plotly's 3.5 MB first) stay in V8's
    memory, so only a worker's first loads of a page pay for compiling them (measured: 1.5 CPU-s instead of 3.4
    for a second load of « Recrutement »). The tests only ever open the app on the loopback."""
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-extensions", "--mute-audio", "--disable-breakpad",
                 "--disable-site-isolation-trials", "--renderer-process-limit=2",
                 "--disable-features=site-per-process,IsolateOrigins,BackForwardCache,Translate,"
                 "OptimizationHints,MediaRouter",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    return options


def _start_on_free_port(self, app, start_timeout=3, **kwargs):
    """dash_duo's threaded server on a free loopback port (its default, 58050 and up per process, collides when
    two test sessions run on one machine)."""
    kwargs.setdefault("port", free_port())
    return _threaded_start(self, app, start_timeout, **kwargs)


_threaded_start = ThreadedRunner.start
ThreadedRunner.start = _start_on_free_port


@pytest.fixture(scope="session")
def _shared_browser(request):
    """One Chromium and one threaded server for every `dash_duo` test of this process (each xdist worker has its
    own), put back as new before each test (`tests/shared_browser.py`)."""
    config = request.config
    shared = SharedBrowser({
        "browser": config.getoption("webdriver"), "remote": config.getoption("remote"),
        "remote_url": config.getoption("remote_url"), "headless": config.getoption("headless"),
        "options": config.hook.pytest_setup_options(), "percy_assets_root": config.getoption("percy_assets"),
        "percy_finalize": config.getoption("nopercyfinalize"), "pause": config.getoption("pause")})
    try:
        yield shared
    finally:
        shared.close()


@pytest.fixture
def dash_duo(_shared_browser, tmp_path):
    """Dash's `dash_duo` (same methods), on the shared browser put back as new (downloads in the test's folder)."""
    download = tmp_path / "download"
    download.mkdir()
    return _shared_browser.ready(download)


def pytest_configure(config):
    """Under pytest-xdist, files are handed out in the order `tiers.scheduled` gives (xdist would sort them by
    their number of tests), and each worker gets its own temporary folder (readable by the `postgres` and nginx
    users, as /tmp is): a test that checks what this process left in it never sees the other worker's files."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        folder = Path(tempfile.mkdtemp(prefix=f"observatory-tests-{worker}-"))
        folder.chmod(0o755)
        tempfile.tempdir = config.observatory_tempdir = str(folder)


def pytest_unconfigure(config):
    folder = getattr(config, "observatory_tempdir", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


BACKENDS = ("sqlite", "postgresql")
PG_SWITCH = "OBSERVATORY_TEST_PG"  # "0": skip the PostgreSQL tests (anything else: they must run)
PG_USER = "obs"


def postgres_bin() -> Path | None:
    """The newest Debian PostgreSQL binaries (`/usr/lib/postgresql/<major>/bin`), else `initdb` on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    initdb = found[-1] if found else shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresCluster:
    """A throw-away PostgreSQL cluster on loopback: its own folder, port and socket; trust authentication for
    the `obs` superuser. As root, `initdb` and `pg_ctl` run as the `postgres` user (initdb refuses root)."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="observatory-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.port = 0
        self.as_postgres = os.geteuid() == 0
        self._names = itertools.count(1)
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr.strip()}\n{log}")

    def start(self) -> None:
        # C collation: text sorts byte-wise, as on SQLite. Durability is off: the cluster dies with the session.
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", PG_USER, "-E", "UTF8", "--locale=C")
        for attempt in range(5):  # a port picked free may be taken before the server binds it
            self.port = free_port()
            options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off")
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60",
                          "start")
                return
            except RuntimeError:
                if attempt == 4:
                    raise

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str | None = None) -> str:
        """A new database (a copy of `template` when given: nobody may be connected to it); returns its name."""
        name = f"store_{next(self._names)}"
        self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def drop_database(self, name: str) -> None:
        get_engine(self.url(name)).dispose()
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=PG_USER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(sql)


@pytest.fixture(scope="session")
def pg_cluster():
    """The session's PostgreSQL cluster: started on first use, stopped (and its folder removed) at the end."""
    if os.environ.get(PG_SWITCH) == "0":
        pytest.skip(f"PostgreSQL tests switched off ({PG_SWITCH}=0)")
    bindir = postgres_bin()
    if bindir is None:
        pytest.fail("PostgreSQL binaries not found (Debian package `postgresql`, which ./test.sh installs); "
                    f"set {PG_SWITCH}=0 to run without PostgreSQL", pytrace=False)
    cluster = PostgresCluster(bindir)
    try:
        cluster.start()
        yield cluster
    finally:
        dispose_engines()
        cluster.stop()


@pytest.fixture(scope="session")
def pg_reference(pg_cluster) -> str:
    """A PostgreSQL database holding only the reference tables: the template of every `store` on PostgreSQL."""
    name = pg_cluster.create_database()
    engine = get_engine(pg_cluster.url(name))
    init_store(engine)
    with engine.begin() as conn:
        ensure_reference(conn)
    engine.dispose()
    return name


@pytest.fixture(scope="session")
def pg_built_store(pg_cluster) -> Engine:
    """The store as `python -m etl build` makes it, on PostgreSQL: restored from the cached dump of a real build
    made from the same inputs (`tests/store_cache.py`), else built here (once per session) and dumped there."""
    name = pg_cluster.create_database()
    url = pg_cluster.url(name)
    dsn = {"host": "127.0.0.1", "port": str(pg_cluster.port), "user": PG_USER}

    def build_here() -> Engine:
        engine = get_engine(url)
        with batch_gc("build"):
            build(engine)
        return engine

    store_cache.postgres_store(pg_cluster.bindir, dsn, name, build_here)
    return get_engine(url)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def reference_db(tmp_path_factory) -> Path:
    """A store holding only the reference tables (copied for each test that needs a fresh store)."""
    path = tmp_path_factory.mktemp("ref") / "reference.sqlite"
    engine = get_engine(f"sqlite:///{path}")
    init_store(engine)
    with engine.begin() as conn:
        ensure_reference(conn)
    engine.dispose()
    return path


@pytest.fixture
def store(backend, request, tmp_path) -> Engine:
    """A fresh real store with the reference loaded: a SQLite file, or a PostgreSQL database."""
    if backend == "sqlite":
        path = tmp_path / "store.sqlite"
        shutil.copy(request.getfixturevalue("reference_db"), path)
        yield get_engine(f"sqlite:///{path}")
        return
    cluster = request.getfixturevalue("pg_cluster")
    name = cluster.create_database(template=request.getfixturevalue("pg_reference"))
    yield get_engine(cluster.url(name))
    cluster.drop_database(name)


def _build_sqlite(path: Path) -> None:
    engine = get_engine(f"sqlite:///{path}")
    with batch_gc("build"):
        build(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def built_store(tmp_path_factory) -> Engine:
    """The store as `python -m etl build` makes it: the session's own copy of the cached build made from the
    same inputs (`tests/store_cache.py`), built here first when there is none."""
    path = store_cache.sqlite_store(tmp_path_factory.mktemp("built") / "observatory.sqlite", _build_sqlite)
    return get_engine(f"sqlite:///{path}")


@pytest.fixture(scope="session")
def query_store(built_store) -> Store:
    """The built store as the query layer reads it: one `Store` (and its cache) for the session's tests."""
    return Store.of(built_store)


def use_store(monkeypatch, url: str) -> Store:
    """A `Store` on `url` for one test, which the in-process app (once imported) serves too: what
    `OBSERVATORY_DB` is to a new process, undone at the end of the test."""
    store = Store(url)
    app = sys.modules.get("app")
    if app is not None:
        monkeypatch.setitem(app.server.config, STORE_KEY, store)
    return store


def copy_store(built_store: Engine, path: Path) -> Engine:
    """A private copy of the built store (SQLite's online backup: consistent, WAL folded in) and its engine."""
    import sqlite3

    source, target = sqlite3.connect(built_store.url.database), sqlite3.connect(path)
    with target:
        source.backup(target)
    source.close()
    target.close()
    return get_engine(f"sqlite:///{path}")


def snapshot(engine: Engine) -> dict:
    """Row counts of every table plus the exact sum of observation values: 'the store exactly as before'."""
    init_store(engine)
    with engine.connect() as conn:
        counts = {name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                  for name, t in metadata.tables.items()}
        # A float SUM depends on the order rows are read in (PostgreSQL's differed in the 4th decimal after a
        # reload), and the engines round half-way cases differently: fsum is exact, so equal values, equal sums.
        cursor = conn.connection.dbapi_connection.cursor()  # the driver's own rows: 4 times faster on 2.7 M values
        try:
            cursor.execute("SELECT value FROM observation WHERE value IS NOT NULL")
            values = [row[0] for row in cursor]
        finally:
            cursor.close()
        counts["sum(value)"] = math.fsum(values) if values else None
        counts["max(load_id)"] = conn.execute(text("SELECT MAX(load_id) FROM etl_load")).scalar()
    return counts


@pytest.fixture(scope="session")
def dash_app(built_store):
    """One app for the session, on the store `build` made (pages register their callbacks once)."""
    import os

    os.environ["OBSERVATORY_DB"] = str(built_store.url)
    import app as app_module

    return app_module.app


@pytest.fixture
def app_context(dash_app):
    """For page functions called directly (not by a request): they read the app's store from Flask's app
    context (`pages._components.ui.store`)."""
    with dash_app.server.app_context():
        yield


def serve_copy(built_store: Engine, folder: Path, command: list[str], ready: str = "/health",
               log: Path | None = None):
    """Start `command` (the app, or gunicorn) on a free loopback port over a copy of the built store; return
    (url, env, process) once `ready` answers. The caller stops the process (by its PID) when done."""
    import subprocess
    import sys
    import time
    import urllib.request

    store = folder / "observatory.sqlite"
    shutil.copy(built_store.url.database, store)
    port = free_port()
    env = {**os.environ, "OBSERVATORY_DB": f"sqlite:///{store}"}
    out = log.open("wb") if log else subprocess.DEVNULL
    argv = [a.replace("{port}", str(port)) for a in command]
    process = subprocess.Popen([sys.executable, *argv] if argv[0].endswith(".py") else argv, cwd=ROOT, env=env,
                               stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(url + ready, timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    return url, env, process


# --- Test tiers (tests/tiers.py) ----------------------------------------------------------------------------------
_deselected: list = []


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by markers
def pytest_collection_modifyitems(config, items):
    tiers.mark(items)
    items[:] = tiers.scheduled(items, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))


def pytest_deselected(items):
    if os.environ.get(tiers.REPORT):
        _deselected.extend(items)


def pytest_collection_finish(session):
    """With `OBSERVATORY_TIER_REPORT=path`: the selected and the deselected tests described in that file."""
    target = os.environ.get(tiers.REPORT)
    if target:
        tiers.report(Path(target), session.items, _deselected)
