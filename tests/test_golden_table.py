"""Exact output (golden files) of every rendering of observation rows, on a small store built by the real ETL.

The store: the reference tables, the DARES median salaries (real, `dares_portrait`), one TDBMS illustrative
vintage (breakdowns by category of establishment, secret and illustrative statuses) and the three-row BMO
workbook of `test_exports_api` in two vintages (a métier named by its file, labels that try to be formulas, a
bassin renamed: vintage labels and series breaks): a few seconds, no full build. Each format is compared with
its file under `tests/golden/`, byte for byte for CSV and JSON, cell by cell for XLSX (both sheets; the
extraction date left out), row by row for « voir les données ».

After an intended change of an output, regenerate and review the diff:
    UPDATE_GOLDEN=1 python -m pytest tests/test_golden_table.py -q
Without `UPDATE_GOLDEN` a missing or different golden file fails the test.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import text

from etl.loader import load_file
from observatory import api, exports, queries, schema, table
from observatory.store import Store, get_engine
from observatory.urlstate import Filters
from observatory.views import explorer
from tests.test_exports_api import HEADER, ROWS, TRAP

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
SELECTIONS = {  # golden name → the API's query string
    "salary": "indicator=median_salary&profession=travail_social&profession=ensemble",
    "bmo": "indicator=recruitment_projects&indicator=recruitment_seasonal_share&territory=REG-84&territory=FR",
    "bmo_bassins": "indicator=recruitment_projects&level=bassin",
    "tdbms": ("indicator=turnover_rate&indicator=absenteeism_rate&territory=FR&territory=REG-84&breakdown=total"
              "&breakdown=esms:500&breakdown=esms:183"),
}
FORMATS = {"json": "page_size=40", "json_page2": "page=2&page_size=7", "csv": "format=csv",
           "csv_fr": "format=csv&lang=fr", "xlsx": "format=xlsx", "xlsx_fr": "format=xlsx&lang=fr"}


@pytest.fixture(scope="module")
def small_store(reference_db, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("golden") / "small.sqlite"
    shutil.copy(reference_db, path)
    url = f"sqlite:///{path}"
    engine = get_engine(url)
    for year in (2022, 2023):
        load_file(engine, bmo_workbook(path.parent, year))
    load_file(engine, ROOT / "data/real/dares/salaire_median_3niv.csv", "dares_portrait")
    load_file(engine, ROOT / "data/illustrative/tdbms/ANN_MS_TDP_ET_2023.csv", "tdbms", illustrative=True)
    return url


def bmo_workbook(folder: Path, year: int) -> Path:
    """The three rows of `test_exports_api`; in 2022 a bassin and a file-defined métier are named otherwise (two
    vintages: labels of their own vintage and series-break notes)."""
    header = [{"BE23": f"BE{year % 100}", "NOMBE23": f"NOMBE{year % 100}"}.get(h, h) for h in HEADER]
    renamed = {(2, TRAP): "Autre métier, ancien libellé", (6, "BOURG"): "BOURG-EN-BRESSE"} if year == 2022 else {}
    rows = [[year if c == 0 else renamed.get((c, v), v) for c, v in enumerate(row)] for row in ROWS]
    book = openpyxl.Workbook()
    book.active.title = "Description des variables"
    sheet = book.create_sheet(f"BMO_{year}_open_data")
    for r, row in enumerate([header, *rows], start=1):
        for c, value in enumerate(row, start=1):
            sheet.cell(r, c, value).data_type = "s" if isinstance(value, str) else "n"
    book.save(folder / f"Base_open_data_BMO_{year}.xlsx")
    return folder / f"Base_open_data_BMO_{year}.xlsx"


@pytest.fixture
def client(small_store):
    server = Flask(__name__)
    api.register(server, Store(small_store))
    return server.test_client()


def check_golden(name: str, data: bytes) -> None:
    """Compare with `tests/golden/<name>` (or write it, with UPDATE_GOLDEN=1)."""
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return
    assert path.is_file(), f"no golden file {path}: run with UPDATE_GOLDEN=1 and review it"
    assert data == path.read_bytes(), f"{name} differs from its golden file (UPDATE_GOLDEN=1 after review)"


def cells(body: bytes) -> bytes:
    """Both sheets' cell values as JSON lines, the extraction date (the only moving cell) blanked."""
    book = load_workbook(io.BytesIO(body), read_only=True)
    lines = []
    for sheet in book.worksheets:
        lines.append(json.dumps(sheet.title, ensure_ascii=False))
        for row in sheet.iter_rows(values_only=True):
            row = list(row)
            if row and row[0] == "Date d'extraction":
                row[1] = "<date>"
            lines.append(json.dumps(row, ensure_ascii=False, default=str))
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("selection", SELECTIONS)
def test_api_and_exports_match_their_golden_files(client, selection, fmt):
    response = client.get(f"/api/v1/observations?{SELECTIONS[selection]}&{FORMATS[fmt]}")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_data()
    if fmt.startswith("xlsx"):
        check_golden(f"{selection}.{fmt}.jsonl", cells(body))
    else:
        check_golden(f"{selection}.{fmt}.{'csv' if fmt.startswith('csv') else 'json'}", body)


PAGES = {  # golden name → an explorer page and its filters
    "recrutement": (explorer.RECRUTEMENT, Filters("recruitment_projects", territory="REG-84")),
    # rows named by their own vintage, as in the exports: the bassin renamed, the métier the file names
    "recrutement_bassin_renamed": (explorer.RECRUTEMENT, Filters("recruitment_projects", territory="BE-8401-01")),
    "recrutement_file_metier": (explorer.RECRUTEMENT, Filters("recruitment_projects", profession="fap2009_ZZ999")),
    "rh_turnover_fr": (explorer.RESSOURCES_HUMAINES, Filters("turnover_rate")),
    "rh_absenteeism_region": (explorer.RESSOURCES_HUMAINES, Filters("absenteeism_rate", territory="REG-84",
                                                                    breakdown="esms:500")),
}


@pytest.mark.parametrize("page", PAGES)
def test_page_tables_match_their_golden_files(small_store, page):
    """« Voir les données » under both charts of an explorer page."""
    view = explorer.explorer_view(Store(small_store), *PAGES[page])
    text = json.dumps({"filters": view.filters.__dict__, "trend": view.trend_table, "compare": view.compare_table},
                      ensure_ascii=False, indent=1, default=str)
    check_golden(f"page_{page}.json", (text + "\n").encode())


@pytest.mark.parametrize("on_profession, on_territory", [
    (None, None), ("code modifié", None), (None, "bassin redécoupé"), ("code modifié", "bassin redécoupé")])
def test_the_views_break_note_is_the_tables(on_profession, on_territory):
    """The SQL view `observations` writes a figure's break note by the rule of `table.break_note`."""
    with sqlite3.connect(":memory:") as conn:
        sql = schema.BREAK_NOTE.replace("bp.note", ":p").replace("bt.note", ":t")
        found = conn.execute(f"SELECT {sql}", {"p": on_profession, "t": on_territory}).fetchone()[0]
    assert found == table.break_note(on_profession, on_territory)


def test_the_sql_view_and_the_exports_give_every_figure_the_same_break_note(small_store):
    """Analysts' `observations` view and the named rows of every export: one note per figure, the same."""
    with get_engine(small_store).connect() as conn:
        view = {tuple(r[:6]): r[6] for r in conn.execute(text(
            "SELECT indicator_id, profession_id, territory_id, COALESCE(breakdown, ''), period, source_id, "
            "series_break FROM observations")).all()}
    rows = exports.stream_rows(Store(small_store), queries.Selection(breakdowns=None, include_private=True))
    named = {(r[0], r[2], r[4], r[7] or "", r[8], r[15]): r[17] for r in rows}
    assert named == view and sum(note is not None for note in named.values()) >= 6
