"""Reading raw published files: encodings, CSV and XLSX, French numbers and secret markers.

Every reader returns plain strings (or the workbook's own cells) and leaves interpretation to the adapters;
every failure to read becomes a `LoadError` naming the file.

numpy and pandas are imported by the functions that use them, so that `python -m etl load` can start reading a
workbook (`read_ahead`) before it imports them.
"""
from __future__ import annotations

import csv
import io
import os
import posixpath
import re
import threading
import unicodedata
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree

from etl.errors import LoadError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# Tried in this order: cp1252 decodes every latin-1 text identically except bytes 0x80-0x9F, where
# French files written on Windows carry « œ », « … », « – »; latin-1 is the last resort.
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")

SECRET_MARKERS = frozenset({"*", "s", "nd", "nr", "ns", "nc", "/", "-", "n"})

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]")


def detect_encoding(raw: bytes, file: str) -> str:
    """The first of `ENCODINGS` that decodes `raw`; UTF-16 and binary content are refused."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:4096]:
        raise LoadError(file, "the file is not single-byte or UTF-8 text (NUL bytes: UTF-16 or binary?)",
                        expected="UTF-8 (with or without BOM), cp1252 or latin-1 text")
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "cp1252" or encoding == "latin-1":
            # C1 control characters mean the bytes are not text in this encoding.
            if any("\x80" <= ch <= "\x9f" for ch in text):
                continue
        return encoding
    raise LoadError(file, "cannot decode the file as text", expected="UTF-8, cp1252 or latin-1")


def read_text(path: Path) -> tuple[str, str]:
    """The decoded text of `path` and the encoding used."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LoadError(str(path), f"cannot read the file: {exc.strerror}") from exc
    encoding = detect_encoding(raw, path.name)
    return raw.decode(encoding), encoding


def read_csv(path: Path, *, sep: str | None = None) -> tuple[pd.DataFrame, str]:
    """A CSV as a frame of stripped strings (header names stripped too) and the encoding found.

    The separator is sniffed among `;` and `,` when not given. Empty trailing columns (the DARES
    `;;;` tails) are dropped.
    """
    import pandas as pd

    text, encoding = read_text(path)
    if not text.strip():
        raise LoadError(path.name, "the file is empty")
    if sep is None:
        first = text.split("\n", 1)[0]
        sep = ";" if first.count(";") > first.count(",") else ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            quoting=csv.QUOTE_MINIMAL, skipinitialspace=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise LoadError(path.name, f"not a readable CSV: {exc}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.loc[:, [not (c == "" or c.startswith("Unnamed:")) for c in frame.columns]]
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    return frame, encoding


def open_workbook(path: Path):
    """A python-calamine workbook, or a `LoadError` for a truncated or non-XLSX file.

    When `read_ahead` started reading this very file (same size and modification time), its sheets come
    from there.
    """
    from python_calamine import CalamineWorkbook

    if not zipfile.is_zipfile(path):
        raise LoadError(path.name, "not a readable XLSX workbook (not a ZIP container: truncated or "
                        "another format?)", expected="an .xlsx workbook")
    ahead = _ahead.pop(_file_stamp(path), None)
    if ahead is not None and (book := ahead.result()) is not None:
        return book
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine and zipfile raise many types for a damaged file
        raise LoadError(path.name, f"not a readable XLSX workbook: {exc}") from exc


def _file_stamp(path: Path) -> tuple[str, int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns


class _ReadAhead:
    """Every sheet of one workbook, parsed by calamine in a background thread (it releases the GIL while
    it parses, so the thread runs alongside imports and the store's set-up)."""

    def __init__(self, path: Path):
        self.path = path
        self.book: _ReadWorkbook | None = None
        self.thread = threading.Thread(target=self._read, name=f"read-ahead {path.name}", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            from python_calamine import CalamineWorkbook

            book = CalamineWorkbook.from_path(str(self.path))
            self.book = _ReadWorkbook(book, {name: book.get_sheet_by_name(name) for name in book.sheet_names})
        except Exception:  # a damaged file: `open_workbook` reads it again and reports what is wrong
            self.book = None

    def result(self) -> _ReadWorkbook | None:
        self.thread.join()
        return self.book


class _ReadWorkbook:
    """A calamine workbook whose sheets are already parsed (the same `sheet_names` and `get_sheet_by_name`)."""

    def __init__(self, book, sheets: dict):
        self._book, self._sheets = book, sheets
        self.sheet_names = book.sheet_names

    def get_sheet_by_name(self, name: str):
        sheet = self._sheets.pop(name, None)  # handed out once: a second request parses it again
        return sheet if sheet is not None else self._book.get_sheet_by_name(name)


_ahead: dict[tuple[str, int, int], _ReadAhead] = {}


def read_ahead(path: Path | str) -> None:
    """Start parsing the workbook at `path` in the background; the next `open_workbook` of the same file (not
    modified since) gets its sheets. Used by `python -m etl load`, which then imports pandas and SQLAlchemy
    and opens the store while the sheets are read. Nothing happens for a file that is not there."""
    path = Path(path)
    stamp = _file_stamp(path)
    if stamp is not None and path.is_file():
        _ahead.clear()  # one workbook at a time
        _ahead[stamp] = _ReadAhead(path)


def sheet_rows(workbook, name: str, file: str) -> list[list]:
    """The cells of one sheet as rows."""
    try:  # a damaged member (bad checksum, cut stream) surfaces here
        return workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as exc:
        raise LoadError(file, f"cannot read the sheet: {exc}", sheet=name) from exc


def normalise_header(name: object) -> str:
    """Header text compared without case, accents, spaces or underscores."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[\s_\-']+", "", text).casefold()


def find_columns(
    header: list, wanted: dict[str, str], file: str, *, sheet: str | None = None,
    optional: dict[str, str] | None = None,
) -> dict[str, int]:
    """Map each role to its column position, matching normalised names against regexes.

    `wanted` maps a role to a regex over `normalise_header(name)`; a role that matches no column (or
    more than one) stops the load with the list of columns found.
    """
    normalised = [normalise_header(h) for h in header]
    found: dict[str, int] = {}
    for role, pattern in {**wanted, **(optional or {})}.items():
        hits = [i for i, h in enumerate(normalised) if re.fullmatch(pattern, h)]
        if len(hits) == 1:
            found[role] = hits[0]
        elif len(hits) > 1:
            raise LoadError(file, f"several columns match {role!r}: "
                            f"{[header[i] for i in hits]}", sheet=sheet, row=1)
        elif role in wanted:
            raise LoadError(file, f"missing required column {role!r}", sheet=sheet, row=1,
                            expected=f"a header matching {pattern!r}; found {[str(h) for h in header]}")
    return found


def by_unique(values: pd.Series, func) -> np.ndarray:
    """`func` applied once per distinct cell value: published files repeat the same few codes and counts."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=False)
    mapped = np.empty(len(uniques), dtype=object)
    for i, v in enumerate(uniques):
        mapped[i] = func(v)
    return mapped[codes]


_NAN = float("nan")


def _parse_one(v) -> tuple[float, bool, bool]:
    """(number, is_secret, is_bad) for one cell."""
    if v is None or (isinstance(v, float) and v != v):
        return _NAN, False, False
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v), False, False
    text = _SPACES.sub("", str(v))
    if text == "":
        return _NAN, False, False
    if text.lower() in SECRET_MARKERS:
        return _NAN, True, False
    try:
        return float(text.replace(",", ".")), False, False
    except ValueError:
        return _NAN, False, True


def parse_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse French-formatted numbers ("1 234,5", narrow no-break spaces) and secret markers.

    Returns (numbers, is_secret, is_bad): numbers is NaN where the cell is empty, secret or bad.
    Cells that are already numbers (XLSX) pass through.
    """
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=False)
    parsed = [_parse_one(v) for v in uniques]
    numbers = np.array([p[0] for p in parsed], dtype=float)
    secret = np.array([p[1] for p in parsed], dtype=bool)
    bad = np.array([p[2] for p in parsed], dtype=bool)
    return numbers[codes], secret[codes], bad[codes]


MAX_HEADER_CELLS = 16_384  # Excel's column limit: a header row is never longer


# --- Header rows of every sheet, from the XLSX parts: recognising a layout never loads a whole sheet ---

class _Shared(int):
    """A cell that points into the shared-strings table."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _column_index(ref: str | None, default: int) -> int:
    letters = re.match(r"[A-Za-z]+", ref or "")
    if not letters:
        return default
    index = 0
    for ch in letters.group(0).upper():
        index = index * 26 + ord(ch) - 64
    return index - 1


def _inline_text(element) -> str:
    """Text of a shared or inline string, without phonetic runs (`rPh`)."""
    parts = []
    for child in element:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def _cell(element):
    kind = element.get("t", "n")
    if kind == "inlineStr":
        inline = next((c for c in element if _local(c.tag) == "is"), None)
        return "" if inline is None else _inline_text(inline)
    value = next((c.text for c in element if _local(c.tag) == "v"), None)
    if value is None:
        return None
    if kind == "s":
        return _Shared(int(value))
    if kind in ("str", "e"):
        return value
    if kind == "b":
        return value == "1"
    try:
        return float(value)
    except ValueError:
        return value


def _first_row(archive: zipfile.ZipFile, member: str) -> list:
    """The first non-empty row of a worksheet, streamed: parsing stops at the end of that row."""
    cells: dict[int, object] = {}
    with archive.open(member) as stream:
        for _, element in ElementTree.iterparse(stream, events=("end",)):
            tag = _local(element.tag)
            if tag == "c":
                cells[_column_index(element.get("r"), max(cells, default=-1) + 1)] = _cell(element)
                if len(cells) > MAX_HEADER_CELLS:
                    break
            elif tag == "row":
                if any(v not in (None, "") for v in cells.values()):
                    break
                cells = {}
                element.clear()
            elif tag == "sheetData":
                break
    row = [None] * (max(cells, default=-1) + 1)
    for index, value in cells.items():
        if index < MAX_HEADER_CELLS:
            row[index] = value
    return row[:MAX_HEADER_CELLS]


def _shared_strings(archive: zipfile.ZipFile, member: str | None, needed: int) -> list[str]:
    """The first `needed` shared strings (header strings come first in every writer's table)."""
    strings: list[str] = []
    if member is None or needed <= 0:
        return strings
    with archive.open(member) as stream:
        for _, element in ElementTree.iterparse(stream, events=("end",)):
            if _local(element.tag) == "si":
                strings.append(_inline_text(element))
                element.clear()
                if len(strings) >= needed:
                    break
    return strings


def _target(base: str, target: str) -> str:
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))


def sheet_headers(path: Path) -> dict[str, list]:
    """Sheet name → its first non-empty row, read from the XLSX parts without loading any sheet whole."""
    with zipfile.ZipFile(path) as archive:
        members = set(archive.namelist())
        book = "xl/workbook.xml"
        if "_rels/.rels" in members:
            for rel in ElementTree.fromstring(archive.read("_rels/.rels")):
                if rel.get("Type", "").endswith("/officeDocument"):
                    book = _target("", rel.get("Target", book))
        base = posixpath.dirname(book)
        targets, shared = {}, None
        for rel in ElementTree.fromstring(archive.read(posixpath.join(base, "_rels", posixpath.basename(book)
                                                                      + ".rels"))):
            targets[rel.get("Id")] = _target(base, rel.get("Target", ""))
            if rel.get("Type", "").endswith("/sharedStrings"):
                shared = targets[rel.get("Id")]
        rows: dict[str, list] = {}
        for element in ElementTree.fromstring(archive.read(book)).iter():
            if _local(element.tag) != "sheet":
                continue
            rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
            if targets.get(rid) in members:
                rows[element.get("name", "")] = _first_row(archive, targets[rid])
        needed = max((v + 1 for row in rows.values() for v in row if isinstance(v, _Shared)), default=0)
        strings = _shared_strings(archive, shared if shared in members else None, needed)
    return {name: [(strings[v] if v < len(strings) else None) if isinstance(v, _Shared) else v for v in row]
            for name, row in rows.items()}
