"""Bounds of an XLSX container: a hostile workbook is refused before calamine allocates anything (values in
etl/limits.py).

A streaming pre-check of the ZIP: every member the reader reads is decompressed here in bounded chunks (the
ZIP's size fields are never trusted), its total counted against MAX_XLSX_DECOMPRESSED_BYTES; a DOCTYPE (the
door to entity bombs) is refused; worksheets are scanned for the furthest cell calamine would place (its
dense grid runs from A1 to there: `grid.py`) and for their declared `<dimension ref>`; worksheets and shared
strings are scanned for a text longer than MAX_CELL_CHARS. Only C-speed searches run over the bytes on the usual
path: a worksheet whose every `<c>` and `<row>` starts with `r="…"` inside its declared dimension (what Excel,
openpyxl and xlsxwriter write) is proven in two regex passes; anything else (cells or rows without `r`, which
calamine numbers sequentially, other attribute orders, namespace prefixes, lowercase references, cells past
the dimension) is replayed element by element as calamine reads it.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from pathlib import Path
from xml.etree import ElementTree

from etl import limits
from etl.errors import LoadError
from etl.read.files import check_file_size, file_stamp
from etl.read.grid import Replay, check_grid, column_number, outside_cells
from etl.read.parts import local, target

_CHUNK = 4 * 1024 * 1024
_XML_PARTS = (".xml", ".rels", ".vml")
_PART_BYTES = 16 * 1024 * 1024  # workbook.xml and its relationships, parsed whole to name the sheets
_RUN_BYTES = 10 * limits.MAX_CELL_CHARS + 1024  # the longest text of MAX_CELL_CHARS characters (&#1114111; each)
_DOCTYPE = b"<!DOCTYPE"
_DIMENSION = re.compile(rb'<(?:[\w.-]+:)?dimension\s[^>]*?\bref\s*=\s*["\']([^"\']{1,40})')
_AREA = re.compile(rb"\$?([A-Za-z]{1,7})\$?(\d{1,10})(?::\$?([A-Za-z]{1,7})\$?(\d{1,10}))?")
_PREFIXED = re.compile(rb':c[\s>/]')
_ENTITY = re.compile(rb"&[^;&<]{1,10};|_x[0-9A-Fa-f]{4}_")
_checked: dict[tuple[str, int, int], LoadError | None] = {}


class _Budget:
    """Decompressed bytes read so far, over every member of one workbook."""

    def __init__(self, file: str):
        self.file, self.total = file, 0

    def add(self, size: int, member: str) -> None:
        self.total += size
        if self.total > limits.MAX_XLSX_DECOMPRESSED_BYTES:
            raise LoadError("zip_bomb", self.file, member=member, most=limits.MAX_XLSX_DECOMPRESSED_BYTES)


def _member_chunks(handle, info: zipfile.ZipInfo, file: str, budget: _Budget | None):
    """The decompressed bytes of one member, in chunks of at most `_CHUNK`, whatever its header says."""
    if info.flag_bits & 0x1:
        raise LoadError("encrypted_member", file, member=info.filename)
    handle.seek(info.header_offset)
    header = handle.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise LoadError("unreadable_member", file, member=info.filename, detail="bad local header")
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
        raise LoadError("compressed_member", file, member=info.filename, method=info.compress_type)
    inflate = zlib.decompressobj(-15)
    while True:
        if not pending and left > 0:
            pending = handle.read(min(left, 1024 * 1024))
            left = left - len(pending) if pending else 0
        try:
            out = inflate.decompress(pending, _CHUNK)  # at most _CHUNK bytes out, whatever comes in
        except zlib.error as exc:
            raise LoadError("unreadable_member", file, member=info.filename, detail=exc) from exc
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
            raise LoadError("part_too_large", file, member=info.filename, most=_PART_BYTES)
        parts.append(chunk)
    data = b"".join(parts)
    if _DOCTYPE in data:
        raise _doctype(file, info.filename)
    return data


def _doctype(file: str, member: str) -> LoadError:
    return LoadError("doctype", file, member=member)


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
                    book = target("", rel.get("Target", book))
        base = posixpath.dirname(book)
        rels = posixpath.join(base, "_rels", posixpath.basename(book) + ".rels")
        targets, shared = {}, None
        for rel in part(rels) if rels in infos else ():
            targets[rel.get("Id")] = target(base, rel.get("Target", ""))
            if rel.get("Type", "").endswith("/sharedStrings"):
                shared = targets[rel.get("Id")]
        sheets = {}
        for element in part(book).iter() if book in infos else ():
            if local(element.tag) == "sheet":
                rid = next((v for k, v in element.attrib.items() if local(k) == "id"), None)
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
            raise LoadError("text_too_long", file, sheet=sheet, chars=chars, place=where,
                            most=limits.MAX_CELL_CHARS)
        i = stop + 1



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
                raise LoadError("run_too_long", file, sheet=sheet, size=_RUN_BYTES, place=where,
                                most=limits.MAX_CELL_CHARS)
            _long_text(buffer, start, end, file, where, sheet)
        if first and worksheet:
            first = False
            head = buffer.find(b"<sheetData", start, end)
            dimension = _DIMENSION.search(buffer, start, head if head >= 0 else end)
            area = _AREA.fullmatch(dimension.group(1).strip()) if dimension else None
            if area:
                letters, digits = (area.group(3), area.group(4)) if area.group(3) else (area.group(1), area.group(2))
                rows, columns = int(digits), column_number(letters)
                check_grid(file, sheet or info.filename, rows, columns,
                            declared=dimension.group(1).strip().decode("ascii", "replace").upper())
                if rows and columns:
                    outside = outside_cells(rows, columns)
            replay = outside is None
        if not replay and (outside.search(buffer, start, end) or _PREFIXED.search(buffer, start, end)):
            replay = True
    return worksheet and replay


def check_workbook(path: Path) -> None:
    """Refuse, with one `LoadError` naming the file, sheet and limit, a workbook that passes a bound of
    etl/limits.py, has a DOCTYPE, or is not a ZIP; nothing of a sheet is materialised. Remembered per file
    (same size and modification time), so the read-ahead thread, recognition and the adapter check once."""
    path = Path(path)
    stamp = file_stamp(path)
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
        raise LoadError("not_zip", file) from exc
    with archive, open(path, "rb") as handle:
        infos = archive.infolist()
        if len(infos) > limits.MAX_ZIP_MEMBERS:
            raise LoadError("too_many_members", file, members=len(infos), most=limits.MAX_ZIP_MEMBERS)
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
                replay = Replay(file, sheet)
                for buffer, start, end in _segments(_member_chunks(handle, info, file, None)):
                    replay.feed(buffer, start, end)
