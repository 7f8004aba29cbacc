"""The HTTP API never answers 500: hostile parameters are a 400 naming them, and its JSON is strict (no NaN)."""
from __future__ import annotations

import io
import json
import sqlite3

import openpyxl
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from observatory import api, queries, xlsx
from observatory.store import Store


def _app(store: Store) -> Flask:
    server = Flask("api-robustness")
    api.register(server, store)
    return server


@pytest.fixture
def client(query_store):
    return _app(query_store).test_client()


def strict_json(response) -> object:
    """Parse as a strict JSON reader would: `NaN`, `Infinity` are errors."""
    def refuse(constant: str):
        raise AssertionError(f"non-standard JSON constant {constant}")
    return json.loads(response.get_data(as_text=True), parse_constant=refuse)


@pytest.mark.parametrize("query, message", [
    ("page=100000000000000000000", "page must be an integer from 1 to 1000000000"),
    ("page=١٢", "page must be an integer"),  # Arabic-Indic digits: str.isdigit() says yes, int() too
    ("page=²", "page must be an integer"),  # a superscript: isdigit() yes, int() raises
    ("page=１２", "page must be an integer"),  # full-width digits
    ("page=-1", "page must be an integer"), ("page=0", "page must be an integer"), ("page=", "page must be"),
    ("page=1e3", "page must be"), ("page=+1", "page must be"), ("page=%201", "page must be"),
    ("page=1&page=2", "page may be given once only"),
    ("page_size=²", "page_size must be an integer from 1 to 10000"), ("page_size=０", "page_size must be"),
    ("page_size=99999999999999999999999999", "page_size must be"), ("page_size=-5", "page_size must be"),
    ("format=json&format=csv", "format may be given once only"), ("format=", "format must be json, csv or xlsx"),
    ("format=JSON", "format must be"), ("sep=", "sep must be comma or semicolon"),
    ("sep=comma&sep=semicolon", "sep may be given once only"),
    ("period=２０２３", "period must be a year"), ("period=٢٠٢٣", "period must be a year"),
    ("period=²⁰²³", "period must be a year"), ("period=99999", "period must be a year"),
    ("period=-2023", "period must be a year"), ("period=" + "9" * 400, "period must be a year"),
    ("breakdown=esms:²", "breakdown must be"), ("breakdown=esms:١", "breakdown must be"),
    ("breakdown=esms:" + "1" * 40, "breakdown must be"), ("breakdown=esms:", "breakdown must be"),
    ("indicator=%00", "unknown indicator value(s): \\x00"), ("territory=%ff", "unknown territory value(s)"),
    ("territory=DEP-６９", "unknown territory value(s): DEP-６９"), ("level=région", "unknown level value(s)"),
    ("indicator=" + "x" * 100_000, "unknown indicator value(s): " + "x" * 60 + "…"),
    ("%E2%80%AEpage=1", "unknown parameter(s)"),
])
def test_hostile_parameters_are_a_400_naming_them(client, query, message):
    response = client.get(f"/api/v1/observations?{query}")
    assert response.status_code == 400, (query, response.status_code)
    error = strict_json(response)["error"]
    assert message in error and len(error) < 600


def test_too_many_values_of_one_filter_is_a_400(client, query_store):
    store = query_store
    query = "&".join(f"breakdown=esms:{n}" for n in range(api.MAX_VALUES + 1))
    response = client.get(f"/api/v1/observations?{query}")
    assert response.status_code == 400 and "at most 2,000 distinct breakdown values" in response.get_json()["error"]
    # repeated values count once: every territory id, twice, is a valid request
    every = sorted(queries.dimensions(store).territory_key)
    query = "&".join(f"territory={t}" for t in every * 2)
    response = client.get(f"/api/v1/observations?indicator=recruitment_projects&page_size=1&{query}")
    assert response.status_code == 200 and response.get_json()["filters"]["territory"] == every


def test_a_page_far_beyond_the_last_is_empty_not_an_error(client):
    body = strict_json(client.get("/api/v1/observations?indicator=recruitment_difficulty_share&territory=FR"
                                  "&page=1000000000&page_size=10000"))
    assert body["rows"] == [] and body["page"] == 1_000_000_000 and body["next"] is None and body["total"] > 0


def test_empty_filter_values_are_no_filter(client):
    plain = client.get("/api/v1/observations?indicator=entry_rate&page_size=1").get_json()
    empty = client.get("/api/v1/observations?indicator=entry_rate&indicator=&territory=&page_size=1").get_json()
    assert empty["total"] == plain["total"] > 0 and empty["filters"] == {"indicator": ["entry_rate"]}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(api.FILTERS + api.OPTIONS + ("x",)),
                          st.one_of(st.text(max_size=12), st.integers().map(str),
                                    st.sampled_from(["FR", "DEP-69", "2023", "total", "esms:500", "json",
                                                     "csv", "semicolon", "entry_rate", "1", "10000"]))),
                max_size=6))
def test_any_query_is_a_200_or_a_400(client, pairs):
    pairs = [(name, "json" if name == "format" else value) for name, value in pairs]  # JSON: bodies stay small
    response = client.get("/api/v1/observations", query_string=pairs + [("page_size", "5")]
                          if "page_size" not in {n for n, _ in pairs} else pairs)
    assert response.status_code in (200, 400), (pairs, response.status_code)
    body = strict_json(response)
    assert ("error" in body) == (response.status_code == 400)


def test_non_finite_numbers_are_null_in_json(built_store, tmp_path, monkeypatch):
    """Even if a store held ±Infinity, the JSON says null (a strict parser would refuse `Infinity`)."""
    path = tmp_path / "infinite.sqlite"
    source = sqlite3.connect(built_store.url.database)
    target = sqlite3.connect(path)
    source.backup(target)
    source.close()
    key = target.execute("SELECT key FROM indicator WHERE indicator_id = 'entry_rate'").fetchone()[0]
    target.execute("UPDATE observation SET value = 9e999, numerator = -9e999 WHERE indicator_key = ?", (key,))
    target.execute("UPDATE store_meta SET value = value + 1 WHERE name = 'version'")
    target.commit()
    target.close()
    client = _app(Store(f"sqlite:///{path}")).test_client()
    response = client.get("/api/v1/observations?indicator=entry_rate&page_size=50")
    assert response.status_code == 200
    rows = strict_json(response)["rows"]
    assert rows and all(r["value"] is None and r["numerator"] is None for r in rows)
    book = openpyxl.load_workbook(io.BytesIO(client.get("/api/v1/observations?indicator=entry_rate&territory=FR"
                                                        "&format=xlsx").get_data()))
    sheet = book["Données"]
    header = [c.value for c in sheet[1]]
    assert all(row[header.index("value")] is None for row in sheet.iter_rows(min_row=2, values_only=True))


def test_to_json_is_strict():
    text = api.to_json({"a": float("nan"), "b": [1.5, float("inf"), {"c": -float("inf")}], "d": "x"})
    assert json.loads(text) == {"a": None, "b": [1.5, None, {"c": None}], "d": "x"}


def test_xlsx_above_the_sheet_limit_is_refused_in_french_and_english(client, monkeypatch):
    monkeypatch.setattr(xlsx, "XLSX_MAX_ROWS", 1_000)
    response = client.get("/api/v1/observations?indicator=entry_rate&format=xlsx")
    error = response.get_json()["error"]
    assert response.status_code == 400 and "format=csv" in error
    assert "une feuille XLSX en contient au plus 1,000" in error and "do not fit in one XLSX sheet" in error


def test_a_store_that_cannot_be_read_is_a_503(tmp_path, monkeypatch):
    store = Store(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    queries.clear_caches(store)
    response = _app(store).test_client().get("/api/v1/observations?indicator=entry_rate")
    assert response.status_code == 503 and "retry" in response.get_json()["error"]
    queries.clear_caches(store)
