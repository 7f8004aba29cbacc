"""Issue 11, the analyst's journey: French exports (headers, status labels, `;`, decimal commas, number formats),
the contract's English output unchanged, readable French 400s, and the data page's export links in a browser."""
from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
import urllib.request

import openpyxl
import pandas as pd
import pytest

from observatory import catalogue, exports
from observatory.formatting import NNBSP, number
from tests.conftest import ROOT

QUERY = "/api/v1/observations?indicator=turnover_rate&territory=REG-53&period=2022&period=2023"
FRENCH_HEADER = ("Code indicateur;Indicateur;Code métier;Filière, groupe ou métier;Code territoire;Territoire;"
                 "Niveau territorial;Sous-population (catégorie d'établissement, tranche d'âge, motif de sortie);"
                 "Année;Valeur;Unité;Numérateur;Dénominateur;Statut;"
                 "Calculé;Code source;Source;Rupture de série")


@pytest.fixture
def client(dash_app):
    return dash_app.server.test_client()


def _french_number(text: str, decimals: int | None) -> str:
    """As the pages show it (issue 17): the value at its catalogue decimals, a count at one decimal without
    « ,0 »; no thousands separator in a file."""
    if not text:
        return ""
    shown = number(float(text), 1 if decimals is None else decimals).replace(NNBSP, "")
    return shown.removesuffix(",0") if decimals is None else shown


def test_french_csv_exact_output(client):
    english = client.get(QUERY + "&format=csv")
    french = client.get(QUERY + "&format=csv&lang=fr")
    assert french.headers["Content-Type"] == english.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = french.get_data().decode("utf-8")
    assert text.startswith("\ufeff" + FRENCH_HEADER + "\r\n")
    rows = list(csv.DictReader(io.StringIO(english.get_data().decode("utf-8").lstrip("\ufeff"))))
    assert len(rows) >= 2
    expected = []
    for r in rows:
        cells = [r[c] for c in exports.COLUMNS]
        for c in ("value", "numerator", "denominator"):
            decimals = catalogue.get(r["indicator_id"]).decimals if c == "value" else None
            cells[exports.COLUMNS.index(c)] = _french_number(r[c], decimals)
        cells[exports.COLUMNS.index("status")] = exports.status_label(r["status"])
        cells[exports.COLUMNS.index("is_derived")] = "oui" if r["is_derived"] == "1" else "non"
        expected.append(";".join(cells) + "\r\n")
    assert text == "\ufeff" + FRENCH_HEADER + "\r\n" + "".join(expected)  # every byte
    assert ";données fictives calibrées;" in text  # the status as the pages show it
    values = [line.split(";")[9] for line in text.splitlines()[1:]]
    assert all("." not in v for v in values) and any("," in v for v in values)
    # the status labels are the ones the pages show: one table in the core
    assert exports.status_label("ok") == "publié" and exports.status_label("secret") == "secret statistique"
    assert exports.status_label("partial").startswith("partiel")
    # sep=comma stays available in French: `,` separator, decimal points
    comma = client.get(QUERY + "&format=csv&lang=fr&sep=comma").get_data().decode("utf-8")
    header = FRENCH_HEADER.replace(";", ",")
    for label in ("Filière, groupe ou métier", exports.FRENCH_HEADERS["breakdown"]):  # labels holding a comma
        header = header.replace(label.replace(";", ","), f'"{label}"')
    assert comma.startswith("\ufeff" + header + "\r\n") and "." in comma.splitlines()[1]


def test_the_contract_english_csv_is_unchanged(client):
    """The default (no `lang`) is the data contract's codes, byte for byte the CSV of the JSON rows."""
    default = client.get(QUERY + "&format=csv").get_data()
    assert client.get(QUERY + "&format=csv&lang=en").get_data() == default
    body = client.get(QUERY + "&page_size=10000").get_json()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(exports.COLUMNS)
    writer.writerows([r[c] for c in exports.COLUMNS] for r in body["rows"])
    assert default == ("\ufeff" + buffer.getvalue()).encode("utf-8")
    assert default.startswith(b"\xef\xbb\xbfindicator_id,indicator_label,profession_id,")
    semicolon = client.get(QUERY + "&format=csv&sep=semicolon").get_data().decode("utf-8")
    assert semicolon.lstrip("\ufeff").startswith("indicator_id;indicator_label;")  # the contract's sep=semicolon
    assert b"statut" not in default.lower() and b"illustrative" in default


def test_french_xlsx_number_formats_and_metadata(client):
    response = client.get("/api/v1/observations?indicator=turnover_rate&indicator=recruitment_projects"
                          "&territory=REG-53&period=2023&format=xlsx&lang=fr&permalink=/donnees%3Fterritoire%3DREG-53")
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    sheet = book["Données"]
    header = [c.value for c in sheet[1]]
    assert header == FRENCH_HEADER.split(";")
    formats = {"#,##0", "#,##0.0", "#,##0.00", "#,##0.000"}
    seen = set()
    for row in sheet.iter_rows(min_row=2):
        cells = dict(zip(header, row))
        decimals = catalogue.get(cells["Code indicateur"].value).decimals
        value = cells["Valeur"]
        assert value.value is None or value.number_format == "#,##0" + ("." + "0" * decimals if decimals else "")
        seen.add(cells["Code indicateur"].value)
        for count in (cells["Numérateur"], cells["Dénominateur"]):
            if count.value is not None:
                assert count.number_format == ("#,##0" if float(count.value).is_integer() else "#,##0.0##")
        assert cells["Statut"].value in exports.STATUS_LEGEND.values() and cells["Calculé"].value in ("oui", "non")
        assert all(c.number_format in formats | {"General", "#,##0.0##"} for c in row)
        assert not any(c.number_format.endswith(".##") for c in row)  # Excel would show 859 as « 859. »
    assert seen == {"turnover_rate", "recruitment_projects"}
    meta = [tuple(c.value for c in row[:2]) for row in book["Métadonnées"].iter_rows()]
    keyed = {a: b for a, b in meta if a}
    assert keyed["Lien permanent"] == "http://localhost/donnees?territoire=REG-53"
    assert "indicateur : Taux de rotation (turnover_rate), Projets de recrutement (recruitment_projects)" in \
        keyed["Filtres"] and "territoire : Bretagne (REG-53)" in keyed["Filtres"] and "année : 2023" in keyed["Filtres"]
    for code in exports.COLUMNS:  # the codes are kept: column code → French header
        assert keyed[code] == exports.FRENCH_HEADERS[code]
    assert ("partial", exports.status_label("partial")) in meta and ("ok", "publié") in meta


def test_french_400_is_readable_utf8(client):
    response = client.get("/api/v1/observations?level=département")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    raw = response.get_data()
    assert "niveau inconnu(e) : département".encode() in raw and "Ã©".encode() not in raw
    assert "unknown level value(s): département" in response.get_json()["error"]
    french_keys = client.get("/api/v1/observations?indicateur=turnover_rate&territoire=REG-53&annee=2023"
                             "&page_size=1").get_json()
    english = client.get("/api/v1/observations?indicator=turnover_rate&territory=REG-53&period=2023"
                         "&page_size=1").get_json()
    assert french_keys == {**english, "next": french_keys["next"]} and french_keys["total"] > 0


def test_cli_export_in_french(dash_app, built_store, tmp_path):
    out = tmp_path / "fr.csv"
    done = subprocess.run([sys.executable, "-m", "etl", "export", "--indicator", "turnover_rate", "--territory",
                           "REG-53", "--lang", "fr", "-o", str(out)], cwd=ROOT, capture_output=True, text=True,
                          env={**__import__("os").environ, "OBSERVATORY_DB": str(built_store.url)})
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == dash_app.server.test_client().get(
        "/api/v1/observations?indicator=turnover_rate&territory=REG-53&format=csv&lang=fr").get_data()


def _choose(dash_duo, selector: str, search: str, label: str) -> None:
    """Open a dropdown, type into its search box (long lists are virtualised), click the option `label`."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    ActionChains(dash_duo.driver).send_keys(Keys.ESCAPE).perform()  # an open menu would hide the next dropdown
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    time.sleep(0.3)
    element.click()
    box = dash_duo.find_element(".dash-dropdown-search")
    box.send_keys(search)
    deadline = time.time() + 10
    while time.time() < deadline:
        for option in dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option"):
            if option.text.strip() == label:
                option.click()
                ActionChains(dash_duo.driver).send_keys(Keys.ESCAPE).perform()
                return
        time.sleep(0.2)
    raise AssertionError(f"no option {label!r} in {selector}")


def _href(dash_duo, selector: str, contains: str, timeout: float = 20) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        href = dash_duo.find_element(selector).get_attribute("href") or ""
        if contains in href:
            return href
        time.sleep(0.2)
    raise AssertionError(f"{selector} href never held {contains!r}: {href!r}")


def test_analyst_journey_in_a_browser(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/donnees")
    dash_duo.wait_for_contains_text("#data-count", "observations", timeout=20)
    # an empty selection says why and what to try (from the store: the years are not hard-coded)
    _choose(dash_duo, "#data-indicator", "Taux de rotation", "Taux de rotation (%)")
    # issue 17: the only population published for turnover is chosen, under the name the hint uses
    dash_duo.wait_for_contains_text("#data-profession", "Personnel permanent des ESMS", timeout=20)
    _choose(dash_duo, "#data-profession", "Métiers du travail", "Métiers du travail social")
    dash_duo.wait_for_contains_text("#data-count", "Aucune donnée pour Taux de rotation", timeout=20)
    hint = dash_duo.find_element("#data-count").text
    assert "Essayez" in hint and "Personnel permanent des ESMS" in hint and "une autre année : 2017–2023" in hint
    # the analyst follows the hint: the whole staff, in Bretagne
    _choose(dash_duo, "#data-profession", "Personnel permanent", "Personnel permanent des ESMS")
    _choose(dash_duo, "#data-territory", "Bretagne", "Région : Bretagne (53)")
    dash_duo.wait_for_contains_text("#data-count", "7 observations", timeout=20)
    assert "territoire=REG-53" in dash_duo.driver.current_url
    cells = dash_duo.driver.find_elements("css selector", "#data-table td[data-dash-column]")
    table: dict[str, list[str]] = {}
    for cell in cells:
        table.setdefault(cell.get_attribute("data-dash-column"), []).append(cell.text)
    shown = sorted(zip(map(int, table["Année"]), table["Valeur"], table["Statut"]))
    assert len(shown) == 7
    # the export link is the API with the page's selection; the file read back equals the table
    href = _href(dash_duo, "#data-export-csv", "territory=REG-53")
    assert "/api/v1/observations?" in href and "format=csv&lang=fr" in href
    with urllib.request.urlopen(href) as response:  # noqa: S310 (the test server)
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        frame = pd.read_csv(io.BytesIO(response.read()), sep=";", decimal=",", encoding="utf-8-sig")
    assert list(frame.columns) == FRENCH_HEADER.split(";")
    decimals = catalogue.get("turnover_rate").decimals
    exported = sorted(zip(frame["Année"], [number(v, decimals) for v in frame["Valeur"]], frame["Statut"]))
    assert exported == shown
    xlsx = _href(dash_duo, "#data-export-xlsx", "territory=REG-53")
    with urllib.request.urlopen(xlsx) as response:  # noqa: S310
        book = openpyxl.load_workbook(io.BytesIO(response.read()))
    rows = list(book["Données"].iter_rows(values_only=True))
    assert list(rows[0]) == FRENCH_HEADER.split(";")
    at = {name: i for i, name in enumerate(rows[0])}
    assert sorted((r[at["Année"]], number(r[at["Valeur"]], decimals), r[at["Statut"]]) for r in rows[1:]) == shown
    meta = {row[0]: row[1] for row in book["Métadonnées"].iter_rows(values_only=True) if row[0]}
    assert meta["Lien permanent"].startswith(dash_duo.server_url + "/donnees?")
    assert "territoire=REG-53" in meta["Lien permanent"] and "indicateur=turnover_rate" in meta["Lien permanent"]


@pytest.mark.parametrize("width,height", [(1280, 1000), (390, 844)], ids=["desk", "phone"])
def test_a_large_selection_shows_its_first_rows_and_exports_every_one(dash_duo, dash_app, width, height):
    """Issue 19 capped « Données »' table at its first MAX_ROWS rows (no response over 300 KB): a person who picks
    the bassins reads the whole count and that only the first rows are shown, and the page's CSV link brings every
    row the count promised (none vanished with the cap)."""
    import math
    import re

    from pages.donnees import MAX_ROWS

    dash_duo.driver.set_window_size(width, height)
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/donnees")
    dash_duo.wait_for_contains_text("#data-count", "observations", timeout=20)
    _choose(dash_duo, "#data-level", "Bassins", "Bassins d'emploi")
    dash_duo.wait_for_contains_text("#data-count", f"les {MAX_ROWS} premières affichées, toutes dans l'export",
                                    timeout=20)
    said = dash_duo.find_element("#data-count").text
    total = int(re.match(r"([\d\s\u202f\u00a0]+) observations", said).group(1).replace(NNBSP, "").replace(" ", "")
                .replace("\u00a0", ""))
    assert total > MAX_ROWS, said
    assert dash_duo.find_element("#data-table .last-page").text.strip() == str(math.ceil(MAX_ROWS / 25))
    href = _href(dash_duo, "#data-export-csv", "level=bassin")
    with urllib.request.urlopen(href) as response:  # noqa: S310 (the test server)
        body = response.read().decode("utf-8-sig")
    exported = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert len(exported) - 1 == total  # header + every row the page counted
    assert {row[exported[0].index("Niveau territorial")] for row in exported[1:]} <= {"Bassin d'emploi", "bassin"}
