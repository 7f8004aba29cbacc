"""Issue 17's HR card on « Ressources humaines »: turnover, absenteeism and vacancy of one ESMS category in one
département beside its région and France, chosen in the page, read as the API serves them, kept in the link; a
category too small in a territory reads « secret », never 0; stacked on a phone. Headless Chromium, built store."""
from __future__ import annotations

import time

import pytest

from observatory import catalogue, hrcard, urlstate
from observatory.formatting import with_unit
from tests.test_charts_phone import OVERFLOW
from tests.test_journeys import choose, errors, wait_until

PLACES = {"departement": "Département : Gironde", "region": "Région : Nouvelle-Aquitaine", "nation": "France"}


def card_rows(dash_duo, indicator_id: str) -> dict[str, list[str]]:
    """What a person reads in one indicator's card: {level: [place, figure, status]}."""
    rows = dash_duo.driver.execute_script(
        f"return Array.from(document.querySelectorAll('#rh-card-{indicator_id} tr')).map("
        "r => [r.dataset.level, ...Array.from(r.children).map(c => c.innerText.trim())]);")
    return {row[0]: row[1:] for row in rows or []}


def pick(dash_duo, selector: str, label: str, search: str) -> None:
    """Choose in one of the card's dropdowns (scrolled to the middle of the screen first: it sits below the charts)."""
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});",
                                   dash_duo.find_element(selector))
    time.sleep(0.3)  # let the page settle where it scrolled
    choose(dash_duo, selector, label, search=search)


def api_figures(client, indicator_id: str, category: str) -> tuple[int, dict, dict]:
    """The API's figures of the category in the Gironde, its région and France: latest year, values, statuses."""
    rows = client.get(f"/api/v1/observations?indicator={indicator_id}&territory=DEP-33&territory=REG-75"
                      f"&territory=FR&breakdown=esms:{category}&profession=ensemble").get_json()["rows"]
    year = max(r["period"] for r in rows)
    latest = [r for r in rows if r["period"] == year]
    return (year, {r["territory_id"]: r["value"] for r in latest}, {r["territory_id"]: r["status"] for r in latest})


@pytest.mark.parametrize("width,height", [(1280, 1000), (390, 844)], ids=["desk", "phone"])
def test_the_hr_card_reads_the_api_figures_of_the_chosen_departement_and_category(dash_duo, dash_app, width, height):
    client = dash_app.server.test_client()
    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(width, height)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/ressources-humaines")
    dash_duo.wait_for_contains_text("#rh-card", "Taux de rotation", timeout=30)
    wait_until(lambda: dash_duo.find_element("#rh-compare-summary").text, 30, "the explorer's charts")
    pick(dash_duo, "#rh-card-departement", "Gironde (33)", search="Gironde")
    pick(dash_duo, "#rh-card-category", "EHPAD", search="EHPAD")
    dash_duo.wait_for_text_to_equal("#rh-card-title", "« EHPAD » : Gironde, Nouvelle-Aquitaine, France.", timeout=30)
    for indicator_id in hrcard.INDICATORS:
        entry = catalogue.get(indicator_id)
        year, values, statuses = api_figures(client, indicator_id, "500")
        card = dash_duo.find_element(f"#rh-card-{indicator_id}").text
        assert card.startswith(f"{entry.label} ({entry.unit})") and str(year) in card and "Source : " in card
        rows = card_rows(dash_duo, indicator_id)
        for level, territory in (("departement", "DEP-33"), ("region", "REG-75"), ("nation", "FR")):
            place, figure, status = rows[level]
            assert place == PLACES[level]
            assert figure == with_unit(values[territory], entry.unit, entry.decimals)  # rounded as shown
            assert statuses[territory] == "illustrative" and status == "données fictives calibrées"
    assert "données fictives calibrées" in dash_duo.find_element("#rh-card-section").text

    # the choice is in the link, through the one URL codec, and the link reopens it
    url = wait_until(lambda: "fiche_categorie=esms:500" in dash_duo.driver.current_url and dash_duo.driver.current_url,
                     20, "the card's choice in the URL")
    assert urlstate.decode_card(url.split("?", 1)[1]) == ("DEP-33", "esms:500")
    dash_duo.driver.get(url)
    dash_duo.wait_for_text_to_equal("#rh-card-title", "« EHPAD » : Gironde, Nouvelle-Aquitaine, France.", timeout=30)
    assert card_rows(dash_duo, "vacancy_rate")["departement"][0] == PLACES["departement"]

    # an IME of the Gironde: one establishment there, two in the région: « secret », never 0
    pick(dash_duo, "#rh-card-category", "Institut médico-éducatif (IME)", search="IME")
    dash_duo.wait_for_contains_text("#rh-card-title", "« Institut médico-éducatif (IME) » : Gironde", timeout=30)
    for indicator_id in hrcard.INDICATORS:
        rows = card_rows(dash_duo, indicator_id)
        assert rows["departement"][1] == rows["region"][1] == "secret" and rows["nation"][1] != "secret"
        assert "0" not in (rows["departement"][1] + rows["region"][1])  # no 0, no « 0,0 % »: the word

    boxes = [dash_duo.find_element(f"#rh-card-{i}").rect for i in hrcard.INDICATORS]
    if width < 500:  # stacked, and nothing sticks out of the screen
        assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"] and len({round(b["x"]) for b in boxes}) == 1
        page_width, viewport, culprits = dash_duo.driver.execute_script(OVERFLOW)
        assert page_width <= viewport, f"{page_width} px wide in a {viewport} px viewport: {culprits}"
    else:  # side by side on one screen
        assert len({round(b["y"]) for b in boxes}) == 1 and boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
    assert errors(dash_duo) == []


def test_every_category_of_the_gironde_reads_the_api_or_secret(query_store, dash_app):
    """Without a browser, every category: a figure is the API's value for its latest year, or « secret » where the
    category holds 1 to 4 establishments there (counted here from the store's establishment figures)."""
    store = query_store
    from observatory import queries, views

    client = dash_app.server.test_client()
    names = views.names.labels(store, "territory")
    for breakdown in views.names.esms_labels(store):
        card = hrcard.hr_card(store, "DEP-33", breakdown, names)
        for item in card:
            entry = catalogue.get(item.indicator_id)
            year, values, _statuses = api_figures(client, item.indicator_id, breakdown.removeprefix("esms:"))
            assert item.period == year
            counts = queries.establishment_values(store, item.indicator_id, year)
            counts = counts[counts.esms_category == breakdown.removeprefix("esms:")]
            for figure in item.figures:
                n = (counts if figure.level == "nation" else
                     counts[counts.territory_id == "DEP-33"] if figure.level == "departement" else
                     counts[counts.region_id == "REG-75"]).finess.nunique()
                if 0 < n < 5:
                    assert figure.text == "secret" and figure.value is None
                elif values.get(figure.territory_id) is not None:
                    assert figure.text == with_unit(values[figure.territory_id], entry.unit, entry.decimals)
