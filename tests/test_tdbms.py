"""TDBMS adapter: exact formulas on hand-computed cases, old and new layouts, own figures and unload."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from etl.errors import LoadError
from etl.illustrative import TDBMS_HEADER
from etl.loader import load_file, unload
from tests.conftest import ROOT, snapshot

# Two EHPAD in Ain (01), one with a zero opening headcount; absence columns: six reasons.
ROWS = [
    # year, finess (leading zero lost), name, category, dep, recruitments, departures, persons N-1, ETP réels,
    # six absence reasons, ETP budgétés, ETP réalisés
    ["2023", "10000001", "EHPAD A", "500", "1", "10", "14", "40", "36,5",
     "100", "50", "40", "0", "10", "10", "40,0", "38,0"],
    ["2023", "10000002", "EHPAD B", "500", "01", "3", "1", "0", "10,0",
     "20", "0", "0", "0", "0", "0", "10,0", "10,5"],
]


def tdbms_file(path, rows=ROWS, header=TDBMS_HEADER, encoding="latin-1"):
    lines = [";".join(header)] + [";".join(r) for r in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def figure(engine, finess, indicator):
    with engine.connect() as conn:
        return conn.execute(text("SELECT value, numerator, denominator, status FROM establishment_observation "
                                 "WHERE finess = :f AND indicator_id = :i"), {"f": finess, "i": indicator}).one()


def aggregate(engine, indicator, territory="FR", breakdown=None):
    with engine.connect() as conn:
        return conn.execute(text("""SELECT value, numerator, denominator, status FROM observations
            WHERE indicator_id = :i AND territory_id = :t AND COALESCE(breakdown, '') = :b"""),
            {"i": indicator, "t": territory, "b": breakdown or ""}).one()


def test_latin1_decimal_commas_and_8_digit_finess(store, tmp_path):
    summary = load_file(store, tdbms_file(tmp_path / "ANN_MS_TDP_ET_2023.CSV"), scope="published")
    assert summary.adapter == "tdbms" and summary.rows_loaded == 2
    assert figure(store, "010000001", "entry_rate") == pytest.approx((25.0, 10, 40, "ok"))
    assert figure(store, "010000001", "exit_rate") == pytest.approx((35.0, 14, 40, "ok"))
    assert figure(store, "010000001", "turnover_rate") == pytest.approx((30.0, 12, 40, "ok"))  # (10+14)/2/40
    assert figure(store, "010000001", "absenteeism_rate")[:3] == pytest.approx((100 * 210 / (36.5 * 365), 210,
                                                                                36.5 * 365))
    assert figure(store, "010000001", "vacancy_rate")[:3] == pytest.approx((5.0, 2.0, 40.0))


def test_zero_headcount_is_undefined_without_division_error(store, tmp_path):
    # three more copies of EHPAD A: 5 establishments, so that their totals are published (secrecy.py)
    copies = [[r[0], f"1000000{i}", *r[2:]] for i, r in zip((3, 4, 5), [ROWS[0]] * 3)]
    load_file(store, tdbms_file(tmp_path / "x.csv", ROWS + copies), scope="published")
    value, num, den, status = figure(store, "010000002", "turnover_rate")
    assert value is None and status == "undefined" and (num, den) == (2.0, 0.0)
    # over-staffed (réalisés > budgétés): no negative vacancy
    assert figure(store, "010000002", "vacancy_rate")[:2] == (0.0, 0.0)
    # the aggregate is a ratio of sums, the zero-headcount establishment adding (3+1)/2 to the numerator
    assert aggregate(store, "turnover_rate") == pytest.approx((100 * 50 / 160, 50, 160, "ok"))
    assert aggregate(store, "turnover_rate", "DEP-01", "esms:500")[:3] == pytest.approx((100 * 50 / 160, 50, 160))


def test_a_total_of_fewer_than_5_establishments_is_secret_in_the_store(store, tmp_path):
    """Two establishments: every total they make (département, région, France; the category and all) is secret,
    with neither value nor parts, for every rate."""
    load_file(store, tdbms_file(tmp_path / "x.csv"), scope="published")
    with store.connect() as conn:
        rows = conn.execute(text("SELECT value, numerator, denominator, status FROM observations "
                                 "WHERE source_id = 'tdbms_extract'")).all()
    assert len(rows) == 5 * 3 * 2 and set(rows) == {(None, None, None, "secret")}


def test_utf8_layout_with_points_loads_the_same(store, tmp_path):
    rows = [[c.replace(",", ".") for c in r] for r in ROWS]
    load_file(store, tdbms_file(tmp_path / "new.csv", rows, encoding="utf-8"), scope="published")
    assert figure(store, "010000001", "turnover_rate")[0] == pytest.approx(30.0)


@pytest.mark.parametrize("change, message", [
    (lambda h, r: ([c for c in h if "départs" not in c], [row[:6] + row[7:] for row in r]),
     "missing required column 'departures'"),
    (lambda h, r: ([c for c in h if "absence" not in c], [row[:9] + row[15:] for row in r]), "no absence-day column"),
])
def test_malformed_layouts_are_refused_and_nothing_written(store, tmp_path, change, message):
    before = snapshot(store)
    header, rows = change(TDBMS_HEADER, ROWS)
    with pytest.raises(LoadError, match=message):
        load_file(store, tdbms_file(tmp_path / "bad.csv", rows, header), "tdbms")
    assert snapshot(store) == before


def test_bad_rows_are_rejected_with_reasons(store, tmp_path):
    bad = [ROWS[0][:3] + ["999"] + ROWS[0][4:], ["2023", "12AB", "X"] + ROWS[0][3:], ROWS[0]]
    summary = load_file(store, tdbms_file(tmp_path / "bad.csv", bad), scope="published")
    with store.connect() as conn:
        reasons = conn.execute(text("SELECT row_number, reason FROM etl_rejection WHERE load_id = :l ORDER BY 1"),
                               {"l": summary.load_id}).all()
    assert reasons[0] == (2, "ESMS category not among the 20 TDBMS categories")
    assert reasons[1][0] == 3 and "FINESS" in reasons[1][1]
    assert summary.rows_loaded == 1


def test_own_figures_are_private_and_unload_restores_the_store(built_store, tmp_path):
    """A TDBMS file loaded by hand is private by default: its own tables only (tests/test_private.py has more)."""
    import shutil

    from observatory.store import get_engine

    path = tmp_path / "copy.sqlite"
    shutil.copy(built_store.url.database, path)
    engine = get_engine(f"sqlite:///{path}")
    before = snapshot(engine)
    summary = load_file(engine, ROOT / "data/templates/exemple_mon_etablissement.xlsx", "tdbms")
    assert summary.private_token and summary.published == summary.derived == 0
    after = snapshot(engine)
    changed = {table for table in before if after[table] != before[table]}
    assert changed == {"private_upload", "private_figure", "etl_load", "max(load_id)"}
    assert after["private_figure"] == 15  # 3 establishments × 5 rates, none in published tables
    unload(engine, summary.load_id)
    assert snapshot(engine) == before


def test_blank_lines_are_not_rows_and_rejections_name_the_file_line(tmp_path):
    """A blank line (or a `;;;;` line) is neither read nor rejected, and a rejection names the line the user sees
    in the file — in a CSV extract and in the template alike."""
    from openpyxl import Workbook

    from etl.adapters import tdbms
    from etl.reference import Reference
    from observatory.store import get_engine

    source = (ROOT / "data/illustrative/tdbms/ANN_MS_TDP_ET_2023.csv").read_bytes().decode("utf-8-sig").splitlines()
    header, first, second, third = source[:4]
    fields = third.split(";")
    fields[4] = "999"  # no such département
    lines = [header, first, "", second, ";" * header.count(";"), ";".join(fields), ""]
    csv_path = tmp_path / "extrait.csv"
    csv_path.write_text("\n".join(lines), encoding="utf-8")

    book = Workbook()
    sheet = book.active
    sheet.title = "Données"
    for line in lines:
        sheet.append([cell for cell in line.split(";")] if line.strip(";") else [])
    xlsx_path = tmp_path / "modele.xlsx"
    book.save(xlsx_path)

    engine = get_engine(f"sqlite:///{tmp_path / 'ref.sqlite'}")
    from etl.loader import ensure_reference
    from observatory.store import init_store

    init_store(engine)
    with engine.begin() as conn:
        ensure_reference(conn)
        ref = Reference.from_store(conn)
    for path in (csv_path, xlsx_path):
        parsed = tdbms.parse(path, ref)
        assert parsed.rows_read == 3, path.name
        assert parsed.rows_loaded == 2, path.name
        rejected = parsed.rejections
        assert rejected.row_number.tolist() == [6], (path.name, rejected)
        assert rejected.column_name.tolist() == ["Département"]
    engine.dispose()
