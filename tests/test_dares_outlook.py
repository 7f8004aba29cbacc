"""The `dares_outlook` adapter on the five real DARES files (inputs of a workforce outlook), recounted from the raw
files with the csv module: periods, units, breakdowns, shares, every rejected figure and its reason."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import Counter, defaultdict

import pytest
from sqlalchemy import text

from etl import adapters
from etl.adapters import dares_outlook
from etl.loader import load_file
from observatory import catalogue, urlstate
from tests.conftest import ROOT, snapshot, use_store

DARES = ROOT / "data/real/dares"
EMPLOYMENT = DARES / "effectifs_3niv.csv"
AGE = DARES / "age_2017_2019_3niv.csv"
BROAD_AGE = DARES / "age_agrege_1982_1984_a_2017_2019_restructure.csv"
REGIONS = DARES / "input_carte1.csv"
EXIT_TYPES = DARES / "types_sorties.csv"
FILES = {EMPLOYMENT: "dares_portrait_employment", AGE: "dares_portrait_age", BROAD_AGE: "dares_portrait_broad_age",
         REGIONS: "dares_portrait_regions", EXIT_TYPES: "dares_portrait_exit_types"}
NOT_IN_REFERENCE = {"ZZZ", "Z", "ZZZZZ", "T2Z60"}  # « non renseigné » totals, and a FAP-225 code of T2Z: no FAP code


def rows(engine, sql: str, **params) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def value(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def read(path, **options) -> list[dict]:
    with path.open(encoding="latin-1", newline="") as handle:
        return [{k.strip(): v.strip() for k, v in r.items()} for r in csv.DictReader(handle, **options)]


def rejections(engine, source_id: str) -> Counter:
    return Counter(r[0] for r in rows(engine, """
        SELECT r.reason FROM etl_rejection r JOIN etl_load l USING (load_id) WHERE l.source_id = :s""", s=source_id))


def test_every_file_is_recognised_as_its_layout():
    for path in FILES:
        assert adapters.recognise(path).NAME == "dares_outlook"
    assert not dares_outlook.recognise(DARES / "evol_mmo.csv") and not dares_outlook.recognise(DARES / "part_cdd.csv")


def test_employment_is_stored_under_the_window_last_year_in_persons(built_store):
    """The DARES's row « 2018 » is the 2017-2019 average: it equals the sum of the age bands of 2017-2019."""
    wide = {r["Annee"]: r for r in read(EMPLOYMENT)}
    t2a_age = sum(float(r["annee_2017_2019"]) for r in read(AGE) if r["fap"] == "T2A")
    assert t2a_age * 1000 == pytest.approx(557_617.08)
    assert float(wide["2018"]["T2A"]) == 557.61707  # published to the 1/100 000 (of a thousand): rounding apart
    stored = dict(rows(built_store, """
        SELECT period, value FROM observations WHERE indicator_id = 'employment' AND profession_id = 'grp_aide_domicile'
        AND territory_id = 'FR' AND source_id = 'dares_portrait_employment'"""))
    assert stored[2019] == pytest.approx(557_617.07)
    assert stored[2018] == pytest.approx(float(wide["2017"]["T2A"]) * 1000)
    assert min(stored) == 1996 and max(stored) == 2019  # T2A is NA in the rows 1983-1994
    by_age = rows(built_store, """
        SELECT breakdown, value FROM observations WHERE indicator_id = 'employment_by_age'
        AND profession_id = 'grp_aide_domicile' AND territory_id = 'FR' AND period = 2019""")
    assert {b for b, _ in by_age} == {  # the file's nine bands, every one named in the catalogue
        "age:15-24", "age:25-29", "age:30-34", "age:35-39", "age:40-44", "age:45-49", "age:50-54", "age:55-59",
        "age:60+"} <= set(catalogue.BREAKDOWNS)
    assert sum(v for _, v in by_age) == pytest.approx(557_617.08)
    assert sum(v for _, v in by_age) == pytest.approx(stored[2019], abs=0.02)
    everyone = dict(rows(built_store, """SELECT period, value FROM observations WHERE indicator_id = 'employment'
                                        AND profession_id = 'ensemble'"""))
    assert sorted(everyone) == list(range(1984, 2020)) and everyone[2019] == pytest.approx(26_438_001.7)


def test_broad_age_v4z_2007_2009_as_published(built_store):
    raw = {r["Age"]: float(r["effectif_age"]) * 1000 for r in read(BROAD_AGE)
           if r["Fap"] == "V4Z" and r["Annee"] == "2007-2009"}
    stored = dict(rows(built_store, """
        SELECT breakdown, value FROM observations WHERE indicator_id = 'employment_by_broad_age' AND period = 2009
        AND profession_id = 'grp_action_sociale_orientation' AND territory_id = 'FR'"""))
    assert stored == {"age:<30": pytest.approx(raw["Moins de 30 ans"]),
                      "age:30-49": pytest.approx(raw["De 30 à 49 ans"]),
                      "age:50+": pytest.approx(raw["50 ans ou plus"])}
    assert stored["age:<30"] == pytest.approx(55_237.22)
    periods = [r[0] for r in rows(built_store, """SELECT DISTINCT period FROM observations
                                                  WHERE indicator_id = 'employment_by_broad_age' ORDER BY period""")]
    assert periods == list(range(1984, 2020))  # 1982-1984 … 2017-2019


def test_region_shares_of_each_fap_sum_to_100(built_store):
    raw = read(REGIONS)
    stored = rows(built_store, """
        SELECT p.source_code, o.territory_id, o.value, o.numerator, o.denominator, o.period FROM observations o
        JOIN profession_crosswalk p ON p.profession_id = o.profession_id AND p.nomenclature = 'fap87'
        WHERE o.indicator_id = 'employment_region_share'""")
    assert len(stored) == len(raw) == 1519 and {r[5] for r in stored} == {2019}
    totals = defaultdict(float)
    for code, _territory, share, _num, _den, _period in stored:
        totals[code] += share
    assert len(totals) == 87
    assert all(total == pytest.approx(100, abs=1e-6) for total in totals.values())
    published = {(r["FAP_3"], r["code_reg"]): r for r in raw}
    by_key = {(code, territory): (share, num, den) for code, territory, share, num, den, _ in stored}
    share, num, den = by_key[("V4Z", "REG-11")]
    assert num == float(published[("V4Z", "11")]["emp_fap_reg2"]) == 60_158.8
    assert den == pytest.approx(sum(float(r["emp_fap_reg2"]) for r in raw if r["FAP_3"] == "V4Z"))
    assert share == pytest.approx(100 * float(published[("V4Z", "11")]["pourcentage"]))
    assert by_key[("V4Z", "REG-06")][1] == 2.68  # Mayotte, code_reg 106
    assert {t for _, t in by_key} == {r[0] for r in rows(built_store,
                                                         "SELECT territory_id FROM territory WHERE level = 'region'")}
    derived = value(built_store, """SELECT COUNT(*) FROM observations WHERE source_id LIKE 'dares_portrait_%'
                                    AND is_derived = 1""")
    assert derived == 0  # FAP levels overlap; a région's share is over the FAP's national employment: never rolled up


def test_exit_types_under_2014_as_published(built_store):
    raw = read(EXIT_TYPES, delimiter=";")
    assert sum(float(r["Pourcentage"]) for r in raw if r["Fap3"] == "V4Z") == pytest.approx(100, abs=0.02)  # rounded
    stored = dict(rows(built_store, """
        SELECT breakdown, value FROM observations WHERE indicator_id = 'exit_type_share' AND period = 2014
        AND profession_id = 'grp_action_sociale_orientation' AND territory_id = 'FR'"""))
    assert stored == {"sortie:fin_cdd": 88.6, "sortie:demission": 5.41, "sortie:licenciement": 1.05,
                      "sortie:rupture_conventionnelle": 1.81, "sortie:fin_periode_essai": 0.6,
                      "sortie:retraite": 1.77, "sortie:autre": 0.77}
    assert value(built_store, "SELECT COUNT(*) FROM observations WHERE indicator_id = 'exit_type_share'") == \
        len(raw) - sum(1 for r in raw if r["Fap3"] == "ZZZ")


def test_every_figure_is_loaded_or_rejected_with_its_reason(built_store):
    wide = read(EMPLOYMENT)
    faps = [c for c in wide[0] if c != "Annee"]
    na = sum(1 for r in wide for c in faps if c not in NOT_IN_REFERENCE and r[c] == "NA")
    assert rejections(built_store, "dares_portrait_employment") == {
        "no value published ('NA')": na, "FAP code not in the FAP reference": len(NOT_IN_REFERENCE) * len(wide)}
    assert na == 4749
    loaded = value(built_store, "SELECT COUNT(*) FROM observations WHERE source_id = 'dares_portrait_employment'")
    assert loaded + na + len(NOT_IN_REFERENCE) * len(wide) == len(wide) * len(faps) == 12_240
    # a rejection names the cell: its line and its FAP column
    assert rows(built_store, """SELECT r.row_number, r.column_name, r.value FROM etl_rejection r
                                JOIN etl_load l USING (load_id) WHERE l.source_id = 'dares_portrait_employment'
                                AND r.column_name = 'T2A' ORDER BY r.row_number""")[0] == (2, "T2A", "NA")

    age = read(AGE)
    assert rejections(built_store, "dares_portrait_age") == {
        "no value published ('NA')": 1, "FAP code not in the FAP reference": 9 * len(NOT_IN_REFERENCE)}
    zeros = sum(1 for r in age if r["annee_2017_2019"] == "0")
    assert zeros == 16 and value(built_store, """SELECT COUNT(*) FROM observations WHERE source_id =
                                                'dares_portrait_age' AND value = 0""") == zeros  # genuine zeros kept

    broad = read(BROAD_AGE)
    undefined = [r for r in broad if r["effectif_age"] == "0"]
    assert {r["Fap"] for r in undefined} == {"T2A", "T2B"} and len(undefined) == 60
    assert max(r["Annee"] for r in undefined) == "1991-1993"
    assert rejections(built_store, "dares_portrait_broad_age") == {
        dares_outlook.UNDEFINED: 60, "FAP code not in the FAP reference": sum(1 for r in broad if r["Fap"] == "ZZZ")}
    assert rejections(built_store, "dares_portrait_regions") == {}
    assert rejections(built_store, "dares_portrait_exit_types") == {"FAP code not in the FAP reference": 7}
    loads = rows(built_store, """
        SELECT l.source_id, l.rows_read, l.rows_loaded, l.rows_rejected, COUNT(r.row_number) FROM etl_load l
        LEFT JOIN etl_rejection r USING (load_id) WHERE l.adapter = 'dares_outlook'
        GROUP BY l.source_id, l.rows_read, l.rows_loaded, l.rows_rejected""")
    assert {r[0] for r in loads} == set(FILES.values())
    for _source, read_, loaded_, rejected, listed in loads:  # one rejection per figure (a cell of the wide file)
        assert read_ == loaded_ + rejected and rejected == listed


def test_reload_is_idempotent(store):
    for path in FILES:
        load_file(store, path)
    first = snapshot(store)
    for path in FILES:
        summary = load_file(store, path)
        assert summary.replaced_loads
    again = snapshot(store)
    assert {k: v for k, v in again.items() if k != "max(load_id)"} == \
           {k: v for k, v in first.items() if k != "max(load_id)"}


def test_a_malformed_cell_is_rejected_with_its_reason(store, tmp_path):
    lines = EXIT_TYPES.read_bytes().split(b"\n")
    assert lines[582].startswith(b"V4Z;Ruptures conventionnelles")  # file row 583
    lines[582] = b"V4Z;Ruptures conventionnelles;1,8x"
    lines[583] = b"V4Z;Licenciements            ;"
    bad = tmp_path / "types_sorties.csv"
    bad.write_bytes(b"\n".join(lines))
    summary = load_file(store, bad)
    assert summary.rows_rejected == 7 + 2
    got = rows(store, """SELECT row_number, column_name, value, reason FROM etl_rejection
                         WHERE load_id = :l AND row_number IN (583, 584) ORDER BY row_number""", l=summary.load_id)
    assert got[0][:3] == (583, "Pourcentage", "1,8x") and got[0][3].startswith("expected a number")
    assert got[1][:2] == (584, "Pourcentage") and got[1][3].startswith("expected a number")

    wide = EMPLOYMENT.read_text(encoding="latin-1").split("\n")
    header = wide[0].replace('"', "").split(",")
    cells = wide[-2].split(",")  # the row « 2018 »
    assert cells[0] == '"2018"'
    cells[header.index("V4Z")] = "beaucoup"
    wide[-2] = ",".join(cells)
    bad = tmp_path / "effectifs_3niv.csv"
    bad.write_text("\n".join(wide), encoding="latin-1")
    summary = load_file(store, bad)
    got = rows(store, """SELECT row_number, value, reason FROM etl_rejection WHERE load_id = :l
                         AND column_name = 'V4Z'""", l=summary.load_id)
    assert got == [(len(wide) - 1, "beaucoup", got[0][2])] and got[0][2].startswith("expected a number")


def test_a_wrong_header_gives_one_error_line(tmp_path):
    bad = tmp_path / "types_sorties.csv"
    bad.write_bytes(EXIT_TYPES.read_bytes().replace(b";Pourcentage", b";Part", 1))
    env = {**os.environ, "OBSERVATORY_DB": f"sqlite:///{tmp_path / 'x.sqlite'}"}
    done = subprocess.run([sys.executable, "-m", "etl", "load", str(bad), "--source", "dares_outlook"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: file types_sorties.csv")
    assert "missing required column 'value'" in errors[0] and "Traceback" not in done.stderr


def test_the_codec_and_the_api_accept_the_new_breakdowns(built_store, dash_app, monkeypatch):
    store = use_store(monkeypatch, str(built_store.url))
    selection, _ = urlstate.parse(store, "indicator=employment_by_age&breakdown=age:60%2B&breakdown=sortie:fin_cdd")
    assert selection.breakdowns == ("age:60+", "sortie:fin_cdd")
    assert urlstate.parse(store, "breakdown=age:60+")[0].breakdowns == ("age:60+",)  # `+` unescaped reads as a space
    for wrong in ("age:150", "sortie:fin", "age:"):
        with pytest.raises(urlstate.BadQuery, match="breakdown must be .*age:<band>"):
            urlstate.parse(store, f"breakdown={wrong}")
    client = dash_app.server.test_client()
    body = client.get("/api/v1/observations?indicator=employment_by_age&profession=grp_aide_domicile"
                      "&breakdown=age:60%2B").get_json()
    assert [(r["breakdown"], r["period"]) for r in body["rows"]] == [("age:60+", 2019)]
