"""Issue 17: totals of 1 to 4 establishments are secret in the store itself — pages, API and exports agree — and no
secret cell can be recomputed by subtracting published cells from a published total (complementary suppression).

The true value of every cell is recomputed here from the establishments' own figures (`establishment_observation`,
which only peer benchmarks read), so the checks see what an attacker would try to recover."""
from __future__ import annotations

import csv
import io
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import Engine, text

from etl.loader import load_file
from observatory import secrecy, views
from observatory.benchmarks import MIN_PEERS
from observatory.urlstate import Filters
from tests.conftest import ROOT, use_store
from tests.test_journeys import errors, plot, wait_until

RAW = ROOT / "data/illustrative/tdbms"
PARTS = ["indicator_id", "territory_id", "breakdown", "period"]


def true_cells(engine: Engine) -> pd.DataFrame:
    """Every département, région and France total, by category ('esms:<code>') and for all categories (''), as
    the sum of its establishments' numerators and denominators, with their number `n`."""
    with engine.connect() as conn:
        units = pd.read_sql(text("""
            SELECT o.indicator_id, o.period, o.numerator, o.denominator, e.esms_category, e.territory_id AS dep,
                   t.parent_id AS reg
            FROM establishment_observation o JOIN establishment e ON e.finess = o.finess
            JOIN territory t ON t.territory_id = e.territory_id JOIN source s ON s.source_id = o.source_id
            WHERE s.scope = 'published'"""), conn)
    frames = []
    for place in (units["dep"], units["reg"], pd.Series("FR", index=units.index)):
        for breakdown in ("esms:" + units["esms_category"], pd.Series("", index=units.index)):
            frames.append(units.assign(territory_id=place, breakdown=breakdown))
    every = pd.concat(frames, ignore_index=True)
    return every.groupby(PARTS, as_index=False).agg(num=("numerator", "sum"), den=("denominator", "sum"),
                                                    n=("numerator", "size"))


def stored_cells(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text("""
            SELECT o.indicator_id, o.territory_id, COALESCE(o.breakdown, '') AS breakdown, o.period, o.value,
                   o.numerator, o.denominator, o.status
            FROM observations o
            WHERE o.source_id IN (SELECT DISTINCT source_id FROM establishment_observation)
              AND o.profession_id = 'ensemble'"""), conn)


def parents(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT territory_id, parent_id FROM territory WHERE parent_id IS NOT NULL")
                                 ).all())


def recoverable(engine: Engine) -> pd.DataFrame:
    """Secret cells whose denominator (and so, with the numerator, the rate) equals a published total minus its
    published parts. Totals: a territory's all-category cell (parts: its categories) and a parent
    territory's cell (parts: its child territories' cells of the same category)."""
    cells = true_cells(engine).merge(stored_cells(engine), on=PARTS, how="left", validate="one_to_one")
    cells["parent"] = cells["territory_id"].map(parents(engine))
    cells["secret"] = cells["status"] == "secret"
    by_territory = cells[cells["breakdown"] != ""].assign(total_territory=lambda c: c["territory_id"],
                                                          total_breakdown="")  # categories → the territory
    by_parent = cells[cells["parent"].notna()].assign(total_territory=lambda c: c["parent"],
                                                       total_breakdown=lambda c: c["breakdown"])  # → the parent
    keys = ["indicator_id", "period", "total_territory", "total_breakdown"]
    named = {"territory_id": "total_territory", "breakdown": "total_breakdown"}
    totals = cells[~cells["secret"]].rename(columns=named).set_index(keys)[["numerator", "denominator"]]
    found = []
    for parts in (by_territory, by_parent):
        published = parts[~parts["secret"]].groupby(keys)[["numerator", "denominator"]].sum()
        rest = totals.sub(published.reindex(totals.index, fill_value=0.0)).add_prefix("rest_")
        secret = parts[parts["secret"]].join(rest, on=keys, how="inner")
        # the denominator recovered (a headcount, ETP): with the numerator too, the rate is recovered as well
        same_den = np.isclose(secret["rest_denominator"], secret["den"], rtol=1e-9, atol=1e-6)
        found.append(secret.loc[(secret["den"] > 0) & same_den, [*PARTS, *keys[2:]]])
    return pd.concat(found, ignore_index=True)


def check_store(engine: Engine) -> pd.DataFrame:
    """Primary rule, published cells intact, no recovery by subtraction; returns the cells."""
    cells = true_cells(engine).merge(stored_cells(engine), on=PARTS, how="left", validate="one_to_one")
    assert cells["status"].notna().all()  # every total the establishments make is in the store
    small = (cells["n"] >= 1) & (cells["n"] < MIN_PEERS)
    assert small.any() and (cells.loc[small, "status"] == "secret").all()
    secret = cells[cells["status"] == "secret"]
    assert secret[["value", "numerator", "denominator"]].isna().all().all()
    shown = cells[cells["status"] != "secret"]
    assert len(shown) and (shown["n"] >= MIN_PEERS).all()
    assert np.allclose(shown["numerator"], shown["num"]) and np.allclose(shown["denominator"], shown["den"])
    assert len(secret) > small.sum()  # complementary cells, beyond the primary ones
    leaks = recoverable(engine)
    assert leaks.empty, leaks.head(10).to_string()
    return cells


def test_no_secret_cell_can_be_recomputed_by_subtraction(built_store):
    cells = check_store(built_store)
    # every territory level is concerned: départements, régions (their départements add up to them)
    secret = cells[cells["status"] == "secret"]
    assert {"DEP", "REG"} <= {t.split("-")[0] for t in secret["territory_id"]}


def test_the_rule_holds_on_both_backends(store):
    latest = sorted(RAW.glob("ANN_MS_TDP_ET_*.csv"))[-1]
    load_file(store, latest, "tdbms", illustrative=True, scope="published")
    check_store(store)


def test_one_secret_category_hides_the_next_smallest_one():
    """A département whose categories are one secret (2 establishments), 6 and 9: the 6 is hidden too (else the total
    minus the others gives the secret one), not the 9. Its région, where the same category is alone secret beside
    two published ones, hides its next smallest category too; France, equal to that région, follows."""
    parent = np.array([-1, 0, 0, 1, 1, 2], dtype=np.int64)  # 0 FR, 1-2 régions, 3-4 départements of 1, 5 of 2
    counts = pd.DataFrame([
        (3, "", 17), (3, "esms:a", 2), (3, "esms:b", 6), (3, "esms:c", 9),
        (4, "", 20), (4, "esms:b", 7), (4, "esms:c", 13),
        (1, "", 37), (1, "esms:a", 2), (1, "esms:b", 13), (1, "esms:c", 22),
        (0, "", 37), (0, "esms:a", 2), (0, "esms:b", 13), (0, "esms:c", 22),
    ], columns=["territory_key", "breakdown", "n"]).assign(period=2023)
    totals = counts.assign(indicator_key=1, denominator=counts["n"] * 10.0)
    hidden = secrecy.secret_cells(totals, counts, parent, {"esms:a": "", "esms:b": "", "esms:c": ""})
    got = set(zip(hidden["territory_key"], hidden["breakdown"]))
    assert {(3, "esms:a"), (1, "esms:a"), (0, "esms:a")} <= got  # primary
    assert (3, "esms:b") in got and (1, "esms:b") in got and (0, "esms:b") in got  # the next smallest
    assert (3, "esms:c") not in got and (1, "esms:c") not in got and (4, "esms:b") not in got  # no more than needed
    assert "τ-ARGUS" in secrecy.RULE_FR and "Guide du secret statistique" in secrecy.RULE_FR


def test_a_total_that_adds_up_two_ways_is_checked_both_ways():
    """A région's all-category cell is both the sum of its categories and the sum of its départements: a secret
    département (4 establishments) is protected among the départements even when the région's categories hold a
    secret cell of their own."""
    parent = np.array([-1, 0, 1, 1, 1], dtype=np.int64)  # 0 FR, 1 a région, 2-4 its départements
    counts = pd.DataFrame([
        (2, "", 4), (2, "esms:a", 4), (3, "", 6), (3, "esms:b", 6), (4, "", 7), (4, "esms:b", 7),
        (1, "", 17), (1, "esms:a", 4), (1, "esms:b", 13), (0, "", 17), (0, "esms:a", 4), (0, "esms:b", 13),
    ], columns=["territory_key", "breakdown", "n"]).assign(period=2023)
    totals = counts.assign(indicator_key=1, denominator=counts["n"] * 10.0)
    hidden = secrecy.secret_cells(totals, counts, parent, {"esms:a": "", "esms:b": ""})
    got = set(zip(hidden["territory_key"], hidden["breakdown"]))
    assert (2, "") in got and (3, "") in got and (4, "") not in got  # the smaller other département
    assert (1, "esms:b") in got  # the région's other category (its total minus it would give the secret one)


# --- the example: one category of 1 to 4 establishments in Gironde, everywhere the same -----------------

def small_example() -> tuple[str, str, int, int]:
    """(territory_id, breakdown, period, establishments) of the issue's example, found in the latest raw
    extract: the IME of Gironde."""
    latest = sorted(RAW.glob("ANN_MS_TDP_ET_*.csv"))[-1]
    raw = pd.read_csv(latest, sep=";", dtype=str)
    categories = pd.read_csv(ROOT / "data/reference/esms_categories.csv", dtype=str)
    ime = categories.loc[categories["label"].str.contains(r"\(IME\)"), "code"].item()
    departements = pd.read_csv(ROOT / "data/reference/insee_cog2020_departement.csv", dtype=str)
    code = departements.loc[departements["libelle"] == "Gironde", "dep"].item()
    n = int(((raw["Catégorie ESMS"] == ime) & (raw["Département"].str.zfill(2) == code)).sum())
    return f"DEP-{code}", f"esms:{ime}", int(raw["Année"].iloc[0]), n


@pytest.fixture(scope="module")
def example(built_store):
    territory, breakdown, period, n = small_example()
    assert 1 <= n < MIN_PEERS
    with built_store.connect() as conn:
        truth = conn.execute(text("""
            SELECT SUM(o.numerator), SUM(o.denominator) FROM establishment_observation o
            JOIN establishment e ON e.finess = o.finess
            WHERE e.territory_id = :t AND 'esms:' || e.esms_category = :b AND o.period = :p
              AND o.indicator_id = 'entry_rate'"""), {"t": territory, "b": breakdown, "p": period}).one()
    return {"territory": territory, "breakdown": breakdown, "period": period,
            "rate": 100 * truth[0] / truth[1]}


@pytest.fixture
def client(dash_app, built_store, monkeypatch):
    use_store(monkeypatch, str(built_store.url))
    return dash_app.server.test_client()


def _query(example, **extra) -> str:
    indicators = "&".join(f"indicator={i}" for i in
                          ("entry_rate", "exit_rate", "turnover_rate", "absenteeism_rate", "vacancy_rate"))
    query = (f"/api/v1/observations?{indicators}&territory={example['territory']}"
             f"&breakdown={example['breakdown']}&period={example['period']}")
    return query + "".join(f"&{k}={v}" for k, v in extra.items())


def test_the_api_json_csv_and_xlsx_give_the_small_category_as_secret(client, example):
    rows = client.get(_query(example)).get_json()["rows"]
    assert len(rows) == 5
    assert all(r["status"] == "secret" and r["value"] is None and r["numerator"] is None
               and r["denominator"] is None for r in rows)
    for extra, delimiter, status, value in (({"format": "csv"}, ",", "status", "value"),
                                            ({"format": "csv", "lang": "fr"}, ";", "Statut", "Valeur")):
        body = client.get(_query(example, **extra)).get_data().decode("utf-8").lstrip("\ufeff")
        exported = list(csv.DictReader(io.StringIO(body), delimiter=delimiter))
        assert len(exported) == 5 and all(r[value] == "" for r in exported)
        assert {r[status] for r in exported} == ({"secret"} if status == "status" else {"secret statistique"})
        assert not any(v.strip() for r in exported for k, v in r.items() if k.lower().startswith(("num", "dén", "den")))
    book = openpyxl.load_workbook(io.BytesIO(client.get(_query(example, format="xlsx")).get_data()))
    sheet = book["Données"]
    header = [c.value for c in sheet[1]]
    cells = [dict(zip(header, [c.value for c in row])) for row in sheet.iter_rows(min_row=2)]
    assert len(cells) == 5
    assert all(r["status"] == "secret" and r["value"] is None and r["numerator"] is None
               and r["denominator"] is None for r in cells)


def test_the_page_and_its_export_give_the_small_category_as_secret(query_store, client, example):
    store = query_store
    f = Filters("entry_rate", territory=example["territory"], period=example["period"],
                breakdown=example["breakdown"])
    view = views.explorer.explorer_view(store, views.explorer.RESSOURCES_HUMAINES, f)
    row = view.compare_frame.set_index("breakdown").loc[example["breakdown"]]
    assert row["status"] == "secret" and pd.isna(row["value"])
    trend = view.trend_frame
    assert len(trend) and trend["value"].isna().all() and (trend["status"] == "secret").all()  # every year
    # « Exporter (CSV) » of the page: the rows behind its charts, the category's among them, secret
    from tests.test_exports_api import _links

    values = {"rh-indicator": "entry_rate", "rh-profession": "ensemble", "rh-territory": example["territory"],
              "rh-period": example["period"], "rh-breakdown": example["breakdown"]}
    csv_href, _ = _links(client, "rh", values)
    body = client.get(csv_href).get_data().decode("utf-8").lstrip("\ufeff")
    exported = [r for r in csv.DictReader(io.StringIO(body), delimiter=";")
                if example["breakdown"] in r.values() and r["Code territoire"] == example["territory"]]
    assert exported and all(r["Valeur"] == "" and r["Statut"] == "secret statistique" for r in exported)


@pytest.mark.parametrize("width,height", [(1280, 1000), (390, 844)], ids=["desk", "phone"])
def test_a_person_reads_secret_and_no_value(query_store, dash_duo, dash_app, example, width, height):
    store = query_store
    dash_duo.driver.set_window_size(width, height)
    dash_duo.start_server(dash_app)
    label = views.names.esms_labels(store)[example["breakdown"]]
    dash_duo.wait_for_page(url=dash_duo.server_url + f"/ressources-humaines?indicateur=entry_rate&territoire="
                           f"{example['territory']}&annee={example['period']}&categorie={example['breakdown']}")
    dash_duo.wait_for_contains_text("#rh-compare-summary", f"« {label} »", timeout=30)
    summary = dash_duo.find_element("#rh-compare-summary").text
    assert "ni valeur ni médiane diffusées" in summary
    secret_rows = wait_until(lambda: plot(dash_duo, "rh-compare", "p.layout.annotations.filter("
                                          "a => (a.text || '').includes('secret')).map(a => a.y)"), 20, "labels")
    assert label in [str(y).replace("<br>", " ") for y in secret_rows]  # the bar is labelled « secret »
    shown = f"{example['rate']:.1f}".replace(".", ",")  # the figure the page used to hide and export
    disclosure = dash_duo.driver.execute_script(
        "return document.querySelector('#rh-compare-table').closest('details').querySelector('summary')")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()",
                                   disclosure)  # open « Voir les données »
    table_row = wait_until(lambda: next((r.text for r in dash_duo.driver.find_elements(
        By.CSS_SELECTOR, "#rh-compare-table tr") if label in r.text.replace("\n", " ")), None), 20, "table row")
    assert "secret" in table_row and not re.search(rf"(?<![\d,]){re.escape(shown)}(?!\d)", table_row)
    # the trend of the category in the territory: no year has a value (it used to draw them)
    trend = plot(dash_duo, "rh-trend", "p._fullData.map(t => Array.from(t.y || []))")
    assert trend and any(len(ys) > 1 for ys in trend)  # one point per year…
    assert all(y is None for ys in trend for y in ys if not isinstance(y, str))  # …and none has a value
    assert shown not in dash_duo.find_element("#rh-trend-summary").text
    assert errors(dash_duo) == []


def test_methodology_states_the_rule_and_its_source(dash_app, built_store, monkeypatch, app_context):
    use_store(monkeypatch, str(built_store.url))
    from pages import methodologie

    def texts(node):
        children = getattr(node, "children", None)
        if getattr(node, "id", None) == "method-secrecy":
            yield children
        for child in children if isinstance(children, list) else [children]:
            if child is not None and not isinstance(child, str):
                yield from texts(child)

    assert list(texts(methodologie.layout())) == [secrecy.RULE_FR]


def test_a_complementary_secret_category_shows_secret_and_its_peers_median(built_store, monkeypatch):
    """A category of 5 or more establishments hidden so that a smaller one cannot be recomputed: no value, a
    sentence saying why, and its establishments' median (5 peers or more)."""
    store = use_store(monkeypatch, str(built_store.url))
    with built_store.connect() as conn:
        territory, breakdown, period = conn.execute(text("""
            SELECT o.territory_id, o.breakdown, o.period FROM observations o JOIN establishment e
                ON e.territory_id = o.territory_id AND 'esms:' || e.esms_category = o.breakdown
            WHERE o.indicator_id = 'entry_rate' AND o.status = 'secret'
              AND o.period = (SELECT MAX(period) FROM establishment_observation)
            GROUP BY o.territory_id, o.breakdown, o.period HAVING COUNT(*) >= :n
            ORDER BY o.territory_id, o.breakdown LIMIT 1"""), {"n": MIN_PEERS}).one()
    view = views.explorer.explorer_view(store, views.explorer.RESSOURCES_HUMAINES,
                               Filters("entry_rate", territory=territory, period=period, breakdown=breakdown))
    row = view.compare_frame.set_index("breakdown").loc[breakdown]
    assert row["status"] == "secret" and pd.isna(row["value"])
    assert "valeur secrète (secret secondaire" in view.compare_summary and "médiane des" in view.compare_summary
