"""BMO: every published row counts once, in its département or, without one, in the nation (issue 17).

Each bundled workbook is read here with python-calamine, without any code of the adapter: its rows, less the
exact repeats (same métier, bassin code and name, département **and** figures), are summed. The store
`python -m etl build` makes must hold the same non-secret total and the same number of secret cells at bassin
level, the same total in every département the file names, and that same sum for the nation: the roll-up counts
every row once, the rows of a code outside the INSEE départements (2019: 977, 978, 99) included.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import text

from tests.test_bmo_series import VINTAGES

COUNTS = {"met": "recruitment_projects", "xmet": "recruitment_projects_difficult",
          "smet": "recruitment_projects_seasonal"}


def code(value) -> str:
    """A code as the file means it: 101.0, '0101' and 101 are one bassin; '2A' stays '2A'."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text_ = str(value if value is not None else "").strip()
    return str(int(text_)) if text_.isdigit() else text_.upper()


@dataclass
class Recount:
    rows: int = 0  # data rows of the sheet
    repeats: int = 0  # rows equal to an earlier row in key and figures
    total: dict = field(default_factory=lambda: dict.fromkeys(COUNTS, 0.0))
    secret: dict = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    by_dept: dict = field(default_factory=dict)  # département as the file writes it → met published


def recount(path) -> Recount:
    book = CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python()
        header = [str(h).strip() for h in rows[0]] if rows else []
        if {"met", "xmet", "smet", "Dept"} <= set(header):
            break
    else:
        raise AssertionError(f"no BMO data sheet in {path.name}")
    at = {h: i for i, h in enumerate(header)}
    bassin = next(i for h, i in at.items() if re.fullmatch(r"BE\d\d", h))
    bassin_name = next(i for h, i in at.items() if re.fullmatch(r"NOMBE\d\d", h))
    out, seen = Recount(), set()
    for row in rows[1:]:
        if all(v in (None, "") for v in row):
            continue
        out.rows += 1
        figures = tuple("*" if row[at[c]] == "*" else float(row[at[c]]) for c in COUNTS)
        key = (str(row[at["Code métier BMO"]]).strip(), code(row[bassin]), str(row[bassin_name]).strip(),
               code(row[at["Dept"]]), figures)
        if key in seen:
            out.repeats += 1
            continue
        seen.add(key)
        for column, value in zip(COUNTS, figures):
            if value == "*":
                out.secret[column] += 1
            else:
                out.total[column] += value
        if figures[0] != "*":
            dept = code(row[at["Dept"]]).zfill(2)
            out.by_dept[dept] = out.by_dept.get(dept, 0.0) + figures[0]
    return out


@pytest.fixture(scope="module", params=sorted(VINTAGES), ids=str)
def vintage(request):
    """(year, recount of its workbook): each workbook read once."""
    return request.param, recount(VINTAGES[request.param])


def test_bassin_totals_and_secret_cells_equal_a_recount_without_exact_repeats(built_store, vintage):
    year, raw = vintage
    with built_store.connect() as conn:
        for column, indicator in COUNTS.items():
            total, secret, rows = conn.execute(text("""
                SELECT SUM(CASE WHEN status != 'secret' THEN value END),
                       SUM(CASE WHEN status = 'secret' THEN 1 ELSE 0 END), COUNT(*)
                FROM observations WHERE indicator_id = :i AND territory_level = 'bassin' AND is_derived = 0
                AND period = :p AND source_id = :s"""), {"i": indicator, "p": year, "s": f"ft_bmo_{year}"}).one()
            assert total == pytest.approx(raw.total[column], rel=1e-12), column
            assert secret == raw.secret[column], column
            assert rows == raw.rows - raw.repeats, column
        read, loaded, rejected = conn.execute(text(
            "SELECT rows_read, rows_loaded, rows_rejected FROM etl_load WHERE source_id = :s"),
            {"s": f"ft_bmo_{year}"}).one()
    assert (read, loaded, rejected) == (raw.rows, raw.rows - raw.repeats, raw.repeats)


def test_the_nation_counts_every_row_once(built_store, vintage):
    year, raw = vintage
    with built_store.connect() as conn:
        for column, indicator in COUNTS.items():
            nation = conn.execute(text("""
                SELECT value FROM observations WHERE indicator_id = :i AND territory_id = 'FR'
                AND profession_id = 'ensemble' AND breakdown IS NULL AND period = :p AND source_id = :s"""),
                {"i": indicator, "p": year, "s": f"ft_bmo_{year}"}).scalar()
            assert nation == pytest.approx(raw.total[column], rel=1e-9), column


def test_each_departement_holds_its_rows_and_the_rest_is_non_ventile(built_store, vintage):
    """Mayotte filed under région 04, Redon's Loire-Atlantique part under région 53: placed by their département.
    977, 978, 99 (no INSEE département): in the nation only, under « non ventilé »."""
    year, raw = vintage
    with built_store.connect() as conn:
        departements = set(conn.execute(text("SELECT code FROM territory WHERE level = 'departement'")).scalars())
        stored = {d: v for d, v in conn.execute(text("""
            SELECT t.code, o.value FROM observations o JOIN territory t ON t.territory_id = o.territory_id
            WHERE o.indicator_id = 'recruitment_projects' AND o.territory_level = 'departement'
            AND o.profession_id = 'ensemble' AND o.breakdown IS NULL AND o.period = :p AND o.source_id = :s"""),
            {"p": year, "s": f"ft_bmo_{year}"}) if v is not None}
        outside = dict(conn.execute(text("""
            SELECT t.territory_id, SUM(o.value) FROM observations o JOIN territory t ON t.territory_id = o.territory_id
            WHERE o.indicator_id = 'recruitment_projects' AND t.level = 'bassin' AND t.parent_id = 'FR'
            AND o.is_derived = 0 AND o.status != 'secret' AND o.period = :p AND o.source_id = :s
            GROUP BY t.territory_id"""), {"p": year, "s": f"ft_bmo_{year}"}).all())
        regions = conn.execute(text("""
            SELECT SUM(value) FROM observations WHERE indicator_id = 'recruitment_projects'
            AND territory_level = 'region' AND profession_id = 'ensemble' AND breakdown IS NULL
            AND period = :p AND source_id = :s"""), {"p": year, "s": f"ft_bmo_{year}"}).scalar()
    in_reference = {d: v for d, v in raw.by_dept.items() if d in departements}
    assert stored == pytest.approx(in_reference, rel=1e-9)
    not_in_reference = {f"BE-0000-{d}": v for d, v in raw.by_dept.items() if d not in departements}
    assert outside == pytest.approx(not_in_reference, rel=1e-9)
    assert regions + sum(outside.values()) == pytest.approx(raw.total["met"], rel=1e-9)
    if year == 2019:  # the rows the issue names: Mayotte, and 977, 978, 99
        assert stored["976"] > 0 and set(outside) == {"BE-0000-977", "BE-0000-978", "BE-0000-99"}
