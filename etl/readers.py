"""Reading raw published files: encodings, CSV and XLSX, French numbers and secret markers.

Every reader returns plain strings (or the workbook's own cells) and leaves interpretation to the adapters;
every failure to read becomes a `LoadError` naming the file. Every reader is bounded (etl/limits.py): a file
too large, a workbook whose sheets span too many cells, a zip bomb or an entity bomb, a cell longer than Excel
allows, is refused before it is materialised (`check_workbook`, `read_csv`).

numpy and pandas are imported by the functions that use them, so that `python -m etl load` can start reading a
workbook (`read_ahead`) before it imports them.
"""
from __future__ import annotations

import csv
import functools
import io
import os
import posixpath
import re
import threading
import unicodedata
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from xml.etree import ElementTree

from etl import limits
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
    check_file_size(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LoadError(str(path), f"cannot read the file: {exc.strerror}") from exc
    encoding = detect_encoding(raw, path.name)
    return raw.decode(encoding), encoding


def read_csv(path: Path, *, sep: str | None = None) -> tuple[pd.DataFrame, str]:
    """A CSV as a frame of stripped strings (header names stripped too) and the encoding found.

    The separator is sniffed among `;` and `,` when not given. Empty trailing columns (the DARES
    `;;;` tails) are dropped; a short row's missing fields are empty strings. Bounded: more lines than
    `MAX_ROWS`, more fields than `MAX_COLUMNS`, more cells than `MAX_CELLS` (all counted before pandas
    parses anything) or a field longer than `MAX_CELL_CHARS` is refused.
    """
    import pandas as pd

    text, encoding = read_text(path)
    if not text.strip():
        raise LoadError(path.name, "the file is empty")
    first = text.split("\n", 1)[0]
    if sep is None:
        sep = ";" if first.count(";") > first.count(",") else ","
    lines = max(text.count("\n"), text.count("\r")) + 1
    fields = first.count(sep) + 1
    if lines - 1 > limits.MAX_ROWS or fields > limits.MAX_COLUMNS or (lines - 1) * fields > limits.MAX_CELLS:
        raise _limit_error(path.name, f"the file has {lines:,} lines × {fields:,} fields: at most "
                           f"{limits.MAX_ROWS:,} data lines, {limits.MAX_COLUMNS:,} fields and "
                           f"{limits.MAX_CELLS:,} cells")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            quoting=csv.QUOTE_MINIMAL, skipinitialspace=False)
    except (pd.errors.ParserError, ValueError, OverflowError) as exc:
        raise LoadError(path.name, f"not a readable CSV: {exc}") from exc
    del text
    if len(frame) > limits.MAX_ROWS or frame.shape[1] > limits.MAX_COLUMNS:
        raise _limit_error(path.name, f"the file has {len(frame):,} rows × {frame.shape[1]:,} columns: at most "
                           f"{limits.MAX_ROWS:,} rows and {limits.MAX_COLUMNS:,} columns")
    frame.columns = [str(c).strip() for c in frame.columns]
    too_long = [c for c in frame.columns if len(c) > limits.MAX_CELL_CHARS]
    if too_long:
        raise _limit_error(path.name, f"a header of {len(too_long[0]):,} characters: at most "
                           f"{limits.MAX_CELL_CHARS:,}")
    frame = frame.loc[:, [not (c == "" or c.startswith("Unnamed:")) for c in frame.columns]]
    for position in range(frame.shape[1]):  # by position: a header may repeat
        column = frame.iloc[:, position].fillna("")
        lengths = column.str.len().to_numpy()
        if len(lengths) and lengths.max() > limits.MAX_CELL_CHARS:
            row = int(lengths.argmax())
            raise LoadError(path.name, f"a field of {int(lengths[row]):,} characters: at most "
                            f"{limits.MAX_CELL_CHARS:,}, Excel's own limit ({limits.WHERE})",
                            row=row + 2, column=str(frame.columns[position]))
        frame.isetitem(position, column.str.strip())
    return frame, encoding


def open_workbook(path: Path):
    """A python-calamine workbook, or a `LoadError` for a truncated, non-XLSX or out-of-bounds file
    (`check_workbook` runs before calamine opens anything).

    When `read_ahead` started reading this very file (same size and modification time), its sheets come
    from there.
    """
    from python_calamine import CalamineWorkbook

    path = Path(path)
    ahead = _ahead.pop(_file_stamp(path), None)
    if ahead is not None:
        book = ahead.result()
        if isinstance(book, LoadError):
            raise book
        if book is not None:
            return book
    if not zipfile.is_zipfile(path):
        raise LoadError(path.name, "not a readable XLSX workbook (not a ZIP container: truncated or "
                        "another format?)", expected="an .xlsx workbook")
    check_workbook(path)
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
    it parses, so the thread runs alongside imports and the store's set-up). The bounds are checked first
    (`check_workbook`): a workbook out of bounds is never handed to calamine, its `LoadError` is the result."""

    def __init__(self, path: Path):
        self.path = path
        self.book: _ReadWorkbook | LoadError | None = None
        self.thread = threading.Thread(target=self._read, name=f"read-ahead {path.name}", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            check_workbook(self.path)
        except LoadError as error:
            self.book = error
            return
        except Exception:  # noqa: BLE001 — a damaged file: `open_workbook` checks it again and says what is wrong
            self.book = None
            return
        try:
            from python_calamine import CalamineWorkbook

            book = CalamineWorkbook.from_path(str(self.path))
            self.book = _ReadWorkbook(book, {name: book.get_sheet_by_name(name) for name in book.sheet_names})
        except Exception:  # a damaged file: `open_workbook` reads it again and reports what is wrong
            self.book = None

    def result(self) -> _ReadWorkbook | LoadError | None:
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
_FINITE_WORDS = re.compile(r"[+-]?(inf(inity)?|nan)", re.I)


def _parse_one(v) -> tuple[float, bool, bool, bool]:
    """(number, is_secret, is_bad, is_non_finite) for one cell.

    Non-finite: `inf`, `-Infinity`, `NaN` written out, an overflow such as `1e309`, a workbook's own infinite
    or NaN cell, or a magnitude outside [MIN_ABS_NUMBER, MAX_ABS_NUMBER] (zero excepted): never a value.
    """
    if v is None:
        return _NAN, False, False, False
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        try:
            number = float(v)
        except OverflowError:  # an integer beyond float range
            return _NAN, False, False, True
    else:
        text = _SPACES.sub("", str(v))
        if text == "":
            return _NAN, False, False, False
        if text.lower() in SECRET_MARKERS:
            return _NAN, True, False, False
        if _FINITE_WORDS.fullmatch(text):
            return _NAN, False, False, True
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            return _NAN, False, True, False
    magnitude = abs(number)
    if magnitude != magnitude or (number and not limits.MIN_ABS_NUMBER <= magnitude <= limits.MAX_ABS_NUMBER):
        return _NAN, False, False, True
    return number, False, False, False


class Numbers(NamedTuple):
    """Parsed cells: `value` is NaN where a cell is empty, secret, bad or non-finite."""

    value: np.ndarray
    secret: np.ndarray
    bad: np.ndarray
    non_finite: np.ndarray


NON_FINITE = (f"non-finite number (inf, NaN, an overflow, or beyond ±{limits.MAX_ABS_NUMBER:g} or a non-zero "
              f"magnitude under {limits.MIN_ABS_NUMBER:g}): never stored ({limits.WHERE})")


def parse_numbers(values: pd.Series) -> Numbers:
    """Parse French-formatted numbers ("1 234,5", narrow no-break spaces) and secret markers.

    Returns (value, secret, bad, non_finite) arrays: value is NaN where the cell is empty, secret, bad or
    non-finite (see `_parse_one`). Cells that are already numbers (XLSX) pass through when finite.
    """
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=False)
    parsed = [_parse_one(v) for v in uniques]
    numbers = np.array([p[0] for p in parsed], dtype=float)
    secret = np.array([p[1] for p in parsed], dtype=bool)
    bad = np.array([p[2] for p in parsed], dtype=bool)
    non_finite = np.array([p[3] for p in parsed], dtype=bool)
    return Numbers(numbers[codes], secret[codes], bad[codes], non_finite[codes])


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
    """Sheet name → its first non-empty row, read from the XLSX parts without loading any sheet whole (after
    `check_workbook`: bounded, no DOCTYPE)."""
    check_workbook(path)
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


# --- Bounds: a hostile workbook is refused before calamine allocates anything (values in etl/limits.py) ---
#
# A streaming pre-check of the ZIP: every member the reader reads is decompressed here in bounded chunks (the
# ZIP's size fields are never trusted), its total counted against MAX_XLSX_DECOMPRESSED_BYTES; a DOCTYPE (the
# door to entity bombs) is refused; worksheets are scanned for the furthest cell calamine would place (its
# dense grid runs from A1 to there) and for their declared `<dimension ref>`; worksheets and shared strings are
# scanned for a text longer than MAX_CELL_CHARS. Only C-speed searches run over the bytes on the usual path:
# a worksheet whose every `<c>` and `<row>` starts with `r="…"` inside its declared dimension (what Excel,
# openpyxl and xlsxwriter write) is proven in two regex passes; anything else (cells or rows without `r`, which
# calamine numbers sequentially, other attribute orders, namespace prefixes, lowercase references, cells past
# the dimension) is replayed element by element as calamine reads it.

_CHUNK = 4 * 1024 * 1024
_XML_PARTS = (".xml", ".rels", ".vml")
_PART_BYTES = 16 * 1024 * 1024  # workbook.xml and its relationships, parsed whole to name the sheets
_RUN_BYTES = 10 * limits.MAX_CELL_CHARS + 1024  # the longest text of MAX_CELL_CHARS characters (&#1114111; each)
_DOCTYPE = b"<!DOCTYPE"
_DIMENSION = re.compile(rb'<(?:[\w.-]+:)?dimension\s[^>]*?\bref\s*=\s*["\']([^"\']{1,40})')
_AREA = re.compile(rb"\$?([A-Za-z]{1,7})\$?(\d{1,10})(?::\$?([A-Za-z]{1,7})\$?(\d{1,10}))?")
_PREFIXED = re.compile(rb':c[\s>/]')
_ELEMENT = re.compile(rb'<(/?)(?:[A-Za-z_][\w.\-]*:)?(c|row)(?=[\s>/])((?:[^>"\']|"[^"]*"|\'[^\']*\')*)>')
_R_ATTRIBUTE = re.compile(rb'(?:^|\s)r\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
_REFERENCE = re.compile(rb'\$?([A-Za-z]{1,7})?\$?(\d{1,10})?')
_ENTITY = re.compile(rb"&[^;&<]{1,10};|_x[0-9A-Fa-f]{4}_")
_checked: dict[tuple[str, int, int], LoadError | None] = {}


def _limit_error(file: str, problem: str, *, sheet: str | None = None) -> LoadError:
    return LoadError(file, f"{problem} ({limits.WHERE})", sheet=sheet)


def check_file_size(path: Path) -> int:
    """The size of `path`; a `LoadError` when it passes `MAX_FILE_BYTES` (checked before anything is read)."""
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise LoadError(Path(path).name, f"cannot read the file: {exc.strerror}") from exc
    if size > limits.MAX_FILE_BYTES:
        raise _limit_error(Path(path).name, f"the file is {size:,} bytes: at most {limits.MAX_FILE_BYTES:,}")
    return size


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - 64
    return number


def _column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _at_most(bound: str, alphabet: str) -> str:
    """A regex matching the words over `alphabet` (ordered, no leading `alphabet[0]` for digits) up to `bound`
    in (length, lexicographic) order: `_at_most("50939", digits)` matches 1 … 50939, `_at_most("CX", A-Z)`
    A … CX."""
    first = 1 if alphabet[0] == "0" else 0
    span = f"[{alphabet[0]}-{alphabet[-1]}]"
    alternatives = [f"[{alphabet[first]}-{alphabet[-1]}]{span}{{0,{len(bound) - 2}}}"] if len(bound) > 1 else []
    for i, ch in enumerate(bound):
        low, high = (first if i == 0 else 0), alphabet.index(ch) - 1
        if high >= low:
            alternatives.append(f"{bound[:i]}[{alphabet[low]}-{alphabet[high]}]{span}{{{len(bound) - i - 1}}}")
    alternatives.append(bound)
    return "(?:" + "|".join(alternatives) + ")"


def _within(rows: int, columns: int) -> bool:
    return rows <= limits.MAX_ROWS and columns <= limits.MAX_COLUMNS and rows * columns <= limits.MAX_CELLS


@functools.lru_cache(maxsize=32)
def _outside(rows: int, columns: int) -> re.Pattern:
    """A regex finding a `<c>` not of the canonical form `r="…"` within a grid that holds rows × columns and
    stays within the limits.

    The cheapest test that proves the limits is used: as many digits and letters as the declared end
    (`N50438` → any cell up to Z99999: one character class each), else the same first digit and letter
    (`CX43509` → up to CZ49999), else the exact comparison (three times slower)."""
    letters, digits = _column_letters(columns), str(rows)
    top, k, a = int(digits[0]), len(digits), len(letters)
    if _within(10 ** k - 1, _column_number(b"Z" * a)):
        row, column = f"[1-9][0-9]{{0,{k - 1}}}", f"[A-Z]{{1,{a}}}"
    elif _within((top + 1) * 10 ** (k - 1) - 1, _column_number((letters[0] + "Z" * (a - 1)).encode())):
        row = f"(?:[1-9][0-9]{{0,{k - 2}}}|[1-{top}][0-9]{{{k - 1}}})" if k > 1 else f"[1-{top}]"
        column = f"(?:[A-Z]{{1,{a - 1}}}|[A-{letters[0]}][A-Z]{{{a - 1}}})" if a > 1 else f"[A-{letters[0]}]"
    else:
        row, column = _at_most(digits, "0123456789"), _at_most(letters, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return re.compile(f'<c(?! r="{column}{row}")[\\s>/]'.encode())


def _check_grid(file: str, sheet: str, rows: int, columns: int, *, declared: str | None = None) -> None:
    cells = rows * columns
    if _within(rows, columns):
        return
    size = f"{rows:,} row{'s' * (rows != 1)} × {columns:,} column{'s' * (columns != 1)}"
    what = f"declares {declared} ({size})" if declared else f"spans {size}"
    raise _limit_error(file, f"the sheet {what}, {cells:,} cells: at most {limits.MAX_ROWS:,} rows, "
                       f"{limits.MAX_COLUMNS:,} columns and {limits.MAX_CELLS:,} cells", sheet=sheet)


class _Budget:
    """Decompressed bytes read so far, over every member of one workbook."""

    def __init__(self, file: str):
        self.file, self.total = file, 0

    def add(self, size: int, member: str) -> None:
        self.total += size
        if self.total > limits.MAX_XLSX_DECOMPRESSED_BYTES:
            raise _limit_error(self.file, f"the workbook decompresses to more than "
                               f"{limits.MAX_XLSX_DECOMPRESSED_BYTES:,} bytes (reading {member}: a zip bomb?): "
                               f"at most {limits.MAX_XLSX_DECOMPRESSED_BYTES:,}")


def _member_chunks(handle, info: zipfile.ZipInfo, file: str, budget: _Budget | None):
    """The decompressed bytes of one member, in chunks of at most `_CHUNK`, whatever its header says."""
    if info.flag_bits & 0x1:
        raise LoadError(file, f"member {info.filename} is encrypted", expected="an unencrypted .xlsx workbook")
    handle.seek(info.header_offset)
    header = handle.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise LoadError(file, f"not a readable XLSX workbook (member {info.filename}: bad local header)")
    handle.seek(info.header_offset + 30 + int.from_bytes(header[26:28], "little")
                + int.from_bytes(header[28:30], "little"))
    left, pending = info.compress_size, b""
    if info.compress_type == zipfile.ZIP_STORED:
        while left > 0 and (raw := handle.read(min(left, _CHUNK))):
            left -= len(raw)
            if budget is not None:
                budget.add(len(raw), info.filename)
            yield raw
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise LoadError(file, f"member {info.filename} uses compression method {info.compress_type}",
                        expected="deflate or stored members, as spreadsheet programs write")
    inflate = zlib.decompressobj(-15)
    while True:
        if not pending and left > 0:
            pending = handle.read(min(left, 1024 * 1024))
            left = left - len(pending) if pending else 0
        try:
            out = inflate.decompress(pending, _CHUNK)  # at most _CHUNK bytes out, whatever comes in
        except zlib.error as exc:
            raise LoadError(file, f"not a readable XLSX workbook (member {info.filename}: {exc})") from exc
        pending = inflate.unconsumed_tail
        if out:
            if budget is not None:
                budget.add(len(out), info.filename)
            yield out
        if inflate.eof or (not out and not pending and left <= 0):
            return


def _read_part(handle, info: zipfile.ZipInfo, file: str, budget: _Budget) -> bytes:
    """A small member whole (workbook.xml, relationships), bounded and without DOCTYPE."""
    parts, size = [], 0
    for chunk in _member_chunks(handle, info, file, budget):
        size += len(chunk)
        if size > _PART_BYTES:
            raise _limit_error(file, f"member {info.filename} is larger than {_PART_BYTES:,} bytes")
        parts.append(chunk)
    data = b"".join(parts)
    if _DOCTYPE in data:
        raise _doctype(file, info.filename)
    return data


def _doctype(file: str, member: str) -> LoadError:
    return LoadError(file, f"member {member} has a DOCTYPE (XML entity declarations: an entity bomb?)",
                     expected="a workbook as spreadsheet programs write it, without DOCTYPE")


def _sheet_members(archive: zipfile.ZipFile, handle, file: str,
                   budget: _Budget) -> tuple[dict[str, str], str | None, set]:
    """(worksheet member → sheet name, shared-strings member, members already read) from the workbook's parts."""
    infos = {i.filename: i for i in archive.infolist()}
    done: set[str] = set()

    def part(name: str):
        done.add(name)
        return ElementTree.fromstring(_read_part(handle, infos[name], file, budget))

    try:
        book = "xl/workbook.xml"
        if "_rels/.rels" in infos:
            for rel in part("_rels/.rels"):
                if rel.get("Type", "").endswith("/officeDocument"):
                    book = _target("", rel.get("Target", book))
        base = posixpath.dirname(book)
        rels = posixpath.join(base, "_rels", posixpath.basename(book) + ".rels")
        targets, shared = {}, None
        for rel in part(rels) if rels in infos else ():
            targets[rel.get("Id")] = _target(base, rel.get("Target", ""))
            if rel.get("Type", "").endswith("/sharedStrings"):
                shared = targets[rel.get("Id")]
        sheets = {}
        for element in part(book).iter() if book in infos else ():
            if _local(element.tag) == "sheet":
                rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
                if targets.get(rid) in infos:
                    sheets[targets[rid]] = element.get("name", "")
    except ElementTree.ParseError:  # damaged parts: calamine says what is wrong; every member is still scanned
        sheets, shared = {}, None
    return sheets, shared, done


def _long_text(buffer: bytes, start: int, end: int, file: str, where: str, sheet: str | None) -> None:
    """Refuse a text run (between two `<`) of more than MAX_CELL_CHARS characters in `buffer[start:end]`."""
    i, width = start, limits.MAX_CELL_CHARS
    while i + width <= end:  # windows of MAX_CELL_CHARS bytes: a few C-speed finds per chunk
        lt = buffer.rfind(b"<", i, i + width)
        if lt >= 0:
            i = lt + 1
            continue
        stop = buffer.find(b"<", i, end)
        stop = end if stop < 0 else stop
        run = buffer[i:stop]
        tag = run.find(b">", 0, 512)
        chars = len(_ENTITY.sub(b"_", run[tag + 1:]).decode("utf-8", "replace"))
        if chars > limits.MAX_CELL_CHARS:
            raise _limit_error(file, f"a text of {chars:,} characters in {where}: at most "
                               f"{limits.MAX_CELL_CHARS:,}, Excel's own limit", sheet=sheet)
        i = stop + 1


class _Replay:
    """The furthest cell of a worksheet, as calamine places cells: a `<c>` at its `r`, else after the previous
    cell of its row; a `<row>` at its `r`, else after the previous row."""

    def __init__(self, file: str, sheet: str):
        self.file, self.sheet = file, sheet
        self.row = self.column = 0  # calamine's counters (0-based)
        self.rows = self.columns = 0  # the furthest extent seen (1-based counts)

    def feed(self, buffer: bytes, start: int, end: int) -> None:
        for closing, name, attributes in _ELEMENT.findall(buffer, start, end):
            empty = attributes.endswith(b"/")
            found = _R_ATTRIBUTE.search(attributes) if not closing else None
            reference = (found.group(1) if found.group(1) is not None else found.group(2)) if found else None
            if name == b"row":
                if closing:
                    self.row, self.column = self.row + 1, 0
                elif reference is not None and not empty:
                    digits = _REFERENCE.fullmatch(reference.strip())
                    if digits and digits.group(2) and not digits.group(1):
                        self.row = int(digits.group(2)) - 1
                continue
            if closing:
                continue
            if reference is not None:
                parsed = _REFERENCE.fullmatch(reference.strip())
                if not parsed or not parsed.group(1) or not parsed.group(2):
                    continue  # calamine refuses the sheet itself
                row, column = int(parsed.group(2)) - 1, _column_number(parsed.group(1)) - 1
                if not empty:
                    self.column = column + 1
            elif empty:
                continue  # calamine skips an empty `<c/>` without position
            else:
                row, column = self.row, self.column
                self.column += 1
            if row >= self.rows or column >= self.columns:
                self.rows, self.columns = max(self.rows, row + 1), max(self.columns, column + 1)
                _check_grid(self.file, self.sheet, self.rows, self.columns)


def _segments(chunks):
    """(buffer, start, end) spans of the decompressed stream, each from one `<` up to the next span's `<`:
    an element's start tag and the text after it are never split. The chunks are not copied: a span is an
    index range; only the bytes around a chunk boundary are joined. A span without `<` for longer than
    `_RUN_BYTES` is cut there (its text is already too long for a cell)."""
    carry = b""
    for chunk in chunks:
        first = chunk.find(b"<")
        if first < 0:
            carry += chunk
            if len(carry) > _RUN_BYTES:
                yield carry, 0, len(carry)
                carry = b""
            continue
        if carry:
            joined = carry + chunk[:first]
            yield joined, 0, len(joined)
        last = chunk.rfind(b"<")
        if last > first:
            yield chunk, first, last
        carry = chunk[last:]
    if carry:
        yield carry, 0, len(carry)


def _scan_member(handle, info: zipfile.ZipInfo, file: str, budget: _Budget | None, *, sheet: str | None,
                 worksheet: bool, text: bool) -> bool:
    """Scan one member in bounded chunks; True when a worksheet needs replaying element by element."""
    where = "the sheet" if worksheet else f"the shared strings ({info.filename})"
    first, replay, outside = True, not worksheet, None
    for buffer, start, end in _segments(_member_chunks(handle, info, file, budget)):
        if buffer.find(_DOCTYPE, start, end) >= 0:
            raise _doctype(file, info.filename)
        if text:
            if end - start > _RUN_BYTES and buffer.find(b"<", start + 1, end) < 0:
                raise _limit_error(file, f"a text of more than {_RUN_BYTES:,} bytes in {where}: at most "
                                   f"{limits.MAX_CELL_CHARS:,} characters, Excel's own limit", sheet=sheet)
            _long_text(buffer, start, end, file, where, sheet)
        if first and worksheet:
            first = False
            head = buffer.find(b"<sheetData", start, end)
            dimension = _DIMENSION.search(buffer, start, head if head >= 0 else end)
            area = _AREA.fullmatch(dimension.group(1).strip()) if dimension else None
            if area:
                letters, digits = (area.group(3), area.group(4)) if area.group(3) else (area.group(1), area.group(2))
                rows, columns = int(digits), _column_number(letters)
                _check_grid(file, sheet or info.filename, rows, columns,
                            declared=dimension.group(1).strip().decode("ascii", "replace").upper())
                if rows and columns:
                    outside = _outside(rows, columns)
            replay = outside is None
        if not replay and (outside.search(buffer, start, end) or _PREFIXED.search(buffer, start, end)):
            replay = True
    return worksheet and replay


def check_workbook(path: Path) -> None:
    """Refuse, with one `LoadError` naming the file, sheet and limit, a workbook that passes a bound of
    etl/limits.py, has a DOCTYPE, or is not a ZIP; nothing of a sheet is materialised. Remembered per file
    (same size and modification time), so the read-ahead thread, recognition and the adapter check once."""
    path = Path(path)
    stamp = _file_stamp(path)
    if stamp is not None and stamp in _checked:
        if _checked[stamp] is not None:
            raise _checked[stamp]
        return
    try:
        _check_workbook(path)
    except LoadError as error:
        _remember(stamp, error)
        raise
    _remember(stamp, None)


def _remember(stamp, outcome: LoadError | None) -> None:
    if stamp is None:
        return
    if len(_checked) >= 16:
        _checked.clear()
    _checked[stamp] = outcome


def _check_workbook(path: Path) -> None:
    file = path.name
    check_file_size(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise LoadError(file, "not a readable XLSX workbook (not a ZIP container: truncated or another format?)",
                        expected="an .xlsx workbook") from exc
    with archive, open(path, "rb") as handle:
        infos = archive.infolist()
        if len(infos) > limits.MAX_ZIP_MEMBERS:
            raise _limit_error(file, f"the workbook has {len(infos):,} members: at most {limits.MAX_ZIP_MEMBERS:,}")
        budget = _Budget(file)
        sheets, shared, done = _sheet_members(archive, handle, file, budget)
        for info in infos:
            name = info.filename
            worksheet = name in sheets or (not sheets and name.startswith("xl/worksheets/"))
            text = worksheet or name == shared or name.endswith("sharedStrings.xml")
            if name in done or not (worksheet or text or name.lower().endswith(_XML_PARTS)):
                continue
            sheet = sheets.get(name, name if worksheet else None)
            if _scan_member(handle, info, file, budget, sheet=sheet, worksheet=worksheet, text=text):
                replay = _Replay(file, sheet)
                for buffer, start, end in _segments(_member_chunks(handle, info, file, None)):
                    replay.feed(buffer, start, end)
