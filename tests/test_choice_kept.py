"""Issue 17: a choice is kept and named the same everywhere.

/recrutement silently switched « Accompagnants éducatifs et sociaux (ex-AMP) », « Assistants de service social »
and « Éducateurs de jeunes enfants » to « Ensemble des métiers » (BMO does not publish them on their own); /donnees
opened turnover on a family with no row and named its root « Ensemble des métiers » in the dropdown but
« Personnel permanent … » in its message. Now the choice stays (dropdown, URL) and the page says which published
métier counts it; a profession has one label, read from the store and the catalogue.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from observatory import catalogue, urlstate, views
from observatory.urlstate import Filters
from tests.test_dashboard import errors
from tests.test_journeys import wait_until
from tests.test_links import pick

UNPUBLISHED_BY_BMO = ("accompagnant_educatif_social", "assistant_service_social", "educateur_jeunes_enfants")
WIDTHS = {"desk": (1280, 900), "phone": (390, 844)}


def dropdown_label(options: list[dict], value: str) -> str:
    return next(o["label"] for o in options if o["value"] == value).strip("\u2003")


@pytest.mark.parametrize("profession", UNPUBLISHED_BY_BMO)
def test_recruitment_keeps_a_profession_bmo_does_not_publish(query_store, dash_app, profession):
    store = query_store
    from pages._components import ui

    page = views.explorer.RECRUTEMENT
    view = views.explorer.explorer_view(store, page, Filters(page.default.indicator, profession=profession))
    label = dropdown_label(ui.profession_options(store, indicator_id=view.filters.indicator), profession)
    assert view.filters.profession == profession  # before: « ensemble »
    assert f"Pas de données BMO pour « {label} » ; ce métier est compté dans « " in view.coverage
    assert view.trend_summary.startswith(view.coverage)
    counted = views.names.labels(store, "profession")[view.counted_in]
    assert counted in view.coverage and counted in view.trend_summary
    assert set(view.trend_frame.profession_id) <= {view.counted_in, "ensemble"} and len(view.trend_frame)
    assert parse_qs(urlstate.encode(view.filters, page.default).lstrip("?"))["profession"] == [profession]


def test_a_published_profession_has_no_coverage_sentence(query_store, dash_app):
    store = query_store
    view = views.explorer.explorer_view(store, views.explorer.RECRUTEMENT,
                               Filters("recruitment_projects", profession="educateur_specialise"))
    assert view.coverage == "" and view.counted_in is None
    assert "Éducateurs spécialisés" in view.trend_summary


def test_turnover_root_has_one_name_in_every_place(query_store, dash_app, app_context):
    """Dropdown (explorer and /donnees), chart text and /donnees' table: « Personnel permanent des ESMS »."""
    store = query_store
    from pages import donnees
    from pages._components import ui

    for indicator, name in catalogue.POPULATION.items():  # the ESMS rates, and the population itself
        assert dropdown_label(ui.profession_options(store, indicator_id=indicator), "ensemble") == name
        assert views.names.population_labels(store, indicator)["ensemble"] == name
    assert list(catalogue.POPULATION.values()).count(catalogue.ESMS_STAFF) == 5
    f = donnees.resolve("turnover_rate", donnees.DEFAULT.profession, donnees.DEFAULT.level, None, None)
    shown = donnees.replace(f, profession=donnees.published_profession(f))
    table, total, _ = donnees.rows(shown)
    assert total > 0  # before: the default family, travail_social, gave no row
    assert {r[donnees.PROFESSION_COLUMN] for r in table} == {catalogue.ESMS_STAFF}
    view = views.explorer.explorer_view(store, views.explorer.RESSOURCES_HUMAINES, Filters("turnover_rate"))
    assert catalogue.ESMS_STAFF in view.trend_summary and "Ensemble des métiers" not in view.trend_summary


def _query(dash_duo) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlparse(dash_duo.driver.current_url).query).items()}


@pytest.mark.parametrize("width", WIDTHS)
def test_in_the_page_each_unpublished_profession_stays_chosen(query_store, dash_duo, dash_app, width):
    """/recrutement: each of the three professions picked in the page stays in the dropdown and the URL, the
    sentence names it and the métier that counts it; /donnees: turnover shows rows, and the profession named
    in the dropdown is the one in the table."""
    store = query_store
    from pages._components import ui
    from pages.donnees import PROFESSION_COLUMN

    dash_duo.start_server(dash_app)
    dash_duo.driver.set_window_size(*WIDTHS[width])
    dash_duo.wait_for_page(url=dash_duo.server_url + "/recrutement")
    dash_duo.wait_for_contains_text("#rec-trend-summary", "En 20", timeout=30)
    options = ui.profession_options(store, indicator_id=views.explorer.RECRUTEMENT.default.indicator)
    for profession in UNPUBLISHED_BY_BMO:
        label = dropdown_label(options, profession)
        pick(dash_duo, "#rec-profession", label, search=label[:12])
        dash_duo.wait_for_contains_text("#rec-coverage", f"Pas de données BMO pour « {label} »", timeout=30)
        assert "ce métier est compté dans « " in dash_duo.find_element("#rec-coverage").text
        assert dash_duo.find_element("#rec-coverage").is_displayed()
        wait_until(lambda p=profession: _query(dash_duo).get("profession") == p, 20, f"{profession} in the URL")
        assert dash_duo.find_element("#rec-profession").text.strip() == label
        assert "Ensemble des métiers" not in dash_duo.find_element("#rec-profession").text
        dash_duo.wait_for_contains_text("#rec-trend-summary", f"Pas de données BMO pour « {label} »", timeout=30)

    dash_duo.wait_for_page(url=dash_duo.server_url + "/donnees")
    dash_duo.wait_for_contains_text("#data-count", "observations", timeout=30)
    pick(dash_duo, "#data-indicator", "Taux de rotation (%)", search="Taux de rotation")
    dash_duo.wait_for_contains_text("#data-profession", catalogue.ESMS_STAFF, timeout=30)
    dash_duo.wait_for_contains_text("#data-count", "observations", timeout=30)
    assert "Aucune donnée" not in dash_duo.find_element("#data-count").text
    column = wait_until(lambda: [c.text for c in dash_duo.driver.find_elements(
        "css selector", f"#data-table td[data-dash-column='{PROFESSION_COLUMN}']")],
        20, "the table's profession column")
    assert set(column) == {dash_duo.find_element("#data-profession").text.strip()} == {catalogue.ESMS_STAFF}
    assert errors(dash_duo) == []


def test_a_social_profession_has_one_name_in_dropdown_charts_and_tables(query_store, dash_app):
    """The comparison chart and its table named BMO's social métiers as the file did (« Educateurs spécialisés »,
    « Assistantes maternelles ») while the dropdown and the trend said « Éducateurs spécialisés », « Assistants
    maternels, gardes d'enfants »: one profession, one name."""
    store = query_store
    from pages._components import ui

    page = views.explorer.RECRUTEMENT
    view = views.explorer.explorer_view(store, page, Filters("recruitment_projects", profession="educateur_specialise"))
    options = ui.profession_options(store, indicator_id=view.filters.indicator)
    dropdown = {o["value"]: o["label"].strip("\u2003") for o in options}
    social = view.compare_frame[view.compare_frame.profession_id.isin(dropdown)]
    assert len(social) >= 5
    named = {r["Profession"] for r in view.compare_table}
    bars = set(view.compare.data[0].customdata)
    trend = {t.name for t in view.trend.data}
    for profession in social.profession_id:
        assert dropdown[profession] in named and dropdown[profession] in bars, profession
    assert dropdown["educateur_specialise"] in trend and "Educateurs spécialisés" not in named | bars


def test_exports_name_a_profession_as_the_dropdown_does(query_store, dash_app):
    """The page's export (the API, `lang=fr`, CSV and XLSX) names turnover's root « Personnel permanent des ESMS »
    and BMO's social métiers as the dropdown does, not « Ensemble des métiers » nor the file's « Educateurs
    spécialisés »; JSON too."""
    store = query_store
    import csv
    import io

    import openpyxl

    from pages._components import ui

    client = dash_app.server.test_client()
    dropdown = {o["value"]: o["label"].strip("\u2003") for o in ui.profession_options(store,
        indicator_id="recruitment_projects")}
    cases = [("turnover_rate", "ensemble", catalogue.ESMS_STAFF),
             ("recruitment_projects", "educateur_specialise", dropdown["educateur_specialise"]),
             ("recruitment_projects", "assistant_maternel", dropdown["assistant_maternel"])]
    for indicator, profession, label in cases:
        query = f"indicator={indicator}&profession={profession}&territory=FR"
        rows = list(csv.reader(io.StringIO(client.get(f"/api/v1/observations?{query}&format=csv&lang=fr")
                                           .get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
        column = rows[0].index("Filière, groupe ou métier")
        assert len(rows) > 2 and {r[column] for r in rows[1:]} == {label}, (indicator, profession)
        english = client.get(f"/api/v1/observations?{query}&format=json").get_json()
        assert {r["profession_label"] for r in english["rows"]} == {label}
        book = openpyxl.load_workbook(io.BytesIO(client.get(
            f"/api/v1/observations?{query}&format=xlsx&lang=fr").data), read_only=True)
        sheet = list(book["Données"].iter_rows(values_only=True))
        column = sheet[0].index("Filière, groupe ou métier")
        assert {r[column] for r in sheet[1:]} == {label}
