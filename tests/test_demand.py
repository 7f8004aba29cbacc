"""Issue 21, the demand side: people by département projected by cohorts and calibrated on Insee's national
projection, and the drivers served by `/api/v1/demand` — checked against what happened (a back-test of the
demographic step from 2019 to Insee's 2022 estimate, APA from 2019 to DREES's 2020 count), against additivity
(départements → régions → nation) and against the direction each Insee scenario must move them."""
from __future__ import annotations

import numpy as np
import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import text

from observatory import demand
from tests.conftest import ROOT, use_store


@pytest.fixture(scope="module")
def store(built_store, dash_app):
    from observatory.store import Store
    return Store.of(built_store)


def estimates(built_store, year: int, breakdown: str | None = None) -> dict[str, float]:
    """Insee's population estimate of every territory for a year, read straight from the store in one query (one
    per territory took 37 s: the `observations` view cannot use an index on `coalesce(breakdown, '')`)."""
    with built_store.connect() as conn:
        rows = conn.execute(text(
            "SELECT territory_id, value FROM observations WHERE indicator_id = 'population' AND period = :p "
            "AND coalesce(breakdown, '') = :b"), {"p": year, "b": breakdown or ""}).all()
    assert len({t for t, _ in rows}) == len(rows)  # one estimate per territory
    return dict(rows)


def test_the_demographic_step_back_tested_from_2019_lands_within_2_percent_of_insee_2022(store, built_store):
    projection = demand.people(store, "central", 2019, 2022)
    data = demand.inputs(store, "central")
    projected = projection.at(2022).sum(axis=1)
    insee = estimates(built_store, 2022)
    errors = {t: projected[i] / insee[t] - 1 for i, t in enumerate(data.territories)}
    worst = max(errors, key=lambda t: abs(errors[t]))
    assert len(errors) == 101 and abs(errors[worst]) < 0.02, (worst, errors[worst])
    # people aged 75+, the driver of home care, too
    old = projection.at(2022)[:, 75:].sum(axis=1)
    insee_old = estimates(built_store, 2022, "age:75+")
    old_errors = [old[i] / insee_old[t] - 1 for i, t in enumerate(data.territories)]
    assert np.median(np.abs(old_errors)) < 0.02


@pytest.mark.parametrize("driver", ["population", "population_75_plus", "population_0_2", "apa_recipients",
                                    "pch_recipients", "ase_children"])
def test_departements_add_up_to_regions_and_regions_to_the_nation(store, driver):
    data = demand.inputs(store, "central")
    regions = sorted(set(data.parent.values()))
    year = 2030

    def value(territory: str) -> float:
        rows, _ = demand.series(store, driver, territory, year, year)
        assert rows[0]["status"] == "projected"
        return rows[0]["value"]
    by_region = {r: value(r) for r in regions}
    # each row is rounded to 0.1 person: sums agree within that rounding
    assert sum(by_region.values()) == pytest.approx(value("FR"), abs=0.05 * len(regions) + 1e-6)
    for region in ("REG-75", "REG-84"):
        members = [t for t in data.territories if data.parent[t] == region]
        assert sum(value(t) for t in members) == pytest.approx(by_region[region], abs=0.05 * len(members) + 1e-6)


def test_people_add_up_to_insees_national_projection(store, built_store):
    rows, _ = demand.series(store, "population", "FR", 2030, 2030)
    with built_store.connect() as conn:
        national = conn.execute(text(
            "SELECT value FROM observations WHERE indicator_id = 'population_projection' AND period = 2030 "
            "AND breakdown IS NULL AND source_id = 'insee_proj_2021_central'")).scalar_one()
    assert rows[0]["value"] == pytest.approx(national, rel=1e-6)


def test_apa_projected_from_2019_lands_within_5_percent_of_drees_2020(store, built_store):
    projection = demand.driver(store, "apa_recipients", "central", 2019, 2020)
    projected = float(np.nansum(projection.projected[2020]))  # Mayotte: no APA figure (DREES: hors Mayotte)
    with built_store.connect() as conn:
        observed = conn.execute(text(
            "SELECT value FROM observations WHERE indicator_id = 'apa_recipients' AND territory_id = 'FR' "
            "AND period = 2020 AND breakdown IS NULL")).scalar_one()
    assert abs(projected / observed - 1) < 0.05, (projected, observed)


@pytest.mark.parametrize("scenario, driver, direction", [
    ("fec_haute", "population_0_2", +1), ("fec_basse", "population_0_2", -1),
    ("ev_haute", "population_85_plus", +1), ("ev_basse", "population_85_plus", -1),
    ("ev_haute", "apa_recipients", +1), ("ev_basse", "apa_recipients", -1)])
def test_each_scenario_moves_the_drivers_the_right_way(store, scenario, driver, direction):
    for territory in ("FR", "DEP-33"):
        central, _ = demand.series(store, driver, territory, 2035, 2035, "central")
        other, _ = demand.series(store, driver, territory, 2035, 2035, scenario)
        assert np.sign(other[0]["value"] - central[0]["value"]) == direction, territory


def test_demand_api_rows_observed_then_projected_and_400_for_the_unknown(dash_app, built_store, monkeypatch):
    use_store(monkeypatch, str(built_store.url))
    client = dash_app.server.test_client()
    body = client.get("/api/v1/demand?driver=population_75_plus&territory=DEP-33&from=2015&to=2030").get_json()
    assert body["driver"] == "population_75_plus" and body["territory"] == "DEP-33" and body["scenario"] == "central"
    years = [r["year"] for r in body["rows"]]
    assert years == list(range(2015, 2031))
    statuses = {r["year"]: r["status"] for r in body["rows"]}
    assert statuses[2022] == "observed" and statuses[2023] == "projected"
    assert body["rows"][years.index(2022)]["value"] == pytest.approx(estimates(built_store, 2022, "age:75+")["DEP-33"])
    assert all(r["source"] for r in body["rows"])
    csv = client.get("/api/v1/demand?driver=apa_recipients&territory=REG-75&format=csv")
    assert csv.status_code == 200 and csv.data.decode("utf-8-sig").startswith("driver,territory,scenario,year")
    for query, words in (("driver=nope", "driver"), ("driver=population&territory=DEP-999", "territory"),
                         ("driver=population&scenario=rose", "scenario"), ("driver=population&colour=red", "colour"),
                         ("driver=population&from=2050&to=2040", "years"), ("", "driver"),
                         ("driver=population&from=abc", "from")):
        response = client.get(f"/api/v1/demand?{query}")
        assert response.status_code == 400 and words in response.get_json()["error"], (query, response.data)


PROJECTIONS = ROOT / "data/real/insee/projections_2021_2070"


@pytest.mark.parametrize("file, scenario", [("00_central", "central"), ("11_fec_haute", "fec_haute"),
                                            ("12_fec_basse", "fec_basse"), ("13_ev_haute", "ev_haute"),
                                            ("14_ev_basse", "ev_basse")])
def test_each_projection_file_recounted_under_its_own_scenario(built_store, file, scenario):
    book = CalamineWorkbook.from_path(str(PROJECTIONS / f"{file}.xlsx"))
    rows = book.get_sheet_by_name("population").to_python()
    header = next(r for r in rows if str(r[0]).startswith("Âge"))
    column = [str(c) for c in header].index("2030.0")
    total = next(r for r in rows if str(r[0]) == "Total")[column]
    old = sum(r[column] for r in rows if isinstance(r[0], float) and r[0] >= 75) + \
        next(r for r in rows if str(r[0]) == "105+")[column]
    with built_store.connect() as conn:
        stored = dict(conn.execute(text(
            "SELECT coalesce(breakdown, 'total'), value FROM observations WHERE indicator_id = 'population_projection' "
            "AND period = 2030 AND source_id = :s"), {"s": f"insee_proj_2021_{scenario}"}).all())
    assert stored["total"] == total and len(stored) == 107
    assert sum(v for k, v in stored.items() if k != "total" and int(k[4:].rstrip("+")) >= 75) == pytest.approx(old)


def test_a_projection_file_with_an_unclear_scenario_is_refused_in_one_line(tmp_path):
    import openpyxl

    from etl.adapters import insee_projections
    from etl.errors import LoadError
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "lisezmoi"
    sheet["B1"] = "PROJECTION DE POPULATION 2021-2070, France"
    for col, word in zip("DEFG", ("centrale ", "basse", "haute", "de travail")):
        sheet[f"{col}4"] = word
    sheet["B5"], sheet["D5"], sheet["F5"] = "Fécondité", "*", "*"  # two stars: which scenario?
    book.create_sheet("population")
    path = tmp_path / "projection.xlsx"
    book.save(path)
    assert insee_projections.recognise(path)
    with pytest.raises(LoadError) as caught:
        insee_projections.parse(path, None)
    assert "projection.xlsx" in str(caught.value) and "lisezmoi" in str(caught.value) and "star" in str(caught.value)


def test_apa_prevalence_recounted(built_store):
    book = CalamineWorkbook.from_path(str(ROOT / "data/real/drees/APA - Données détaillées par GIR, âge et sexe en "
                                                 "2019.xlsx"))
    rows = book.get_sheet_by_name("nat-part APA dans pop").to_python()
    total = next(i for i, r in enumerate(rows) if r[1] == "Total")
    raw = {r[2]: (r[3], r[4], r[5]) for r in rows[total:total + 8]}
    with built_store.connect() as conn:
        stored = dict(conn.execute(text(
            "SELECT indicator_id, value FROM observations WHERE territory_id = 'FR' AND period = 2019 "
            "AND breakdown = 'age:85-89' AND indicator_id LIKE 'apa_prevalence%'")).all())
    assert (stored["apa_prevalence_home"], stored["apa_prevalence_establishment"], stored["apa_prevalence"]) == \
        pytest.approx(raw["de 85 à 89 ans"])
