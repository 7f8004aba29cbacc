"""Issue 20, first file: Insee's population estimates by département, sex and five-year age band (1975–2022),
loaded through their adapter and recounted from the raw workbook (read here by calamine, independently of the
adapter), and checked against the figures Insee publishes for 2022."""
from __future__ import annotations

import json
import shutil

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import text

from etl.loader import load_file
from observatory.store import get_engine
from tests.conftest import ROOT

POPULATION = ROOT / "data/real/insee/estim-pop-dep-sexe-aq-1975-2022.xlsx"
OLD = ("age:75-79", "age:80-84", "age:85-89", "age:90-94", "age:95+")


@pytest.fixture(scope="module")
def loaded(reference_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("population")
    shutil.copy(reference_db, folder / "store.sqlite")
    engine = get_engine(f"sqlite:///{folder / 'store.sqlite'}")
    summary = load_file(engine, POPULATION)
    yield engine, summary
    engine.dispose()


def raw_rows(year: int) -> list[list]:
    book = CalamineWorkbook.from_path(str(POPULATION))
    return book.get_sheet_by_name(str(year)).to_python()


def raw_figures(year: int, first_cell: str) -> tuple[float, float]:
    """(all ages, 75 and over) of the row whose first cell is `first_cell`, from the Ensemble block: the
    « Total » column and the sum of the bands from « 75 à 79 ans » up."""
    rows = raw_rows(year)
    header = next(i for i, r in enumerate(rows) if str(r[0]).startswith("Départements"))
    bands = [str(c) for c in rows[header + 1]]
    total = bands.index("Total")  # the Ensemble block's total comes first
    old = bands.index("75 à 79 ans")
    row = next(r for r in rows if str(r[0]).strip() == first_cell)
    return float(row[total]), float(sum(c for c in row[old:total] if c != ""))  # 1990–98: DOM 95+ blank


def figure(engine, territory: str, year: int, breakdowns: tuple[str, ...] | None = None) -> tuple[float, set]:
    with engine.connect() as conn:
        if breakdowns is None:
            rows = conn.execute(text(
                "SELECT value, status FROM observations WHERE indicator_id = 'population' AND territory_id = :t "
                "AND period = :p AND breakdown IS NULL"), {"t": territory, "p": year}).all()
        else:
            rows = conn.execute(text(
                "SELECT value, status FROM observations WHERE indicator_id = 'population' AND territory_id = :t "
                f"AND period = :p AND breakdown IN ({', '.join(f':b{n}' for n in range(len(breakdowns)))})"),
                {"t": territory, "p": year, **{f"b{n}": b for n, b in enumerate(breakdowns)}}).all()
    return sum(r.value for r in rows), {r.status for r in rows}


def test_gironde_and_france_2022_match_the_raw_workbook_and_insees_figures(loaded):
    engine, _summary = loaded
    gironde, gironde_old = raw_figures(2022, "33")
    france, france_old = raw_figures(2022, "France métropolitaine et DOM")
    assert figure(engine, "DEP-33", 2022) == (gironde, {"provisional"})
    assert figure(engine, "DEP-33", 2022, OLD)[0] == gironde_old
    assert figure(engine, "FR", 2022)[0] == france  # the nation: the sum of the départements the store holds
    assert figure(engine, "FR", 2022, OLD)[0] == france_old
    # Insee's published figures (vintage of 19 January 2022)
    assert (gironde, gironde_old, france, france_old) == (1_681_330, 155_919, 67_813_396, 6_650_289)


@pytest.mark.parametrize("year", [1975, 1990, 1995, 1999, 2014, 2019, 2022])
def test_every_years_national_total_is_the_sum_of_its_departements(loaded, year):
    """The file's own « France métropolitaine et DOM » row (rejected, recomputed) equals the store's nation; in
    1990–98 the DOM sit in a second table with a « 90 ans et plus » top band, and they count too (before 1990 the
    file has the metropolitan départements only)."""
    engine, _summary = loaded
    published, _old = raw_figures(year, "France métropolitaine et DOM" if year >= 1990 else "France métropolitaine")
    assert figure(engine, "FR", year)[0] == published


def test_provisional_years_and_no_empty_cell_stored_as_zero(loaded):
    engine, summary = loaded
    with engine.connect() as conn:
        statuses = dict(conn.execute(text(
            "SELECT period, MIN(status) || '/' || MAX(status) FROM observations WHERE indicator_id = 'population' "
            "AND territory_id = 'DEP-33' GROUP BY period")).all())
        zeros = conn.execute(text("SELECT COUNT(*) FROM observations WHERE indicator_id = 'population' "
                                  "AND value = 0")).scalar()
        dom_95 = conn.execute(text("SELECT COUNT(*) FROM observations WHERE indicator_id = 'population' "
                                   "AND territory_id = 'DEP-971' AND period = 1995 AND breakdown = 'age:95+'")).scalar()
        dom_90 = conn.execute(text("SELECT value FROM observations WHERE indicator_id = 'population' "
                                   "AND territory_id = 'DEP-971' AND period = 1995 AND breakdown = 'age:90+'")).scalar()
        periods = json.loads(conn.execute(text("SELECT periods FROM etl_load WHERE load_id = :l"),
                                          {"l": summary.load_id}).scalar())
    assert {y: statuses[y] for y in (2019, 2020, 2021, 2022)} == {
        2019: "ok/ok", 2020: "provisional/provisional", 2021: "provisional/provisional",
        2022: "provisional/provisional"}
    assert periods == list(range(1975, 2023))
    assert zeros == 0
    assert dom_95 == 0  # not published for Guadeloupe in 1995: absent, never 0
    assert dom_90 == next(r for r in raw_rows(1995) if r[0] == 971.0)[20]  # its « 90 ans et plus » as published


def test_every_row_is_loaded_or_rejected_with_its_reason(loaded):
    engine, summary = loaded
    with engine.connect() as conn:
        reasons = conn.execute(text("SELECT value, reason FROM etl_rejection WHERE load_id = :l"),
                               {"l": summary.load_id}).all()
    assert summary.rows_loaded + summary.rows_rejected == summary.rows_read
    # 96 metropolitan départements from 1975, the four DOM from 1990, Mayotte from 2014
    assert summary.rows_loaded == 15 * 96 + 24 * 100 + 9 * 101
    assert {r.reason for r in reasons} == {
        "sub-total row: the observatory recomputes totals from the départements"}
    assert {r.value.upper() for r in reasons} <= {"FRANCE MÉTROPOLITAINE", "DOM", "FRANCE MÉTROPOLITAINE ET DOM"}


def small_workbook(path, rows: list[list]) -> None:
    """A workbook in Insee's layout (a plain XLSX, not Strict OOXML): an « À savoir » sheet, then one year."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "À savoir"
    sheet = book.create_sheet("2022")
    sheet.append(["Estimation de population au 1er janvier, par département, sexe et âge quinquennal"])
    sheet.append(["Année 2022"])
    sheet.append([])
    for row in rows:
        sheet.append(row)
    book.save(path)


HEADER = [["Départements", "", "Ensemble", "", ""], ["", "", "0 à 4 ans", "95 ans ou plus", "Total"]]


def test_a_bad_cell_rejects_its_row_with_sheet_row_and_column_and_nothing_is_stored_as_zero(reference_db, tmp_path):
    """A text and an overflowing number in band cells reject their rows (named: sheet, row, column), never a
    traceback nor a 0; the other row loads; the file is recognised without being named."""
    path = tmp_path / "population.xlsx"
    small_workbook(path, [*HEADER, ["33", "Gironde", 85048, 5847, 1681330], ["01", "Ain", "beaucoup", 1958, 1],
                          [2, "Aisne", "1e400", 1707, 2], ["Source : Insee (résultats provisoires)"]])
    shutil.copy(reference_db, tmp_path / "store.sqlite")
    engine = get_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    summary = load_file(engine, path)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT territory_id, breakdown, value, status FROM observations "
                                   "WHERE is_derived = 0 ORDER BY breakdown")).all()
        rejected = conn.execute(text("SELECT row_number, column_name, value FROM etl_rejection "
                                     "ORDER BY row_number")).all()
    engine.dispose()
    assert summary.adapter == "insee_population" and (summary.rows_read, summary.rows_loaded) == (3, 1)
    assert stored == [("DEP-33", None, 1681330.0, "provisional"), ("DEP-33", "age:0-4", 85048.0, "provisional"),
                      ("DEP-33", "age:95+", 5847.0, "provisional")]
    assert [(r.row_number, r.column_name, r.value) for r in rejected] == [
        (7, "2022 › Ensemble › 0 à 4 ans", "beaucoup"), (8, "2022 › Ensemble › 0 à 4 ans", "1e400")]


def test_a_sheet_without_its_header_is_refused_in_one_line(reference_db, tmp_path):
    from etl.errors import LoadError

    path = tmp_path / "population.xlsx"
    small_workbook(path, [["Départements", "", "Ensemble"], ["", "", "0 à 4 ans", "de 5 à 9"], ["33", "Gironde", 1, 2]])
    shutil.copy(reference_db, tmp_path / "store.sqlite")
    engine = get_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    with pytest.raises(LoadError) as refused:
        load_file(engine, path, "insee_population")
    engine.dispose()
    message = str(refused.value)
    assert "population.xlsx" in message and "2022" in message and "row 5" in message and "de 5 à 9" in message
