"""Property-based fuzzing of every adapter with mutations of the real bundled files: whatever the mutation (byte
flips, truncation, cell type swaps, encodings, XML bombs, sparse dimensions, huge or non-finite numbers),
`etl.loader.load_file` either loads or raises `LoadError` — never another exception —, a refusal writes
nothing (the store's snapshot is unchanged), and no non-finite figure is ever stored.

Seeded (`derandomize=True`): the same examples on every run. Small real inputs (the head of each CSV, the
template workbook, a reduced copy of the BMO 2023 data sheet) keep each example fast: the whole file runs in
well under 90 s."""
from __future__ import annotations

import functools
import re
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Float, text

from etl.errors import LoadError
from etl.loader import load_file
from observatory.schema import metadata
from observatory.store import get_engine
from tests.conftest import BMO_2023, ROOT, snapshot

REAL = ROOT / "data/real"
CSV_SOURCES = {  # adapter → (real file, data lines kept)
    "dares_mmo": (REAL / "dares/evol_mmo.csv", 40),
    "dares_portrait": (REAL / "dares/salaire_median_3niv.csv", 40),
    "dares_tensions": (REAL / "dares/tensions.csv", 40),
    "ft_tension": (REAL / "francetravail/francetravail_tension_rome_bassin_2021.csv", 40),
    "tdbms": (ROOT / "data/illustrative/tdbms/ANN_MS_TDP_ET_2017.csv", 25),
    # one adapter, several layouts: `adapter:layout`
    "dares_outlook:effectifs": (REAL / "dares/effectifs_3niv.csv", 40),  # wide, one column per FAP
    "dares_outlook:age": (REAL / "dares/age_2017_2019_3niv.csv", 40),
    "dares_outlook:regions": (REAL / "dares/input_carte1.csv", 40),  # shares that must sum per FAP
}
DREES = ROOT / "data/illustrative/drees_ecoles/formations_sociales_2017_2024.xlsx"
TEMPLATE = ROOT / "data/templates/exemple_mon_etablissement.xlsx"
BMO_ROWS = 40
EXAMPLES = 30
# No shrinking: a failing example is reported as drawn (the draws are printed), and the run stays bounded.
SETTINGS = settings(derandomize=True, max_examples=EXAMPLES, deadline=None, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])

HOSTILE_NUMBERS = ["inf", "-inf", "Infinity", "NaN", "nan", "1e309", "-1e309", "1e300", "1e-320", "9" * 400,
                   "1_000", "0x10", "  ", "*", "NA", "-", "1e15", "-0", "٣"]


# --- The small real inputs, made once ------------------------------------------------------------------------

def _head(path: Path, lines: int) -> bytes:
    with path.open("rb") as handle:
        return b"".join(handle.readline() for _ in range(lines + 1))


def _reduced_bmo(target: Path) -> Path:
    """The BMO 2023 workbook with its data sheet cut to its header and first rows (the other parts as they are)."""
    with zipfile.ZipFile(BMO_2023) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if re.search(rb"<dimension ref=\"A1:N\d{5}\"", data[:2000]):
                cut = data.index(b'<row r="%d"' % (BMO_ROWS + 2))
                data = data[:cut] + b"</sheetData>" + data[data.index(b"</sheetData>") + len(b"</sheetData>"):]
                data = re.sub(rb'<dimension ref="A1:N\d+"', b'<dimension ref="A1:N%d"' % (BMO_ROWS + 1), data, count=1)
            new.writestr(info, data)
    return target


@functools.lru_cache(maxsize=1)
def adapter_of(key: str) -> str:
    """The adapter a corpus key names: `tdbms_xlsx` → tdbms, `dares_outlook:age` → dares_outlook."""
    return key.split(":")[0].removesuffix("_xlsx")


@functools.lru_cache(maxsize=1)  # made once: cutting the BMO workbook costs more than loading an example
def corpus() -> dict[str, tuple[str, bytes]]:
    """adapter → (file name, bytes) of each small real input (not a test argument: never printed whole)."""
    found = {name: (path.name, _head(path, lines)) for name, (path, lines) in CSV_SOURCES.items()}
    with tempfile.TemporaryDirectory() as folder:
        found["bmo"] = (BMO_2023.name, _reduced_bmo(Path(folder) / BMO_2023.name).read_bytes())
    found["drees_ecoles"] = (DREES.name, DREES.read_bytes())
    found["tdbms_xlsx"] = (TEMPLATE.name, TEMPLATE.read_bytes())
    return found


@pytest.fixture(scope="module")
def engine(reference_db, tmp_path_factory):
    """One SQLite store for the module: each example compares the store before and after itself."""
    path = tmp_path_factory.mktemp("fuzz") / "store.sqlite"
    shutil.copy(reference_db, path)
    engine = get_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


# --- Mutations ---------------------------------------------------------------------------------------------

def _flip(data: bytes, draw) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
    return bytes(out)


def _truncate(data: bytes, draw) -> bytes:
    return data[:draw(st.integers(0, len(data) - 1))]


def _csv_cell(data: bytes, draw) -> bytes:
    """One field of one data line replaced by a hostile number or text."""
    lines = data.split(b"\n")
    if len(lines) < 2:  # truncated inside the header: no data line to change
        return data
    i = draw(st.integers(1, max(1, len(lines) - 2)))
    sep = b";" if lines[0].count(b";") > lines[0].count(b",") else b","
    fields = lines[i].split(sep)
    j = draw(st.integers(0, len(fields) - 1))
    fields[j] = draw(st.sampled_from(HOSTILE_NUMBERS)).encode("utf-8")
    lines[i] = sep.join(fields)
    return b"\n".join(lines)


def _encoding(data: bytes, draw) -> bytes:
    decoded = data.decode("utf-8", errors="ignore") if data.startswith(b"\xef\xbb\xbf") else data.decode("latin-1")
    return decoded.encode(draw(st.sampled_from(["utf-16", "utf-8-sig", "utf-8", "cp1252", "utf-32"])),
                          errors="replace")


def _lines(data: bytes, draw) -> bytes:
    """Header only, a line repeated, or the header dropped."""
    lines = data.split(b"\n")
    kind = draw(st.sampled_from(["header", "repeat", "no-header"]))
    if kind == "header":
        return lines[0] + b"\n"
    if kind == "repeat":
        return b"\n".join(lines + lines[1:3] * 3)
    return b"\n".join(lines[1:])


CSV_MUTATIONS = [_flip, _truncate, _csv_cell, _csv_cell, _encoding, _lines]


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(_bytes_file(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _bytes_file(data: bytes):
    import io

    return io.BytesIO(data)


def _zip(members: dict[str, bytes]) -> bytes:
    import io

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def _sheets(members: dict[str, bytes]) -> list[str]:
    return sorted(name for name in members if name.startswith("xl/worksheets/") and name.endswith(".xml"))


def _xml(data: bytes, draw, change) -> bytes:
    try:
        members = _members(data)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError):  # already broken by an earlier mutation
        return data
    if not _sheets(members):
        return data
    name = draw(st.sampled_from(_sheets(members)))
    members[name] = change(members[name], draw)
    return _zip(members)


def _type_swap(sheet: bytes, draw) -> bytes:
    """A cell's type or value swapped: number ↔ shared string ↔ inline text, a hostile number in `<v>`."""
    cells = list(re.finditer(rb"<c r=\"[A-Z]+\d+\"[^>]*>.*?</c>", sheet, re.S))
    if not cells:
        return sheet
    cell = cells[draw(st.integers(0, len(cells) - 1))]
    ref = re.match(rb'<c r="([A-Z]+\d+)"', cell.group(0)).group(1)
    token = draw(st.sampled_from(HOSTILE_NUMBERS)).encode()
    replacement = draw(st.sampled_from([
        b'<c r="%s"><v>%s</v></c>' % (ref, token),
        b'<c r="%s" t="n"><v>%s</v></c>' % (ref, token),
        b'<c r="%s" t="s"><v>999999</v></c>' % ref,
        b'<c r="%s" t="inlineStr"><is><t>%s</t></is></c>' % (ref, token),
        b'<c r="%s" t="b"><v>1</v></c>' % ref,
        b'<c r="%s" t="e"><v>#DIV/0!</v></c>' % ref,
        b'<c r="%s" t="str"><v>%s</v></c>' % (ref, token),
    ]))
    return sheet[:cell.start()] + replacement + sheet[cell.end():]


def _sparse(sheet: bytes, draw) -> bytes:
    """A far cell or a far declared dimension (calamine's dense grid), in canonical or other spellings."""
    far = draw(st.sampled_from([b"XFD1048576", b"A1048576", b"XFD1", b"ALL600", b"Z400000", b"N60000"]))
    kind = draw(st.sampled_from(["cell", "dimension", "no-r"]))
    if kind == "dimension":
        return re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:%s"' % far, sheet, count=1)
    end = sheet.find(b"</row>")
    if end < 0:
        return sheet
    cell = b'<c r="%s"><v>1</v></c>' % far if kind == "cell" else b"<c><v>1</v></c>" * 1200
    return sheet[:end] + cell + sheet[end:]


def _bomb(sheet: bytes, draw) -> bytes:
    """An entity bomb in the prolog, or a long text."""
    if draw(st.booleans()):
        laughs = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        return re.sub(rb"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or b"") + laughs, sheet, count=1)
    end = sheet.find(b"</row>")
    long = b'<c r="A1" t="inlineStr"><is><t>' + b"x" * 40_000 + b"</t></is></c>"
    return sheet if end < 0 else sheet[:end] + long + sheet[end:]


def _xml_flip(sheet: bytes, draw) -> bytes:
    return _flip(sheet, draw) if sheet else sheet


XLSX_MUTATIONS = [
    _flip, _truncate,
    lambda d, draw: _xml(d, draw, _type_swap), lambda d, draw: _xml(d, draw, _type_swap),
    lambda d, draw: _xml(d, draw, _sparse), lambda d, draw: _xml(d, draw, _bomb),
    lambda d, draw: _xml(d, draw, _xml_flip),
]


# --- The property ------------------------------------------------------------------------------------------

def non_finite_stored(engine) -> int:
    with engine.connect() as conn:
        return sum(conn.execute(text(f"SELECT COUNT(*) FROM {t.name} WHERE {c} > 1e308 OR {c} < -1e308 OR {c} != {c}"))
                   .scalar_one()
                   for t in metadata.sorted_tables for c in ("value", "numerator", "denominator")
                   if c in t.c and isinstance(t.c[c].type, Float))


def check(engine, folder: Path, adapter: str, name: str, data: bytes) -> None:
    path = folder / name
    path.write_bytes(data)
    before = snapshot(engine)
    try:
        load_file(engine, path, adapter_of(adapter))
    except LoadError:
        assert snapshot(engine) == before, "a refused file wrote to the store"
    assert non_finite_stored(engine) == 0


def fuzz(engine, tmp_path, adapter: str, mutations, data) -> None:
    name, original = corpus()[adapter]
    mutated = original
    for _ in range(data.draw(st.integers(1, 2), label="mutations")):
        mutate = data.draw(st.sampled_from(mutations), label="mutation")
        mutated = mutate(mutated, data.draw) if mutated else mutated
    check(engine, tmp_path, adapter, name, mutated)


@pytest.mark.parametrize("adapter", sorted(CSV_SOURCES))
@SETTINGS
@given(data=st.data())
def test_csv_adapters_load_or_refuse_never_crash(engine, tmp_path, adapter, data):
    fuzz(engine, tmp_path, adapter, CSV_MUTATIONS, data)


@pytest.mark.parametrize("adapter", ["bmo", "drees_ecoles", "tdbms_xlsx"])
@SETTINGS
@given(data=st.data())
def test_workbook_adapters_load_or_refuse_never_crash(engine, tmp_path, adapter, data):
    fuzz(engine, tmp_path, adapter, XLSX_MUTATIONS, data)


def test_the_unmutated_inputs_load(engine, tmp_path):
    """The corpus itself is loadable: the mutations start from files that work."""
    for adapter, (name, data) in corpus().items():
        path = tmp_path / name
        path.write_bytes(data)
        summary = load_file(engine, path, adapter_of(adapter))
        assert summary.rows_loaded > 0, adapter
