"""Shared fixtures: real SQLite files in a temporary folder, built with the real ETL."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from selenium.webdriver.chrome.options import Options
from sqlalchemy import Engine, func, select, text

from etl.build import build
from etl.loader import ensure_reference
from observatory.schema import metadata
from observatory.store import get_engine, init_store

ROOT = Path(__file__).resolve().parent.parent
BMO_2023 = ROOT / "data/real/francetravail/Base_open_data_BMO_2023.xlsx"
EVOL_MMO = ROOT / "data/real/dares/evol_mmo.csv"


def pytest_setup_options():
    """Headless Chromium for dash_duo, kept off the closed network."""
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    return options


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
def store(reference_db, tmp_path) -> Engine:
    """A fresh real SQLite store with the reference loaded."""
    path = tmp_path / "store.sqlite"
    shutil.copy(reference_db, path)
    return get_engine(f"sqlite:///{path}")


@pytest.fixture(scope="session")
def built_store(tmp_path_factory) -> Engine:
    """The store as `python -m etl build` makes it, built once per session."""
    path = tmp_path_factory.mktemp("built") / "observatory.sqlite"
    engine = get_engine(f"sqlite:///{path}")
    build(engine)
    return engine


def snapshot(engine: Engine) -> dict:
    """Row counts of every table plus the sum of observation values: 'the store exactly as before'."""
    init_store(engine)
    with engine.connect() as conn:
        counts = {name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                  for name, t in metadata.tables.items()}
        counts["sum(value)"] = conn.execute(text("SELECT ROUND(SUM(value), 4) FROM observation")).scalar()
        counts["max(load_id)"] = conn.execute(text("SELECT MAX(load_id) FROM etl_load")).scalar()
    return counts


@pytest.fixture(scope="session")
def dash_app(built_store):
    """One app for the session, on the store `build` made (pages register their callbacks once)."""
    import os

    os.environ["OBSERVATORY_DB"] = str(built_store.url)
    import app as app_module

    return app_module.app
