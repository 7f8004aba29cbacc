"""Series across vintages: breaks found when loading, shares as the publisher computes them, a new vintage
seen by a running dashboard without a restart."""
from __future__ import annotations

import hashlib
import inspect
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from etl.breaks import detect
from observatory import queries
from observatory.aggregate import parent_array, roll_up
from observatory.store import VERSION_TTL_SECONDS
from tests import store_cache
from tests.conftest import BMO_2023, ROOT, serve_copy, use_store

# --- break detection (pure) -------------------------------------------------------------------------------------

PARENT = {"educateur_specialise": "socio_educatif", "surveillant_aesh": "socio_educatif",
          "socio_educatif": "travail_social", "travail_social": "ensemble", "fap2009_A0Z40": "autres_metiers",
          "autres_metiers": "ensemble", "ensemble": None}
SOCIAL = {"educateur_specialise", "surveillant_aesh", "socio_educatif", "travail_social"}


def labels(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["kind", "subject_id", "code", "period", "label", "scope"])


def test_a_label_change_breaks_the_profession_and_every_total_above_it():
    found = detect(labels([
        ("profession", "surveillant_aesh", "V5Z84", 2023, "Surveillants d'établissements scolaires", "S Social"),
        ("profession", "surveillant_aesh", "V5Z84", 2024, "Surveillants et AESH", "S Social"),
        ("profession", "educateur_specialise", "V4Z83", 2023, "Educateurs spécialisés", "S Social"),
        ("profession", "educateur_specialise", "V4Z83", 2024, "ÉDUCATEURS  spécialisés", "S Social"),
    ]), PARENT, SOCIAL)
    broken = set(zip(found.subject_id, found.period))
    assert broken == {("surveillant_aesh", 2024), ("socio_educatif", 2024), ("travail_social", 2024)}
    assert "Surveillants et AESH" in found.loc[found.subject_id == "surveillant_aesh", "note"].iloc[0]


def test_codes_families_membership_and_bassins():
    found = detect(labels([
        ("profession", "educateur_specialise", "V4Z83", 2023, "Educateurs", "S Social"),
        ("profession", "educateur_specialise", "V4X83", 2025, "Educateurs", "S Social"),
        ("profession", "fap2009_A0Z40", "A0Z40", 2023, "Agriculteurs", "Z Autres"),
        ("profession", "fap2009_A0Z40", "A0Z40", 2025, "Agriculteurs", "A Agriculture"),
        ("territory", "BE-0101-971", "0101", 2023, "Basse-Terre", "971"),
        ("territory", "BE-0101-971", "0101", 2025, "Basse-Terre Nord", "971"),
        ("territory", "BE-8201-01", "8201", 2023, "Bourg", "01"),
        ("territory", "BE-8201-01", "8201", 2025, "Bourg", "01"),
        ("territory", "BE-8201-39", "8201", 2025, "Bourg", "39"),
        ("territory", "BE-9999-75", "9999", 2025, "Paris", "75"),
    ]), PARENT, SOCIAL)
    notes = {(k, s, p): n for k, s, p, n in found.itertuples(index=False)}
    assert "V4Z83" in notes[("profession", "educateur_specialise", 2025)]
    assert "composition" in notes[("profession", "socio_educatif", 2025)]
    assert "famille" in notes[("profession", "fap2009_A0Z40", 2025)]
    assert ("profession", "autres_metiers", 2025) not in notes  # totals of every occupation stay comparable
    assert "renommé" in notes[("territory", "BE-0101-971", 2025)]
    assert "redécoupé" in notes[("territory", "BE-8201-01", 2025)]
    assert ("territory", "BE-9999-75", 2025) not in notes  # a new bassin starts a series, it breaks nothing
    assert not found.period.eq(2023).any()  # the first period of a series has nothing to compare with


def test_the_crosswalk_break_year_is_carried():
    crosswalk = pd.DataFrame({"profession_id": ["surveillant_aesh"], "break_year": [2025],
                              "break_note": ["AESH ajoutés (BMO 2025)."]})
    found = detect(labels([
        ("profession", "surveillant_aesh", "V5X84", 2023, "Surveillants", "S"),
        ("profession", "surveillant_aesh", "V5X84", 2025, "Surveillants", "S"),
    ]), PARENT, SOCIAL, crosswalk)
    assert found.loc[found.subject_id == "surveillant_aesh", "note"].iloc[0] == "AESH ajoutés (BMO 2025)."


# --- shares as the publisher computes them (pure roll-up) -----------------------------------------------------

def test_a_secret_numerator_counts_in_the_denominator_only():
    # Two cells under one parent: xmet 6 / met 6, and xmet secret / met 70 (Île-de-France J4Z60 in BMO 2023).
    base = pd.DataFrame({
        "indicator_key": [1, 1], "profession_key": [1, 1], "territory_key": [1, 2], "breakdown": ["", ""],
        "period": [2023, 2023], "value": [100.0, np.nan], "numerator": [6.0, np.nan], "denominator": [6.0, 70.0],
        "status": ["ok", "secret"], "is_derived": [1, 1]})
    result = roll_up(base, parent_array({0: None, 1: 0, 2: 0}), parent_array({0: None, 1: None}), {1: "ratio"})
    total = result[result.territory_key == 0].iloc[0]
    assert (total.numerator, total.denominator, total.status) == (6.0, 76.0, "partial")
    assert total.value == pytest.approx(100 * 6 / 76)


def test_national_difficulty_share_matches_france_travail(built_store):
    """France Travail published 61 % of projects judged difficult in 2023 (secret cells included)."""
    with built_store.connect() as conn:
        share, numerator, denominator, status = conn.execute(text(
            "SELECT value, numerator, denominator, status FROM observations WHERE indicator_id = "
            "'recruitment_difficulty_share' AND profession_id = 'ensemble' AND territory_id = 'FR' AND period = 2023"
            " AND breakdown IS NULL")).one()
        projects, difficult = (conn.execute(text(
            "SELECT value FROM observations WHERE indicator_id = :i AND profession_id = 'ensemble' AND "
            "territory_id = 'FR' AND period = 2023 AND breakdown IS NULL"), {"i": i}).scalar_one()
            for i in ("recruitment_projects", "recruitment_projects_difficult"))
    assert abs(share - 61.0) <= 0.5, share
    assert status == "partial"
    # the share's parts are the very counts the store shows
    assert (numerator, denominator) == (pytest.approx(difficult), pytest.approx(projects))


def test_seasonal_share_is_computed_from_the_stored_counts(query_store):
    store, both = query_store, ["ensemble", "travail_social"]
    series = queries.sources_for(store, "recruitment_seasonal_share")[0]
    share = queries.observations(store, "recruitment_seasonal_share", series, professions=both,
                                 territories=["FR", "REG-11"])
    counts = queries.observations(store, "recruitment_projects_seasonal", series, professions=both,
                                  territories=["FR", "REG-11"])
    projects = queries.observations(store, "recruitment_projects", series, professions=both,
                                    territories=["FR", "REG-11"])
    assert len(share) == len(counts) > 0
    merged = share.merge(counts, on=["profession_id", "territory_id", "period"], suffixes=("", "_n")).merge(
        projects, on=["profession_id", "territory_id", "period"], suffixes=("", "_d"))
    assert np.allclose(merged.numerator, merged.value_n) and np.allclose(merged.denominator, merged.value_d)
    assert np.allclose(merged.value, 100 * merged.value_n / merged.value_d)
    assert set(merged.loc[merged.status_n == "partial", "status"]) <= {"partial"}


# --- a later vintage, loaded while the dashboard runs ---------------------------------------------------------

FAP2021 = {  # code in BMO 2023 → (code, label) in the fixture's FAP-2021 vintage
    "V4Z83": ("V4X83", "Éducateurs spécialisés et autres intervenants socio-éducatifs"),
    "V5Z84": ("V5X84", "Surveillants et accompagnateurs des élèves en situation de handicap"),
    "T2A60": ("T2A60", "Aides à domicile et auxiliaires de vie"),
}


def later_vintage(source: Path, target: Path, year: int, new_bassin: tuple[int, str] | None = None) -> Path:
    """A BMO workbook for `year`, made from a real vintage: the year, the sheet and bassin column names, and
    three social métiers moved to their FAP-2021 code and scope (as BMO 2025 publishes them). `new_bassin`
    (code, name): the first data row's bassin becomes a bassin no earlier vintage knew. Written once per inputs
    (`store_cache.made_file`, keyed by the arguments and this writer's code too): the writing takes about 9 s."""
    maker = inspect.getsource(_write_later_vintage) + repr(FAP2021)
    arguments = hashlib.sha256(repr((source.name, year, new_bassin, maker)).encode()).hexdigest()[:12]
    return store_cache.made_file(target, f"later-vintage-{arguments}.xlsx",
                                 lambda path: _write_later_vintage(source, path, year, new_bassin))


def _write_later_vintage(source: Path, target: Path, year: int, new_bassin: tuple[int, str] | None) -> None:
    from openpyxl import Workbook
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(source)).get_sheet_by_name(
        next(s for s in CalamineWorkbook.from_path(str(source)).sheet_names if "open_data" in s)).to_python()
    header = [str(h) for h in rows[0]]
    suffix = f"{year % 100:02d}"
    header = [("BE" + suffix) if h.startswith("BE") else ("NOMBE" + suffix) if h.startswith("NOMBE") else h
              for h in header]
    at = {h: i for i, h in enumerate(header)}
    book = Workbook(write_only=True)
    sheet = book.create_sheet(f"BMO_{year}_open_data")
    sheet.append(header)
    for number, row in enumerate(rows[1:]):
        row = list(row)
        row[at["annee"]] = year
        if new_bassin and number == 0:
            row[at["BE" + suffix]], row[at["NOMBE" + suffix]] = new_bassin
        if row[at["Code métier BMO"]] in FAP2021:
            row[at["Code métier BMO"]], row[at["Nom métier BMO"]] = FAP2021[row[at["Code métier BMO"]]]
        sheet.append(row)
    book.save(target)


@pytest.fixture(scope="module")
def running_app(built_store, tmp_path_factory):
    """The dashboard served by its own process (`python app.py`) over a copy of the built store."""
    folder = tmp_path_factory.mktemp("vintage")
    url, env, server = serve_copy(built_store, folder, ["app.py", "--port", "{port}"])
    yield {"url": url, "env": env, "folder": folder}
    server.terminate()
    server.wait(timeout=20)


def api(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def test_a_later_vintage_shows_up_without_a_restart_with_its_breaks(dash_duo, running_app):
    url, env = running_app["url"], running_app["env"]
    year = 2025
    dash_duo.driver.get(url + "/")
    dash_duo.wait_for_contains_text("#home-changes", "Part des projets jugés difficiles", timeout=30)
    assert f"({year})" not in dash_duo.find_element("#home-changes").text

    fixture = later_vintage(BMO_2023, running_app["folder"] / f"Base_open_data_BMO_{year}.xlsx", year)
    loaded = subprocess.run([sys.executable, "-m", "etl", "load", str(fixture)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr

    time.sleep(VERSION_TTL_SECONDS + 0.5)
    dash_duo.driver.get(url + "/")  # the same server process: no restart
    dash_duo.wait_for_contains_text("#home-changes", f"({year})", timeout=30)
    assert "(2023)" in dash_duo.find_element("#home-changes").text  # compared with the previous period

    # a filter changed in the page, not only a URL: the share opens, then the user picks the counts
    dash_duo.driver.get(url + "/recrutement?profession=educateur_specialise")
    dash_duo.wait_for_contains_text("#rec-trend-summary", f"En {year}", timeout=30)
    dash_duo.select_dcc_dropdown("#rec-indicator", value="Projets de recrutement (projets)")
    dash_duo.wait_for_contains_text("#rec-trend .gtitle", f"2017-{year}", timeout=30)  # every vintage, to the new one
    title = dash_duo.find_element("#rec-trend .gtitle").text  # wrapped: « …(projets) – France,<br>2017-2025 »
    assert title.startswith("Projets de recrutement (projets) – France") and f"2017-{year}" in title
    dash_duo.wait_for_contains_text("#rec-trend", f"Rupture de série {year}", timeout=30)
    dash_duo.wait_for_contains_text("#rec-compare .gtitle", str(year), timeout=30)  # opens on the latest period
    assert "indicateur=recruitment_projects" in dash_duo.driver.current_url

    # at phone width the chart keeps its height, its break and the page its width
    dash_duo.driver.set_window_size(390, 844)
    dash_duo.driver.get(dash_duo.driver.current_url)
    dash_duo.wait_for_contains_text("#rec-trend", f"Rupture de série {year}", timeout=30)
    assert dash_duo.find_element("#rec-trend .main-svg").size["height"] > 200
    assert dash_duo.driver.execute_script("return document.documentElement.scrollWidth") <= 400
    dash_duo.driver.set_window_size(1400, 1000)

    body = api(url + "/api/v1/observations?indicator=recruitment_projects&profession=educateur_specialise"
               "&territory=FR&page_size=100")
    rows = {r["period"]: r for r in body["rows"]}
    assert "series_break" in body["columns"]
    assert rows[year]["series_break"] and "V4Z83" in rows[year]["series_break"]
    assert rows[2023]["series_break"] is None
    assert rows[year]["source_id"] == f"ft_bmo_{year}"
    # one profession, one name (the dropdown's) in every vintage; the new vintage's scope is said by its break note
    assert rows[year]["profession_label"] == rows[2023]["profession_label"] == "Éducateurs spécialisés"
    assert "V4X83" in rows[year]["series_break"] and "Champ" in rows[year]["series_break"]

    # the same rows as CSV and XLSX, opened and read back
    query = "indicator=recruitment_projects&profession=educateur_specialise&territory=FR"
    with urllib.request.urlopen(f"{url}/api/v1/observations?{query}&format=csv", timeout=30) as response:
        table = pd.read_csv(response, encoding="utf-8-sig")
    assert table.set_index("period").loc[year, "series_break"] == rows[year]["series_break"]
    assert pd.isna(table.set_index("period").loc[2023, "series_break"])
    with urllib.request.urlopen(f"{url}/api/v1/observations?{query}&format=xlsx", timeout=30) as response:
        sheet = pd.read_excel(io.BytesIO(response.read()), sheet_name="Données")
    assert sheet.set_index("period").loc[year, "series_break"] == rows[year]["series_break"]


def test_the_api_serves_the_computed_seasonal_share(dash_app):
    client = dash_app.server.test_client()
    query = "territory=FR&profession=ensemble&page_size=5"
    share = client.get(f"/api/v1/observations?indicator=recruitment_seasonal_share&{query}").get_json()
    counts = client.get(f"/api/v1/observations?indicator=recruitment_projects_seasonal&{query}").get_json()
    assert share["total"] == counts["total"] >= 7
    seasonal = {r["period"]: r["value"] for r in counts["rows"]}
    for row in share["rows"]:
        assert row["numerator"] == pytest.approx(seasonal[row["period"]])
        assert row["value"] == pytest.approx(100 * row["numerator"] / row["denominator"])
    both = client.get("/api/v1/observations?indicator=recruitment_projects&indicator=recruitment_seasonal_share"
                      f"&{query}&page=2").get_json()  # a page across the stored rows and the computed ones
    assert both["total"] == share["total"] + counts["total"]
    assert [r["indicator_id"] for r in both["rows"]] == ["recruitment_projects"] * 2 + [
        "recruitment_seasonal_share"] * 3


def test_a_store_built_by_an_older_version_is_refused_before_anything_is_written(built_store, tmp_path):
    store = tmp_path / "old.sqlite"
    shutil.copy(built_store.url.database, store)
    with sqlite3.connect(store) as conn:  # what a store of the previous version lacked
        conn.executescript("DROP VIEW observations; DROP TABLE series_break; DROP TABLE vintage_label; "
                           "DROP TABLE store_meta; ALTER TABLE source DROP COLUMN series;")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = store.read_bytes()
    done = subprocess.run([sys.executable, "-m", "etl", "load", "data/real/dares/tensions.csv"], cwd=ROOT,
                          env={**os.environ, "OBSERVATORY_DB": f"sqlite:///{store}"}, capture_output=True, text=True)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "python -m etl build" in errors[0] and "older version" in errors[0]
    assert "Traceback" not in done.stderr
    assert store.read_bytes() == before


def test_running_processes_see_a_rebuild_and_renamed_labels(built_store, tmp_path, monkeypatch):
    from etl.build import _version
    from observatory import views

    path = tmp_path / "copy.sqlite"
    shutil.copy(built_store.url.database, path)
    url = f"sqlite:///{path}"
    store = use_store(monkeypatch, url)
    store.version_ttl = 0.0
    assert views.names.labels(store, "territory")["DEP-69"] == "Rhône"
    with sqlite3.connect(path) as conn:  # what a load does: change, and bump the version in the same transaction
        conn.execute("UPDATE territory SET name = 'Rhône (renommé)' WHERE territory_id = 'DEP-69'")
        conn.execute("UPDATE store_meta SET value = value + 1 WHERE name = 'version'")
    assert views.names.labels(store, "territory")["DEP-69"] == "Rhône (renommé)"
    engine = store.engine
    before = _version(engine)
    from etl import build as build_module
    # a build over one small bundled file: the version is carried the same way whatever the files
    small = [f for f in build_module.bundled_files() if f[0].name == "evol_mmo.csv"]
    monkeypatch.setattr(build_module, "bundled_files", lambda: small)
    build_module.build(engine)
    assert _version(engine) > before  # a rebuilt store is a changed store, never the same version again


def test_exports_name_each_bassin_as_its_vintage_did(query_store):
    """Bassin 0102 (Guadeloupe) was « Basse-Terre » in BMO 2017 and « Bassin Grande-Terre » from 2018: a break, and
    each figure under its own vintage's name, in the streamed export and in the API's pages alike."""
    from observatory import exports

    store = query_store
    selection = queries.Selection(indicators=("recruitment_projects",), territories=("BE-0102-971",),
                                  professions=("ensemble",))
    columns = list(exports.COLUMNS)
    streamed = {row[columns.index("period")]: row for row in exports.stream_rows(store, selection)}
    # the JSON API's pages (page exports are links to the API, so this is what a page's export holds too)
    paged = {row[columns.index("period")]: row
             for chunk in exports.stream_chunks(store, selection, offset=0, limit=50) for row in chunk}
    name, note = columns.index("territory_label"), columns.index("series_break")
    assert streamed[2017][name] == paged[2017][name] == "Basse-Terre"
    assert streamed[2018][name] == paged[2018][name] == "Bassin Grande-Terre"
    assert "renommé" in streamed[2018][note] and streamed[2018][note] == paged[2018][note]
    assert streamed[2019][note] is None
