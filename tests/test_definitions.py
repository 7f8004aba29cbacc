"""One indicator id, one definition; every valid published row loaded; demo data never `secret`."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from etl.frames import OBS_COLUMNS, UNIT_COLUMNS, Parsed, empty
from etl.loader import _apply_scope
from observatory import catalogue
from tests.conftest import EVOL_MMO, ROOT

TDBMS_IDS = ("turnover_rate", "entry_rate", "exit_rate")
ALL_CONTRACTS_IDS = ("turnover_rate_all_contracts", "entry_rate_all_contracts", "exit_rate_all_contracts")


def rows(engine, sql: str, **params) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def test_no_illustrative_figure_is_secret_but_by_our_own_suppression(built_store):
    """An `nd` cell of a demo file is « not reported », never a producer's secret. The only secret illustrative
    rows are the TDBMS totals our own secrecy rule hides at load (1-4 establishments, complementary
    suppression: `observatory/secrecy.py`), with no value and no parts."""
    from etl.adapters import tdbms

    secret = rows(built_store, """
        SELECT s.adapter, o.indicator_id, COUNT(*), COUNT(o.value), COUNT(o.numerator), COUNT(o.denominator)
        FROM observations o JOIN source s USING (source_id)
        WHERE s.is_illustrative AND o.status = 'secret' GROUP BY 1, 2""")
    assert secret and {adapter for adapter, *_ in secret} == {tdbms.NAME}
    assert all(values == numerators == denominators == 0 for *_, values, numerators, denominators in secret)
    assert rows(built_store, """
        SELECT e.source_id, e.indicator_id, COUNT(*) FROM establishment_observation e JOIN source s USING (source_id)
        WHERE s.is_illustrative AND e.status = 'secret' GROUP BY 1, 2""") == []
    # the `nd` cells are still there, as illustrative figures without a value
    assert rows(built_store, """
        SELECT COUNT(*) FROM observations o JOIN source s USING (source_id)
        WHERE s.is_illustrative AND o.is_derived = 0 AND o.value IS NULL AND o.status = 'illustrative'""")[0][0] > 0


def test_apply_scope_turns_unreported_demo_cells_into_illustrative():
    observations = pd.DataFrame([
        ["graduates", "educateur_specialise", "REG-11", "", 2023, np.nan, np.nan, np.nan, "secret", 0],
        ["graduates", "educateur_specialise", "REG-84", "", 2023, 12.0, np.nan, np.nan, "ok", 0],
        ["training_interruption_rate", "educateur_specialise", "REG-11", "", 2023, np.nan, np.nan, 40.0, "secret", 1],
    ], columns=OBS_COLUMNS)
    units = pd.DataFrame([["010000001", "turnover_rate", 2023, np.nan, np.nan, np.nan, "secret"],
                          ["010000002", "turnover_rate", 2023, 30.0, 12.0, 40.0, "ok"]], columns=UNIT_COLUMNS)
    parsed = Parsed(adapter="tdbms", source={}, observations=observations, rejections=empty(["row_number"]),
                    rows_read=3, units=units)
    _apply_scope(parsed, Path("demo.csv"), "0" * 64, illustrative=True, scope="published")
    assert list(parsed.observations["status"]) == ["illustrative"] * 3
    assert list(parsed.units["status"]) == ["illustrative"] * 2
    assert parsed.observations["value"].isna().tolist() == [True, False, True]
    assert parsed.observations["denominator"].tolist()[2] == 40.0  # a known part stays
    assert parsed.units["value"].isna().tolist() == [True, False]
    assert parsed.source["is_illustrative"]


def test_tdbms_ids_never_hold_dares_figures(built_store):
    assert rows(built_store, """
        SELECT indicator_id, source_id, COUNT(*) FROM observations
        WHERE indicator_id IN ('turnover_rate', 'entry_rate', 'exit_rate') AND source_id LIKE 'dares%'
        GROUP BY 1, 2""") == []
    dares = {r[0] for r in rows(built_store,
                                "SELECT DISTINCT indicator_id FROM observations WHERE source_id = 'dares_mmo'")}
    assert dares == set(ALL_CONTRACTS_IDS)


def test_all_contracts_turnover_is_the_dares_figure_as_published(built_store):
    with EVOL_MMO.open(encoding="latin-1") as handle:
        raw = {(r["Fap3"], r["Type_mmo"], r["Annee"]): float(r["Taux"]) for r in csv.DictReader(handle, delimiter=";")}
    assert raw[("V4Z", "Taux de rotation", "2014")] == 71.65
    assert rows(built_store, """
        SELECT value, status, is_derived, source_id FROM observations
        WHERE indicator_id = 'turnover_rate_all_contracts' AND profession_id = 'grp_action_sociale_orientation'
        AND territory_id = 'FR' AND period = 2014""") == [(71.65, "ok", 0, "dares_mmo")]


def test_published_codes_are_no_longer_rejected(built_store):
    rejected = {r[0] for r in rows(built_store, "SELECT DISTINCT value FROM etl_rejection")}
    assert not {"L1510", "T2Z", "SAL"} & rejected


def test_t2z_and_sal_have_their_own_node_and_their_published_values(built_store):
    with (ROOT / "data/real/dares/part_cdd.csv").open(encoding="utf-8") as handle:
        raw = {(r["Fap"], r["annee"]): r["part"] for r in csv.DictReader(handle)}
    stored = dict(rows(built_store, """
        SELECT p.source_code, o.value FROM observations o
        JOIN profession_crosswalk p ON p.profession_id = o.profession_id
        WHERE o.indicator_id = 'fixed_term_share' AND o.period = 2019 AND o.territory_id = 'FR'
        AND p.source_code IN ('T2Z', 'SAL', 'T2A', 'T2B') AND o.is_derived = 0"""))
    for code in ("T2Z", "SAL", "T2A", "T2B"):
        assert stored[code] == pytest.approx(float(raw[(code, "2017-2019")]))
    ensemble = rows(built_store, """SELECT value FROM observations WHERE indicator_id = 'fixed_term_share'
                                    AND profession_id = 'ensemble' AND period = 2019""")
    assert ensemble == [(pytest.approx(float(raw[("ENS", "2017-2019")])),)]  # ENS (everyone in employment) is not SAL
    job_offers = rows(built_store, """SELECT COUNT(*) FROM observations WHERE profession_id = 'rome_L1510'
                                      AND indicator_id = 'job_offers' AND is_derived = 0""")
    assert job_offers[0][0] > 0


def test_overlapping_nodes_only_carry_figures_that_are_never_summed(built_store):
    """T2Z overlaps T2A and T2B, SAL cuts across every occupation: nothing of theirs may enter a roll-up."""
    aggregation = dict(rows(built_store, """
        SELECT DISTINCT o.indicator_id, i.aggregation FROM observations o JOIN indicator i USING (indicator_id)
        WHERE o.profession_id IN (SELECT profession_id FROM profession_crosswalk WHERE source_code IN ('T2Z', 'SAL')
                                  AND nomenclature IN ('fap87', 'dares_total'))"""))
    assert aggregation and set(aggregation.values()) == {"none"}


def test_one_indicator_id_one_definition():
    ids = [i.indicator_id for i in catalogue.INDICATORS]
    assert len(ids) == len(set(ids))
    definitions = [" ".join(i.definition.split()).casefold() for i in catalogue.INDICATORS]
    assert len(definitions) == len(set(definitions))
    for tdbms_id, dares_id in zip(TDBMS_IDS, ALL_CONTRACTS_IDS):
        tdbms, dares = catalogue.get(tdbms_id), catalogue.get(dares_id)
        assert "DARES" not in tdbms.sources and "deux définitions" not in (tdbms.caveats or "")
        assert "TDBMS" in tdbms.sources and "permanent" in tdbms.definition
        assert "DARES" in dares.sources and "tous contrats" in dares.label
        assert (tdbms.label, tdbms.formula) != (dares.label, dares.formula)
