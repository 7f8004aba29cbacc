"""Issue 20: DREES « aide sociale » (APA, PCH, ASE by département) and the départements' social staff (staff, FTE,
foster carers), loaded through their adapters and recounted from the raw workbooks (read here by openpyxl,
independently of the adapters' calamine), with 'ND' never stored as 0 and Rhône = 69D + 69M."""
from __future__ import annotations

import shutil

import openpyxl
import pytest
from sqlalchemy import text

from etl.errors import LoadError
from etl.loader import load_file
from observatory.store import get_engine
from tests.conftest import ROOT

AIDE = ROOT / "data/real/drees/Les bénéficiaires de l'aide sociale départementale - séries longues (1996-2020).xlsx"
STAFF = ROOT / "data/real/drees/Le personnel départemental de l'action sociale et médico-sociale de 2014 à 2020.xlsx"
SHEETS = {"apa_recipients": (AIDE, "Tab4-pa"), "apa_recipients_home": (AIDE, "Tab5-pa"),
          "apa_recipients_establishment": (AIDE, "Tab6-pa"), "pch_recipients": (AIDE, "Tab7-ph"),
          "ase_children": (AIDE, "Tab1-ase"), "dept_social_staff": (STAFF, "eff - pers social et educatif"),
          "dept_social_staff_fte": (STAFF, "etp - pers social et educatif"),
          "foster_carers": (STAFF, "eff - pers ass fam")}


@pytest.fixture(scope="module")
def loaded(reference_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("drees")
    shutil.copy(reference_db, folder / "store.sqlite")
    engine = get_engine(f"sqlite:///{folder / 'store.sqlite'}")
    summaries = [load_file(engine, AIDE), load_file(engine, STAFF)]
    yield engine, summaries
    engine.dispose()


_RAW: dict = {}


def raw(indicator_id: str) -> dict[str, dict[int, object]]:
    """code → year → cell as the workbook caches it (the département table of the indicator's sheet)."""
    if indicator_id not in _RAW:
        path, sheet = SHEETS[indicator_id]
        rows = list(openpyxl.load_workbook(path, read_only=True, data_only=True)[sheet].iter_rows(values_only=True))
        at = next(i for i, r in enumerate(rows) if any(str(c).replace("\n", " ").startswith(("Code d", "Code\nd",
                                                                                             "Numéro de d"))
                                                         for c in r if c))
        code_col = next(j for j, c in enumerate(rows[at]) if c and ("partement" in str(c)) and "Code" in str(c)
                        or str(c).startswith("Numéro"))
        years = {j: int(str(c)) for j, c in enumerate(rows[at]) if c and str(c).strip().isdigit()}
        table = {}
        for r in rows[at + 1:]:
            if r[code_col] is None or str(r[code_col]).upper().startswith("TOTAL"):
                break
            code = str(r[code_col]).strip()
            table[code.zfill(2) if code.isdigit() else code] = {y: r[j] for j, y in years.items()}
        _RAW[indicator_id] = table
    return _RAW[indicator_id]


def stored(engine, indicator_id: str, territory: str, year: int, breakdown: str | None = None):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT value, status, is_derived FROM observations WHERE indicator_id = :i AND territory_id = :t "
            "AND period = :p AND coalesce(breakdown, '') = :b"),
            {"i": indicator_id, "t": territory, "p": year, "b": breakdown or ""}).one_or_none()


@pytest.mark.parametrize("indicator_id, year, published", [
    ("apa_recipients", 2019, 35_304), ("apa_recipients", 2020, 34_998), ("ase_children", 2020, 5_375),
    ("pch_recipients", 2020, 9_706)])
def test_gironde_recounted_from_the_raw_workbook(loaded, indicator_id, year, published):
    engine, _ = loaded
    row = stored(engine, indicator_id, "DEP-33", year)
    assert row.value == float(raw(indicator_id)["33"][year]) == published
    assert row.status == "ok" and row.is_derived == 0


@pytest.mark.parametrize("indicator_id", ["dept_social_staff", "dept_social_staff_fte", "foster_carers"])
def test_gironde_staff_2016_2020_recounted(loaded, indicator_id):
    engine, _ = loaded
    for year in range(2016, 2021):
        assert stored(engine, indicator_id, "DEP-33", year).value == pytest.approx(float(raw(indicator_id)["33"][year]))
    assert [stored(engine, "foster_carers", "DEP-33", y).value for y in (2016, 2020)] == [901, 727]
    assert stored(engine, "dept_social_staff", "DEP-33", 2020).value == 603
    assert stored(engine, "dept_social_staff_fte", "DEP-33", 2020).value == pytest.approx(557.8)


@pytest.mark.parametrize("indicator_id", list(SHEETS))
def test_rhone_is_69d_plus_69m_from_2016(loaded, indicator_id):
    engine, _ = loaded
    for year in range(2016, 2021):
        whole = stored(engine, indicator_id, "DEP-69", year)
        parts = [stored(engine, indicator_id, "DEP-69", year, f"perimetre:{p}") for p in ("69D", "69M")]
        assert whole.value == pytest.approx(sum(p.value for p in parts)), (indicator_id, year)
        assert [p.value for p in parts] == pytest.approx([float(raw(indicator_id)[c][year]) for c in ("69D", "69M")])
        # the parts never count twice in the région
        region = stored(engine, indicator_id, "REG-84", year)
        if region is not None and region.status != "partial":
            deps = [stored(engine, indicator_id, f"DEP-{c}", year) for c in ("01", "03", "07", "15", "26", "38",
                                                                           "42", "43", "63", "69", "73", "74")]
            assert region.value == pytest.approx(sum(d.value for d in deps))


@pytest.mark.parametrize("indicator_id", list(SHEETS))
def test_nd_is_missing_never_zero(loaded, indicator_id):
    engine, _ = loaded
    nd = [(code, year) for code, years in raw(indicator_id).items() for year, cell in years.items()
          if isinstance(cell, str) and cell.strip().upper() == "ND"]
    table = raw(indicator_id)
    for code, year in nd:
        if code == "20" and any(table.get(c, {}).get(year) not in (None, "-") for c in ("2A", "2B")):
            continue  # Collectivité de Corse, a sub-total of 2A and 2B that year
        territory, breakdown = (("DEP-69", f"perimetre:{code}") if code in ("69D", "69M")
                                else ("REG-94", None) if code == "20" else (f"DEP-{code}", None))
        row = stored(engine, indicator_id, territory, year, breakdown)
        assert row is not None and row.value is None and row.status == "missing", (code, year)
    if indicator_id in ("dept_social_staff", "foster_carers"):
        assert len(nd) > 50  # the file has many: the test looked at them
        with engine.connect() as conn:  # the nation misses them: a lower bound, never a complete figure
            statuses = set(conn.execute(text(
                "SELECT status FROM observations WHERE indicator_id = :i AND territory_id = 'FR' AND period = 2014 "
                "AND breakdown IS NULL"), {"i": indicator_id}).scalars())
        assert statuses == {"partial"}


@pytest.mark.parametrize("indicator_id", ["apa_recipients", "pch_recipients", "ase_children"])
def test_france_is_drees_estimate_and_regions_add_up(loaded, indicator_id):
    engine, _ = loaded
    path, sheet = SHEETS[indicator_id]
    rows = list(openpyxl.load_workbook(path, read_only=True, data_only=True)[sheet].iter_rows(values_only=True))
    total = next(r for r in rows if str(r[0]).startswith("TOTAL estimé France entière"))
    header = next(r for r in rows if r[0] and str(r[0]).startswith("Code"))
    column = [str(c) for c in header].index("2020")
    france = stored(engine, indicator_id, "FR", 2020)
    assert france.value == pytest.approx(float(total[column])) and france.status == "estimated"
    with engine.connect() as conn:
        regions = conn.execute(text(
            "SELECT sum(value) FROM observations WHERE indicator_id = :i AND territory_level = 'region' "
            "AND period = 2020 AND breakdown IS NULL"), {"i": indicator_id}).scalar_one()
    assert regions == pytest.approx(france.value)  # 2020: every département (and Corse as one) reported


def test_every_row_loaded_or_rejected_with_its_reason(loaded):
    engine, (aide, staff) = loaded
    for summary in (aide, staff):
        assert summary.rows_loaded + summary.rows_rejected == summary.rows_read and summary.rows_loaded > 300
        with engine.connect() as conn:
            reasons = set(conn.execute(text("SELECT reason FROM etl_rejection WHERE load_id = :l"),
                                       {"l": summary.load_id}).scalars())
        assert reasons and all("recomputes" in r for r in reasons), reasons


def test_a_formula_row_without_cached_values_is_computed_from_its_parts(reference_db, tmp_path):
    """The « 69 » row written as =SUM(…) formulas, saved without cached values (as openpyxl saves): computed as
    69D + 69M, derived, and said in a note."""
    book = openpyxl.load_workbook(STAFF)
    sheet = book["eff - pers ass fam"]
    row69 = next(r for r in sheet.iter_rows() if str(r[0].value).strip() == "69")
    parts = [next(r for r in sheet.iter_rows() if str(r[0].value).strip() == c)[0].row for c in ("69D", "69M")]
    for cell in row69[4:9]:  # 2016–2020
        cell.value = f"=SUM({cell.column_letter}{parts[0]}:{cell.column_letter}{parts[1]})"
    path = tmp_path / "personnel.xlsx"
    book.save(path)
    shutil.copy(reference_db, tmp_path / "store.sqlite")
    engine = get_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    summary = load_file(engine, path)
    rhone = stored(engine, "foster_carers", "DEP-69", 2020)
    assert rhone.value == 142 + 246 and rhone.is_derived == 1 and rhone.status == "ok"
    with engine.connect() as conn:
        notes = list(conn.execute(text(
            "SELECT reason FROM etl_rejection WHERE load_id = :l AND reason LIKE 'note:%' "
            "AND column_name LIKE 'eff - pers ass fam%'"), {"l": summary.load_id}).scalars())
    assert sum("69 = 69D + 69M" in n for n in notes) == 5
    engine.dispose()


def test_a_workbook_without_the_measures_is_refused_in_one_line(tmp_path):
    from etl.adapters import drees_aide_sociale

    book = openpyxl.Workbook()
    book.active.title = "Tab1-pa"
    book.active["A1"] = "Tableau 1 - Aides sociales aux personnes âgées depuis 2000"
    path = tmp_path / "aide.xlsx"
    book.save(path)
    with pytest.raises(LoadError) as caught:
        drees_aide_sociale.parse(path, None)
    assert "aide.xlsx" in str(caught.value) and "APA" in str(caught.value)
