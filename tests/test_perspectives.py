"""/perspectives: the workforce outlook page.

In a real headless Chromium, at desk and phone widths, on the built store: the page opens on a family and a
territory from its link, a scenario typed in the page changes the sentence and the flows chart and goes into the
URL, the link reopens the same view, a région changes the figures, and the back-test lists the social families.
Then the page's pure functions (wording of the sentence, back-test verdict), without a browser.
"""
from __future__ import annotations

import json
import math
import re
import urllib.request
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.keys import Keys

from observatory import outlook, outlook_data, urlstate
from observatory import outlook_view as parts
from observatory.formatting import NNBSP, parse_number
from observatory.store import Store
from tests.test_charts_phone import OVERFLOW, settle
from tests.test_journeys import choose, errors, wait_until

SOCIAL = ("T2A", "T2B", "V0Z", "V4Z", "V5Z")
SENTENCE = "#outlook-sentence"
FLOWS = ("const g = document.querySelector('#outlook-flows.js-plotly-plot, #outlook-flows .js-plotly-plot'); "
         "return g && g.data ? g.data.filter(t => t.type === 'bar').map(t => [t.name, Array.from(t.y)]) : null;")
VISIBILITY = ("const g = document.querySelector('#outlook-flows.js-plotly-plot, #outlook-flows .js-plotly-plot'); "
              "return g && g.data ? g.data.map(t => [t.name, t.visible === undefined ? true : t.visible]) : null;")
ROWS = ("return Array.from(document.querySelectorAll(arguments[0] + ' tr')).map(tr => "
        "Array.from(tr.querySelectorAll('td')).map(td => td.innerText.trim())).filter(r => r.length);")
UPPER_BOUND = "sorties en cours de carrière (borne haute)"


def figures_of(text: str) -> tuple[int, int]:
    """(horizon, end-of-career exits) read back from the sentence."""
    found = re.search(rf"D'ici (\d{{4}}), ([\d{NNBSP}]+) départs en fin de carrière", text)
    assert found, text
    return int(found.group(1)), int(found.group(2).replace(NNBSP, ""))


def sentence(dash_duo) -> str:
    return dash_duo.find_element(SENTENCE).text


def query(dash_duo) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlparse(dash_duo.driver.current_url).query).items()}


def flows(dash_duo) -> dict:
    return {name: sum(y) for name, y in dash_duo.driver.execute_script(FLOWS) or []}


def type_into(dash_duo, selector: str, value: str) -> None:
    """Type a number into a field as a user does (select what is there, type, Enter: the debounced field sends)."""
    field = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();", field)
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(value, Keys.ENTER)


@pytest.mark.parametrize("width,height", [(1280, 1000), (390, 844)], ids=["desk", "phone"])
def test_a_scenario_changed_in_the_page_moves_the_figures_and_stays_in_the_link(dash_duo, dash_app, width, height):
    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(width, height)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/perspectives?profession=T2A&territory=FR")
    dash_duo.wait_for_contains_text(SENTENCE, "D'ici", timeout=30)
    central = sentence(dash_duo)
    horizon, exits = figures_of(central)
    assert exits > 0 and "T2A" in dash_duo.find_element("#outlook-family").text
    bars = wait_until(lambda: flows(dash_duo), 20, "the flows chart")
    assert set(bars) >= {"départs en fin de carrière", UPPER_BOUND}
    assert bars["départs en fin de carrière"] == pytest.approx(exits, abs=len(bars) + 1)

    # a later end of career, typed in the page: fewer exits, a new chart, the URL says so
    type_into(dash_duo, "#outlook-retirement_age_shift", "2")
    later = wait_until(lambda: sentence(dash_duo) != central and sentence(dash_duo), 30, "the sentence to change")
    assert figures_of(later)[0] == horizon and figures_of(later)[1] < exits
    assert "scénario central" in later
    wait_until(lambda: flows(dash_duo).get("départs en fin de carrière", exits) < bars["départs en fin de carrière"],
               20, "the flows chart to change")
    wait_until(lambda: query(dash_duo).get("retirement_age_shift") == "2", 20, "retirement_age_shift=2 in the URL")
    shared = dash_duo.driver.current_url
    assert query(dash_duo)["profession"] == "T2A" and query(dash_duo)["territory"] == "FR"
    export = dash_duo.find_element("#outlook-export-csv").get_attribute("href")
    assert "/api/v1/projections?" in export and "retirement_age_shift=2" in export and export.endswith("format=csv")

    # the shared link reopens the same view
    dash_duo.driver.get(shared)
    dash_duo.wait_for_contains_text(SENTENCE, "D'ici", timeout=30)
    wait_until(lambda: dash_duo.find_element("#outlook-retirement_age_shift").get_attribute("value") == "2", 20,
               "the control showing 2 after reload")
    wait_until(lambda: sentence(dash_duo) == later, 20, "the same sentence after reload")

    # a région: its own figures
    choose(dash_duo, "#outlook-territory", "Région : Auvergne-Rhône-Alpes (84)", search="Auvergne")
    regional = wait_until(lambda: sentence(dash_duo) != later and sentence(dash_duo), 30, "the région's sentence")
    assert figures_of(regional)[1] < figures_of(later)[1]
    wait_until(lambda: query(dash_duo).get("territory") == "REG-84", 20, "the région in the URL")
    assert query(dash_duo).get("retirement_age_shift") == "2"  # the scenario kept

    # the back-test: the chosen family, and the five social families side by side
    social = dash_duo.find_element("#outlook-backtest-social").text
    assert all(f"{fap} –" in social for fap in SOCIAL), social
    assert "T2A" in dash_duo.find_element("#outlook-backtest").text
    assert "Sorties en cours de carrière" in dash_duo.find_element("#outlook-assumptions").text

    if width < 500:  # nothing sticks out of a phone's screen
        settle(dash_duo)
        page_width, viewport, culprits = dash_duo.driver.execute_script(OVERFLOW)
        assert page_width <= viewport, f"{page_width} px wide in a {viewport} px viewport: {culprits}"
    assert errors(dash_duo) == []


def test_a_profession_in_the_link_opens_its_family_and_the_reset_button_restores_the_central_scenario(query_store,
        dash_duo, dash_app):
    store = query_store
    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(1280, 1000)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/perspectives?profession=aide_a_domicile&exit_rate_factor=0")
    dash_duo.wait_for_contains_text(SENTENCE, "D'ici", timeout=30)
    assert dash_duo.find_element("#outlook-family").text.startswith("T2A –")
    assert "0 sorties en cours de carrière" in sentence(dash_duo)
    assert query(dash_duo).get("profession") == "aide_a_domicile"
    def pressed() -> bool:  # charts drawn below may still shift the page: retry while something covers the button
        button = dash_duo.find_element("#outlook-reset")
        dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        try:
            button.click()
        except ElementClickInterceptedException:
            return False
        return True
    wait_until(pressed, 10, "the reset button clickable")
    wait_until(lambda: "exit_rate_factor" not in query(dash_duo), 20, "the central scenario in the URL")
    assert dash_duo.find_element("#outlook-exit_rate_factor").get_attribute("value") == "1"
    assert "scénario central" not in sentence(dash_duo)

    # another family picked in the page: its own figures, and the link now names it
    t2a = sentence(dash_duo)
    label = next(o["label"] for o in parts.family_options(outlook_data.store(store)) if o["value"] == "V4Z")
    choose(dash_duo, "#outlook-family", label, search="V4Z")
    v4z = wait_until(lambda: sentence(dash_duo) != t2a and sentence(dash_duo), 30, "V4Z's sentence")
    assert figures_of(v4z)[1] != figures_of(t2a)[1]
    wait_until(lambda: query(dash_duo).get("profession") == "V4Z", 20, "profession=V4Z in the URL")
    assert "V4Z" in dash_duo.find_element("#outlook-backtest").text

    # a value out of its documented range is said to be ignored, never silently dropped
    before = sentence(dash_duo)
    type_into(dash_duo, "#outlook-retirement_age_shift", "9")
    warning = wait_until(lambda: dash_duo.find_element("#outlook-warning").text, 20, "the out-of-range warning")
    assert "Valeur ignorée" in warning and "9" in warning
    assert sentence(dash_duo) == before and "retirement_age_shift" not in query(dash_duo)
    assert errors(dash_duo) == []


def api_totals(dash_duo, **query) -> dict:
    """The API's totals for a request, fetched from the running server as any client would."""
    url = f"{dash_duo.server_url}/api/v1/projections?{urlencode(dict(query, format='json'))}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)["totals"]


def persons_in(cell: str) -> int | None:
    """`163 254` / `−10 987` as read on screen → an int; None for « n.d. »."""
    text = re.sub(r"\s", "", cell).replace("\u2212", "-")
    return None if text == "n.d." else int(text)


def table(dash_duo, selector: str) -> list[list[str]]:
    """A DataTable's cells as read on screen, row by row."""
    return dash_duo.driver.execute_script(ROWS, selector) or []


def ranking(dash_duo) -> list[list[str]]:
    return table(dash_duo, "#outlook-ranking")


def assert_ranking_is_the_apis(dash_duo, rows: list[list[str]], **query) -> None:
    """Every social family listed once, sorted by openings, each figure the API's for the same request."""
    columns = list(parts.RANKING_COLUMNS)
    codes = [row[columns.index("Famille")].split(" –")[0] for row in rows]
    assert sorted(codes) == sorted(SOCIAL), rows
    openings = [persons_in(row[columns.index("Postes à pourvoir")]) for row in rows]
    assert openings == sorted(openings, reverse=True)
    for code, row in zip(codes, rows):
        totals = api_totals(dash_duo, profession=code, **query)
        for column, key in parts.RANKING_FIELDS.items():
            shown, expected = persons_in(row[columns.index(column)]), totals[key]
            assert (shown is None) == (expected is None), (code, column, shown, expected)
            if expected is not None:
                assert abs(shown - expected) <= 1, (code, column, shown, expected)


@pytest.mark.parametrize("width,height", [(1280, 1000), (390, 844)], ids=["desk", "phone"])
def test_the_page_opens_on_the_social_families_ranked_and_the_horizon_and_french_decimals_go_into_the_link(query_store,
        dash_duo, dash_app, width, height):
    store = query_store
    data = outlook_data.store(store)
    default = outlook_data.default_horizon(data.base_year)
    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(width, height)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/perspectives")
    dash_duo.wait_for_contains_text(SENTENCE, "D'ici", timeout=30)

    # a social family, not « A0Z Agriculteurs », and the default horizon read off the base year
    family = dash_duo.find_element("#outlook-family").text
    assert family.startswith("T2A –") and "A0Z" not in family and "Agriculteurs" not in family
    assert figures_of(sentence(dash_duo))[0] == default
    assert dash_duo.find_element("#outlook-horizon").text.strip().startswith(str(default))

    # the ranking table: the social families, by openings, the API's figures
    rows = wait_until(lambda: len(ranking(dash_duo)) == len(SOCIAL) and ranking(dash_duo), 30, "the ranking table")
    assert_ranking_is_the_apis(dash_duo, rows, territory="FR")
    caption = dash_duo.find_element("#outlook-ranking-caption").text
    assert f"à {default}" in caption and "classées par postes à pourvoir" in caption
    assert "Statut : projection de l'observatoire" in dash_duo.find_element("#outlook-ranking-status").text

    # the complete gap above the workforce says why
    t2a = api_totals(dash_duo, profession="T2A", territory="FR")
    workforce = data.families["T2A"].employment[data.base_year]
    assert t2a["complete_gap"] > workforce  # T2A's mid-career exits, counted every year, exceed its workforce
    assert f"L'écart complet dépasse l'effectif de {data.base_year}" in sentence(dash_duo)

    # the mid-career upper bound is not drawn by default: on demand, from the legend
    visible = dict(wait_until(lambda: dash_duo.driver.execute_script(VISIBILITY), 20, "the flows chart"))
    assert visible[UPPER_BOUND] == "legendonly"
    # (a driver that fell one year, APA in 2020, names the bar « … (sous zéro : suppressions) »)
    jobs = next(name for name in visible if name.startswith("créations nettes d'emploi"))
    assert visible["départs en fin de carrière"] is True and visible[jobs] is True

    # another horizon chosen in the page: the sentence, the table and the URL follow
    before = sentence(dash_duo)
    other = next(y for y in outlook_data.horizons(data.base_year) if y != default and y >= data.base_year + 10)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})",
                                   dash_duo.find_element("#outlook-horizon"))
    choose(dash_duo, "#outlook-horizon", str(other))
    wait_until(lambda: sentence(dash_duo) != before and figures_of(sentence(dash_duo))[0] == other, 30,
               "the sentence at the new horizon")
    wait_until(lambda: query(dash_duo).get("to") == str(other), 20, f"to={other} in the URL")
    wait_until(lambda: f"à {other}" in dash_duo.find_element("#outlook-ranking-caption").text, 20, "the caption")
    assert_ranking_is_the_apis(dash_duo, ranking(dash_duo), territory="FR", to=other)

    # « 1,5 » typed in a scenario field is 1.5, not 15 (nor nothing)
    type_into(dash_duo, "#outlook-exit_rate_factor", "1,5")
    wait_until(lambda: query(dash_duo).get("exit_rate_factor") == "1.5", 20, "exit_rate_factor=1.5 in the URL")
    assert query(dash_duo).get("to") == str(other)
    assert dash_duo.find_element("#outlook-warning").text == ""
    assert dash_duo.find_element("#outlook-exit_rate_factor").get_attribute("value") == "1,5"
    label = outlook.PARAMETERS["exit_rate_factor"].label
    wait_until(lambda: [label, "1,5"] in [row[:2] for row in table(dash_duo, "#outlook-assumptions")], 20,
               "1,5 in the assumptions table")
    wait_until(lambda: "scénario modifié" in dash_duo.find_element("#outlook-ranking-caption").text, 20,
               "the ranking under the user's scenario")
    assert_ranking_is_the_apis(dash_duo, ranking(dash_duo), territory="FR", to=other, exit_rate_factor="1.5")

    if width < 500:  # nothing sticks out of a phone's screen
        settle(dash_duo)
        page_width, viewport, culprits = dash_duo.driver.execute_script(OVERFLOW)
        assert page_width <= viewport, f"{page_width} px wide in a {viewport} px viewport: {culprits}"
    assert errors(dash_duo) == []


# --- the pure functions, no browser ---------------------------------------------------------------------------
TOTALS = {"retirements": 120_400.0, "job_change": 15_250.0, "openings": 135_650.0, "entrants": 60_000.0,
          "gap": 75_650.0, "other_exits": 40_000.0, "complete_gap": 115_650.0}


def test_the_sentence_reads_the_totals_in_french():
    text = parts.sentence(TOTALS, 2035, illustrative=True)
    assert text == (f"D'ici 2035, 120{NNBSP}400 départs en fin de carrière et 15{NNBSP}250 créations nettes "
                    f"d'emplois, soit 135{NNBSP}650 postes à pourvoir, pour 60{NNBSP}000 jeunes diplômés prenant un "
                    f"poste (données de formation illustratives) : un écart de 75{NNBSP}650 postes. En comptant "
                    f"aussi 40{NNBSP}000 sorties en cours de carrière (borne haute), l'écart complet atteint "
                    f"115{NNBSP}650 postes.")
    central = dict(TOTALS, gap=80_000.0, complete_gap=120_000.0)
    assert f"(scénario central : écart de 80{NNBSP}000 postes)" in parts.sentence(TOTALS, 2035, True, central)
    assert "illustratives" not in parts.sentence(TOTALS, 2035, illustrative=False)


def test_a_negative_job_change_is_worded_as_net_job_losses():
    text = parts.sentence(dict(TOTALS, job_change=-8_300.4, openings=112_100.0, gap=52_100.0), 2030, True)
    assert f"8{NNBSP}300 suppressions nettes d'emplois" in text and "créations" not in text and "−" not in text


def test_no_graduates_means_no_gap_figure():
    for missing in (None, math.nan):
        text = parts.sentence(dict(TOTALS, entrants=missing, gap=math.nan, complete_gap=math.nan), 2035, True)
        assert "aucune donnée de formation rattachée à cette famille" in text
        assert "écart de" not in text and "écart complet" not in text and "nan" not in text.lower()
        assert f"135{NNBSP}650 postes à pourvoir" in text


def test_a_surplus_of_graduates_is_not_a_negative_gap():
    text = parts.sentence(dict(TOTALS, entrants=200_000.0, gap=-64_350.0, complete_gap=-24_350.0), 2035, True)
    assert f"un excédent de 64{NNBSP}350 jeunes diplômés" in text and "écart de −" not in text


def test_the_social_families_come_first_in_the_family_list_and_the_others_under_autres_metiers():
    names = ("A0Z", "V5Z", "T2B", "Z0Z", "T2A", "V0Z", "V4Z")
    data = SimpleNamespace(families={f: SimpleNamespace(label=f"famille {f}") for f in names}, social=SOCIAL)
    options = parts.family_options(data)
    assert [o["value"] for o in options] == ["__social", *SOCIAL, "__others", "A0Z", "Z0Z"]
    assert [o["label"] for o in options if o.get("disabled")] == ["Métiers du travail social", "Autres métiers"]
    assert options[1]["label"] == "T2A – famille T2A"


def test_the_social_families_are_read_from_the_reference_not_a_list_in_the_page(built_store):
    """The crosswalk names T2A, T2B, V4Z (FAP-87 nodes) and V5Z (FAP-2009 V5Z81, V5Z84); V0Z is the one family
    added by hand (AES in V0Z60); T2Z (T2A + T2B) has no profession under it, A0Z no social profession."""
    data = outlook_data.store(Store.of(built_store))
    assert data.social == SOCIAL
    assert outlook_data.SOCIAL_BY_CONTENT == ("V0Z",)
    assert urlstate.parse_outlook({}, data, strict=False).family == "T2A"  # not « A0Z Agriculteurs »


def test_the_french_number_parser():
    assert parse_number("1,5") == 1.5 and parse_number("1.5") == 1.5 and parse_number(" 1,5 ") == 1.5
    assert parse_number("1 5") == 15 and parse_number(f"1{NNBSP}500") == 1500 and parse_number("1\u00a0500,5") == 1500.5
    assert parse_number("-0,5") == -0.5 and parse_number("\u22120,5") == -0.5 and parse_number("+2") == 2
    assert parse_number(",5") == 0.5 and parse_number("3") == 3 and parse_number(2.5) == 2.5
    assert parse_number("") is None and parse_number(None) is None and parse_number("  ") is None
    for wrong in ("abc", "1,5,3", "1.500,5", "1,5 %", "--1", "nan", "inf", "1e3", "0x10"):
        with pytest.raises(ValueError, match="n'est pas un nombre"):
            parse_number(wrong)


def test_a_complete_gap_above_the_workforce_says_why():
    big = parts.sentence(TOTALS, 2035, True, workforce=(2019, 100_000.0))
    assert (f"L'écart complet dépasse l'effectif de 2019 (100{NNBSP}000 personnes) parce que les sorties en cours "
            "de carrière sont comptées chaque année") in big and "c'est une borne haute" in big
    assert "dépasse" not in parts.sentence(TOTALS, 2035, True, workforce=(2019, 200_000.0))
    none = dict(TOTALS, entrants=None, gap=math.nan, complete_gap=math.nan)
    assert "Ce total dépasse l'effectif de 2019" in parts.sentence(none, 2035, True, workforce=(2019, 150_000.0))


def test_horizons_follow_the_base_year_in_round_years():
    assert outlook_data.default_horizon(2019) == 2035 and outlook_data.default_horizon(2020) == 2035
    assert outlook_data.default_horizon(2021) == 2040  # a newer pyramid moves the default: no year in the code
    assert outlook_data.horizons(2019) == [2020, 2025, 2030, 2035, 2040, 2045]
    assert outlook_data.horizons(2024)[0] == 2025 and outlook_data.horizons(2024)[-1] == outlook_data.max_horizon(2024)
    assert [o["value"] for o in parts.horizon_options(2019, 2033)] == [2020, 2025, 2030, 2033, 2035, 2040, 2045]


def test_the_backtest_verdict_compares_with_the_naive_projection():
    bt = outlook.Backtest("T2A", 2009, 2019, actual_employment=100_000, projected_employment=103_000,
                          naive_employment=90_000, actual_share_50_plus=40.0, projected_share_50_plus=35.0,
                          naive_share_50_plus=38.0, growth_used=1.0)
    assert parts.verdict(bt) == ("Le modèle fait mieux que la projection naïve sur l'emploi, moins bien sur la part "
                                 "des 50 ans ou plus.")
    rows = parts.backtest_rows(bt)
    assert rows[0]["Observé en 2019"] == f"100{NNBSP}000" and rows[0]["Écart du modèle"] == f"+3,0{NNBSP}%"
    assert rows[1]["Écart de la projection naïve"] == "−2,0 points"


@pytest.mark.parametrize("width,height", [(1280, 1000), (390, 844)], ids=["desk", "phone"])
def test_a_departement_reads_its_families_and_the_population_they_follow(query_store, dash_duo, dash_app, width,
                                                                         height):
    """Issue 21: a département chosen in the page: the ranking of the social families for it, the driver chart
    of the family (people served, observed then projected) with the numbers of /api/v1/demand, and Insee's
    scenario in the link."""
    dash_duo.driver.set_window_size(width, height)
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/perspectives?profession=T2A")
    dash_duo.wait_for_contains_text(SENTENCE, "D'ici", timeout=30)
    choose(dash_duo, "#outlook-territory", "Département : Gironde (33)", search="Gironde")
    wait_until(lambda: query(dash_duo).get("territory") == "DEP-33", 20, "territory=DEP-33 in the URL")
    wait_until(lambda: "Gironde" in dash_duo.find_element("#outlook-ranking-caption").text, 30, "the caption")
    rows = wait_until(lambda: len(ranking(dash_duo)) >= 3 and ranking(dash_duo), 30, "the ranking table")
    assert_ranking_is_the_apis(dash_duo, rows, territory="DEP-33")
    summary = wait_until(lambda: "Gironde" in dash_duo.find_element("#outlook-driver-summary").text
                         and dash_duo.find_element("#outlook-driver-summary").text, 30, "the driver's sentence")
    url = f"{dash_duo.server_url}/api/v1/demand?driver=apa_recipients_home&territory=DEP-33"
    with urllib.request.urlopen(url, timeout=30) as response:
        demand = json.load(response)
    observed = [r for r in demand["rows"] if r["status"] == "observed"][-1]
    assert summary.startswith("Bénéficiaires de l'APA à domicile (Gironde) : ")
    assert f"{persons_text(observed['value'])} en {observed['year']} (observé)" in summary.replace(NNBSP, " ")
    choose(dash_duo, "#outlook-population", "espérance de vie haute")
    wait_until(lambda: query(dash_duo).get("population_scenario") == "ev_haute", 20, "the scenario in the URL")
    wait_until(lambda: "espérance de vie haute" in dash_duo.find_element("#outlook-driver-table").text
               or "espérance de vie haute" in dash_duo.driver.execute_script(
                   "return JSON.stringify(document.querySelector('#outlook-driver .js-plotly-plot').data"
                   ".map(t => t.name))"), 30, "the driver under the variant")
    assert errors(dash_duo) == []


def persons_text(value: float) -> str:
    """A count as `outlook_figures.persons` writes it, with plain spaces."""
    from observatory.outlook_figures import persons
    return persons(value).replace(NNBSP, " ").replace("\u00a0", " ")
