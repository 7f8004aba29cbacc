"""Loads that would lose data are refused: a file with no loadable row, a file that would replace a vintage by
less than half of its published rows (unless `--replace`). Real files, real `python -m etl` processes."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from python_calamine import CalamineWorkbook

from observatory.store import get_engine
from tests.conftest import BMO_2023, ROOT, snapshot


def etl(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "etl", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)


def one_error_line(out: subprocess.CompletedProcess) -> str:
    assert out.returncode == 2, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, out.stderr
    return lines[0]


@pytest.fixture
def built_copy(built_store, tmp_path):
    path = tmp_path / "observatory.sqlite"
    shutil.copy(built_store.url.database, path)
    engine = get_engine(f"sqlite:///{path}")
    yield engine, {**os.environ, "OBSERVATORY_DB": f"sqlite:///{path}"}
    engine.dispose()


def test_a_file_whose_rows_are_all_rejected_is_refused(built_copy, tmp_path):
    engine, env = built_copy
    lines = (ROOT / "data/real/dares/evol_mmo.csv").read_bytes().splitlines()
    bad = [lines[0]] + [b"ZZZ" + line[3:] for line in lines[1:40]]  # no such FAP code
    path = tmp_path / "evol_mmo.csv"
    path.write_bytes(b"\n".join(bad) + b"\n")
    before = snapshot(engine)
    line = one_error_line(etl(env, "load", str(path), "--source", "dares_mmo"))
    assert "evol_mmo.csv" in line and "no loadable row" in line and "39 read" in line
    assert snapshot(engine) == before


def truncated_bmo(target, rows: int):
    """The real BMO 2023 workbook cut to its first `rows` data rows (a truncated download, say)."""
    from openpyxl import Workbook

    book = CalamineWorkbook.from_path(str(BMO_2023))
    name = next(s for s in book.sheet_names if "open_data" in s)
    data = book.get_sheet_by_name(name).to_python()
    out = Workbook(write_only=True)
    sheet = out.create_sheet(name)
    for row in data[:rows + 1]:
        sheet.append(row)
    out.save(target)
    return target


def test_a_300_row_file_cannot_silently_replace_a_vintage(built_copy, tmp_path):
    engine, env = built_copy
    small = truncated_bmo(tmp_path / "Base_open_data_BMO_2023.xlsx", 300)
    before = snapshot(engine)
    line = one_error_line(etl(env, "load", str(small)))
    assert "Base_open_data_BMO_2023.xlsx" in line and "fewer than half" in line and "--replace" in line
    assert snapshot(engine) == before

    forced = etl(env, "load", str(small), "--replace")  # the operator means it
    assert forced.returncode == 0, forced.stderr[-2000:]
    with engine.connect() as conn:
        published = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM observations WHERE source_id = 'ft_bmo_2023' AND is_derived = 0").scalar()
    assert 0 < published < before["observation"] / 10
