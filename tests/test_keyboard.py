"""Issue 22: each of the three users' journeys done with the keyboard alone, at desk and phone widths, in a real
headless Chromium on the built store. The first Tab of each page lands on « Aller au contenu »; from there Tab
walks to each control (every stop must show the focus), Enter opens a dropdown and types into its « Rechercher »
box, Space ticks a box, the file is given to the focused file field (the browser's file dialog), Enter follows an
export link. What is asserted is what a person reads afterwards, recounted from the store or the saved file; then
axe-core checks the page in the state the journey left it (zero serious or critical violations)."""
from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from selenium.webdriver.common.keys import Keys

from observatory import benchmarks, catalogue
from observatory.formatting import with_unit
from tests import test_journeys as journeys
from tests import test_perspectives as perspectives
from tests.a11y import axe, choose, press, replace_text, serious, settled, skip_to_content, tab_to, wait
from tests.test_dashboard import errors

WIDTHS = pytest.mark.parametrize("width,height", [(1280, 1000), (390, 844)], ids=["desk", "phone"])
NNBSP = "\u202f"


def text(driver, selector: str) -> str:
    return driver.execute_script("const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
                                 selector)


def screen_count(text: str) -> str:
    """A count as read on the page, without grouping or a « ,0 » (the export writes whole counts as integers)."""
    return text.replace(NNBSP, "").replace("\u00a0", "").replace(" ", "").removesuffix(",0")


def query(driver) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(driver.current_url).query).items()}


def open_page(dash_duo, path: str, ready: str, words: str) -> None:
    dash_duo.wait_for_page(url=dash_duo.server_url + path)
    dash_duo.wait_for_contains_text(ready, words, timeout=30)
    settled(dash_duo.driver)


@WIDTHS
def test_hr_director_uploads_her_figures_and_reads_her_peers_by_keyboard(dash_duo, dash_app, built_store, tmp_path,
                                                                          width, height):
    driver = dash_duo.driver
    path, rows = journeys.own_file(tmp_path)
    entry = catalogue.get("turnover_rate")
    fmt = lambda v: with_unit(v, entry.unit, entry.decimals)  # noqa: E731
    driver.set_window_size(width, height)
    dash_duo.start_server(dash_app)
    open_page(dash_duo, "/mon-etablissement", "h1", "Mon établissement")
    skip_to_content(driver)
    tab_to(driver, "#own-upload input[type=file]")
    driver.switch_to.active_element.send_keys(str(path))  # the file dialog, answered with the file's path
    dash_duo.wait_for_contains_text("#own-messages", "2 ligne(s) lue(s) dans le fichier : 2 retenue(s), "
                                    "0 écartée(s)", timeout=30)
    dash_duo.wait_for_contains_text("#own-summary", "EHPAD Les Tilleuls", timeout=30)
    value, levels = journeys.expected_levels(built_store, rows, "500")
    summary = text(driver, "#own-summary")
    assert f"Taux de rotation de « EHPAD Les Tilleuls » (2023) : {fmt(value)}." in summary
    level, _territory, band = levels[0]
    assert f"médiane de ses {band.n} pairs {benchmarks.LEVEL_NAMES[level]} ({fmt(band.median)})" in summary

    tab_to(driver, "#own-establishment")
    choose(driver, "own-establishment", "Cèdres", f"Foyer de vie Les Cèdres ({journeys.FOYER})")
    wait(lambda: "Foyer de vie Les Cèdres" in text(driver, "#own-summary"), 30, "the foyer's reading")
    summary = text(driver, "#own-summary")
    _value, levels = journeys.expected_levels(built_store, rows, "449")
    region = levels[1][2]
    assert "moins de 5, pas de médiane" in summary
    assert f"médiane de ses {region.n} pairs de la région ({fmt(region.median)})" in summary
    assert serious(axe(driver)) == []
    assert errors(dash_duo) == []  # nothing thrown in the page (ours or Dash's)


@WIDTHS
def test_policymaker_compares_territories_and_a_scenario_by_keyboard(dash_duo, dash_app, width, height):
    driver = dash_duo.driver
    driver.set_window_size(width, height)
    dash_duo.start_server(dash_app)
    open_page(dash_duo, "/recrutement", "#rec-trend-summary", "En 20")
    skip_to_content(driver)
    filters = ["rec-indicator", "rec-profession", "rec-territory", "rec-period", "rec-source"]
    stops = tab_to(driver, "#rec-source")
    assert [s["id"] for s in stops if s["id"].startswith("rec-")] == filters  # the reading order, then back
    back = tab_to(driver, "#rec-indicator", backwards=True)
    assert [s["id"] for s in back if s["id"].startswith("rec-")] == filters[-2::-1]
    assert driver.execute_script(  # one tool per chart, in French, where there were eight English ones
        "return [...document.querySelectorAll('#rec-trend .modebar-btn')].map(b => b.getAttribute('data-title'))"
    ) == ["Télécharger le graphique (PNG)"]
    tab_to(driver, "#rec-territory")
    choose(driver, "rec-territory", "Rhône", "Département : Rhône (69)")
    wait(lambda: "Rhône" in text(driver, "#rec-trend-summary"), 30, "the Rhône's sentence")
    for value in ("region", "france"):
        tab_to(driver, f"#rec-comparer input[value={value}]")
        press(driver, Keys.SPACE)
    wait(lambda: "Comparaison : Rhône" in text(driver, "#rec-trend-summary"), 30, "the comparison sentence")
    lines = wait(lambda: [n for n in journeys.plot(dash_duo, "rec-trend", "p.data.filter(t => t.legendgroup !== "
                                                   "'statuts').map(t => t.name)") or []
                          if not n.startswith("Rupture")] == ["Rhône", "Auvergne-Rhône-Alpes", "France"],
                 30, "three territory lines")
    assert lines
    wait(lambda: query(driver).get("comparer") == "region,france", 20, "the comparison in the URL")
    assert query(driver)["territoire"] == "DEP-69"
    assert serious(axe(driver)) == []

    # the outlook: a later end of career typed in its field, then the central scenario back with its button
    open_page(dash_duo, "/perspectives?profession=T2A&territory=FR", "#outlook-sentence", "D'ici")
    central = text(driver, "#outlook-sentence")
    skip_to_content(driver)
    tab_to(driver, "#outlook-retirement_age_shift")
    replace_text(driver, "2")
    later = wait(lambda: text(driver, "#outlook-sentence") != central and text(driver, "#outlook-sentence"), 30,
                 "the sentence to change")
    assert perspectives.figures_of(later)[1] < perspectives.figures_of(central)[1]  # fewer exits, same horizon
    assert perspectives.figures_of(later)[0] == perspectives.figures_of(central)[0]
    wait(lambda: query(driver).get("retirement_age_shift") == "2", 20, "retirement_age_shift=2 in the URL")
    tab_to(driver, "#outlook-reset")
    press(driver, Keys.ENTER)
    wait(lambda: text(driver, "#outlook-sentence") == central, 30, "the central scenario's sentence")
    wait(lambda: "retirement_age_shift" not in query(driver), 20, "the central scenario in the URL")
    assert driver.execute_script("return document.getElementById('outlook-retirement_age_shift').value") == "0"
    assert serious(axe(driver)) == []
    assert errors(dash_duo) == []


@WIDTHS
def test_analyst_filters_and_exports_a_table_by_keyboard(dash_duo, dash_app, tmp_path, width, height):
    """Also issue 17's export: the file saved is named `observatoire_<indicateur>_<territoire>_<date>.csv` (the
    server's Content-Disposition) and holds the screen's numbers, rounded as the page rounds them."""
    driver = dash_duo.driver
    driver.set_window_size(width, height)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    dash_duo.start_server(dash_app)
    open_page(dash_duo, "/donnees", "#data-count", "observations")
    skip_to_content(driver)
    tab_to(driver, "#data-indicator")
    choose(driver, "data-indicator", "rotation", "Taux de rotation (%)")
    # the indicator's whole population is chosen with it (the TDBMS turnover covers the ESMS' permanent staff)
    assert text(driver, "#data-profession") == catalogue.ESMS_STAFF
    tab_to(driver, "#data-territory")
    choose(driver, "data-territory", "Bretagne", "Région : Bretagne (53)")
    wait(lambda: "territory=REG-53" in (driver.execute_script(
        "return document.getElementById('data-export-csv').href") or ""), 20, "the export link for Bretagne")
    settled(driver)
    count = text(driver, "#data-count")
    table: dict[str, list[str]] = {}
    for cell in driver.find_elements("css selector", "#data-table td[data-dash-column]"):
        table.setdefault(cell.get_attribute("data-dash-column"), []).append(cell.text)
    shown = sorted(zip(map(int, table["Année"]), [v.replace(NNBSP, "") for v in table["Valeur"]],
                       map(screen_count, table["Numérateur"]), map(screen_count, table["Dénominateur"])))
    said = re.match(r"(\d+) observations", count)
    assert said and int(said.group(1)) == len(shown) >= 2, count

    tab_to(driver, "#data-export-csv")
    press(driver, Keys.ENTER)  # what a keyboard user does on a link: the browser saves the file
    saved = tmp_path / f"observatoire_taux-de-rotation_bretagne_{date.today().isoformat()}.csv"
    wait(lambda: saved.exists() and saved.stat().st_size > 0 and not list(tmp_path.glob("*.crdownload")), 30,
         f"{saved.name} saved")
    frame = pd.read_csv(saved, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    exported = sorted(zip(map(int, frame["Année"]), frame["Valeur"], frame["Numérateur"], frame["Dénominateur"]))
    assert exported == shown  # « 25,5 » on screen, « 25,5 » in the file (the JSON API has 25.487…)
    assert any("," in value for _year, value, _n, _d in shown)
    assert set(frame["Filière, groupe ou métier"]) == {catalogue.ESMS_STAFF}
    assert query(driver).get("territoire") == "REG-53"

    # then the table narrowed to one year by its « Année » filter box, named in French
    tab_to(driver, "#data-table th.dash-filter[data-dash-column='Année'] input:not(.dash-filter--case)")
    assert driver.execute_script("return document.activeElement.getAttribute('aria-label')") == \
        "Filtrer la colonne « Année »"
    assert driver.execute_script("return document.activeElement.placeholder") == "Filtrer…"
    year = shown[-1][0]
    press(driver, str(year), Keys.ENTER)
    years = "return [...document.querySelectorAll(\"#data-table td[data-dash-column='Année']\")].map(c => c.innerText)"
    try:
        wait(lambda: driver.execute_script(years) == [str(year)], 20, f"the table narrowed to {year}")
    except AssertionError as error:
        raise AssertionError(f"{error}: {driver.execute_script(years)}, typed "
                             f"{driver.execute_script('return document.activeElement.value')!r}") from None
    assert serious(axe(driver)) == []
    assert errors(dash_duo) == []
