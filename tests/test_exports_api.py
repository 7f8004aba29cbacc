"""Exports and the HTTP API: the same figures as on screen, inert in a spreadsheet, streamed, validated."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys

import openpyxl
import pytest

from observatory import api, download, exports, figures
from observatory.formatting import number
from observatory.urlstate import Filters
from tests.conftest import EVOL_MMO, ROOT, use_store

TRAP = '=HYPERLINK("http://example.invalid","x")'
HEADER = ["annee", "Code métier BMO", "Nom métier BMO", "Famille_met", "Lbl_fam_met", "BE23", "NOMBE23", "Dept",
          "NomDept", "REG", "NOM_REG", "met", "xmet", "smet"]
ROWS = [
    [2023, "V4Z83", "Educateurs spécialisés", "S", "Social", 1101, "PARIS", "75", "Paris", "11", "IDF", "120", "80",
     "*"],
    [2023, "V4Z83", "Educateurs spécialisés", "S", "Social", 8401, "BOURG", "01", "Ain", "84", "ARA", "30", "*",
     "0"],
    [2023, "ZZ999", TRAP, "Z", "Autres", 8401, TRAP, "01", "Ain", "84", "ARA", "7", "2", "1"],
]


@pytest.fixture(scope="module")
def small_store(reference_db, tmp_path_factory):
    """A real SQLite store: DARES rates and a small BMO workbook whose labels try to be formulas."""
    from etl.loader import load_file
    from observatory.store import get_engine

    folder = tmp_path_factory.mktemp("small")
    path = folder / "small.sqlite"
    shutil.copy(reference_db, path)
    book = openpyxl.Workbook()
    book.active.title = "Description des variables"
    sheet = book.create_sheet("BMO_2023_open_data")
    for r, row in enumerate([HEADER, *ROWS], start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(r, c, value)
            if isinstance(value, str):
                cell.data_type = "s"  # text in the source file, even when it looks like a formula
    book.save(folder / "Base_open_data_BMO_2023.xlsx")
    engine = get_engine(f"sqlite:///{path}")
    load_file(engine, folder / "Base_open_data_BMO_2023.xlsx")
    load_file(engine, EVOL_MMO)
    return f"sqlite:///{path}"


@pytest.fixture
def client(dash_app, small_store, monkeypatch):
    use_store(monkeypatch, small_store)
    return dash_app.server.test_client()


def read_csv(response) -> list[dict]:
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_csv_and_xlsx_equal_the_data_page_cell_by_cell(client, small_store, app_context):
    from pages import donnees

    f = Filters("recruitment_projects", profession="ensemble", territory="", level="region", period=2023,
                source="ft_bmo_2023")
    page_rows, total, _ = donnees.rows(f)
    query = ("/api/v1/observations?indicator=recruitment_projects&profession=ensemble&level=region&period=2023"
             "&source=ft_bmo_2023&breakdown=total")
    rows = read_csv(client.get(query + "&format=csv"))
    assert len(rows) == total == 2
    pairs = zip(sorted(page_rows, key=lambda r: r["Code"]), sorted(rows, key=lambda r: r["territory_id"]))
    for shown, exported in pairs:
        assert shown["Code"] == exported["territory_id"]
        assert shown["Territoire"] == exported["territory_label"]
        assert shown["Année"] == int(exported["period"])
        assert shown["Valeur"] == number(float(exported["value"]), 0)
        assert shown["Statut"] == (figures.STATUS_LABELS[exported["status"]] or "publié") == \
            exports.status_label(exported["status"])
        assert shown["Source"] == exported["source_id"]
    book = openpyxl.load_workbook(io.BytesIO(client.get(query + "&format=xlsx").get_data()))
    sheet = book["Données"]
    header = [c.value for c in sheet[1]]
    xlsx_rows = [dict(zip(header, [c.value for c in row])) for row in sheet.iter_rows(min_row=2)]
    assert [(r["territory_id"], r["value"], r["status"]) for r in xlsx_rows] == \
        [(r["territory_id"], float(r["value"]), r["status"]) for r in rows]
    meta = {row[0].value: row[1].value for row in book["Métadonnées"].iter_rows() if row[0].value}
    assert meta["Nombre de lignes"].startswith("2 ")
    # filters written in French (issue 11), the codes kept in brackets
    assert "indicateur : Projets de recrutement (recruitment_projects)" in meta["Filtres"]
    assert meta["Lien permanent"].endswith("format=xlsx")
    assert "Projets de recrutement" in meta and "partial" in meta and "Date d'extraction" in meta


def test_the_page_export_is_the_page_view(small_store, monkeypatch, dash_app, app_context):
    from pages import donnees

    store = use_store(monkeypatch, small_store)
    f = donnees.resolve("recruitment_difficulty_share", "educateur_specialise", "departement", None, None)
    page_rows, total, _ = donnees.rows(f)
    # the page's export is the API's rows for the page's selection (one row builder, `exports._named`)
    exported = list(exports.stream_rows(store, donnees.selection_for(f)))
    assert len(exported) == total and sorted(r[4] for r in exported) == sorted(r["Code"] for r in page_rows)


def test_formula_labels_come_out_inert(client):
    rows = read_csv(client.get("/api/v1/observations?profession=fap2009_ZZ999&format=csv"))
    assert rows and all(r["profession_label"] == "'" + TRAP for r in rows)
    assert not any(value.startswith(download.FORMULA_START) for r in rows for key, value in r.items()
                   if key.endswith("_label"))
    book = openpyxl.load_workbook(io.BytesIO(client.get("/api/v1/observations?profession=fap2009_ZZ999&format=xlsx")
                                             .get_data()))
    cells = [c for row in book["Données"].iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert any(c.value == "'" + TRAP for c in cells)
    assert all(c.data_type == "s" and not c.value.startswith(download.FORMULA_START) for c in cells)
    assert download.safe_text("-1+2") == "'-1+2" and download.safe_text("\tx") == "'\tx"


def test_json_is_paginated_with_the_total(client):
    first = client.get("/api/v1/observations?indicator=turnover_rate_all_contracts&page_size=10").get_json()
    assert first["total"] > 10 and len(first["rows"]) == 10 and first["pages"] == -(-first["total"] // 10)
    assert first["next"].endswith("page=2")
    every = client.get("/api/v1/observations?indicator=turnover_rate_all_contracts"
                       f"&page_size={first['total']}").get_json()
    assert len(every["rows"]) == first["total"] and every["next"] is None
    entries = client.get("/api/v1/observations?indicator=entry_rate_all_contracts&page_size=1").get_json()["total"]
    exits = client.get("/api/v1/observations?indicator=exit_rate_all_contracts&page_size=1").get_json()["total"]
    repeated = client.get("/api/v1/observations?indicator=entry_rate_all_contracts"
                          "&indicator=exit_rate_all_contracts&page_size=1").get_json()
    assert repeated["total"] == entries + exits and entries > 0


@pytest.mark.parametrize("query, message", [
    ("foo=1", "unknown parameter(s): foo"), ("indicator=nope", "unknown indicator value(s): nope"),
    ("territory=DEP-99", "unknown territory value(s): DEP-99"), ("period=20x3", "period must be a year"),
    ("format=pdf", "format must be json, csv or xlsx"), ("page_size=100000", "page_size must be an integer"),
    ("level=planete", "unknown level value(s): planete"), ("breakdown=x", "breakdown must be"),
    ("source=own_tdbms_x", "unknown source value(s)"),
])
def test_bad_parameters_give_400_naming_them(client, query, message):
    response = client.get(f"/api/v1/observations?{query}")
    assert response.status_code == 400 and message in response.get_json()["error"]


def test_catalogue_and_openapi(client):
    catalogue = client.get("/api/v1/indicators").get_json()
    assert {"turnover_rate", "graduates"} <= {i["indicator_id"] for i in catalogue}
    spec = client.get("/api/v1/openapi.json").get_json()
    parameters = {p["name"] for p in spec["paths"]["/api/v1/observations"]["get"]["parameters"]}
    assert {"indicator", "profession", "territory", "level", "period", "format", "sep", "page"} <= parameters


def test_semicolon_option_for_french_spreadsheets(client):
    text = client.get("/api/v1/observations?indicator=turnover_rate_all_contracts&period=2014&format=csv"
                      "&sep=semicolon").get_data().decode("utf-8")
    header, *lines = text.lstrip("\ufeff").splitlines()
    assert header.startswith("indicator_id;indicator_label;")
    values = [line.split(";")[header.split(";").index("value")] for line in lines]
    assert any("," in v for v in values) and not any("." in v for v in values)  # 71.65 written 71,65


# One export in a fresh process: how far its anonymous memory (RssAnon, sampled every 5 ms; the store's pages
# read through mmap are the OS's file cache, not the export's) rises above the warmed-up process's.
EXPORT_RSS = """
import sys, threading, time
from observatory import exports, queries
from observatory.store import Store

def anon():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("RssAnon"))

store = Store(sys.argv[1])
selection = queries.Selection(indicators=tuple(sys.argv[2].split(",")), breakdowns=None)
for _ in exports.csv_chunks(exports.stream_chunks(store, selection, limit=2 * exports.CHUNK)):  # names, dimensions
    pass
before, peak, done = anon(), [0], threading.Event()

def sample():
    while not done.is_set():
        peak[0] = max(peak[0], anon())
        time.sleep(0.005)

sampler = threading.Thread(target=sample)
sampler.start()
rows = exports.stream_chunks(store, selection, offset=2 * exports.CHUNK, limit=int(sys.argv[3]))
size = sum(len(block) for block in exports.csv_chunks(rows))
done.set()
sampler.join()
print(size, max(peak[0], anon()) - before)
"""


def test_streaming_a_large_export_keeps_memory_flat(built_store):
    """Writing 15× more rows takes about the same memory: how far a whole process's anonymous memory rises during
    the export (a fresh process for each, at full speed; tracemalloc made this test take a minute)."""

    def growth(rows: int) -> tuple[int, int]:
        bmo = ("recruitment_projects", "recruitment_projects_difficult", "recruitment_difficulty_share")
        done = subprocess.run([sys.executable, "-c", EXPORT_RSS, str(built_store.url), ",".join(bmo), str(rows)],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        size, grown = map(int, done.stdout.split())
        return grown, size

    small, small_size = growth(5 * exports.CHUNK)
    large, large_size = growth(80 * exports.CHUNK)
    assert large_size > 15 * small_size
    # holding the large export's 400,000 rows at once would take hundreds of MB; a chunk of rows is a few MB
    print(f"memory growth: {small / 1e6:.1f} MB ({small_size / 1e6:.0f} MB of CSV), "
          f"{large / 1e6:.1f} MB ({large_size / 1e6:.0f} MB)")
    assert large < small + 24_000_000, (small, large, large_size)


def test_cli_export_has_the_api_options(small_store, tmp_path):
    out = tmp_path / "export.csv"
    done = subprocess.run([sys.executable, "-m", "etl", "export", "--indicator", "turnover_rate_all_contracts",
                           "--sep", "semicolon", "-o", str(out)], cwd=ROOT, capture_output=True, text=True,
                          env={**__import__("os").environ, "OBSERVATORY_DB": small_store})
    assert done.returncode == 0, done.stderr
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("indicator_id;") and f"({len(lines) - 1:,} rows" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "etl", "export", "--indicator", "nope", "-o", str(out)], cwd=ROOT,
                         capture_output=True, text=True,
                         env={**__import__("os").environ, "OBSERVATORY_DB": small_store})
    assert bad.returncode == 2 and "unknown indicator value(s): nope" in bad.stderr


def _links(client, output_id: str, values: dict) -> tuple[str, str]:
    """The export links a page's callback writes for the given dropdown values (as the browser asks for them)."""
    spec = next(s for s in client.get("/_dash-dependencies").get_json()
                if f"{output_id}-export-csv.href" in s["output"])
    outputs = [dict(zip(("id", "property"), o.split("."))) for o in spec["output"].strip(".").split("...")]
    payload = {
        "output": spec["output"], "outputs": outputs,
        "inputs": [{"id": i["id"], "property": i["property"], "value": values.get(i["id"])} for i in spec["inputs"]],
        "state": [{"id": s["id"], "property": s["property"], "value": values.get(s["id"])} for s in spec["state"]],
        "changedPropIds": [f"{spec['inputs'][0]['id']}.value"],
    }
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200, response.get_data()[:300]
    answer = response.get_json()["response"]
    return answer[f"{output_id}-export-csv"]["href"], answer[f"{output_id}-export-xlsx"]["href"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_data_page_export_links_are_the_api_with_the_view(client, fmt):
    """Issue 11: the export buttons are links to the API with the page's selection (French, `;`)."""
    values = {"data-indicator": "recruitment_projects", "data-profession": "ensemble", "data-level": "region",
              "data-period": 2023, "data-source": "ft_bmo_2023"}
    csv_href, xlsx_href = _links(client, "data", values)
    href = csv_href if fmt == "csv" else xlsx_href
    assert href.startswith("/api/v1/observations?") and f"format={fmt}&lang=fr" in href
    content = client.get(href).get_data()
    api = client.get("/api/v1/observations?indicator=recruitment_projects&profession=ensemble&level=region"
                     f"&period=2023&source=ft_bmo_2023&breakdown=total&format={fmt}&lang=fr").get_data()
    if fmt == "csv":
        assert content == api
    else:
        ours, theirs = (openpyxl.load_workbook(io.BytesIO(b)) for b in (content, api))
        assert [[c.value for c in r] for r in ours["Données"].iter_rows()] == \
            [[c.value for c in r] for r in theirs["Données"].iter_rows()]
        meta = {row[0].value: row[1].value for row in ours["Métadonnées"].iter_rows() if row[0].value}
        assert meta["Lien permanent"].startswith("http://localhost/donnees?") and "annee=2023" in meta["Lien permanent"]


def test_explorer_export_links_hold_the_rows_behind_the_charts(client):
    store = client.application.config[api.STORE_KEY]  # the small store the client serves
    from observatory import views

    values = {"rec-indicator": "recruitment_projects", "rec-profession": "educateur_specialise",
              "rec-territory": "FR", "rec-period": 2023, "rec-source": "ft_bmo_2023"}
    csv_href, _xlsx = _links(client, "rec", values)
    text = client.get(csv_href).get_data().decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    view = views.explorer.explorer_view(store, views.explorer.RECRUTEMENT, Filters(
        "recruitment_projects", profession="educateur_specialise", period=2023, source="ft_bmo_2023"))
    shown = views.explorer.view_frame(view)
    exported = {(r["Code métier"], int(r["Année"]), float(r["Valeur"].replace(",", "."))) for r in rows if r["Valeur"]}
    # every row behind the two charts is in the file (the selection is their product: a few more may be)
    assert len(shown) > 0 and {(p, int(y), v) for p, y, v in zip(shown.profession_id, shown.period, shown.value)
                               if v == v} <= exported
