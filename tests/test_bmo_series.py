"""Every bundled BMO vintage (2017 … 2023) through the one `bmo` adapter.

Each workbook is loaded into a fresh store and checked against a recount of the raw file made here with
openpyxl (no code shared with the adapter); small synthetic workbooks cover the layouts no bundled file has
(renamed and reordered columns, another sheet name, régions before 2016, a secret xmet beside a known met) and
the publisher's slips (a région that disagrees with the département, a département outside the INSEE
reference, one bassin code for two bassins, a row written twice). tests/test_bmo_recount.py checks the store
`python -m etl build` makes against the same kind of recount.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, text

from etl.adapters import bmo
from etl.errors import LoadError
from etl.frames import NOTE
from etl.loader import load_file
from etl.reference import Reference
from observatory.store import get_engine
from tests.conftest import BMO_2023, ROOT, snapshot

SERIES = ROOT / "data/real/francetravail/bmo_series"
VINTAGES = {
    2017: SERIES / "ResMetBE17.xlsx",
    2018: SERIES / "ResMetBE18.xlsx",
    2019: SERIES / "ResMetBE19.xlsx",
    2020: SERIES / "ResMetBE20.xlsx",
    2021: SERIES / "Base_open_data_21_def.xlsx",
    2022: SERIES / "Base_open_data_22_def.xlsx",
    2023: BMO_2023,
}
# The only rows rejected are exact repeats (Mayotte written twice in 2019 and 2020): recounted from the file.
ESTIMATED = {2017, 2018}  # unrounded decimal estimates


@dataclass
class Raw:
    rows: int = 0
    repeats: int = 0  # rows equal to an earlier row in métier, bassin (code, name), département and figures
    met: float = 0.0
    xmet: float = 0.0
    secret_met: int = 0
    secret_xmet: int = 0
    secret_xmet_known_met: int = 0


def recount(path: Path, rejected: set[int]) -> Raw:
    """Totals of the data sheet, read with openpyxl, leaving out the rows the load rejected."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        for sheet in book.worksheets:
            rows = sheet.iter_rows(min_row=1, values_only=True)
            header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
            if "met" in header and "xmet" in header:
                break
        else:
            raise AssertionError(f"no sheet with met and xmet in {path.name}")
        met, xmet = header.index("met"), header.index("xmet")
        key = [header.index(h) for h in header if h in ("Code métier BMO", "Dept", "met", "xmet", "smet")
               or re.fullmatch(r"(NOM)?BE\d\d", h)]
        assert len(key) == 7, header
        raw, seen = Raw(), set()
        for number, row in enumerate(rows, start=2):
            if all(v in (None, "") for v in row):
                continue
            raw.rows += 1
            written = tuple(row[i] for i in key)
            raw.repeats += written in seen
            seen.add(written)
            if number in rejected:
                continue
            m_secret, x_secret = row[met] == "*", row[xmet] == "*"
            raw.secret_met += m_secret
            raw.secret_xmet += x_secret
            if not m_secret:
                raw.met += float(row[met])
                raw.secret_xmet_known_met += x_secret
            if not x_secret:
                raw.xmet += float(row[xmet])
        return raw
    finally:
        book.close()


@dataclass
class Case:
    year: int
    engine: Engine
    summary: object
    rejected: set[int]
    raw: Raw


# The fast tier loads the oldest layout; the other vintages (a full build's worth of BMO loading) run in the suite.
@pytest.fixture(scope="module", params=[pytest.param(year, marks=() if year == 2017 else pytest.mark.full_store)
                                        for year in sorted(VINTAGES)], ids=str)
def case(request, reference_db, tmp_path_factory):
    """One bundled vintage loaded (the adapter recognised from the file) into a fresh store."""
    year = request.param
    folder = tmp_path_factory.mktemp(f"bmo{year}")
    shutil.copy(reference_db, folder / "store.sqlite")
    engine = get_engine(f"sqlite:///{folder / 'store.sqlite'}")
    summary = load_file(engine, VINTAGES[year])
    with engine.connect() as conn:
        rejected = set(conn.execute(text("SELECT row_number FROM etl_rejection WHERE load_id = :l "
                                         "AND reason NOT LIKE :note"),
                                    {"l": summary.load_id, "note": NOTE + "%"}).scalars())
    yield Case(year, engine, summary, rejected, recount(VINTAGES[year], rejected))
    engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)


def scalar(engine: Engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_the_vintage_is_read_from_the_annee_column(case):
    assert case.summary.adapter == "bmo"
    assert case.summary.periods == [case.year]
    assert case.summary.source_id == f"ft_bmo_{case.year}"


def test_every_row_is_loaded_or_rejected_with_its_reason(case):
    s = case.summary
    assert s.rows_read == case.raw.rows
    assert s.rows_loaded + s.rows_rejected == s.rows_read
    assert s.rows_rejected == len(case.rejected) == case.raw.repeats
    with case.engine.connect() as conn:
        incomplete = conn.execute(text(
            "SELECT COUNT(*) FROM etl_rejection WHERE load_id = :l AND (row_number < 2 OR column_name IS NULL "
            "OR column_name = '' OR reason IS NULL OR reason = '' OR value IS NULL)"), {"l": s.load_id}).scalar()
        reasons = conn.execute(text("SELECT reason FROM etl_rejection WHERE load_id = :l AND reason NOT LIKE :n"),
                               {"l": s.load_id, "n": NOTE + "%"}).scalars().all()
    assert incomplete == 0
    assert all(r.startswith("exact repeat of row ") for r in reasons)


def test_bassin_totals_and_secret_cells_match_a_recount_of_the_raw_workbook(case):
    for indicator, total, secret in (("recruitment_projects", case.raw.met, case.raw.secret_met),
                                     ("recruitment_projects_difficult", case.raw.xmet, case.raw.secret_xmet)):
        with case.engine.connect() as conn:
            got_total, got_secret, rows = conn.execute(text("""
                SELECT SUM(CASE WHEN status != 'secret' THEN value END),
                       SUM(CASE WHEN status = 'secret' THEN 1 ELSE 0 END), COUNT(*)
                FROM observations WHERE indicator_id = :i AND territory_level = 'bassin' AND is_derived = 0
                AND period = :p"""), {"i": indicator, "p": case.year}).one()
        assert got_total == pytest.approx(total, rel=1e-12), indicator
        assert got_secret == secret, indicator
        assert rows == case.summary.rows_loaded, indicator


def test_secret_cells_are_null_and_estimates_are_marked(case):
    with case.engine.connect() as conn:
        statuses = dict(conn.execute(text("""
            SELECT status, COUNT(*) FROM observations WHERE is_derived = 0 AND period = :p GROUP BY status"""),
            {"p": case.year}).all())
        secret_with_value = conn.execute(text(
            "SELECT COUNT(*) FROM observations WHERE status = 'secret' AND value IS NOT NULL")).scalar()
    assert secret_with_value == 0
    if case.year == 2017:
        assert set(statuses) == {"estimated"}  # unrounded estimates, no secret cell
    elif case.year in ESTIMATED:
        assert set(statuses) == {"estimated", "secret"}
    else:
        assert set(statuses) == {"ok", "secret"}


def test_share_counts_a_secret_xmet_in_the_denominator_only(case):
    with case.engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT status, numerator IS NULL, denominator IS NULL, COUNT(*) FROM observations
            WHERE indicator_id = 'recruitment_difficulty_share' AND territory_level = 'bassin' AND period = :p
            AND profession_id IN (SELECT profession_id FROM profession WHERE level = 'profession')
            GROUP BY 1, 2, 3"""), {"p": case.year}).all()
    got = {(status, bool(no_num), bool(no_den)): n for status, no_num, no_den, n in rows}
    assert got.get(("secret", True, False), 0) == case.raw.secret_xmet_known_met
    assert got.get(("secret", True, True), 0) == case.raw.secret_met
    known = "estimated" if case.year in ESTIMATED else "ok"
    assert {k for k in got if k[0] != "secret"} <= {(known, False, False), ("undefined", False, False)}
    den = scalar(case.engine, """SELECT SUM(denominator) FROM observations WHERE period = :p
        AND indicator_id = 'recruitment_difficulty_share' AND territory_level = 'bassin'
        AND profession_id IN (SELECT profession_id FROM profession WHERE level = 'profession')""", p=case.year)
    assert den == pytest.approx(case.raw.met, rel=1e-12)  # the same met the store shows


# --- Synthetic workbooks ---------------------------------------------------------------------------------------

HEADER_2017 = ["annee", "BE16", "NOMBE16", "Famille_metier", "Libellé de famille de métier", "Code métier BMO",
               "nom_metier BMO", "Dept", "NomDept", "met", "xmet", "smet", "REG", "NOM_REG"]


def workbook(path: Path, rows: list[list], *, header: list[str] = HEADER_2017, sheet: str = "ResMetBE16") -> Path:
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Description des variables"
    notes.append(["", "Variables", "Description"])
    notes.append(["", "met", "Nombre de projets de recrutement"])
    data = book.create_sheet(sheet)
    data.append(header)
    for row in rows:
        data.append(row)
    book.save(path)
    return path


def row_2016(dept, reg, *, bassin=8201, code="V4Z83", met="120", xmet="80", smet="*", year=2016):
    return [year, bassin, "BOURG EN BRESSE", "S", "Fonctions sociales et médico-sociales", code,
            "Educateurs spécialisés", dept, "", met, xmet, smet, reg, ""]


def rejections(engine: Engine, load_id: int) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(text("SELECT row_number, column_name, value, reason FROM etl_rejection "
                                 "WHERE load_id = :l ORDER BY row_number"), {"l": load_id}).all()


def test_regions_before_2016_are_accepted_and_roll_ups_follow_the_departement(store, tmp_path):
    """The région is a checked hint: a row that disagrees stays under its département, with a note (BMO 2019
    files Mayotte under région 04 and Redon's Loire-Atlantique part under région 53)."""
    rows = [row_2016("69", "82", bassin=8231), row_2016("21", "26", bassin=2601), row_2016("25", 43, bassin=4301),
            row_2016("2A", "94", bassin=9401), row_2016(971, 1.0, bassin=101), row_2016("44", "52", bassin=5201),
            row_2016("69", "84", bassin=8232),  # the current région is accepted as well
            row_2016("69", "26", bassin=8233)]  # Bourgogne never held the Rhône
    summary = load_file(store, workbook(tmp_path / "ResMetBE16.xlsx", rows))
    assert (summary.periods, summary.rows_loaded, summary.rows_rejected, summary.notes) == ([2016], 8, 0, 1)
    [(number, column, value, reason)] = rejections(store, summary.load_id)
    assert (number, column, value) == (9, "REG", "26")
    assert reason.startswith(NOTE) and "région 26" in reason and "département 69" in reason and "84" in reason
    assert any("rows kept with a correction 1" in line for line in summary.lines())
    with store.connect() as conn:
        regions = dict(conn.execute(text("""
            SELECT territory_id, value FROM observations WHERE indicator_id = 'recruitment_projects'
            AND profession_id = 'ensemble' AND territory_level = 'region'""")).all())
        old = conn.execute(text("SELECT COUNT(*) FROM territory WHERE territory_id IN ('REG-82', 'REG-26')")).scalar()
        rejected = conn.execute(text("SELECT rows_rejected FROM etl_load WHERE load_id = :l"),
                                {"l": summary.load_id}).scalar()
    assert regions == {"REG-84": 360, "REG-27": 240, "REG-94": 120, "REG-01": 120, "REG-52": 120}
    assert old == 0  # old régions are only a check, never a territory
    assert rejected == 0  # a note is not a rejection


def observation_values(engine: Engine, indicator: str = "recruitment_projects") -> dict[tuple[str, str], float]:
    with engine.connect() as conn:
        return {(p, t): v for p, t, v in conn.execute(text(
            "SELECT profession_id, territory_id, value FROM observations WHERE indicator_id = :i "
            "AND breakdown IS NULL"), {"i": indicator})}


def test_a_departement_outside_the_insee_reference_counts_in_the_nation_only(store, tmp_path):
    """BMO 2019 gives 977, 978 and « 99 » rows without bassin nor région: « non ventilé », in France only."""
    rows = [row_2016("01", "84", met="100"), row_2016("977", None, bassin=None, met="7", xmet="2"),
            row_2016("99", None, bassin=None, met="5", xmet="1"),
            row_2016("99", None, bassin=None, code="A0Z40", met="*", xmet="*"),
            row_2016("Z9", "84", met="3", xmet="1")]  # not a département code at all
    for row in rows[1:4]:
        row[2] = None  # no bassin name either, as in the file
    summary = load_file(store, workbook(tmp_path / "ResMetBE16.xlsx", rows))
    assert (summary.rows_loaded, summary.rows_rejected) == (4, 1)
    [(number, column, value, reason)] = rejections(store, summary.load_id)
    assert (number, column, value) == (6, "Dept", "Z9") and "département code" in reason
    values = observation_values(store)
    assert values[("educateur_specialise", "FR")] == 112
    assert values[("educateur_specialise", "REG-84")] == 100
    assert values[("educateur_specialise", "BE-0000-977")] == 7
    assert values[("ensemble", "FR")] == 112  # the secret 99 cell makes it a lower bound, counted once
    with store.connect() as conn:
        places = dict(conn.execute(text("SELECT territory_id, parent_id FROM territory WHERE territory_id IN "
                                        "('BE-0000-977', 'BE-0000-99')")).all())
        name = conn.execute(text("SELECT name FROM territory WHERE territory_id = 'BE-0000-977'")).scalar()
    assert places == {"BE-0000-977": "FR", "BE-0000-99": "FR"}
    assert name.startswith("Non ventilé") and "977" in name


def test_one_bassin_code_for_two_bassins_keeps_both_and_only_exact_repeats_are_dropped(store, tmp_path):
    """BMO 2021 uses bassin 0102 for Grande-Terre and for Îles du Nord (other figures, sometimes the same
    secret cells); BMO 2020 writes each Mayotte row twice."""
    def row(name, met, code="V4Z83"):
        out = row_2016(971, 1, bassin=102, met=met, xmet=met, code=code)
        out[2] = name
        return out
    rows = [row("BASSIN GRANDE-TERRE", "40"), row("BASSIN ILES DU NORD", "9"),
            row("BASSIN GRANDE-TERRE", "*", code="A0Z40"), row("BASSIN ILES DU NORD", "*", code="A0Z40"),
            row("BASSIN GRANDE-TERRE", "40"),  # written twice: dropped
            row("BASSIN ILES DU NORD", "12")]  # same key, other figures: which one is right cannot be told
    summary = load_file(store, workbook(tmp_path / "ResMetBE16.xlsx", rows))
    assert (summary.rows_loaded, summary.rows_rejected) == (4, 2)
    got = rejections(store, summary.load_id)
    assert [(r[0], r[1], r[2]) for r in got] == [(6, "Code métier BMO", "V4Z83"), (7, "Code métier BMO", "V4Z83")]
    assert got[0][3].startswith("exact repeat of row 2") and "row 3" in got[1][3] and "other figures" in got[1][3]
    values = observation_values(store)
    with store.connect() as conn:
        bassins = dict(conn.execute(text("SELECT territory_id, name FROM territory WHERE code = '0102' "
                                        "AND level = 'bassin'")).all())
    assert len(bassins) == 2 and sorted(bassins.values()) == ["Bassin Grande-Terre", "Bassin Iles Du Nord"]
    assert sorted(values[("educateur_specialise", t)] for t in bassins) == [9, 40]
    assert values[("educateur_specialise", "DEP-971")] == 49


def test_renamed_reordered_columns_on_any_sheet_name_load(store, tmp_path):
    header = ["smet", "xmet", "met", "NOM_REG18", "REG", "NomDept", "Dept", "nommetier", "Code métier BMO",
              "Lbl_fam_met", "Famille_met", "NOMBE16", "BE16", "annee"]
    rows = [[3, 10, 25, "AUVERGNE-RHONE-ALPES", 84.0, "AIN", 1.0, "Educateurs spécialisés", "V4Z83",
             "Fonctions sociales et médico-sociales", "S", "BOURG EN BRESSE", 8201.0, 2016.0],
            ["*", "*", 7, "ILE-DE-FRANCE", "11", "PARIS", "75", "Agriculteurs salariés", "A0Z40", "Autres métiers",
             "Z", "PARIS", "1101", "2016"]]
    path = workbook(tmp_path / "tableau.xlsx", rows, header=header, sheet="Données 2016")
    summary = load_file(store, path)  # recognised from its header, not its name
    assert (summary.adapter, summary.periods, summary.rows_loaded, summary.rows_rejected) == ("bmo", [2016], 2, 0)
    with store.connect() as conn:
        got = dict(conn.execute(text("""
            SELECT profession_id || ' ' || territory_id || ' ' || indicator_id, value FROM observations
            WHERE is_derived = 0""")).all())
        parent = conn.execute(text("SELECT parent_id FROM territory WHERE territory_id = 'BE-8201-01'")).scalar()
    assert got["educateur_specialise BE-8201-01 recruitment_projects"] == 25
    assert got["educateur_specialise BE-8201-01 recruitment_projects_difficult"] == 10
    assert got["fap2009_A0Z40 BE-1101-75 recruitment_projects"] == 7
    assert parent == "DEP-01"


def test_labels_describe_each_metier_and_bassin_of_the_vintage(store, tmp_path):
    rows = [row_2016("01", "84"), row_2016("01", "84", code="A0Z40"), row_2016("69", "82", bassin=8231)]
    rows[1][6] = "Agriculteurs salariés"
    rows[1][3:5] = ["Z", "Autres métiers"]
    path = workbook(tmp_path / "ResMetBE16.xlsx", rows)
    with store.connect() as conn:
        parsed = bmo.parse(path, Reference.from_store(conn))
    labels = {(r.kind, r.subject_id): (r.code, r.period, r.label, r.scope)
              for r in parsed.labels.itertuples(index=False)}
    assert labels == {
        ("profession", "educateur_specialise"): ("V4Z83", 2016, "Educateurs spécialisés",
                                                 "S Fonctions sociales et médico-sociales"),
        ("profession", "fap2009_A0Z40"): ("A0Z40", 2016, "Agriculteurs salariés", "Z Autres métiers"),
        ("territory", "BE-8201-01"): ("8201", 2016, "Bourg En Bresse", "01"),
        ("territory", "BE-8231-69"): ("8231", 2016, "Bourg En Bresse", "69"),
    }


def test_secret_xmet_beside_a_known_met_counts_in_the_denominator_only(store, tmp_path):
    rows = [row_2016("01", "84", met="100", xmet="60"),
            row_2016("01", "84", bassin=8202, met="40", xmet="*"),
            row_2016("01", "84", bassin=8203, met="*", xmet="*")]
    summary = load_file(store, workbook(tmp_path / "ResMetBE16.xlsx", rows))
    assert summary.rows_loaded == 3
    with store.connect() as conn:
        cells = {t: (v, n, d, s) for t, v, n, d, s in conn.execute(text("""
            SELECT territory_id, value, numerator, denominator, status FROM observations
            WHERE indicator_id = 'recruitment_difficulty_share' AND territory_level = 'bassin'
            AND profession_id = 'educateur_specialise'"""))}
        total = conn.execute(text("""
            SELECT value, numerator, denominator, status FROM observations
            WHERE indicator_id = 'recruitment_difficulty_share' AND territory_id = 'FR'
            AND profession_id = 'ensemble'""")).one()
    assert cells == {"BE-8201-01": (60.0, 60, 100, "ok"), "BE-8202-01": (None, None, 40, "secret"),
                     "BE-8203-01": (None, None, None, "secret")}
    assert tuple(total) == (pytest.approx(60 / 140 * 100), 60, 140, "partial")


def test_rows_of_another_year_are_rejected(store, tmp_path):
    rows = [row_2016("01", "84"), row_2016("01", "84", bassin=8202, year=2015), row_2016("01", "84", bassin=8203)]
    summary = load_file(store, workbook(tmp_path / "ResMetBE16.xlsx", rows))
    assert summary.periods == [2016]
    [(number, column, value, reason)] = rejections(store, summary.load_id)
    assert (number, column, value) == (3, "annee", "2015") and "2016" in reason


def test_a_workbook_without_a_bmo_sheet_names_the_sheets_found(store, tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active.append(["annee", "commentaire"])
    book.create_sheet("Feuil2").append(["code", "valeur"])
    book.save(tmp_path / "autre.xlsx")
    before = snapshot(store)
    assert not bmo.recognise(tmp_path / "autre.xlsx")
    with pytest.raises(LoadError) as error:
        load_file(store, tmp_path / "autre.xlsx", "bmo")
    assert "no BMO data sheet" in str(error.value) and "Notes" in str(error.value) and "Feuil2" in str(error.value)
    assert snapshot(store) == before


def test_recognising_reads_header_rows_only(monkeypatch):
    def no_full_read(*_args, **_kwargs):
        raise AssertionError("recognise must not open the workbook through calamine")

    monkeypatch.setattr(bmo, "open_workbook", no_full_read)
    monkeypatch.setattr(bmo, "sheet_rows", no_full_read)
    assert all(bmo.recognise(path) for path in VINTAGES.values())
    expected = next(openpyxl.load_workbook(BMO_2023, read_only=True)["BMO_2023_open_data"]
                    .iter_rows(max_row=1, values_only=True))
    assert bmo.sheet_headers(BMO_2023)["BMO_2023_open_data"] == list(expected)


@pytest.mark.parametrize("case", [2021], indirect=True, ids=str)
def test_rows_without_a_bassin_stay_in_their_departement(case):
    """BMO 2021 gives Corse without bassin codes: its rows count in Corse, under « bassin non précisé »."""
    corse = scalar(case.engine, "SELECT value FROM observations WHERE indicator_id = 'recruitment_projects' AND "
                   "territory_id = 'REG-94' AND profession_id = 'ensemble' AND breakdown IS NULL")
    parts = scalar(case.engine, "SELECT SUM(value) FROM observations WHERE indicator_id = 'recruitment_projects' "
                   "AND territory_id IN ('BE-0000-2A', 'BE-0000-2B') AND is_derived = 0")
    assert corse and corse == pytest.approx(parts)
