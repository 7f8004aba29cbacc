"""Illustrative data: deterministic files, calibrated national figures, labelled illustrative everywhere."""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import text

from etl.build import ILLUSTRATIVE, ILLUSTRATIVE_DIR
from etl.illustrative import generate
from tests.conftest import ROOT


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_regenerating_gives_byte_identical_files(tmp_path):
    written = generate(tmp_path)
    for rel, _adapter in ILLUSTRATIVE:
        assert digest(tmp_path / rel) == digest(ILLUSTRATIVE_DIR / rel), rel
    for path in written[-2:]:
        assert digest(path) == digest(ROOT / "data/templates" / path.name), path.name


def national(engine, indicator, period):
    with engine.connect() as conn:
        return conn.execute(text("""
            SELECT value, status FROM observations WHERE indicator_id = :i AND period = :p
            AND profession_id = 'ensemble' AND territory_id = 'FR' AND breakdown IS NULL
            AND source_id LIKE '%illustrative'"""), {"i": indicator, "p": period}).one()


@pytest.mark.parametrize("indicator, period, target, tolerance", [
    ("turnover_rate", 2023, 24.4, 0.5), ("vacancy_rate", 2023, 4.5, 0.5), ("turnover_rate", 2018, 19.4, 0.5),
    ("vacancy_rate", 2017, 2.1, 0.5), ("absenteeism_rate", 2020, 13.0, 0.5), ("absenteeism_rate", 2023, 11.5, 0.5),
])
def test_tdbms_national_ratios_of_sums_are_calibrated(built_store, indicator, period, target, tolerance):
    value, status = national(built_store, indicator, period)
    assert abs(value - target) <= tolerance
    assert status in ("illustrative", "illustrative_incomplete")  # incomplete: some cells not reported


def test_training_2023_is_calibrated(built_store):
    graduates, status = national(built_store, "graduates", 2023)
    assert abs(graduates - 20_676) / 20_676 <= 0.05 and status in ("illustrative", "illustrative_incomplete")
    enrolled, _ = national(built_store, "students_enrolled", 2023)
    assert abs(enrolled - 57_300) / 57_300 <= 0.05


def test_every_illustrative_figure_is_labelled(built_store):
    with built_store.connect() as conn:
        wrong = conn.execute(text("""
            SELECT COUNT(*) FROM observations o JOIN source s ON s.source_id = o.source_id
            WHERE s.is_illustrative = 1
            AND o.status NOT IN ('illustrative', 'illustrative_incomplete', 'undefined')
            AND NOT (o.status = 'secret' AND o.value IS NULL)""")).scalar()  # secrecy.py: small totals, no figure
        sources = set(conn.execute(text("SELECT source_id FROM source WHERE is_illustrative = 1")).scalars())
        establishment_rows = conn.execute(text("""
            SELECT COUNT(*) FROM establishment_observation WHERE status NOT IN ('illustrative', 'undefined')
            AND source_id IN ('tdbms_illustrative')""")).scalar()
    assert wrong == 0 and establishment_rows == 0
    assert sources == {"tdbms_illustrative", "drees_ecoles_illustrative"}


def test_category_and_territory_patterns(built_store):
    with built_store.connect() as conn:
        turnover = dict(conn.execute(text("""
            SELECT breakdown, value FROM observations WHERE indicator_id = 'turnover_rate' AND period = 2023
            AND territory_id = 'FR' AND breakdown IN ('esms:500', 'esms:255', 'esms:182')""")).all())
        vacancy = dict(conn.execute(text("""
            SELECT territory_id, value FROM observations WHERE indicator_id = 'vacancy_rate' AND period = 2023
            AND breakdown IS NULL AND territory_id IN ('REG-11', 'REG-03', 'FR')""")).all())
    assert turnover["esms:255"] > turnover["esms:500"] > turnover["esms:182"]  # adult PH > EHPAD > PH services
    assert vacancy["REG-03"] > 20 and vacancy["REG-11"] > vacancy["FR"]
