"""The dashboard in a real headless Chromium: every page without console error, filters in the URL, upload."""
from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By

from tests.conftest import ROOT

PAGES = {
    "/": "L'attractivité des métiers du social en chiffres", "/recrutement": "Recrutement",
    "/ressources-humaines": "Ressources humaines", "/formation": "Formation", "/filieres": "Comparer les filières",
    "/territoires": "Territoires", "/mon-etablissement": "Mon établissement parmi ses pairs",
    "/donnees": "Explorer les données", "/methodologie": "Méthodologie", "/perspectives": "Perspectives",
}


def wait_text(dash_duo, selector: str, text: str, timeout: int = 20) -> None:
    dash_duo.wait_for_contains_text(selector, text, timeout=timeout)


def errors(dash_duo) -> list:
    return [entry for entry in (dash_duo.get_logs() or []) if entry.get("level") == "SEVERE"]


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_opens_without_console_error(dash_duo, dash_app, path):
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + path)
    wait_text(dash_duo, "h1", PAGES[path])
    if path in ("/recrutement", "/ressources-humaines", "/formation"):
        prefix = {"/recrutement": "rec", "/ressources-humaines": "rh", "/formation": "form"}[path]
        wait_text(dash_duo, f"#{prefix}-trend-summary", "En 20")
    time.sleep(0.5)
    assert errors(dash_duo) == []


def test_filter_change_updates_chart_and_url_and_reload_restores_it(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/recrutement")
    wait_text(dash_duo, "#rec-trend-summary", "part des projets jugés difficiles")
    dash_duo.select_dcc_dropdown("#rec-indicator", value="Projets de recrutement (projets)")
    wait_text(dash_duo, "#rec-trend-summary", "projets de recrutement (Métiers du travail social, France)")
    wait_text(dash_duo, "#rec-trend .gtitle", "Projets de recrutement (projets)")
    deadline = time.time() + 10
    while "indicateur=recruitment_projects" not in dash_duo.driver.current_url and time.time() < deadline:
        time.sleep(0.2)
    shared = dash_duo.driver.current_url
    assert "indicateur=recruitment_projects" in shared
    summary = dash_duo.find_element("#rec-trend-summary").text
    dash_duo.driver.get(shared)  # reopen the shared link
    wait_text(dash_duo, "#rec-trend-summary", "projets de recrutement (Métiers du travail social, France)")
    assert dash_duo.find_element("#rec-trend-summary").text == summary
    assert "Projets de recrutement" in dash_duo.find_element("#rec-indicator").text
    assert errors(dash_duo) == []


def test_map_filter_change_patches_values(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/territoires")
    wait_text(dash_duo, "#ter-map-summary", "territoires renseignés")
    before = dash_duo.find_element("#ter-map-summary").text
    dash_duo.select_dcc_dropdown("#ter-indicator", value="Taux d'ETP vacants au 31/12 (%)")
    deadline = time.time() + 15
    while dash_duo.find_element("#ter-map-summary").text == before and time.time() < deadline:
        time.sleep(0.2)
    assert "territoires renseignés" in dash_duo.find_element("#ter-map-summary").text
    assert dash_duo.find_element("#ter-map-summary").text != before
    assert "indicateur=vacancy_rate" in dash_duo.driver.current_url
    assert errors(dash_duo) == []


# The map draws its territories from a GeoJSON fetched once by URL (issue 19: not inside the page's figure).
MAP_DRAWN = """
const g = document.querySelector('#ter-map .js-plotly-plot');
if (!g || !g._fullData) return null;
const drawn = [...g.querySelectorAll('.trace.choropleth')].map(t => t.querySelectorAll('.choroplethlocation').length);
const fills = new Set([...g.querySelectorAll('.choroplethlocation')].map(e => getComputedStyle(e).fill));
const fetched = performance.getEntriesByType('resource').map(r => r.name).filter(n => n.includes('/carte/'))
  .map(n => n.split('/carte/')[1].split('?')[0]);
return {drawn: drawn[0], fills: fills.size, fetched, locations: g._fullData[0].locations.length};
"""


def map_drawn(dash_duo, territories: int) -> dict:
    deadline, drawn = time.time() + 20, None
    while time.time() < deadline and not (drawn and drawn["drawn"] == territories):
        drawn = dash_duo.driver.execute_script(MAP_DRAWN)
        time.sleep(0.3)
    return drawn


def test_the_map_fetches_its_geometry_once_and_draws_every_territory(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/territoires")
    wait_text(dash_duo, "#ter-map-summary", "territoires renseignés")
    drawn = map_drawn(dash_duo, 101)  # every département (DROM as insets), coloured by value
    assert drawn["drawn"] == drawn["locations"] == 101 and drawn["fills"] > 20, drawn
    assert drawn["fetched"] == ["departements_insets.geojson"], drawn
    dash_duo.select_dcc_dropdown("#ter-level", value="Régions")
    drawn = map_drawn(dash_duo, 18)
    assert drawn["drawn"] == drawn["locations"] == 18 and drawn["fills"] > 5, drawn
    assert drawn["fetched"] == ["departements_insets.geojson", "regions_insets.geojson"], drawn
    assert errors(dash_duo) == []


def test_uploading_own_figures_shows_the_peer_comparison(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/mon-etablissement")
    upload = dash_duo.wait_for_element("#own-upload input[type=file]", timeout=30)
    upload.send_keys(str(ROOT / "data/templates/exemple_mon_etablissement.xlsx"))
    wait_text(dash_duo, "#own-summary", "médiane des pairs")
    wait_text(dash_duo, "#own-messages", "3 ligne(s) lue(s)")
    assert "Taux de rotation" in dash_duo.find_element("#own-summary").text
    assert errors(dash_duo) == []


def test_home_sentence_says_which_sources_are_fictitious_from_the_store(query_store, dash_app, built_store):
    """Issue 17: the home page said only in a table column and the footer which figures were fictitious."""
    store = query_store
    from sqlalchemy import text

    from observatory import views

    with built_store.connect() as conn:
        flags = dict(conn.execute(text("SELECT source_id, is_illustrative FROM source WHERE scope = 'published' "
                                       "AND source_id IN (SELECT DISTINCT source_id FROM observations)")).all())
    real, fictitious = views.home.real_and_fictitious_sentence(store).split(" ; chiffres fictifs calibrés")
    assert real.startswith("Chiffres réels : recrutement (France Travail BMO)")
    for source_id, illustrative in flags.items():
        name = views.home.source_family(store, source_id)
        assert name in (fictitious if illustrative else real), (source_id, name)
        if illustrative:
            assert name not in real
    assert "ressources humaines (ATIH/ANAP TDBMS)" in fictitious and "formation (DREES" in fictitious


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)])
def test_home_first_screen_says_which_figures_are_real(query_store, dash_duo, dash_app, size):
    """Before scrolling, at 1280×800 and 390×844: the real/fictitious sentence; each key figure says which it is."""
    store = query_store
    from observatory import views

    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(*size)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/")
    wait_text(dash_duo, "#home-real-fictitious", "chiffres fictifs calibrés")
    assert dash_duo.find_element("#home-real-fictitious").text == views.home.real_and_fictitious_sentence(store)
    top, bottom, height = dash_duo.driver.execute_script(
        "const r = document.getElementById('home-real-fictitious').getBoundingClientRect(); "
        "return [r.top, r.bottom, innerHeight];")
    assert 0 <= top < height and bottom <= height, (top, bottom, height)
    cards = dash_duo.driver.find_elements(By.CSS_SELECTOR, ".obs-card:has(.obs-kpi)")
    tags = [c.find_element(By.CSS_SELECTOR, ".obs-kpi-tag").text for c in cards]
    assert cards and set(tags) <= {"Chiffre réel", "Chiffre fictif calibré"} and len(tags) == len(cards)
    assert errors(dash_duo) == []
