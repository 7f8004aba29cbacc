"""Bad input: a clear, specific error and an unchanged store, or a row rejected with its reason."""
from __future__ import annotations

import shutil

import openpyxl
import pytest
from sqlalchemy import text

from etl import loader
from etl.errors import LoadError
from etl.loader import load_file
from tests.conftest import BMO_2023, EVOL_MMO, snapshot

HEADER = ["annee", "Code métier BMO", "Nom métier BMO", "Famille_met", "Lbl_fam_met", "BE23", "NOMBE23", "Dept",
          "NomDept", "REG", "NOM_REG", "met", "xmet", "smet"]
ROW = [2023, "V4Z83", "Educateurs spécialisés", "S", "Fonctions sociales", 1101, "PARIS", "75", "Paris", "11",
       "Île-de-France", "120", "80", "*"]


def workbook(path, rows, *, header=HEADER, sheet="BMO_2023_open_data"):
    book = openpyxl.Workbook()
    book.active.title = "Description des variables"
    data = book.create_sheet(sheet)
    data.append(header)
    for row in rows:
        data.append(row)
    book.save(path)
    return path


def rejections(engine, load_id):
    with engine.connect() as conn:
        return conn.execute(text("SELECT row_number, column_name, value, reason FROM etl_rejection "
                                 "WHERE load_id = :l ORDER BY row_number"), {"l": load_id}).all()


def test_truncated_workbook_is_refused_and_nothing_written(store, tmp_path):
    before = snapshot(store)
    broken = tmp_path / "Base_open_data_BMO_2023.xlsx"
    broken.write_bytes(BMO_2023.read_bytes()[: BMO_2023.stat().st_size // 2])
    with pytest.raises(LoadError, match="not a readable XLSX workbook"):
        load_file(store, broken, "bmo")
    assert snapshot(store) == before


def test_a_workbook_without_bmo_columns_names_the_sheets_found(store, tmp_path):
    """The data sheet is found by its columns, whatever its name; a workbook with none is refused."""
    before = snapshot(store)
    path = workbook(tmp_path / "bmo.xlsx", [["a", "b"]], header=["Nom", "Prénom"], sheet="Feuil1")
    with pytest.raises(LoadError, match=r"Feuil1"):
        load_file(store, path, "bmo")
    assert snapshot(store) == before


def test_missing_column_names_it(store, tmp_path):
    before = snapshot(store)
    header = [h for h in HEADER if h != "xmet"]
    row = [v for h, v in zip(HEADER, ROW) if h != "xmet"]
    path = workbook(tmp_path / "bmo.xlsx", [row], header=header)
    with pytest.raises(LoadError) as error:
        load_file(store, path, "bmo")
    assert "missing required column 'xmet'" in str(error.value)
    assert "sheet 'BMO_2023_open_data'" in str(error.value) and "row 1" in str(error.value)
    assert snapshot(store) == before


def test_garbage_numbers_duplicates_and_unknown_codes_are_rejected_with_reasons(store, tmp_path):
    garbage = ROW[:11] + ["douze", "1", "0"]
    bad_dept = ROW[:7] + ["X9", "Nulle part"] + ROW[9:]
    wrong_region = ROW[:5] + [1102, "PARIS 2"] + ROW[7:9] + ["84"] + ROW[10:]  # kept under its département,
    # with a note (not a rejection)
    other = [2023, "A0Z40", "Agriculteurs salariés", "Z", "Autres"] + ROW[5:]
    path = workbook(tmp_path / "bmo.xlsx", [ROW, garbage, ROW, bad_dept, wrong_region, other])
    summary = load_file(store, path, "bmo")
    assert (summary.rows_read, summary.rows_loaded, summary.rows_rejected) == (6, 3, 3)
    got = rejections(store, summary.load_id)
    assert got[0][:3] == (3, "met", "douze") and "expected a non-negative count" in got[0][3]
    assert got[1][:3] == (4, "Code métier BMO", "V4Z83") and got[1][3].startswith("exact repeat of row 2")
    assert got[2][:3] == (5, "Dept", "X9") and "expected a département code" in got[2][3]
    assert got[3][:3] == (6, "REG", "84") and got[3][3].startswith("note: ") and "département 75" in got[3][3]
    with store.connect() as conn:
        label = conn.execute(text("SELECT label FROM profession WHERE profession_id = 'fap2009_A0Z40'")).scalar()
    assert label == "Agriculteurs salariés"  # a métier outside social work is defined by the file


def test_unknown_fap_code_is_rejected_not_guessed(store, tmp_path):
    path = tmp_path / "evol_mmo.csv"
    path.write_text("Fap3;Type_mmo;Annee;Taux;;;\nV4Z;Taux de rotation;2014;71.65;;;\n"
                    "Q9Q;Taux de rotation;2014;50;;;\n", encoding="latin-1")
    summary = load_file(store, path)
    assert summary.adapter == "dares_mmo"
    assert rejections(store, summary.load_id) == [(3, "Fap3", "Q9Q", "FAP code not in the FAP reference")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1", "cp1252"])
def test_encodings_are_detected(store, tmp_path, encoding):
    path = tmp_path / "evol_mmo.csv"
    path.write_text("Fap3;Type_mmo;Annee;Taux;;;\nV4Z;Taux d'entrée;2014;1 234,5;;;\n", encoding=encoding)
    load_file(store, path, "dares_mmo")
    with store.connect() as conn:
        assert conn.execute(text("SELECT value FROM observations WHERE indicator_id = 'entry_rate_all_contracts'")
                            ).scalar() == 1234.5


def test_wrong_encoding_is_refused(store, tmp_path):
    before = snapshot(store)
    path = tmp_path / "evol_mmo.csv"
    path.write_text("Fap3;Type_mmo;Annee;Taux\nV4Z;Taux d'entrée;2014;12\n", encoding="utf-16")
    with pytest.raises(LoadError, match="UTF-16 or binary"):
        load_file(store, path, "dares_mmo")
    assert snapshot(store) == before


def test_fault_mid_load_leaves_the_store_exactly_as_before(store, monkeypatch):
    load_file(store, EVOL_MMO)
    before = snapshot(store)
    real_insert = loader.insert_observations
    calls = []

    def insert_then_fail(*args, **kwargs):
        calls.append(real_insert(*args, **kwargs))  # the published rows really are written…
        raise OSError("disk full (injected)")          # …then the load dies mid-way

    monkeypatch.setattr(loader, "insert_observations", insert_then_fail)
    with pytest.raises(OSError, match="injected"):
        load_file(store, BMO_2023)
    assert calls and calls[0] > 100_000
    assert snapshot(store) == before


def test_reloading_replaces_and_never_duplicates(store, tmp_path):
    copy = tmp_path / "again.csv"
    shutil.copy(EVOL_MMO, copy)
    load_file(store, EVOL_MMO)
    first = snapshot(store)
    summary = load_file(store, copy)
    second = snapshot(store)
    assert summary.replaced_loads
    assert {k: v for k, v in second.items() if k != "max(load_id)"} == \
           {k: v for k, v in first.items() if k != "max(load_id)"}


def test_a_2025_vintage_with_reordered_columns_lands_on_the_same_professions(store, tmp_path):
    header = ["annee", "Code métier BMO", "Nom métier BMO", "Famille_met", "Lbl_fam_met", "Dept", "NomDept",
              "REG", "NOM_REG", "BE25", "NOMBE25", "smet", "xmet", "met"]
    rows = [[2025, "V4X83", "Éducateurs spécialisés et autres intervenants socio-éducatifs", "S", "Social", "75",
             "Paris", "11", "Île-de-France", 1101, "PARIS", "2", "40", "60"],
            [2025, "T2A60", "Aides à domicile et auxiliaires de vie", "S", "Social", "971", "Guadeloupe", "1",
             "Guadeloupe", 101, "BASSE-TERRE", "*", "*", "*"],
            [2025, "XYZ99", "Un métier nouveau au code hors FAP", "Z", "Autres", "75", "Paris", "11",
             "Île-de-France", 1101, "PARIS", "0", "1", "3"]]
    summary = load_file(store, workbook(tmp_path / "Base_open_data_BMO_2025.xlsx", rows, header=header,
                                        sheet="BMO_2025_open_data"))
    assert (summary.rows_loaded, summary.source_id, summary.periods) == (3, "ft_bmo_2025", [2025])
    with store.connect() as conn:
        got = dict(conn.execute(text(
            "SELECT profession_id || ' ' || territory_id, status FROM observations WHERE is_derived = 0 "
            "AND indicator_id = 'recruitment_projects'")).all())
    assert got == {"educateur_specialise BE-1101-75": "ok", "aide_a_domicile BE-0101-971": "secret",
                   "fap2021_XYZ99 BE-1101-75": "ok"}


def test_narrow_no_break_spaces_and_decimal_commas(store, tmp_path):
    path = tmp_path / "evol_mmo.csv"
    path.write_text("Fap3;Type_mmo;Annee;Taux\nV4Z;Taux de sortie;2014;1\u202f234,5\nT2A;Taux de sortie;2014;"
                    "2\u00a0000\n", encoding="utf-8")
    load_file(store, path, "dares_mmo")
    with store.connect() as conn:
        values = sorted(conn.execute(text(
            "SELECT value FROM observations WHERE indicator_id = 'exit_rate_all_contracts'")).scalars())
    assert values == [1234.5, 2000.0]
