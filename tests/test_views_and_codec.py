"""URL codec and figure builders without a browser; the figures shown equal the store's (independent SQL)."""
from __future__ import annotations

from urllib.parse import parse_qsl

import pandas as pd
import pytest
from sqlalchemy import text

from observatory import figures, urlstate, views
from observatory.formatting import number, points, with_unit
from observatory.urlstate import Filters
from tests.conftest import use_store

DEFAULT = Filters("recruitment_difficulty_share", profession="travail_social")


@pytest.mark.parametrize("filters", [
    DEFAULT,
    Filters("recruitment_projects", profession="educateur_specialise", territory="DEP-2A", period=2023),
    Filters("turnover_rate", territory="REG-11", breakdown="esms:500", source="tdbms_illustrative",
            level="departement"),
])
def test_codec_round_trip(filters):
    query = urlstate.encode(filters, DEFAULT)
    assert urlstate.decode(query, DEFAULT) == filters
    assert urlstate.decode(dict(parse_qsl(query.lstrip("?"))), DEFAULT) == filters  # as Dash pages pass it


def test_codec_writes_only_what_differs_and_ignores_junk():
    assert urlstate.encode(DEFAULT, DEFAULT) == ""
    assert urlstate.encode(Filters("recruitment_projects", profession="travail_social", period=2023), DEFAULT) == \
        "?indicateur=recruitment_projects&annee=2023"
    junk = urlstate.decode("?annee=20x3&niveau=planete&inconnu=1&territoire=DEP-75", DEFAULT)
    assert junk == Filters("recruitment_difficulty_share", profession="travail_social", territory="DEP-75")


def test_one_codec_english_keys_and_french_aliases(built_store, monkeypatch):
    """Issue 11: pages, API, exports and CLI read a query string with the same codec (`urlstate`)."""
    from werkzeug.datastructures import MultiDict

    from observatory import queries

    store = use_store(monkeypatch, str(built_store.url))
    english, _ = urlstate.parse(store,
                                "indicator=turnover_rate&territory=REG-53&period=2023&level=region&breakdown=total")
    french, filters = urlstate.parse(store, MultiDict([("indicateur", "turnover_rate"), ("territoire", "REG-53"),
                                                ("annee", "2023"), ("niveau", "region"), ("categorie", "total")]))
    assert english == french == queries.Selection(indicators=("turnover_rate",), territories=("REG-53",),
                                                  levels=("region",), periods=(2023,), breakdowns=("",))
    assert filters == {"indicator": ["turnover_rate"], "territory": ["REG-53"], "level": ["region"],
                       "period": ["2023"], "breakdown": ["total"]}
    # the page's lenient decode reads the same keys (English ones too) and the same value rules
    page = urlstate.decode("indicator=turnover_rate&annee=2023&categorie=esms:500&level=departement", DEFAULT)
    assert (page.indicator, page.period, page.breakdown, page.level) == ("turnover_rate", 2023, "esms:500",
                                                                         "departement")
    # encode_selection → parse gives the selection back; a series' vintages are written as the series
    bmo = queries.series_sources(store, "ft_bmo")
    selection = queries.Selection(indicators=("recruitment_projects",), sources=bmo, professions=("ensemble",),
                                  levels=("region",), periods=(2023,))
    query = urlstate.encode_selection(store, selection)
    assert "source=ft_bmo&" in query and "breakdown=total" in query
    assert urlstate.parse(store, query)[0] == selection
    with pytest.raises(urlstate.BadQuery, match="paramètre inconnu : zone .* unknown parameter"):
        urlstate.parse(store, "zone=1")
    with pytest.raises(urlstate.BadQuery, match="département"):
        urlstate.parse(store, "level=département")  # French and readable


def test_french_formats():
    assert number(1234.5, 1) == "1\u202f234,5"
    assert with_unit(24.4, "%", 1) == "24,4\u202f%"
    assert with_unit(None, "%", 1) == "—"
    assert points(-0.4, "%", 1) == "−0,4 point" and points(2.5, "%", 1) == "+2,5 points"


def test_chart_title_names_indicator_unit_period_and_source():
    title = figures.chart_title("turnover_rate", 2023, {"producer": "CNSA", "vintage": "2023"}, "France")
    assert title.startswith("Taux de rotation (%) – France, 2023") and "Source : CNSA 2023" in title


def test_bar_figure_marks_status_and_illustrative():
    frame = pd.DataFrame({"indicator_id": "turnover_rate", "profession_id": ["a", "b"], "value": [10.0, 20.0],
                          "status": ["illustrative", "partial"]})
    figure = figures.bar_figure(frame, "profession_id", {"a": "A", "b": "B"}, "titre")
    assert list(figure.data[0].y) == ["A", "B"]
    assert "partiel" in figure.data[0].hovertext[1]
    assert figures.ILLUSTRATIVE_LABEL in figure.layout.title.text


def test_map_update_sends_values_not_geometry():
    frame = pd.DataFrame({"territory_id": ["REG-11", "REG-84"], "value": [3.0, 5.0], "status": ["ok", "secret"]})
    update = figures.map_values(frame, "region", {"REG-11": "Île-de-France"}, "%", 1, True)
    assert set(update) == {"z", "customdata", "colorscale"}
    codes = [f["properties"]["code"] for f in figures.geometry("region")["features"]]
    assert update["z"][codes.index("11")] == 3.0 and len(update["z"]) == 18
    assert {"971", "976"} <= {f["properties"]["code"] for f in figures.geometry("departement")["features"]}


def test_explorer_figures_equal_the_store(built_store, monkeypatch):
    store = use_store(monkeypatch, str(built_store.url))
    view = views.explorer.explorer_view(store, views.explorer.RESSOURCES_HUMAINES,
                                        Filters("vacancy_rate", territory="REG-11"))
    with built_store.connect() as conn:
        expected = dict(conn.execute(text("""
            SELECT period, value FROM observations WHERE indicator_id = 'vacancy_rate' AND territory_id = 'REG-11'
            AND profession_id = 'ensemble' AND breakdown IS NULL AND source_id = 'tdbms_illustrative'""")).all())
        by_category = dict(conn.execute(text("""
            SELECT breakdown, value FROM observations WHERE indicator_id = 'vacancy_rate' AND territory_id = 'REG-11'
            AND period = 2023 AND breakdown LIKE 'esms:%' AND source_id = 'tdbms_illustrative'""")).all())
    trace = view.trend.data[0]
    assert dict(zip(trace.x, trace.y)) == pytest.approx(expected)
    bars = next(t for t in view.compare.data if t.name == "Île-de-France")  # the region's bars, with peer bands
    frame = view.compare_frame.set_index("breakdown")
    hidden = {k for k in by_category if frame.loc[k, "status"] == "secret"}  # categories of 1 to 4 establishments
    assert all(pd.isna(frame.loc[k, "value"]) for k in hidden)
    assert sorted(x for x in bars.x if x == x) == pytest.approx(
        sorted(v for k, v in by_category.items() if k not in hidden))
    assert view.illustrative and view.filters.period == 2023
    assert view.trend_summary.startswith("En 2023, taux d'etp vacants au 31/12")


def test_recruitment_comparison_equals_the_store(built_store, monkeypatch):
    store = use_store(monkeypatch, str(built_store.url))
    view = views.explorer.explorer_view(store, views.explorer.RECRUTEMENT, views.explorer.RECRUTEMENT.default)
    with built_store.connect() as conn:  # the latest period, each social métier under the observatory's label
        latest = conn.execute(text("SELECT MAX(period) FROM observations WHERE indicator_id = "
                                   "'recruitment_difficulty_share'")).scalar()
        expected = dict(conn.execute(text("""
            SELECT p.label, o.value
            FROM observations o JOIN profession p USING (profession_id)
            WHERE o.indicator_id = 'recruitment_difficulty_share' AND o.territory_id = 'FR' AND o.period = :p
            AND o.profession_id IN ('ensemble', 'travail_social', 'educateur_specialise', 'aide_a_domicile')"""),
            {"p": latest}).all())
    assert view.filters.period == latest and len(expected) == 4
    shown = dict(zip(view.compare.data[0].customdata, view.compare.data[0].x))
    for label, value in expected.items():
        assert shown[label] == pytest.approx(value)


def test_a_category_with_fewer_than_5_establishments_is_not_disclosed(built_store, monkeypatch):
    """On « Ressources humaines » a département's bar for a category holding 1 to 4 establishments would be
    their figure: it is shown as secret, with neither value nor median, in the chart, its table and its sentence."""
    store = use_store(monkeypatch, str(built_store.url))
    with built_store.connect() as conn:
        period = conn.execute(text("SELECT MAX(period) FROM establishment_observation "
                                   "WHERE indicator_id = 'turnover_rate' AND value IS NOT NULL")).scalar()
        territory, category, n = conn.execute(text("""
            SELECT e.territory_id, e.esms_category, COUNT(*) FROM establishment e
            JOIN establishment_observation o ON o.finess = e.finess AND o.indicator_id = 'turnover_rate'
                 AND o.period = :period AND o.value IS NOT NULL
            GROUP BY e.territory_id, e.esms_category HAVING COUNT(*) BETWEEN 1 AND 4
            ORDER BY (SELECT COUNT(*) FROM establishment d WHERE d.territory_id = e.territory_id) DESC,
                     COUNT(*), e.territory_id, e.esms_category LIMIT 1"""), {"period": period}).one()
    view = views.explorer.explorer_view(store, views.explorer.RESSOURCES_HUMAINES, Filters(
        "turnover_rate", territory=territory, period=period, breakdown=f"esms:{category}"))
    row = view.compare_frame.set_index("breakdown").loc[f"esms:{category}"]
    assert pd.isna(row["value"]) and row["status"] == "secret"
    bars = next(trace for trace in view.compare.data if trace.name == view.filters.territory or (
        trace.type == "bar" and "quartiles" not in (trace.name or "")))
    label = views.names.esms_labels(store)[f"esms:{category}"]
    shown = {str(key).replace("<br>", " "): value for key, value in zip(bars.y, bars.x)}
    assert label in shown and pd.isna(shown[label])
    secret_rows = {str(a.y).replace("<br>", " ") for a in view.compare.layout.annotations if "secret" in (a.text or "")}
    assert label in secret_rows  # labelled « secret », not an empty bar
    assert "ni valeur ni médiane diffusées" in view.compare_summary
    table = next(r for r in view.compare_table if r["Catégorie d'établissement"] == label)
    assert "non diffusée" in table["Médiane des établissements"]
    assert n < 5
