"""Issue 17, analysts: the code lists are JSON (or CSV) read from the store, any other `/api/…` path is a JSON
404 (never the dashboard's page), French exports are rounded as the pages show them, files are named after
what they hold."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import text

from observatory import catalogue, queries
from observatory.formatting import NNBSP, number
from tests.conftest import ROOT, copy_store, use_store

FILENAME = re.compile(r'attachment; filename="(observatoire_[a-z0-9-]+_[a-z0-9-]+_(\d{4}-\d{2}-\d{2})\.(csv|xlsx))"$')


@pytest.fixture
def client(dash_app):
    return dash_app.server.test_client()


def _sql(engine, sql: str, **params) -> list:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def test_territories_are_the_stores_with_their_insee_codes(client, built_store):
    response = client.get("/api/v1/territories")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json; charset=utf-8"
    entries = response.get_json()
    assert all(set(e) == {"id", "label", "level", "parent", "codes"} for e in entries)
    by_id = {e["id"]: e for e in entries}
    stored = _sql(built_store, "SELECT territory_id, name, level, parent_id, code FROM territory")
    assert len(entries) == len(by_id) == len(stored)
    for level in ("region", "departement"):
        count = _sql(built_store, "SELECT COUNT(*) FROM territory WHERE level = :level", level=level)[0][0]
        assert count > 0 and sum(e["level"] == level for e in entries) == count
    for territory_id, name, level, parent, code in stored:
        entry = by_id[territory_id]
        assert (entry["label"], entry["level"], entry["parent"]) == (name, level, parent)
        assert code in entry["codes"].values()
        assert parent is None or parent in by_id  # every parent is in the list
    # the Insee COG: a département's label and code are the reference file's
    cog = pd.read_csv(ROOT / "data/reference/insee_cog2020_departement.csv", dtype=str)
    gironde = cog.loc[cog.dep == "33"].iloc[0]
    assert by_id["DEP-33"]["label"] == gironde.libelle and by_id["DEP-33"]["codes"] == {"insee_cog": "33"}
    assert by_id["DEP-33"]["parent"] == f"REG-{gironde.reg}" and by_id[f"REG-{gironde.reg}"]["level"] == "region"
    departements = [e for e in entries if e["level"] == "departement"]
    assert {e["codes"]["insee_cog"] for e in departements} >= set(cog.dep)


def test_professions_carry_their_codes_in_each_nomenclature(client, built_store):
    entries = client.get("/api/v1/professions").get_json()
    assert all(set(e) == {"id", "label", "level", "parent", "is_social_work", "codes"} for e in entries)
    by_id = {e["id"]: e for e in entries}
    stored = _sql(built_store, "SELECT profession_id, label, level, parent_id FROM profession")
    assert len(by_id) == len(entries) == len(stored)
    assert all((by_id[i]["label"], by_id[i]["level"], by_id[i]["parent"]) == (label, level, parent)
               for i, label, level, parent in stored)
    crosswalk = _sql(built_store, "SELECT nomenclature, source_code, profession_id FROM profession_crosswalk")
    assert len(crosswalk) > 0
    for nomenclature, code, profession_id in crosswalk:
        assert code in by_id[profession_id]["codes"][nomenclature]
    assert sum(len(codes) for e in entries for codes in e["codes"].values()) == len(crosswalk)
    nomenclatures = {n for n, _c, _p in crosswalk}
    assert {"fap2009", "fap87", "rome"} <= nomenclatures
    # the reference crosswalk file's rows are there, as the file says
    reference = pd.read_csv(ROOT / "data/reference/profession_crosswalk.csv", dtype=str).iloc[0]
    assert reference.source_code in by_id[reference.profession_id]["codes"][reference.nomenclature]
    # CSV: one row per profession, one column per nomenclature
    response = client.get("/api/v1/professions?format=csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="observatoire_metiers_\d{4}-\d{2}-\d{2}\.csv"',
                        response.headers["Content-Disposition"])
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert len(rows) == len(entries)
    assert {f"code_{n}" for n in nomenclatures} <= set(rows[0])
    row = next(r for r in rows if r["id"] == reference.profession_id)
    assert reference.source_code in row[f"code_{reference.nomenclature}"].split(" | ")


@pytest.fixture
def private_store(built_store, tmp_path, monkeypatch):
    """A copy of the built store holding an HR director's own figures and a source row marked private."""
    from etl.loader import load_file

    engine = copy_store(built_store, tmp_path / "copy.sqlite")
    load_file(engine, ROOT / "data/templates/exemple_mon_etablissement.xlsx", "tdbms")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO source (source_id, key, producer, title, is_illustrative, scope) "
                          "VALUES (:id, (SELECT MAX(key) + 1 FROM source), :producer, :title, :no, :scope)"),
                     {"id": "own_figures_test", "producer": "Mon établissement", "title": "Mes chiffres",
                      "no": False, "scope": "private"})
    store = use_store(monkeypatch, str(engine.url))
    queries.clear_caches(store)
    yield engine
    queries.clear_caches(store)
    engine.dispose()


def test_sources_are_the_published_ones_never_the_private(client, private_store):
    entries = client.get("/api/v1/sources").get_json()
    fields = {"id", "producer", "title", "vintage", "licence", "url", "series", "is_illustrative", "adapter", "note"}
    assert all(set(e) == fields for e in entries)
    published = _sql(private_store, "SELECT source_id, producer, title, vintage, licence, url, is_illustrative "
                                    "FROM source WHERE scope = :scope", scope="published")
    assert sorted(e["id"] for e in entries) == sorted(r[0] for r in published)
    by_id = {e["id"]: e for e in entries}
    for source_id, producer, title, vintage, licence, url, illustrative in published:
        assert (by_id[source_id]["producer"], by_id[source_id]["title"], by_id[source_id]["vintage"],
                by_id[source_id]["licence"], by_id[source_id]["url"]) == (producer, title, vintage, licence, url)
        assert by_id[source_id]["is_illustrative"] is bool(illustrative)
    assert "own_figures_test" not in by_id and any(e["is_illustrative"] for e in entries)
    assert _sql(private_store, "SELECT COUNT(*) FROM private_upload")[0][0] == 1
    assert "own_figures_test" not in client.get("/api/v1/sources?format=csv").get_data().decode("utf-8")


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v2/x", "/api", "/api/", "/api/v1/observations/extra",
                                  "/api/v1/territories/DEP-33"])
def test_unknown_api_paths_are_json_404s(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    message = response.get_json()["error"]
    assert message.index("chemin inconnu") < message.index("unknown path") and "/api/v1/observations" in message
    assert b"<html" not in response.get_data().lower()


def test_the_dashboard_still_answers_its_own_paths_and_the_api_is_read_only(client):
    assert b"<html" in client.get("/pas-une-page").get_data().lower()  # Dash's 404 page, not the API's
    refused = client.post("/api/v1/observations")
    assert refused.status_code == 405 and "lecture seule" in refused.get_json()["error"]
    assert client.get("/api/v1/territories?niveau=region").status_code == 400
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/territories", "/api/v1/professions", "/api/v1/sources"} <= set(spec["paths"])


FRENCH_QUERY = ("/api/v1/observations?indicator=turnover_rate&indicator=recruitment_projects&indicator=tension_index"
                "&territory=REG-53&territory=FR")


def _count(value) -> str:
    """A count as « voir les données » shows it (one decimal), « ,0 » dropped."""
    shown = number(value, 1).replace(NNBSP, "")
    return shown.removesuffix(",0")


def test_french_csv_is_rounded_as_on_screen_and_json_keeps_full_precision(client):
    rows = client.get(FRENCH_QUERY + "&page_size=10000").get_json()["rows"]
    response = client.get(FRENCH_QUERY + "&format=csv&lang=fr")
    french = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))[1:]
    assert len(french) == len(rows) > 0
    precise = 0
    for row, line in zip(rows, french):
        assert line[0] == row["indicator_id"] and int(line[8]) == row["period"]
        decimals = catalogue.get(row["indicator_id"]).decimals
        value, numerator, denominator = line[9], line[11], line[12]
        if row["value"] is None:
            assert value == ""
        else:
            assert value == number(row["value"], decimals).replace(NNBSP, "")  # the screen's text, ungrouped
            precise += round(row["value"], decimals) != row["value"]
        for shown, full in ((numerator, row["numerator"]), (denominator, row["denominator"])):
            assert shown == ("" if full is None else _count(full))
            assert not shown.endswith(",0")  # « 678,0 » is « 678 »
    assert precise > 0  # the JSON has more decimals than the page shows: the test compares something
    assert {r["indicator_id"] for r in rows} == {"turnover_rate", "recruitment_projects", "tension_index"}
    assert any(line[11] and "," not in line[11] for line in french)  # whole counts are integers
    comma = list(csv.reader(io.StringIO(client.get(FRENCH_QUERY + "&format=csv&lang=fr&sep=comma")
                                        .get_data().decode("utf-8-sig"))))[1:]
    assert [line[9] for line in comma] == [line[9].replace(",", ".") for line in french]


def test_french_xlsx_stores_the_rounded_values(client):
    rows = client.get(FRENCH_QUERY + "&page_size=10000").get_json()["rows"]
    book = openpyxl.load_workbook(io.BytesIO(client.get(FRENCH_QUERY + "&format=xlsx&lang=fr").get_data()))
    cells = list(book["Données"].iter_rows(min_row=2))
    assert len(cells) == len(rows)
    for row, line in zip(rows, cells):
        decimals = catalogue.get(row["indicator_id"]).decimals
        value = line[9]
        if row["value"] is not None:
            assert value.value == pytest.approx(float(f"{row['value']:.{decimals}f}"), abs=1e-12)
            assert value.number_format == "#,##0" + ("." + "0" * decimals if decimals else "")
        for cell, full in ((line[11], row["numerator"]), (line[12], row["denominator"])):
            assert cell.value == (None if full is None else pytest.approx(float(f"{full:.1f}"), abs=1e-12))
    meta = {r[0]: r[1] for r in book["Métadonnées"].iter_rows(values_only=True) if r[0]}
    assert meta["Précision"].startswith("Valeurs arrondies comme à l'écran")
    english = openpyxl.load_workbook(io.BytesIO(client.get(FRENCH_QUERY + "&format=xlsx").get_data()))
    assert [c[9].value for c in english["Données"].iter_rows(min_row=2)] == [r["value"] for r in rows]


@pytest.mark.parametrize("query,name", [
    ("indicator=turnover_rate&territory=REG-53&format=csv&lang=fr", "taux-de-rotation_bretagne"),
    ("indicateur=turnover_rate&territoire=REG-53&format=xlsx&lang=fr", "taux-de-rotation_bretagne"),
    ("indicator=turnover_rate&indicator=exit_rate&territory=DEP-33&format=csv", "plusieurs-indicateurs_gironde"),
    ("indicator=recruitment_projects&territory=REG-53&territory=FR&format=csv", "projets-de-recrutement_"
                                                                                "plusieurs-territoires"),
    ("indicator=recruitment_projects&level=departement&format=csv", "projets-de-recrutement_departements"),
    ("format=csv&period=2017", "tous-indicateurs_tous-territoires"),
])
def test_export_files_are_named_after_what_they_hold(client, query, name):
    response = client.get(f"/api/v1/observations?{query}")
    assert response.status_code == 200 and response.get_data()  # read: the stream closes its request context
    match = FILENAME.fullmatch(response.headers["Content-Disposition"])
    assert match, response.headers["Content-Disposition"]
    extension = "xlsx" if "format=xlsx" in query else "csv"
    assert match.group(1) == f"observatoire_{name}_{date.today().isoformat()}.{extension}"
    assert "observations" not in match.group(1)


def test_code_lists_read_alike_on_sqlite_and_postgresql(store):
    """The readers behind the API on both backends: booleans as booleans, parents and codes as stored."""
    from observatory import codelists

    url = store.url.render_as_string(hide_password=False)
    territories = {e["id"]: e for e in codelists.territories(url)}
    assert len(territories) == _sql(store, "SELECT COUNT(*) FROM territory")[0][0] > 0
    cog = pd.read_csv(ROOT / "data/reference/insee_cog2020_departement.csv", dtype=str)
    gironde = cog.loc[cog.dep == "33"].iloc[0]
    assert territories["DEP-33"] == {"id": "DEP-33", "label": gironde.libelle, "level": "departement",
                                     "parent": f"REG-{gironde.reg}", "codes": {"insee_cog": "33"}}
    professions = codelists.professions(url)
    assert len(professions) == _sql(store, "SELECT COUNT(*) FROM profession")[0][0]
    assert all(isinstance(e["is_social_work"], bool) for e in professions)
    assert sum(len(c) for e in professions for c in e["codes"].values()) == \
        _sql(store, "SELECT COUNT(*) FROM profession_crosswalk")[0][0]
    sources = codelists.sources(url)
    assert [e["id"] for e in sources] == [r[0] for r in _sql(
        store, "SELECT source_id FROM source WHERE scope = :scope ORDER BY key", scope="published")]
    assert all(isinstance(e["is_illustrative"], bool) for e in sources)
