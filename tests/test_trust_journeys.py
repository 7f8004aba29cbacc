"""Issue 17's three users, each task done in the page as a person does it, at desk (1280 px) and phone (390 px)
widths, asserting what they read when they take a figure away.

1. The HR director of an EHPAD in Gironde: the first screen says which figures are real; she uploads two years of
   her own figures (one year at a time, one sentence per level, the level really read named), then reads her
   category's HR card against the région and France.
2. A policymaker of Nouvelle-Aquitaine: her chosen profession stays named on /recrutement even where BMO does not
   publish it; /filières says each column's year; /perspectives opens on the social families, ranked, and the
   horizon chosen in the page is the year she reads.
3. An analyst: /donnees names turnover's population as the dropdown does, the export is a named file whose values
   are rounded as on screen, code lists are JSON, an unknown API path a JSON 404, and a chart's definition lands on
   its methodology anchor.

Expected figures are recomputed from the store (query layer, API) or the raw files, never written here.
"""
from __future__ import annotations

import csv
import io
import json
import re
import urllib.error
import urllib.request
from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.by import By

from observatory import benchmarks, catalogue, outlook_data, views
from observatory.formatting import with_unit
from observatory.store import Store
from pages._components import ui
from tests.test_charts_phone import OVERFLOW
from tests.test_journeys import RAW_2023, choose, errors, plot, published_rows_as_own, wait_until
from tests.test_perspectives import ROWS

WIDTHS = {"desk": (1280, 900), "phone": (390, 844)}
EHPAD = "330999500"
SOCIAL_FAMILIES = {"T2A", "T2B", "V0Z", "V4Z", "V5Z"}


def open_page(dash_duo, path: str) -> None:
    dash_duo.wait_for_page(url=dash_duo.server_url + path)


def query(dash_duo) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlparse(dash_duo.driver.current_url).query).items()}


def fits(dash_duo, width: int) -> None:
    if width < 500:
        page_width, viewport, culprits = dash_duo.driver.execute_script(OVERFLOW)
        assert page_width <= viewport, f"{page_width} px wide in a {viewport} px viewport: {culprits}"


def scroll_to(dash_duo, selector: str) -> None:
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});",
                                   dash_duo.find_element(selector))


def ehpad_file(tmp_path) -> tuple:
    """A Gironde EHPAD's two latest years in the published TDBMS layout, under a FINESS of its own."""
    years = sorted(int(p.stem.rsplit("_", 1)[1]) for p in RAW_2023.parent.glob("ANN_MS_TDP_ET_*.csv"))[-2:]
    path, _rows = published_rows_as_own(tmp_path, years, "33", "500", EHPAD, "EHPAD Les Vignes", "ehpad_gironde.csv")
    return path, years


@pytest.mark.parametrize("width", WIDTHS)
def test_hr_director_of_a_gironde_ehpad(dash_duo, dash_app, built_store, tmp_path, width):
    path, years = ehpad_file(tmp_path)
    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(*WIDTHS[width])

    # the first screen says which figures are real and which are fictitious, before any scrolling
    open_page(dash_duo, "/")
    dash_duo.wait_for_contains_text("#home-real-fictitious", "fictif", timeout=30)
    sentence = dash_duo.find_element("#home-real-fictitious")
    assert "réel" in sentence.text
    top, height = dash_duo.driver.execute_script(
        "return [arguments[0].getBoundingClientRect().bottom, window.innerHeight];", sentence)
    assert top <= height, "the real/fictitious sentence is below the first screen"
    fits(dash_duo, WIDTHS[width][0])

    # her own file, two years: the status line names it, the latest year is read, one sentence per level
    open_page(dash_duo, "/mon-etablissement")
    dash_duo.wait_for_element("#own-upload input[type=file]", timeout=30).send_keys(str(path))
    dash_duo.wait_for_contains_text("#own-saved", "ehpad_gironde.csv", timeout=30)
    assert f"années {years[0]} et {years[1]}" in dash_duo.find_element("#own-saved").text
    wait_until(lambda: f"({years[1]})" in dash_duo.find_element("#own-summary").text, 30, "the latest year read")
    assert dash_duo.find_element("#own-year").text.strip().startswith(str(years[1]))
    title = plot(dash_duo, "own-bands", "p.layout.title.text").split("<sup>")[0]  # (the source's vintage below)
    assert str(years[1]) in title and str(years[0]) not in title  # one year per comparison
    lines = dash_duo.find_element("#own-summary").text.split("\n")
    for place in ("Département : Gironde – ", "Région : Nouvelle-Aquitaine – ", "France – "):
        assert len([line for line in lines if line.startswith(place)]) == 1, (place, lines)
    counts = [(level, band.n) for level, _t, band in benchmarks.levels_from_store(
        Store.of(built_store), "turnover_rate", years[1], "500", "DEP-33", None)]
    assert lines[-1] == benchmarks.level_used_sentence(counts)  # the level really read, named
    choose(dash_duo, "#own-year", str(years[0]))
    wait_until(lambda: f"({years[0]})" in dash_duo.find_element("#own-summary").text, 30, "the other year")
    assert str(years[1]) not in plot(dash_duo, "own-bands", "p.layout.title.text").split("<sup>")[0]
    fits(dash_duo, WIDTHS[width][0])

    # her category's HR card: turnover, absenteeism, vacancy for the Gironde, its région and France
    open_page(dash_duo, "/ressources-humaines?fiche_departement=DEP-33&fiche_categorie=esms:500")
    dash_duo.wait_for_text_to_equal("#rh-card-title", "« EHPAD » : Gironde, Nouvelle-Aquitaine, France.", timeout=30)
    client = dash_app.server.test_client()
    for indicator_id in ("turnover_rate", "absenteeism_rate", "vacancy_rate"):
        entry = catalogue.get(indicator_id)
        card = dash_duo.find_element(f"#rh-card-{indicator_id}").text
        rows = client.get(f"/api/v1/observations?indicator={indicator_id}&territory=DEP-33&breakdown=esms:500"
                          "&profession=ensemble").get_json()["rows"]
        latest = max(rows, key=lambda r: r["period"])
        assert entry.label in card and str(latest["period"]) in card and "Source" in card
        assert with_unit(latest["value"], entry.unit, entry.decimals) in card
        assert "données fictives calibrées" in card  # fictitious, said beside the figure
    fits(dash_duo, WIDTHS[width][0])
    assert errors(dash_duo) == []


def ranking(dash_duo) -> list[list[str]]:
    return dash_duo.driver.execute_script(ROWS, "#outlook-ranking") or []


@pytest.mark.parametrize("width", WIDTHS)
def test_policymaker_of_nouvelle_aquitaine(query_store, dash_duo, dash_app, width):
    store = query_store
    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(*WIDTHS[width])

    # a profession BMO does not publish on its own stays chosen and named, with where it is counted
    open_page(dash_duo, "/recrutement?territoire=REG-75")
    dash_duo.wait_for_contains_text("#rec-trend-summary", "Nouvelle-Aquitaine", timeout=30)
    options = ui.profession_options(store, indicator_id=views.explorer.RECRUTEMENT.default.indicator)
    label = next(o["label"].strip("\u2003") for o in options if o["value"] == "educateur_jeunes_enfants")
    choose(dash_duo, "#rec-profession", label, search=label[:12])
    dash_duo.wait_for_contains_text("#rec-coverage", f"Pas de données BMO pour « {label} »", timeout=30)
    assert "compté dans « " in dash_duo.find_element("#rec-coverage").text
    assert dash_duo.find_element("#rec-profession").text.strip() == label  # never « Ensemble des métiers »
    wait_until(lambda: query(dash_duo).get("profession") == "educateur_jeunes_enfants", 20, "the choice in the URL")
    assert query(dash_duo).get("territoire") == "REG-75"
    fits(dash_duo, WIDTHS[width][0])

    # /filieres: each column says its year (heat map at desk, a table on a phone)
    open_page(dash_duo, "/filieres?territoire=REG-75")
    dash_duo.wait_for_contains_text("#fil-summary", "filières", timeout=30)
    if WIDTHS[width][0] < 992:
        groups = wait_until(lambda: [g.text for g in dash_duo.driver.find_elements(
            By.CSS_SELECTOR, "#fil-phone-table th[scope=colgroup]")] or None, 30, "the phone table")
        assert dash_duo.find_element("#fil-phone-table").is_displayed()
        assert not dash_duo.find_element("#fil-heatmap").is_displayed()
    else:
        groups = wait_until(lambda: plot(dash_duo, "fil-heatmap", "Array.from(p.data[0].x)"), 30, "the heat map")
    years = [re.search(r"\((\d{4})\)", g) for g in groups if "(" in g]
    assert years and all(years), groups
    fits(dash_duo, WIDTHS[width][0])

    # /perspectives for her région: the social families, ranked; the horizon chosen is the year she reads
    data = outlook_data.store(store)
    open_page(dash_duo, "/perspectives?territoire=REG-75")
    dash_duo.wait_for_contains_text("#outlook-sentence", "D'ici", timeout=30)
    assert "Agriculteurs" not in dash_duo.find_element("#outlook-family").text
    rows = wait_until(lambda: len(ranking(dash_duo)) >= 3 and ranking(dash_duo), 30, "the ranking table")
    assert {r[1].split(" ")[0] for r in rows} <= SOCIAL_FAMILIES, rows  # rank, family, figures…
    horizon = next(y for y in outlook_data.horizons(data.base_year)
                   if y != outlook_data.default_horizon(data.base_year))
    scroll_to(dash_duo, "#outlook-horizon")
    choose(dash_duo, "#outlook-horizon", str(horizon))
    wait_until(lambda: f"D'ici {horizon}" in dash_duo.find_element("#outlook-sentence").text, 30, "the horizon read")
    wait_until(lambda: f"à {horizon}" in dash_duo.find_element("#outlook-ranking-caption").text, 30, "the caption")
    assert query(dash_duo).get("to") == str(horizon)
    fits(dash_duo, WIDTHS[width][0])
    assert errors(dash_duo) == []


def fetch(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (the test server)
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.parametrize("width", WIDTHS)
def test_analyst_takes_a_table_away(dash_duo, dash_app, width):
    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(*WIDTHS[width])

    # /donnees: turnover under the name of its population, rows shown, a named export rounded as on screen
    open_page(dash_duo, "/donnees")
    dash_duo.wait_for_contains_text("#data-count", "observations", timeout=30)
    choose(dash_duo, "#data-indicator", "Taux de rotation (%)", search="Taux de rotation")
    dash_duo.wait_for_contains_text("#data-profession", catalogue.ESMS_STAFF, timeout=30)
    dash_duo.wait_for_contains_text("#data-count", "observations", timeout=30)
    href = wait_until(lambda: "turnover_rate" in (dash_duo.find_element("#data-export-csv").get_attribute("href")
                                                  or "") and dash_duo.find_element("#data-export-csv")
                      .get_attribute("href"), 20, "the export link")
    status, headers, body = fetch(href)
    assert status == 200
    assert re.fullmatch(rf'attachment; filename="observatoire_taux-de-rotation_[a-z0-9-]+_'
                        rf'{date.today().isoformat()}\.csv"', headers["Content-Disposition"])
    table = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert table and {r["Filière, groupe ou métier"] for r in table} == {catalogue.ESMS_STAFF}
    decimals = catalogue.get("turnover_rate").decimals
    values = [r["Valeur"] for r in table if r["Valeur"]]
    assert values and all(re.fullmatch(rf"\d+,\d{{{decimals}}}", v) for v in values), values[:5]
    fits(dash_duo, WIDTHS[width][0])

    # code lists as JSON; an unknown API path is a JSON 404, never the dashboard's HTML
    status, headers, body = fetch(dash_duo.server_url + "/api/v1/territories")
    territories = json.loads(body)
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    gironde = next(t for t in territories if t["id"] == "DEP-33")
    assert gironde["label"] == "Gironde" and gironde["parent"] == "REG-75"
    status, headers, body = fetch(dash_duo.server_url + "/api/v1/nope")
    assert status == 404 and headers["Content-Type"].startswith("application/json") and b"<html" not in body

    # a chart's definition lands on its indicator's anchor on « Méthodologie »
    open_page(dash_duo, "/recrutement")
    dash_duo.wait_for_contains_text("#rec-trend-summary", "En 20", timeout=30)
    indicator = views.explorer.RECRUTEMENT.default.indicator
    link = dash_duo.driver.find_element(By.CSS_SELECTOR, f"a[href$='#{catalogue.get(indicator).anchor}']")
    scroll_to(dash_duo, f"a[href$='#{catalogue.get(indicator).anchor}']")
    link.click()
    wait_until(lambda: dash_duo.driver.current_url.endswith("#" + catalogue.get(indicator).anchor), 20, "the anchor")
    section = dash_duo.find_element("#" + catalogue.get(indicator).anchor)
    wait_until(lambda: dash_duo.driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return r.top >= -2 && r.top < window.innerHeight;",
        section), 20, "the definition in view")
    assert catalogue.get(indicator).label in section.text
    fits(dash_duo, WIDTHS[width][0])
    assert errors(dash_duo) == []
