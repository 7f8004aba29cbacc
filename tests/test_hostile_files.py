"""Hostile files, crafted from the real bundled ones, against `python -m etl load` as a user runs it: each is
refused with exit 2 and exactly one `error:` line naming the file, the sheet and the limit, quickly and in
bounded memory, and the store is left exactly as it was. Non-finite numbers (`inf`, `NaN`, `1e309`) are
rejected rows with their reason, never values.

Each subprocess is timed on the wall clock and its peak RSS read from `wait4`: before the bounds, the 6 KB
workbook with a cell at XFD1048576 aborted the process (exit 134) after asking for 512 GiB."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import Float, text

from etl import limits
from etl.loader import load_file
from observatory.schema import metadata
from observatory.store import get_engine
from tests.conftest import BMO_2023, EVOL_MMO, ROOT, snapshot

DREES = ROOT / "data/illustrative/drees_ecoles/formations_sociales_2017_2024.xlsx"
TEMPLATE = ROOT / "data/templates/exemple_mon_etablissement.xlsx"
MAX_SECONDS = 20
MAX_RSS_MB = 1024


# --- Crafting: the real files, one member rewritten --------------------------------------------------------

def rewrite(source: Path, target: Path, member: str, change) -> Path:
    """A copy of the workbook `source` whose `member` is `change(bytes)` (or written by `change(stream)` when
    `change` is a generator function of chunks, for members too large to hold in memory)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename != member:
                new.writestr(info.filename, data)
                continue
            changed = change(data)
            if isinstance(changed, bytes):
                new.writestr(info.filename, changed)
            else:  # chunks, streamed into the member
                member = zipfile.ZipInfo(info.filename)
                member.compress_type = zipfile.ZIP_DEFLATED
                with new.open(member, "w", force_zip64=True) as stream:
                    for chunk in changed:
                        stream.write(chunk)
    return target


def sheet_member(workbook: Path, sheet: str) -> str:
    """The worksheet member of `sheet` (through the workbook's relationships)."""
    with zipfile.ZipFile(workbook) as archive:
        book = archive.read("xl/workbook.xml").decode()
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="([^"]+)"', book)
    rid = rid or re.search(rf'<sheet [^>]*r:id="([^"]+)"[^>]*name="{re.escape(sheet)}"', book)
    target = re.search(rf'<Relationship [^>]*Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels)
    target = target or re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels)
    return "xl/" + target.group(1).lstrip("/").removeprefix("xl/")


def add_cell(data: bytes, cell: bytes) -> bytes:
    """`cell` appended to the first row of the sheet's data."""
    end = data.index(b"</row>")
    return data[:end] + cell + data[end:]


# --- Running the CLI ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seeded(reference_db, tmp_path_factory) -> Path:
    """A store holding the reference and the DARES turnover file: something to leave unchanged."""
    path = tmp_path_factory.mktemp("hostile") / "seeded.sqlite"
    shutil.copy(reference_db, path)
    engine = get_engine(f"sqlite:///{path}")
    load_file(engine, EVOL_MMO)
    engine.dispose()
    return path


@pytest.fixture
def store_file(seeded, tmp_path) -> Path:
    path = tmp_path / "store.sqlite"
    shutil.copy(seeded, path)
    return path


# Linux keeps a process's peak RSS across `exec`, and a child forked from this test's worker starts with the
# worker's own peak (a worker that ran the bigger tests first holds about a gigabyte): the command is started by a
# small launcher, itself a fresh process, which forks the command and reports its peak RSS and CPU from `wait4`.
LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_pid, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"status": status, "maxrss": usage.ru_maxrss}, out)
"""


def run_load(store: Path, path: Path, *args: str) -> dict:
    """`python -m etl load PATH` as a user runs it: exit code, stderr lines, wall seconds, peak RSS (MB)."""
    env = {**os.environ, "OBSERVATORY_DB": f"sqlite:///{store}"}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".json") as report:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", LAUNCHER, report.name, sys.executable, "-m", "etl", "load", str(path),
                        *args], cwd=ROOT, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL, check=False)
        seconds = time.perf_counter() - started
        usage = json.loads(Path(report.name).read_text())
        err.seek(0)
        # the progress bar (`load: …`) redraws itself with carriage returns on stderr: not a message
        lines = [line for line in re.split(r"[\r\n]+", err.read().decode(errors="replace"))
                 if line.strip() and not line.startswith("load:")]
    return {"code": os.waitstatus_to_exitcode(usage["status"]), "lines": lines, "seconds": seconds,
            "rss_mb": usage["maxrss"] / 1024}


def non_finite_stored(store: Path) -> int:
    """Rows of every table of figures whose value, numerator or denominator (float columns) is infinite or NaN."""
    engine = get_engine(f"sqlite:///{store}")
    total = 0
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for column in ("value", "numerator", "denominator"):
                if column in table.c and isinstance(table.c[column].type, Float):
                    total += conn.execute(text(
                        f"SELECT COUNT(*) FROM {table.name} WHERE {column} > 1e308 OR {column} < -1e308 "
                        f"OR {column} != {column}")).scalar_one()
    engine.dispose()
    return total


def assert_refused(store: Path, path: Path, *needles: str, args: tuple[str, ...] = ()) -> str:
    """Exit 2, exactly one line (`error: …` naming the file and each needle), quick, bounded, nothing written."""
    engine = get_engine(f"sqlite:///{store}")
    before = snapshot(engine)
    engine.dispose()
    run = run_load(store, path, *args)
    assert run["code"] == 2, run
    assert len(run["lines"]) == 1 and run["lines"][0].startswith("error: "), run["lines"]
    line = run["lines"][0]
    for needle in (path.name, *needles):
        assert needle in line, (needle, line)
    assert run["seconds"] < MAX_SECONDS, run
    assert run["rss_mb"] < MAX_RSS_MB, run
    engine = get_engine(f"sqlite:///{store}")
    assert snapshot(engine) == before
    engine.dispose()
    return line


LIMIT = "limit in etl/limits.py"


# --- Attacks on workbooks -----------------------------------------------------------------------------------

def test_a_cell_at_xfd1048576_is_refused_before_any_allocation(store_file, tmp_path):
    """The 6 KB workbook that aborted the process: the template with one more cell, at the last cell of Excel."""
    hostile = rewrite(TEMPLATE, tmp_path / "mon_etablissement.xlsx", sheet_member(TEMPLATE, "Données"),
                      lambda d: add_cell(d, b'<c r="XFD1048576"><v>1</v></c>'))
    assert hostile.stat().st_size < 10_000
    line = assert_refused(store_file, hostile, "sheet 'Données'", "1,048,576 rows × 16,384 columns", LIMIT,
                          f"{limits.MAX_CELLS:,} cells", args=("--source", "tdbms"))
    assert "spans" in line


@pytest.mark.parametrize("cell", [
    b'<c t="n" r="XFD1048576"><v>1</v></c>',  # r not first
    b'<x:c xmlns:x="urn:any" r="XFD1048576"><x:v>1</x:v></x:c>',  # a namespace prefix: calamine reads it too
    b"<c r='xfd1048576'><v>1</v></c>",  # single quotes, lowercase
], ids=["attribute-order", "prefix", "lowercase"])
def test_a_far_cell_in_any_spelling_is_refused(store_file, tmp_path, cell):
    hostile = rewrite(DREES, tmp_path / "ecoles.xlsx", sheet_member(DREES, "T1"), lambda d: add_cell(d, cell))
    assert_refused(store_file, hostile, "sheet 'T1'", "1,048,576 rows × 16,384 columns", LIMIT)


def test_cells_and_rows_without_reference_are_counted_as_calamine_numbers_them(store_file, tmp_path):
    """600,000 rows without `r` (calamine numbers them one after another): past MAX_ROWS."""
    def rows(data: bytes):
        head, tail = data.split(b"</sheetData>")
        yield head
        block = b"<row><c><v>1</v></c></row>" * 10_000
        for _ in range(60):
            yield block
        yield b"</sheetData>" + tail
    hostile = rewrite(DREES, tmp_path / "ecoles.xlsx", sheet_member(DREES, "T2"), rows)
    assert_refused(store_file, hostile, "sheet 'T2'", f"at most {limits.MAX_ROWS:,} rows", LIMIT)


def test_a_declared_dimension_past_the_limits_is_refused(store_file, tmp_path):
    """The real BMO 2023 workbook whose data sheet declares A1:XFD1048576."""
    member = sheet_member(BMO_2023, "BMO_2023_open_data")
    hostile = rewrite(BMO_2023, tmp_path / "Base_open_data_BMO_2023.xlsx", member,
                      lambda d: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', d, count=1))
    line = assert_refused(store_file, hostile, "sheet 'BMO_2023_open_data'", "A1:XFD1048576", LIMIT,
                          args=("--source", "bmo"))
    assert "declares" in line


def test_a_zip_bomb_stops_at_the_decompressed_limit(store_file, tmp_path):
    """A workbook of ~1 MB whose data sheet inflates to 1 GiB of valid, highly compressible rows."""
    def bomb(data: bytes):
        head, tail = data.split(b"</sheetData>")
        yield head
        block = b'<row r="200"><c r="A200"><v>1</v></c></row>' * 25_000  # ~1 MiB, within the declared area
        for _ in range(1024):
            yield block
        yield b"</sheetData>" + tail
    hostile = rewrite(DREES, tmp_path / "ecoles.xlsx", sheet_member(DREES, "T3"), bomb)
    assert hostile.stat().st_size < 5_000_000
    assert_refused(store_file, hostile, "decompresses to more than",
                   f"{limits.MAX_XLSX_DECOMPRESSED_BYTES:,}", LIMIT)


def test_a_cell_longer_than_excel_allows_is_refused(store_file, tmp_path):
    """A 50 MB inline string (compressed to a few KB): never read into a cell."""
    def huge(data: bytes):
        end = data.index(b"</row>")
        yield data[:end] + b'<c r="M1" t="inlineStr"><is><t>'
        for _ in range(50):
            yield b"x" * 1_000_000
        yield b"</t></is></c>" + data[end:]
    hostile = rewrite(DREES, tmp_path / "ecoles.xlsx", sheet_member(DREES, "T1"), huge)
    assert_refused(store_file, hostile, "sheet 'T1'", f"at most {limits.MAX_CELL_CHARS:,} characters", LIMIT)


def test_a_shared_string_of_40000_characters_is_refused(store_file, tmp_path):
    hostile = rewrite(BMO_2023, tmp_path / "Base_open_data_BMO_2023.xlsx", "xl/sharedStrings.xml",
                      lambda d: d.replace(b"<t>", b"<t>" + "é".encode() * 40_000, 1))
    assert_refused(store_file, hostile, "a text of 40,0", f"at most {limits.MAX_CELL_CHARS:,}", LIMIT,
                   args=("--source", "bmo"))


def test_an_entity_bomb_is_refused(store_file, tmp_path):
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                         for i in range(1, 10)) + b"]>")
    hostile = rewrite(DREES, tmp_path / "ecoles.xlsx", "xl/workbook.xml", lambda d: laughs + d.split(b"?>", 1)[-1])
    assert_refused(store_file, hostile, "DOCTYPE", "xl/workbook.xml")


def test_a_drees_workbook_without_data_rows_is_refused(store_file, tmp_path):
    """Every sheet keeps its title and header rows but loses its data rows: one line, no traceback."""
    current = DREES
    with zipfile.ZipFile(DREES) as archive:
        names = [m for m in archive.namelist() if m.startswith("xl/worksheets/sheet")]
    for i, member in enumerate(names):
        def header_only(data: bytes) -> bytes:
            head, rest = data.split(b"<sheetData>")
            rows = re.findall(rb"<row .*?</row>", rest.split(b"</sheetData>")[0], re.S)
            keep = []
            for row in rows:
                keep.append(row)
                if re.search(rb">(\d{4})(?: \(p\))?<", row):  # the year row ends the header
                    break
            return head + b"<sheetData>" + b"".join(keep) + b"</sheetData>" + rest.split(b"</sheetData>")[1]
        target = tmp_path / f"step{i}.xlsx"
        current = rewrite(current, target, member, header_only)
    hostile = current.rename(tmp_path / "ecoles.xlsx")
    assert_refused(store_file, hostile, "no data row", args=("--source", "drees_ecoles"))


# --- Attacks on CSV files -----------------------------------------------------------------------------------

def test_a_file_past_the_size_limit_is_refused_unread(store_file, tmp_path):
    hostile = tmp_path / "evol_mmo.csv"
    with hostile.open("wb") as handle:
        handle.write(EVOL_MMO.read_bytes())
        handle.truncate(limits.MAX_FILE_BYTES + 1)  # sparse: nothing written past the real rows
    assert_refused(store_file, hostile, f"at most {limits.MAX_FILE_BYTES:,}", LIMIT, args=("--source", "dares_mmo"))


def test_a_csv_with_too_many_rows_is_refused_before_parsing(store_file, tmp_path):
    lines = EVOL_MMO.read_bytes().splitlines(keepends=True)
    hostile = tmp_path / "evol_mmo.csv"
    with hostile.open("wb") as handle:
        handle.write(lines[0])
        body = b"".join(lines[1:])
        for _ in range(limits.MAX_ROWS // (len(lines) - 1) + 1):
            handle.write(body)
    assert_refused(store_file, hostile, f"at most {limits.MAX_ROWS:,} data lines", LIMIT)


def test_a_csv_field_longer_than_excel_allows_is_refused(store_file, tmp_path):
    lines = EVOL_MMO.read_bytes().splitlines(keepends=True)
    lines[5] = lines[5].replace(b"Taux", b"Taux" + b"x" * 40_000, 1)
    hostile = tmp_path / "evol_mmo.csv"
    hostile.write_bytes(b"".join(lines))
    assert_refused(store_file, hostile, "40,0", f"at most {limits.MAX_CELL_CHARS:,}", "row 6", LIMIT)


# --- Non-finite numbers: rejected rows, never values ---------------------------------------------------------

NON_FINITE = ["inf", "-inf", "Infinity", "NaN", "1e309", "-1e309", "nan"]


def test_non_finite_numbers_in_a_csv_are_rejected_with_their_reason(store_file, tmp_path):
    lines = EVOL_MMO.read_text(encoding="latin-1").splitlines(keepends=True)
    for i, token in enumerate(NON_FINITE, start=1):  # file rows 2 … 8: the rate column
        fields = lines[i].split(";")
        fields[3] = token
        lines[i] = ";".join(fields)
    hostile = tmp_path / "evol_mmo.csv"
    hostile.write_text("".join(lines), encoding="latin-1")
    run = run_load(store_file, hostile)
    assert run["code"] == 0, run
    engine = get_engine(f"sqlite:///{store_file}")
    with engine.connect() as conn:
        rejected = conn.execute(text(
            "SELECT row_number, column_name, value, reason FROM etl_rejection WHERE load_id = "
            "(SELECT MAX(load_id) FROM etl_load) AND row_number <= 8 ORDER BY row_number")).all()
    engine.dispose()
    assert [(r.row_number, r.column_name, r.value) for r in rejected] == [
        (i + 1, "Taux", token) for i, token in enumerate(NON_FINITE, start=1)]
    assert all(r.reason.startswith("non-finite number") for r in rejected)
    assert non_finite_stored(store_file) == 0


@pytest.mark.parametrize("number", [b"1e309", b"-1e309", b"NaN", b"inf", b"1e300"])
def test_a_non_finite_numeric_cell_of_a_workbook_is_rejected(store_file, tmp_path, number):
    """`<v>1e309</v>` in a numeric cell: calamine reads infinity; the row is rejected, never stored."""
    member = sheet_member(DREES, "T1")
    with zipfile.ZipFile(DREES) as archive:
        data = archive.read(member)
    cell = re.search(rb'<c r="([E-L]\d+)"[^>]*><v>\d+</v></c>', data)  # the first count of a year column
    hostile = rewrite(DREES, tmp_path / "ecoles.xlsx", member,
                      lambda d: d.replace(cell.group(0), b'<c r="%s" t="n"><v>%s</v></c>' % (cell.group(1), number)))
    engine = get_engine(f"sqlite:///{store_file}")
    summary = load_file(engine, hostile, "drees_ecoles")
    with engine.connect() as conn:
        rejected = conn.execute(text("SELECT row_number, column_name, value, reason FROM etl_rejection "
                                     "WHERE load_id = :l AND reason LIKE 'non-finite%'"),
                                {"l": summary.load_id}).all()
    engine.dispose()
    assert len(rejected) == 1
    assert rejected[0].row_number == int(cell.group(1)[1:]) and rejected[0].column_name.startswith("T1 › ")
    assert non_finite_stored(store_file) == 0
