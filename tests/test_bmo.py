"""BMO adapter on the real 2023 workbook, checked against totals computed independently with openpyxl."""
from __future__ import annotations

import openpyxl
import pytest
from sqlalchemy import text

from etl.loader import load_file
from tests.conftest import BMO_2023


@pytest.fixture(scope="module")
def raw_totals() -> dict:
    """Totals read straight from the workbook with openpyxl (not our reader)."""
    sheet = openpyxl.load_workbook(BMO_2023, read_only=True)["BMO_2023_open_data"]
    rows = sheet.iter_rows(values_only=True)
    header = list(next(rows))
    code, met, xmet = header.index("Code métier BMO"), header.index("met"), header.index("xmet")
    totals = {"met": 0, "secret_met": 0, "V4Z83": 0, "rows": 0, "xmet_pairs": 0, "met_pairs": 0}
    for row in rows:
        totals["rows"] += 1
        if row[met] == "*":
            totals["secret_met"] += 1
            continue
        totals["met"] += int(row[met])
        if row[code] == "V4Z83":
            totals["V4Z83"] += int(row[met])
        if row[xmet] != "*":
            totals["xmet_pairs"] += int(row[xmet])
            totals["met_pairs"] += int(row[met])
    return totals


@pytest.fixture(scope="module")
def bmo_store(reference_db, tmp_path_factory):
    import shutil

    from observatory.store import get_engine

    path = tmp_path_factory.mktemp("bmo") / "bmo.sqlite"
    shutil.copy(reference_db, path)
    engine = get_engine(f"sqlite:///{path}")
    summary = load_file(engine, BMO_2023)
    return engine, summary


def one(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).one()


def test_raw_totals_are_the_published_ones(raw_totals):
    assert raw_totals["met"] == 3_013_134
    assert raw_totals["secret_met"] == 9_196
    assert raw_totals["V4Z83"] == 25_838


def test_every_row_is_loaded(bmo_store, raw_totals):
    engine, summary = bmo_store
    assert summary.rows_read == raw_totals["rows"] == summary.rows_loaded
    assert summary.rows_rejected == 0


def test_bassin_cells_match_the_raw_file(bmo_store, raw_totals):
    engine, _ = bmo_store
    total, secret = one(engine, """
        SELECT SUM(value), SUM(CASE WHEN status = 'secret' THEN 1 ELSE 0 END) FROM observations
        WHERE indicator_id = 'recruitment_projects' AND territory_level = 'bassin' AND is_derived = 0""")
    assert total == raw_totals["met"]
    assert secret == raw_totals["secret_met"]


def test_secret_cells_are_null_never_zero(bmo_store):
    engine, _ = bmo_store
    (non_null,) = one(engine, "SELECT COUNT(*) FROM observations WHERE status = 'secret' AND value IS NOT NULL")
    assert non_null == 0


def test_educateurs_specialises_national_total(bmo_store, raw_totals):
    engine, _ = bmo_store
    value, status, derived = one(engine, """
        SELECT value, status, is_derived FROM observations WHERE indicator_id = 'recruitment_projects'
        AND profession_id = 'educateur_specialise' AND territory_id = 'FR' AND period = 2023""")
    assert value == raw_totals["V4Z83"]
    assert derived == 1
    assert status == "partial"  # some bassins are secret: the national sum is a lower bound


def test_national_all_occupations_is_a_partial_lower_bound(bmo_store, raw_totals):
    engine, _ = bmo_store
    value, status = one(engine, """
        SELECT value, status FROM observations WHERE indicator_id = 'recruitment_projects'
        AND profession_id = 'ensemble' AND territory_id = 'FR'""")
    assert (value, status) == (raw_totals["met"], "partial")


def test_difficulty_share_is_a_ratio_of_sums(bmo_store, raw_totals):
    """As France Travail computes it: a cell whose xmet is secret counts in the denominator (its met) only."""
    engine, _ = bmo_store
    value, num, den, status = one(engine, """
        SELECT value, numerator, denominator, status FROM observations
        WHERE indicator_id = 'recruitment_difficulty_share' AND profession_id = 'ensemble' AND territory_id = 'FR'""")
    assert (num, den) == (raw_totals["xmet_pairs"], raw_totals["met"])
    assert value == pytest.approx(100 * raw_totals["xmet_pairs"] / raw_totals["met"])
    assert status == "partial"  # a lower bound: the secret xmet are missing from the numerator
    assert abs(value - 61) <= 0.5  # the national figure France Travail published for 2023


def test_straddling_bassin_has_one_part_per_departement(bmo_store):
    engine, _ = bmo_store
    with engine.connect() as conn:
        parts = conn.execute(text(
            "SELECT territory_id, parent_id FROM territory WHERE level = 'bassin' AND code = '1119' ORDER BY 1")).all()
    assert parts == [("BE-1119-77", "DEP-77"), ("BE-1119-93", "DEP-93"), ("BE-1119-95", "DEP-95")]


def test_drom_bassin_code_is_padded(bmo_store):
    engine, _ = bmo_store
    (n,) = one(engine, "SELECT COUNT(*) FROM territory WHERE territory_id = 'BE-0101-971'")
    assert n == 1


def test_every_key_points_at_a_dimension_row(bmo_store):
    engine, _ = bmo_store
    (orphans,) = one(engine, """
        SELECT COUNT(*) FROM observation o
        WHERE NOT EXISTS (SELECT 1 FROM indicator i WHERE i.key = o.indicator_key)
           OR NOT EXISTS (SELECT 1 FROM profession p WHERE p.key = o.profession_key)
           OR NOT EXISTS (SELECT 1 FROM territory t WHERE t.key = o.territory_key)
           OR NOT EXISTS (SELECT 1 FROM source s WHERE s.key = o.source_key)""")
    assert orphans == 0


def test_each_source_row_gives_one_published_row_per_indicator(bmo_store, raw_totals):
    engine, _ = bmo_store
    with engine.connect() as conn:
        counts = dict(conn.execute(text(
            "SELECT indicator_id, COUNT(*) FROM observations WHERE is_derived = 0 GROUP BY indicator_id")).all())
    assert counts == {"recruitment_projects": raw_totals["rows"],
                      "recruitment_projects_difficult": raw_totals["rows"],
                      "recruitment_projects_seasonal": raw_totals["rows"]}
