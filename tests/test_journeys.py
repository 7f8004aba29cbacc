"""Issue 11's journeys, each on one screen, in a real headless Chromium on the built store.

1. The HR director of an EHPAD in the Rhône uploads her figures (written here from published establishments of
   the Rhône, under FINESS numbers of their own) and reads her département, région and France side by side; her
   foyer de vie has fewer than 5 peers in the département: no median there, the reading moves to the région.
   Then /ressources-humaines with her category selected: highlighted, every label written, a category column.
2. The policymaker picks a job family and a territory on /recrutement, ticks « Comparer avec » sa région and la
   France: one trend line per territory, kept in the URL (a reload restores it); the same on /ressources-humaines.
"""
from __future__ import annotations

import time

import pandas as pd
import pytest
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from observatory import benchmarks, catalogue
from observatory.formatting import with_unit
from observatory.store import Store
from tests.conftest import ROOT

RAW_2023 = ROOT / "data/illustrative/tdbms/ANN_MS_TDP_ET_2023.csv"
EHPAD, FOYER = "690999001", "690999002"


def wait_until(condition, timeout: float = 30, what: str = "condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            value = condition()
        except Exception:  # noqa: BLE001 (the element may be re-rendering)
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def errors(dash_duo) -> list:
    return [entry for entry in (dash_duo.get_logs() or []) if entry.get("level") == "SEVERE"]


def choose(dash_duo, selector: str, label: str, search: str | None = None) -> None:
    """Pick `label` in a dcc.Dropdown, typing `search` first (long lists render only what is visible). The
    dropdown is scrolled to the middle of the screen first and the click retried while a re-rendering part of
    the page (a table or chart drawn below) still covers it."""
    def opened():
        element = dash_duo.find_element(selector)
        dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});",
                                       element)
        try:
            element.click()
        except ElementClickInterceptedException:
            return False
        return True

    wait_until(opened, 10, f"{selector} clickable")
    menu = dash_duo.find_element(".dash-dropdown-options")
    if search:
        boxes = dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-search, .dash-dropdown-options input")
        (boxes[0] if boxes else menu).send_keys(search)

    def option():
        return next((o for o in dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")
                     if o.text.strip() == label), None)

    wait_until(option, 10, f"option {label!r}").click()
    dash_duo.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)


def tick(dash_duo, selector: str) -> None:
    """Tick a checklist option (scrolled into view, clicked on its label: no menu left open intercepts it)."""
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); "
                                   "arguments[0].closest('label').click();", element)


def plot(dash_duo, graph_id: str, expression: str):
    return dash_duo.driver.execute_script(
        f"const p = document.querySelector('#{graph_id} .js-plotly-plot'); return p ? {expression} : null;")


def own_file(tmp_path) -> tuple:
    """An extract in the published layout: a Rhône EHPAD and a Rhône foyer de vie (EANM, 449), copied from
    published establishments' rows, under FINESS numbers of their own (so nobody is excluded from their peers)."""
    raw = pd.read_csv(RAW_2023, sep=";", dtype=str, encoding="utf-8")
    finess, category, dep = raw.columns[1], raw.columns[3], raw.columns[4]
    rhone = raw[raw[dep] == "69"]
    rows = pd.concat([rhone[rhone[category] == "500"].head(1), rhone[rhone[category] == "449"].head(1)])
    assert len(rows) == 2
    rows[finess] = [EHPAD, FOYER]
    rows[raw.columns[2]] = ["EHPAD Les Tilleuls", "Foyer de vie Les Cèdres"]
    path = tmp_path / "mon_extrait_2023.csv"
    rows.to_csv(path, sep=";", index=False, encoding="utf-8")
    return path, rows


def expected_levels(built_store, rows: pd.DataFrame, category: str, indicator: str = "turnover_rate"):
    """The side-by-side bands computed here from the file's own figures and the store."""
    row = rows[rows[rows.columns[3]] == category].iloc[0]
    numbers = pd.to_numeric(row.iloc[5:8])
    value = 100 * (numbers.iloc[0] + numbers.iloc[1]) / 2 / numbers.iloc[2]
    return value, benchmarks.levels_from_store(Store.of(built_store), indicator, 2023, category, "DEP-69", value)


def test_hr_director_sees_departement_region_and_france_side_by_side(dash_duo, dash_app, built_store, tmp_path):
    path, rows = own_file(tmp_path)
    entry = catalogue.get("turnover_rate")
    fmt = lambda v: with_unit(v, entry.unit, entry.decimals)  # noqa: E731
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/mon-etablissement")
    dash_duo.wait_for_element("#own-upload input[type=file]", timeout=30).send_keys(str(path))
    dash_duo.wait_for_contains_text("#own-messages", "2 ligne(s) lue(s) dans le fichier : 2 retenue(s), "
                                    "0 écartée(s)", timeout=30)
    dash_duo.wait_for_contains_text("#own-summary", "EHPAD Les Tilleuls", timeout=30)

    value, levels = expected_levels(built_store, rows, "500")
    summary = dash_duo.find_element("#own-summary").text
    assert f"Taux de rotation de « EHPAD Les Tilleuls » (2023) : {fmt(value)}." in summary
    for (level, _territory, band), place in zip(levels, ("Département : Rhône", "Région : Auvergne-Rhône-Alpes",
                                                          "France")):
        assert band.n >= 5, level
        assert f"{place} – " in summary
        assert benchmarks.reading(band, level, True, fmt) in summary  # median, quartile, better or worse
        assert f"médiane de ses {band.n} pairs {benchmarks.LEVEL_NAMES[level]} ({fmt(band.median)}) : " \
               f"{band.quartile}" in summary
    assert "quartile" in summary and "médiane des pairs" in summary
    # the chart: one row per level, the value, the medians and the quartile bands
    names = plot(dash_duo, "own-bands", "p.data.map(t => t.name)")
    assert names == ["quartiles des pairs (25 %–75 %)", "médiane des pairs", "votre établissement"]
    medians = plot(dash_duo, "own-bands", "Array.from(p._fullData[1].x)")
    assert [round(m, 9) for m in medians] == [round(b.median, 9) for _, _, b in levels]
    dash_duo.find_element("#own-table").get_attribute("innerHTML")  # « voir les données » rendered

    # the foyer de vie: fewer than 5 peers in the Rhône, the reading moves to the région
    choose(dash_duo, "#own-establishment", f"Foyer de vie Les Cèdres ({FOYER})")
    dash_duo.wait_for_contains_text("#own-summary", "Foyer de vie Les Cèdres", timeout=30)
    summary = dash_duo.find_element("#own-summary").text
    _value, levels = expected_levels(built_store, rows, "449")
    departement, region, _nation = (band for _, _, band in levels)
    assert departement.n < 5 <= region.n
    assert "moins de 5, pas de médiane" in summary
    assert f"médiane de ses {region.n} pairs de la région ({fmt(region.median)})" in summary
    medians = plot(dash_duo, "own-bands", "Array.from(p._fullData.find(t => t.name === 'médiane des pairs').y)")
    assert [m.replace("<br>", " ") for m in medians] == ["Région : Auvergne-Rhône-Alpes", "France"]  # none for the dép.
    ticks = plot(dash_duo, "own-bands", "p.layout.yaxis.ticktext")
    assert "pas de médiane" in ticks[0].replace("<br>", " ") and "<b>" in ticks[1]  # the région is where it reads
    assert "de moins de 5" not in dash_duo.find_element("#own-messages").text
    assert "Moins de 5 établissements comparables dans le département" in dash_duo.find_element(
        "#own-messages").text

    # /ressources-humaines, her category selected in her département
    dash_duo.wait_for_page(url=dash_duo.server_url + "/ressources-humaines?indicateur=turnover_rate&territoire=DEP-69"
                           "&categorie=esms:500")
    dash_duo.wait_for_contains_text("#rh-compare-summary", "« EHPAD » (Rhône)", timeout=30)
    ticks = plot(dash_duo, "rh-compare", "p.layout.yaxis.ticktext")
    bold = [t for t in ticks if t.startswith("<b>")]
    assert bold == ["<b>EHPAD</b>"]  # the selected category highlighted
    rendered = dash_duo.driver.find_elements(By.CSS_SELECTOR, "#rh-compare .ytick text")
    assert len(rendered) == len(ticks) >= 10  # every label written (13 categories published in the Rhône)
    tick_rows = plot(dash_duo, "rh-compare", "p.layout.yaxis.tickvals")
    for trace in plot(dash_duo, "rh-compare", "p._fullData.map(t => Array.from(t.y))"):
        assert set(trace) <= set(tick_rows)  # medians and bars on the same rows (never an empty row)
    assert all("…" not in t for t in ticks)  # labels wrapped, never cut
    table = wait_until(lambda: dash_duo.find_element("#rh-compare-table").get_attribute("textContent"), 10, "table")
    assert "Catégorie d'établissement" in table and "Médiane des établissements" in table
    assert errors(dash_duo) == []


def test_policymaker_compares_a_territory_with_its_region_and_france(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/recrutement")
    dash_duo.wait_for_contains_text("#rec-trend-summary", "En 20", timeout=30)
    choose(dash_duo, "#rec-territory", "Département : Rhône (69)", search="Rhône")
    dash_duo.wait_for_contains_text("#rec-trend-summary", "Rhône", timeout=30)
    for value in ("region", "france"):
        tick(dash_duo, f"#rec-comparer input[value={value}]")
    expected = ["Rhône", "Auvergne-Rhône-Alpes", "France"]

    def lines():
        names = plot(dash_duo, "rec-trend",  # data lines only, not the status symbols' legend entries
                     "p.data.filter(t => t.legendgroup !== 'statuts').map(t => t.name)") or []
        return [n for n in names if not n.startswith("Rupture")]

    wait_until(lambda: lines() == expected, 30, "three territory lines")
    periods = plot(dash_duo, "rec-trend", "p.data[2].x")
    assert min(periods) == 2017 and max(periods) == 2023  # every BMO vintage
    assert "Comparaison : Rhône" in dash_duo.find_element("#rec-trend-summary").text
    url = wait_until(lambda: "comparer=region,france" in dash_duo.driver.current_url and dash_duo.driver.current_url,
                     20, "the comparison in the URL")
    assert "territoire=DEP-69" in url
    dash_duo.driver.get(url)  # reopen the link
    dash_duo.wait_for_contains_text("#rec-trend-summary", "Comparaison : Rhône", timeout=30)
    wait_until(lambda: lines() == expected, 30, "three territory lines after reload")
    assert all(box.is_selected() for box in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#rec-comparer input"))

    # the same on another explorer, with a job family picked in the page
    dash_duo.wait_for_page(url=dash_duo.server_url + "/formation?territoire=REG-84")
    dash_duo.wait_for_contains_text("#form-trend-summary", "En 20", timeout=30)
    tick(dash_duo, "#form-comparer input[value=france]")
    wait_until(lambda: [n for n in plot(dash_duo, "form-trend",
                                        "p.data.filter(t => t.legendgroup !== 'statuts').map(t => t.name)") or []
                        if not n.startswith("Rupture")] == ["Auvergne-Rhône-Alpes", "France"], 30, "two lines")
    wait_until(lambda: "comparer=france" in dash_duo.driver.current_url, 20, "URL")
    assert errors(dash_duo) == []


def test_the_template_lists_every_category_and_errors_speak_french(built_store):
    """The template's « Catégories » sheet holds every ESMS code of the reference; a wrong département or category
    gets its row, column, value and what was expected, in French."""

    import openpyxl

    from etl.illustrative import TDBMS_HEADER
    from etl.uploads import preview

    reference = pd.read_csv(ROOT / "data/reference/esms_categories.csv", dtype=str)
    for name in ("modele_tdbms_etablissement.xlsx", "exemple_mon_etablissement.xlsx"):
        book = openpyxl.load_workbook(ROOT / "data/templates" / name, read_only=True)
        rows = list(book["Catégories"].iter_rows(values_only=True))[1:]
        assert [(str(c), label) for c, label in rows] == list(zip(reference.code, reference.label))
    figures = ["7", "6", "25", "20,2", "249", "83", "83", "44", "66", "28", "20,8", "20,3"]
    lines = [";".join(TDBMS_HEADER), ";".join(["2023", "690999001", "A", "500", "6Z", *figures]),
             ";".join(["2023", "690999002", "B", "123", "69", *figures])]
    read = preview(("\r\n".join(lines) + "\r\n").encode("latin-1"), "extrait.csv", built_store)
    assert read.messages == [
        "2 ligne(s) lue(s) dans le fichier : 0 retenue(s), 2 écartée(s).",
        "Ligne 2, colonne « Département », valeur « 6Z » : département inconnu du code officiel géographique de "
        "l'Insee (attendu : un code de département, par exemple 01, 2A, 69 ou 974).",
        "Ligne 3, colonne « Catégorie ESMS », valeur « 123 » : catégorie ESMS hors des 20 catégories du TDBMS "
        "(attendu : un code de la feuille « Catégories » du modèle, par exemple 500 pour un EHPAD)."]


def test_the_templates_category_column_is_a_drop_down_of_every_category():
    """Issue 17: the category is picked from a list (data validation over the « Catégories » codes), not typed."""
    import openpyxl

    reference = pd.read_csv(ROOT / "data/reference/esms_categories.csv", dtype=str)
    for name in ("modele_tdbms_etablissement.xlsx", "exemple_mon_etablissement.xlsx"):
        book = openpyxl.load_workbook(ROOT / "data/templates" / name)
        data = book["Données"]
        column = [c.column_letter for c in data[1] if c.value == "Catégorie ESMS"][0]
        checks = [dv for dv in data.data_validations.dataValidation if f"{column}2" in dv.sqref]
        assert len(checks) == 1 and checks[0].type == "list" and checks[0].showErrorMessage
        sheet, cells = checks[0].formula1.rsplit("!", 1)
        first, last = (int(c.split("$")[-1]) for c in cells.split(":"))
        listed = [str(book[sheet.strip("'")][f"A{row}"].value) for row in range(first, last + 1)]
        assert listed == list(reference.code)  # every category, nothing else
        assert f"{column}1000" in checks[0].sqref  # the rows an HR director fills in, not only the first


IME = "330999001"


def published_rows_as_own(tmp_path, years, departement: str, category: str, finess: str, name: str,
                          file_name: str) -> tuple:
    """An extract in the published layout: the first published establishment of `category` in `departement`,
    one row per year, copied under a FINESS of its own (so it is not excluded from its peers)."""
    rows = []
    for year in years:
        raw = pd.read_csv(RAW_2023.with_name(f"ANN_MS_TDP_ET_{year}.csv"), sep=";", dtype=str, encoding="utf-8")
        rows.append(raw[(raw[raw.columns[4]] == departement) & (raw[raw.columns[3]] == category)].head(1))
    rows = pd.concat(rows)
    assert len(rows) == len(years)
    rows[rows.columns[1]], rows[rows.columns[2]] = finess, name
    path = tmp_path / file_name
    rows.to_csv(path, sep=";", index=False, encoding="utf-8")
    return path, rows


def two_year_file(tmp_path) -> tuple:
    """An IME of the Gironde (1 peer in its département, 2 in its région: issue 17's case), 2022 and 2023."""
    return published_rows_as_own(tmp_path, (2022, 2023), "33", "183", IME, "IME Les Pins",
                                 "ime_gironde_2022_2023.csv")


def expected_reading(built_store, rows: pd.DataFrame, year: int) -> tuple[float, list]:
    """The file's turnover for `year` and its bands at each level, computed here from the store."""
    row = rows[rows[rows.columns[0]] == str(year)].iloc[0]
    numbers = pd.to_numeric(row.iloc[5:8])
    value = 100 * (numbers.iloc[0] + numbers.iloc[1]) / 2 / numbers.iloc[2]
    return value, benchmarks.levels_from_store(Store.of(built_store), "turnover_rate", year, "183", "DEP-33", value)


@pytest.mark.parametrize("width,height", [(1280, 1000), (390, 844)], ids=["desk", "phone"])
def test_a_file_with_two_years_shows_one_year_at_a_time_and_names_the_level_read(dash_duo, dash_app, built_store,
                                                                                  tmp_path, width, height):
    """Issue 17: two years in the file drew both years' markers under one year's title and strung six comparisons
    together; the fallback said « la région » where France was used; « Déposez d'abord un fichier » stayed."""
    path, rows = two_year_file(tmp_path)
    entry = catalogue.get("turnover_rate")
    fmt = lambda v: with_unit(v, entry.unit, entry.decimals)  # noqa: E731
    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(width, height)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/mon-etablissement")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();",
                                   dash_duo.find_element("#own-save"))  # before any file: the page asks for one
    dash_duo.wait_for_contains_text("#own-saved", "Déposez d'abord un fichier", timeout=20)
    dash_duo.wait_for_element("#own-upload input[type=file]", timeout=30).send_keys(str(path))
    dash_duo.wait_for_contains_text("#own-saved", "ime_gironde_2022_2023.csv", timeout=30)
    status = dash_duo.find_element("#own-saved").text
    assert "1 établissement, années 2022 et 2023" in status and "Déposez d'abord" not in status

    for year in (2023, 2022):  # the latest first, by default; then the other one, chosen in the page
        if year == 2022:
            choose(dash_duo, "#own-year", "2022")
        wait_until(lambda y=year: f"({y})" in dash_duo.find_element("#own-summary").text, 30, f"{year}'s sentences")
        assert dash_duo.find_element("#own-year").text.strip().startswith(str(year))
        value, levels = expected_reading(built_store, rows, year)
        title = plot(dash_duo, "own-bands", "p.layout.title.text").split("<sup>")[0].replace("<br>", " ")
        assert f"« IME Les Pins », {year}," in title and str(2022 if year == 2023 else 2023) not in title
        mine = plot(dash_duo, "own-bands", "Array.from(p._fullData.find(t => t.name === 'votre établissement').x)")
        assert len(mine) == 3 and {round(x, 6) for x in mine} == {round(value, 6)}  # one year's markers, one a level
        lines = dash_duo.find_element("#own-summary").text.split("\n")
        assert lines[0].startswith(f"Taux de rotation de « IME Les Pins » ({year}) : {fmt(value)}.")
        places = ("Département : Gironde – ", "Région : Nouvelle-Aquitaine – ", "France – ")
        for (level, _territory, band), place in zip(levels, places):
            said = [line for line in lines if line.startswith(place)]
            assert len(said) == 1, (place, lines)  # one sentence per level
            assert benchmarks.reading(band, level, True, fmt) in said[0]
            assert str(band.n or "aucun") in said[0]
        counts = [(level, band.n) for level, _, band in levels]
        used = benchmarks.level_used(counts)
        assert lines[-1] == benchmarks.level_used_sentence(counts)
        assert f"pairs {benchmarks.LEVEL_NAMES[used]}." in lines[-1]  # the level really read (France here)
        assert len(lines) == 5
    assert "« IME Les Pins » : " + benchmarks.THE_LEVEL[used] in dash_duo.find_element("#own-messages").text
    assert errors(dash_duo) == []
