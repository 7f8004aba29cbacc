"""The same store on SQLite and PostgreSQL: the same build, query answers, API bodies and CLI, and surrogate keys
that concurrent writers never share.

The PostgreSQL cluster is the session's throw-away one (`tests/conftest.py`, `pg_cluster`); the loader's own
tests (reload, fault mid-load, malformed files…) run on both backends through the parametrised `store`.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time

import openpyxl
import pandas as pd
import pytest
from flask import Flask
from sqlalchemy import text

from etl.build import row_counts
from etl.errors import LoadError
from etl.loader import load_file, unload
from etl.reference import upsert
from observatory import api, benchmarks, queries
from observatory.schema import territory
from observatory.store import Store, get_engine
from tests.conftest import EVOL_MMO, ROOT, snapshot

OWN_FIGURES = ROOT / "data/templates/exemple_mon_etablissement.xlsx"


@pytest.fixture
def pg_store(pg_cluster, pg_reference):
    """A fresh PostgreSQL store with the reference loaded."""
    name = pg_cluster.create_database(template=pg_reference)
    yield get_engine(pg_cluster.url(name))
    pg_cluster.drop_database(name)


@pytest.fixture(scope="module")
def urls(built_store, pg_built_store) -> dict[str, str]:
    """Both built stores, by backend."""
    return {"sqlite": str(built_store.url), "postgresql": pg_built_store.url.render_as_string(hide_password=False)}


def _rounded_sum(engine, column: str) -> str:
    """SUM rounded to 3 decimals in SQL (PostgreSQL has no ROUND(double precision, n): through numeric)."""
    total = f"SUM({column})"
    return f"ROUND(CAST({total} AS NUMERIC), 3)" if engine.dialect.name == "postgresql" else f"ROUND({total}, 3)"


def totals_per_source(engine) -> dict[str, tuple]:
    """Per source: rows, rows with a value, published rows, and the rounded sums of value and its parts."""
    sql = (f"SELECT s.source_id, COUNT(*), COUNT(o.value), SUM(CASE WHEN o.is_derived = 0 THEN 1 ELSE 0 END), "
           f"{_rounded_sum(engine, 'o.value')}, {_rounded_sum(engine, 'o.numerator')}, "
           f"{_rounded_sum(engine, 'o.denominator')} "
           "FROM observation o JOIN source s ON s.key = o.source_key GROUP BY s.source_id ORDER BY s.source_id")
    with engine.connect() as conn:
        return {row[0]: tuple(None if v is None else float(v) for v in row[1:]) for row in conn.execute(text(sql))}


def store_summary(engine) -> dict:
    """What a build must give alike on both backends, by text ids (surrogate keys are internal)."""
    with engine.connect() as conn:
        def rows(sql: str) -> list[tuple]:
            return [tuple(r) for r in conn.execute(text(sql))]
        return {
            "statuses": rows("SELECT source_id, status, COUNT(*) FROM observations GROUP BY source_id, status "
                             "ORDER BY source_id, status"),
            "breaks": rows("SELECT series, kind, COUNT(*), MIN(period), MAX(period) FROM series_break "
                           "GROUP BY series, kind ORDER BY series, kind"),
            "loads": rows("SELECT source_id, adapter, file_name, file_sha256, rows_read, rows_loaded, rows_rejected, "
                          "observations_written, periods, status FROM etl_load ORDER BY source_id, file_name"),
            "rejections": rows("SELECT l.file_name, COUNT(*) FROM etl_rejection r JOIN etl_load l "
                               "ON l.load_id = r.load_id GROUP BY l.file_name ORDER BY l.file_name"),
            "sources": rows("SELECT source_id, vintage, series, scope, adapter FROM source ORDER BY source_id"),
        }


def test_build_gives_identical_totals_per_source(built_store, pg_built_store):
    sqlite_totals, pg_totals = totals_per_source(built_store), totals_per_source(pg_built_store)
    assert len(sqlite_totals) >= 15 and sum(t[0] for t in sqlite_totals.values()) > 2_000_000
    assert pg_totals == sqlite_totals
    pg_snapshot, sqlite_snapshot = snapshot(pg_built_store), snapshot(built_store)
    # rows of every table, the exact sum of values (math.fsum: the same whatever order the rows come in), last load
    assert pg_snapshot == sqlite_snapshot
    assert store_summary(pg_built_store) == store_summary(built_store)


def test_keys_are_taken_from_sequences_on_postgresql(pg_built_store):
    with pg_built_store.connect() as conn:
        for table, column in (("source", "key"), ("territory", "key"), ("profession", "key"), ("indicator", "key"),
                              ("etl_load", "load_id"), ("etl_rejection", "rejection_id"),
                              ("private_upload", "upload_id")):
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table, "c": column}).scalar()
            assert sequence, f"{table}.{column} has no sequence"
            # the sequence is past every key given: the next writer's key is free
            largest = conn.execute(text(f'SELECT MAX("{column}") FROM {table}')).scalar()  # noqa: S608 (fixed)
            assert largest is None or conn.execute(text(f"SELECT last_value FROM {sequence}")).scalar() >= largest


def test_a_postgresql_store_without_key_sequences_is_refused_before_anything_is_written(pg_store):
    """A store built before keys came from sequences would fail on its first new source: `build` makes it anew."""
    with pg_store.begin() as conn:
        conn.execute(text("ALTER TABLE source ALTER COLUMN key DROP IDENTITY"))
    before = row_counts(pg_store)
    with pytest.raises(LoadError, match=r"older version \(missing source\.key identity\).*etl build"):
        load_file(pg_store, EVOL_MMO)
    assert row_counts(pg_store) == before


def new_territories(prefix: str, n: int) -> pd.DataFrame:
    return pd.DataFrame([{"territory_id": f"BE-{prefix}{i:03d}", "level": "bassin_emploi", "code": f"{prefix}{i:03d}",
                          "name": f"Bassin {prefix} {i}", "parent_id": "REG-84"} for i in range(n)])


def test_concurrent_writers_get_distinct_keys(pg_store):
    """Writers adding dimension rows at once, each in its own open transaction, through the loader's upsert:
    with `MAX(key) + 1` they all took the same keys and every writer but the first failed on the unique key."""
    writers, per_writer = 4, 40
    shared = pd.DataFrame([{"territory_id": "BE-SHARED", "level": "bassin_emploi", "code": "SHARED",
                            "name": "Bassin commun", "parent_id": "REG-84"}])
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with pg_store.begin() as conn:
                conn.execute(text("SELECT 1"))
                barrier.wait(timeout=30)  # every transaction is open before anyone inserts
                upsert(conn, territory, pd.concat([new_territories(f"W{n}", per_writer), shared], ignore_index=True))
                time.sleep(0.3)  # and stays open while the others insert theirs
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    with pg_store.connect() as conn:
        rows = conn.execute(text("SELECT territory_id, key FROM territory WHERE territory_id LIKE 'BE-W%' "
                                 "OR territory_id = 'BE-SHARED'")).all()
        total, distinct = conn.execute(text("SELECT COUNT(*), COUNT(DISTINCT key) FROM territory")).one()
    assert len(rows) == writers * per_writer + 1  # the row all of them added is there once
    assert len({key for _, key in rows}) == len(rows) and total == distinct


def test_existing_rows_keep_their_keys(store):
    with store.connect() as conn:
        before = dict(conn.execute(text("SELECT territory_id, key FROM territory")).all())
    renamed = pd.DataFrame([{"territory_id": "DEP-69", "level": "departement", "code": "69", "name": "Rhône (69)",
                             "parent_id": "REG-84"}])
    with store.begin() as conn:
        assert upsert(conn, territory, pd.concat([renamed, new_territories("N", 3)], ignore_index=True)) == (3, 1)
    with store.connect() as conn:
        after = dict(conn.execute(text("SELECT territory_id, key FROM territory")).all())
        name = conn.execute(text("SELECT name FROM territory WHERE territory_id = 'DEP-69'")).scalar()
    assert name == "Rhône (69)" and {k: after[k] for k in before} == before
    assert len(set(after.values())) == len(after)
    assert min(after[f"BE-N{i:03d}"] for i in range(3)) > max(before.values())


def test_load_reload_and_unload_give_the_same_store_on_both_backends(reference_db, tmp_path, pg_store):
    import shutil

    path = tmp_path / "store.sqlite"
    shutil.copy(reference_db, path)
    engines = {"sqlite": get_engine(f"sqlite:///{path}"), "postgresql": pg_store}
    steps: dict[str, list] = {}
    for backend, engine in engines.items():
        seen = steps.setdefault(backend, [snapshot(engine)])
        load_file(engine, EVOL_MMO)
        seen.append(snapshot(engine))
        again = load_file(engine, EVOL_MMO)  # a reload replaces, never duplicates
        assert again.replaced_loads
        seen.append({k: v for k, v in snapshot(engine).items() if k != "max(load_id)"})
        own = load_file(engine, OWN_FIGURES, "tdbms")  # a private source, then removed completely
        seen.append(snapshot(engine))
        unload(engine, own.load_id)
        seen.append({k: v for k, v in snapshot(engine).items() if k != "max(load_id)"})
        seen.append(totals_per_source(engine))
    assert steps["postgresql"] == steps["sqlite"]
    first_load = {k: v for k, v in steps["sqlite"][1].items() if k != "max(load_id)"}
    assert steps["sqlite"][2] == first_load and steps["sqlite"][4] == first_load


# --- the query layer and the HTTP API answer alike ---------------------------------------------------------------

def _frame(value) -> pd.DataFrame:
    return value.reset_index(drop=True) if isinstance(value, pd.DataFrame) else value


QUERIES = {
    "select": lambda store: queries.select(store, queries.Selection(
        indicators=("recruitment_projects", "recruitment_difficulty_share"),
        professions=("ensemble", "educateur_specialise"), levels=("region", "nation"))),
    "observations": lambda store: queries.observations(
        store, "recruitment_projects", "ft_bmo", professions=["aide_a_domicile"], territory_level="departement"),
    "computed_share": lambda store: queries.observations(
        store, "recruitment_seasonal_share", "ft_bmo", professions=["ensemble", "travail_social"], territories=["FR"]),
    "tdbms_by_category": lambda store: queries.observations(
        store, "turnover_rate", "tdbms_illustrative", territories=["FR", "REG-11"], breakdown=queries.ANY_BREAKDOWN),
    "sources_for": lambda store: [queries.sources_for(store, i) for i in ("recruitment_projects", "turnover_rate",
                                                                          "graduates", "tension_index")],
    "periods_for": lambda store: [queries.periods_for(store, i, s) for i, s in (
        ("recruitment_projects", "ft_bmo"), ("vacancy_rate", "tdbms_illustrative"))],
    "breaks": lambda store: queries.breaks(store).sort_values(["series", "kind", "subject_id", "period"]),
    "vintage_labels": lambda store: queries.vintage_labels(store, "ft_bmo", 2019),
    "source_row": lambda store: queries.source_row(store, "ft_bmo"),
    "social_professions": lambda store: queries.social_professions(store),
    "dimensions": lambda store: queries.dimensions(store).sources.sort_values("source_id"),
    "establishment_values": lambda store: queries.establishment_values(store, "turnover_rate", 2023).sort_values(
        "finess"),
    "peer_band": lambda store: benchmarks.figures_from_store(store, "turnover_rate", 2023, "500", "DEP-75", 30.0,
                                                             level="region"),
    "territory_position": lambda store: benchmarks.territory_position(store, "vacancy_rate", "DEP-93", 2023,
                                                                      "tdbms_illustrative"),
}


@pytest.mark.parametrize("name", QUERIES)
def test_query_layer_answers_alike(urls, name):
    answers = {backend: _frame(QUERIES[name](Store(url))) for backend, url in urls.items()}
    sqlite, pg = answers["sqlite"], answers["postgresql"]
    if isinstance(sqlite, pd.DataFrame):
        assert len(sqlite) > 0
        pd.testing.assert_frame_equal(pg, sqlite)
    else:
        assert sqlite and pg == sqlite


API_QUERIES = (
    "indicator=recruitment_projects&profession=educateur_specialise&level=region&period=2023",
    "indicator=recruitment_difficulty_share&territory=FR&territory=REG-84&profession=ensemble",
    "indicator=recruitment_seasonal_share&indicator=recruitment_projects&territory=FR&profession=travail_social",
    "indicator=turnover_rate&level=departement&breakdown=esms:500&page_size=50&page=2",
    "indicator=turnover_rate_all_contracts&source=dares_mmo&page_size=100",
    "source=ft_bmo&profession=aide_a_domicile&level=nation",
    "indicator=vacancy_rate&territory=DEP-93",
    "indicator=nope",
)


@pytest.fixture(scope="module")
def api_client():
    server = Flask(__name__)
    api.register(server, None)  # each request's store is set by `_get`
    return server.test_client()


def _get(client, monkeypatch, url: str, query: str):
    """Status, total and body (JSON parsed, CSV as lines: a difference shows as the rows that differ)."""
    monkeypatch.setitem(client.application.config, api.STORE_KEY, Store(url))
    response = client.get(f"/api/v1/observations?{query}")
    body = response.get_data()
    if "format=csv" in query and response.status_code == 200:
        body = body.decode("utf-8").splitlines()
    elif "format=json" in query:
        body = response.get_json()
    return response.status_code, response.headers.get("X-Total-Count"), body


@pytest.mark.parametrize("query", API_QUERIES)
def test_api_json_and_csv_answer_alike(urls, api_client, monkeypatch, query):
    for fmt in ("json", "csv"):
        answers = {backend: _get(api_client, monkeypatch, url, f"{query}&format={fmt}")
                   for backend, url in urls.items()}
        assert answers["postgresql"] == answers["sqlite"], fmt
        status, total, body = answers["sqlite"]
        assert status == 400 if "nope" in query else (status == 200 and int(total) > 0 and len(body) > 1)


def test_api_xlsx_data_sheet_alike(urls, api_client, monkeypatch):
    sheets = {}
    for backend, url in urls.items():
        status, _, body = _get(api_client, monkeypatch, url, "indicator=recruitment_projects&territory=REG-11"
                                                             "&profession=educateur_specialise&format=xlsx")
        assert status == 200
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        sheets[backend] = [tuple(row) for row in book["Données"].iter_rows(values_only=True)]
    assert len(sheets["sqlite"]) > 1 and sheets["postgresql"] == sheets["sqlite"]


# --- the CLI on PostgreSQL ----------------------------------------------------------------------------------------

def test_cli_load_status_unload_on_postgresql(pg_store, tmp_path):
    url = pg_store.url.render_as_string(hide_password=False)

    def run(*args):
        return subprocess.run([sys.executable, "-m", "etl", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=300, env={**os.environ, "OBSERVATORY_DB": url})

    before = snapshot(pg_store)
    loaded = run("load", str(EVOL_MMO))
    assert loaded.returncode == 0, loaded.stderr
    assert "adapter dares_mmo" in loaded.stdout and "rejected 24" in loaded.stdout
    after = snapshot(pg_store)
    broken = tmp_path / "Base_open_data_BMO_2023.xlsx"
    broken.write_bytes(b"PK\x03\x04 not a workbook")
    failed = run("load", str(broken), "--source", "bmo")
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert snapshot(pg_store) == after
    status = run("status")
    assert status.returncode == 0 and "dares_mmo" in status.stdout
    load_id = pg_store.connect().execute(text("SELECT MAX(load_id) FROM etl_load")).scalar()
    removed = run("unload", str(load_id))
    assert removed.returncode == 0, removed.stderr
    kept = {"max(load_id)", "store_meta"}  # the store's version row, which the first load wrote, stays
    assert {k: v for k, v in snapshot(pg_store).items() if k not in kept} == \
        {k: v for k, v in before.items() if k not in kept}
