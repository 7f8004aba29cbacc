"""Links keep their state: the territory profile of /territoires lives in the URL with the map's filters, so a
shared link reopens both (issue 11: « a shared link comes back on the default territory »)."""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

from tests.test_journeys import choose


def query(dash_duo) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlparse(dash_duo.driver.current_url).query).items()}


def wait_query(dash_duo, key: str, value: str, timeout: float = 20) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if query(dash_duo).get(key) == value:
            return query(dash_duo)
        time.sleep(0.2)
    raise AssertionError(f"{key}={value} never reached the URL: {dash_duo.driver.current_url}")


def pick(dash_duo, selector: str, label: str, search: str | None = None) -> None:
    """Choose in a dropdown as a user does: scrolled into view, typing `search` first (long lists render only
    what is visible) — the journeys' helper."""
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    choose(dash_duo, selector, label, search)


def test_the_territory_profile_is_in_the_url_and_a_shared_link_reopens_it(dash_duo, dash_app):
    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(1400, 2200)  # the profile sits under the map; its menu opens below it
    dash_duo.wait_for_page(url=dash_duo.server_url + "/territoires?territoire=DEP-13")
    dash_duo.wait_for_contains_text("#ter-territory", "Bouches-du-Rhône", timeout=30)
    dash_duo.wait_for_contains_text("#ter-profile", "Bouches-du-Rhône", timeout=30)

    pick(dash_duo, "#ter-territory", "Département : Gironde (33)", search="Gironde")  # picked in the page
    dash_duo.wait_for_contains_text("#ter-profile", "Gironde", timeout=30)
    wait_query(dash_duo, "territoire", "DEP-33")

    pick(dash_duo, "#ter-level", "Régions")  # a map filter keeps the profile's territory
    shared = wait_query(dash_duo, "niveau", "region")
    assert shared["territoire"] == "DEP-33"

    dash_duo.driver.get(dash_duo.driver.current_url)  # the shared link
    dash_duo.wait_for_contains_text("#ter-territory", "Gironde", timeout=30)
    dash_duo.wait_for_contains_text("#ter-profile", "Gironde", timeout=30)
    assert [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"] == []


def test_the_policymaker_compares_her_regions_families_with_france(dash_duo, dash_app):
    """/filieres: a région picked in the page, « Comparer avec la France » ticked: each family of the région is
    followed by France's, the URL keeps both, a reload restores them."""
    from tests.test_journeys import tick, wait_until

    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(1400, 2200)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/filieres")
    dash_duo.wait_for_contains_text("#fil-summary", "filières", timeout=30)
    pick(dash_duo, "#fil-territory", "Région : Auvergne-Rhône-Alpes (84)", search="Auvergne")
    wait_query(dash_duo, "territoire", "REG-84")
    tick(dash_duo, "#fil-comparer input[value='france']")
    wait_query(dash_duo, "comparer", "france")
    dash_duo.wait_for_contains_text("#fil-summary", "suivie de sa valeur pour la France", timeout=30)

    def rows() -> list[str]:
        return dash_duo.driver.execute_script(
            "const g = document.querySelector('#fil-heatmap.js-plotly-plot, #fil-heatmap .js-plotly-plot'); "
            "return g.data[0].y")

    labels = wait_until(rows, 30, "the heat map's rows")  # drawn under a loading spinner: wait for it
    assert any(label.endswith("– Auvergne-Rhône-Alpes") for label in labels)
    assert any(label.endswith("– France") for label in labels)
    dash_duo.driver.get(dash_duo.driver.current_url)  # the shared link
    dash_duo.wait_for_contains_text("#fil-summary", "suivie de sa valeur pour la France", timeout=30)
    wait_until(lambda: rows() == labels, 30, "the same rows after reload")
    assert [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"] == []
