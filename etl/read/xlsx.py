"""XLSX workbooks: opened with python-calamine after the bounds pre-check (`zipsafe.check_workbook`), one sheet's
cells as rows, and the header row of every sheet read from the XML parts without loading any sheet whole
(recognising a layout never loads a large sheet)."""
from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from etl.errors import LoadError
from etl.read import readahead
from etl.read.parts import local, target
from etl.read.zipsafe import check_workbook


def open_workbook(path: Path):
    """A python-calamine workbook, or a `LoadError` for a truncated, non-XLSX or out-of-bounds file
    (`check_workbook` runs before calamine opens anything).

    When `read_ahead` started reading this very file (same size and modification time), its sheets come
    from there.
    """
    from python_calamine import CalamineWorkbook

    path = Path(path)
    book = readahead.take(path)
    if isinstance(book, LoadError):
        raise book
    if book is not None:
        return book
    if not zipfile.is_zipfile(path):
        raise LoadError("not_zip", path.name)
    check_workbook(path)
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine and zipfile raise many types for a damaged file
        raise LoadError("unreadable_workbook", path.name, detail=exc) from exc


def sheet_rows(workbook, name: str, file: str) -> list[list]:
    """The cells of one sheet as rows."""
    try:  # a damaged member (bad checksum, cut stream) surfaces here
        return workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as exc:
        raise LoadError("unreadable_sheet", file, sheet=name, detail=exc) from exc



MAX_HEADER_CELLS = 16_384  # Excel's column limit: a header row is never longer


# --- Header rows of every sheet, from the XLSX parts: recognising a layout never loads a whole sheet ---

class _Shared(int):
    """A cell that points into the shared-strings table."""


def cell_text(value) -> str:
    """A cell as the text a reader sees: '' for an empty or NaN cell, 1972.0 → '1972' (calamine gives every
    number as a float), stripped."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


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
        tag = local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(t.text or "" for t in child if local(t.tag) == "t")
    return "".join(parts)


def _cell(element):
    kind = element.get("t", "n")
    if kind == "inlineStr":
        inline = next((c for c in element if local(c.tag) == "is"), None)
        return "" if inline is None else _inline_text(inline)
    value = next((c.text for c in element if local(c.tag) == "v"), None)
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
            tag = local(element.tag)
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
            if local(element.tag) == "si":
                strings.append(_inline_text(element))
                element.clear()
                if len(strings) >= needed:
                    break
    return strings



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
                    book = target("", rel.get("Target", book))
        base = posixpath.dirname(book)
        targets, shared = {}, None
        for rel in ElementTree.fromstring(archive.read(posixpath.join(base, "_rels", posixpath.basename(book)
                                                                      + ".rels"))):
            targets[rel.get("Id")] = target(base, rel.get("Target", ""))
            if rel.get("Type", "").endswith("/sharedStrings"):
                shared = targets[rel.get("Id")]
        rows: dict[str, list] = {}
        for element in ElementTree.fromstring(archive.read(book)).iter():
            if local(element.tag) != "sheet":
                continue
            rid = next((v for k, v in element.attrib.items() if local(k) == "id"), None)
            if targets.get(rid) in members:
                rows[element.get("name", "")] = _first_row(archive, targets[rid])
        needed = max((v + 1 for row in rows.values() for v in row if isinstance(v, _Shared)), default=0)
        strings = _shared_strings(archive, shared if shared in members else None, needed)
    return {name: [(strings[v] if v < len(strings) else None) if isinstance(v, _Shared) else v for v in row]
            for name, row in rows.items()}
