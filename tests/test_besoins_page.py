"""Issue 20, the policymaker's question on « Besoins et ressources », in a real headless Chromium on the built
store, at desk and phone widths: choose a département, read its need and workforce against its région and France
(the numbers and years a person reads, recounted here from the store by SQL), find it on the need-vs-difficulty
chart, change the map's ratio, and keep all of it in the link."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from observatory.formatting import number, with_unit
from tests.test_journeys import choose, errors, plot, wait_until

NNBSP = "\u202f"


def latest(engine, indicator: str, territory: str, breakdown: str = "", profession: str = "ensemble"):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT period, value, status FROM observations WHERE indicator_id = :i AND territory_id = :t "
            "AND coalesce(breakdown, '') = :b AND profession_id = :p AND value IS NOT NULL "
            "ORDER BY period DESC LIMIT 1"), {"i": indicator, "t": territory, "b": breakdown, "p": profession}).one()


def value_at(engine, indicator: str, territory: str, period: int, breakdown: str = "") -> float:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT value FROM observations WHERE indicator_id = :i AND territory_id = :t AND period = :p "
            "AND coalesce(breakdown, '') = :b AND profession_id = 'ensemble'"),
            {"i": indicator, "t": territory, "b": breakdown, "p": period}).scalar_one()


def plain(words: str) -> str:
    return words.replace(NNBSP, " ").replace("\u00a0", " ")


@pytest.mark.parametrize("width,height", [(1280, 1000), (390, 844)], ids=["desk", "phone"])
def test_policymaker_reads_need_against_workforce_and_finds_the_departement(dash_duo, dash_app, built_store,
                                                                           width, height):
    dash_duo.driver.set_window_size(width, height)
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/besoins")
    dash_duo.wait_for_contains_text("#bes-summary", "75 ans ou plus", timeout=30)
    choose(dash_duo, "#bes-territory", "Gironde (33)", "Gironde")
    dash_duo.wait_for_contains_text("#bes-title", "Gironde", timeout=30)

    # Its need, with the year, as the store holds it (recounted here)
    old = latest(built_store, "population", "DEP-33", "age:75+")
    before = value_at(built_store, "population", "DEP-33", old.period - 5, "age:75+")
    growth = (old.value / before - 1) * 100
    summary = plain(dash_duo.find_element("#bes-summary").text)
    assert f"Gironde : {plain(with_unit(old.value, 'personnes', 0))} de 75 ans ou plus au 1er janvier " \
           f"{old.period} (+{plain(number(growth, 1))} % en cinq ans" in summary
    apa = latest(built_store, "apa_recipients", "DEP-33")
    assert f"{plain(number(apa.value, 0))} bénéficiaires de l'APA en {apa.period}" in summary
    share = latest(built_store, "recruitment_difficulty_share", "DEP-33", profession="aide_a_domicile")
    france = value_at(built_store, "population", "FR", old.period, "age:75+")
    assert f"{plain(number(share.value, 1))} % des projets de recrutement d'aides à domicile jugés difficiles en " \
           f"{share.period}" in summary

    # …against its région and France, in the table (column heads and cells)
    table = dash_duo.find_element("#bes-profile-table")
    heads = [plain(h.text) for h in table.find_elements("css selector", "thead th")]
    assert heads[1:4] == ["Gironde", "Nouvelle-Aquitaine", "France"]

    def cell(key: str, territory: str) -> str:
        return plain(table.find_element("css selector", f"td[data-key='{key}'][data-territory='{territory}']")
                     .get_attribute("textContent"))
    assert cell("people_75plus", "FR").startswith(plain(with_unit(france, "personnes", 0)) + f" ({old.period}")
    apa_fr = latest(built_store, "apa_recipients", "FR")
    assert cell("apa_recipients", "FR") == f"{plain(with_unit(apa_fr.value, 'personnes', 0))} ({apa_fr.period}, estimé)"
    staff = latest(built_store, "dept_social_staff", "DEP-33")
    assert cell("dept_social_staff", "DEP-33") == f"{plain(with_unit(staff.value, 'personnes', 0))} ({staff.period})"
    carers = latest(built_store, "foster_carers", "REG-75")
    assert cell("foster_carers", "REG-75").startswith(plain(with_unit(carers.value, "personnes", 0)))
    sources = dash_duo.find_element("#bes-sources").text
    assert "Insee" in sources and "DREES" in sources and "BMO" in sources and f"({old.period})" in sources

    # …and finds it on the need-vs-difficulty chart: the highlighted point is Gironde, at the table's numbers
    names = plot(dash_duo, "bes-scatter", "p.data.map(t => t.name)")
    assert names[-1] == "Gironde"
    x, y = plot(dash_duo, "bes-scatter", "[p._fullData[p._fullData.length - 1].x[0], "
                                         "p._fullData[p._fullData.length - 1].y[0]]")
    assert x == pytest.approx(growth) and y == pytest.approx(share.value)
    sentence = plain(dash_duo.find_element("#bes-scatter-summary").text)
    assert sentence.startswith(f"Gironde : +{plain(number(growth, 1))} % de 75 ans ou plus en cinq ans (")
    assert "départements" in sentence and errors(dash_duo) == []

    # The map of another ratio; the link keeps both choices, and a reload restores them
    choose(dash_duo, "#bes-ratio", "Enfants accueillis à l'ASE par assistant familial du département")
    dash_duo.wait_for_contains_text("#bes-map-summary", "Enfants accueillis à l'ASE par assistant familial",
                                    timeout=30)
    wait_until(lambda: "indicateur=ase_children_per_foster_carer" in dash_duo.driver.current_url, 10, "url")
    assert "territoire=DEP-33" in dash_duo.driver.current_url
    dash_duo.driver.refresh()
    dash_duo.wait_for_contains_text("#bes-title", "Gironde", timeout=30)
    dash_duo.wait_for_contains_text("#bes-map-summary", "assistant familial", timeout=30)
    # nothing wider than the screen on a phone
    assert dash_duo.driver.execute_script("return document.documentElement.scrollWidth") <= width + 1
