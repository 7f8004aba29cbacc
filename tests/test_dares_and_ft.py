"""CSV adapters on the real DARES and France Travail files, against figures read with the csv module."""
from __future__ import annotations

import csv

import pytest
from sqlalchemy import text

from tests.conftest import EVOL_MMO, ROOT


def value(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def test_dares_turnover_v4z_2014_as_published(built_store):
    with EVOL_MMO.open(encoding="latin-1") as handle:
        raw = {(r["Fap3"], r["Type_mmo"], r["Annee"]): float(r["Taux"])
               for r in csv.DictReader(handle, delimiter=";")}
    published = raw[("V4Z", "Taux de rotation", "2014")]
    assert published == 71.65
    stored = value(built_store, """
        SELECT value FROM observations WHERE indicator_id = 'turnover_rate_all_contracts' AND source_id = 'dares_mmo'
        AND profession_id = 'grp_action_sociale_orientation' AND period = 2014 AND territory_id = 'FR'""")
    assert stored == published


def test_dares_rates_are_not_rolled_up(built_store):
    derived = value(built_store, "SELECT COUNT(*) FROM observations WHERE source_id = 'dares_mmo' AND is_derived = 1")
    assert derived == 0


def test_dares_mmo_every_row_accounted_for(built_store):
    with EVOL_MMO.open(encoding="latin-1") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    loaded = value(built_store, "SELECT COUNT(*) FROM observations WHERE source_id = 'dares_mmo'")
    rejected = value(built_store, """SELECT COUNT(*) FROM etl_rejection r JOIN etl_load l USING (load_id)
                                     WHERE l.source_id = 'dares_mmo'""")
    assert loaded + rejected == len(rows)
    assert rejected == sum(1 for r in rows if r["Fap3"] == "ZZZ")


def test_tensions_region_codes_are_padded(built_store):
    with (ROOT / "data/real/dares/tensions.csv").open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        raw = [r for r in reader if r["niveau_geo"].strip() == "reg" and r["fap"] == "T2A"]
    guadeloupe = next(float(r["Tension "]) for r in raw if r["reg"] == "1.0")
    stored = value(built_store, """
        SELECT value FROM observations WHERE indicator_id = 'tension_index' AND territory_id = 'REG-01'
        AND profession_id = 'grp_aide_domicile'""")
    assert stored == pytest.approx(guadeloupe)


def test_portrait_range_takes_its_last_year(built_store):
    with (ROOT / "data/real/dares/part_femmes.csv").open(encoding="utf-8") as handle:
        raw = {(r["Fap3"], r["Annee"]): r["Part"] for r in csv.DictReader(handle)}
    stored = value(built_store, """
        SELECT value FROM observations WHERE indicator_id = 'women_share' AND profession_id = 'grp_aide_domicile'
        AND period = 2019""")
    assert stored == pytest.approx(float(raw[("T2A", "2017-2019")]))


def test_ft_tension_decimal_commas_and_sums(built_store):
    path = ROOT / "data/real/francetravail/francetravail_tension_rome_bassin_2021.csv"
    with path.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter=";") if r["ROME"] == "K1207"]
    expected = sum(float(r["oee"].replace(",", ".")) for r in rows)
    stored = value(built_store, """
        SELECT value FROM observations WHERE indicator_id = 'job_offers' AND profession_id = 'educateur_specialise'
        AND territory_id = 'FR' AND source_id = 'ft_tension_2021'""")
    assert stored == pytest.approx(expected)
    by_region = value(built_store, """
        SELECT SUM(value) FROM observations WHERE indicator_id = 'job_offers' AND profession_id = 'educateur_specialise'
        AND territory_level = 'region' AND source_id = 'ft_tension_2021'""")
    assert by_region == pytest.approx(expected)  # bassins → régions → France, nothing lost or counted twice


def test_build_records_every_load_with_its_sha256(built_store):
    import hashlib

    from etl.build import bundled_files

    with built_store.connect() as conn:
        recorded = dict(conn.execute(text("SELECT file_name, file_sha256 FROM etl_load")).all())
    for path, _adapter, _illustrative in bundled_files():
        assert recorded[path.name] == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("file_name, column, indicator", [
    ("part_cdd.csv", "part", "fixed_term_share"),
    ("salaire_median_3niv.csv", "Salaire_median", "median_salary"),
])
def test_other_portrait_files_as_published(built_store, file_name, column, indicator):
    with (ROOT / "data/real/dares" / file_name).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    fap = "Fap" if "Fap" in rows[0] else "Fap3"
    year = "annee" if "annee" in rows[0] else "Annee"
    expected = next(float(r[column]) for r in rows if r[fap] == "V4Z" and r[year].endswith("2019"))
    stored = value(built_store, """
        SELECT value FROM observations WHERE indicator_id = :i AND profession_id = 'grp_action_sociale_orientation'
        AND period = 2019""", i=indicator)
    assert stored == pytest.approx(expected)
