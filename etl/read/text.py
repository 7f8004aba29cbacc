"""Text files: their encoding (UTF-8, cp1252, latin-1; UTF-16 and binary refused) and CSV as a frame of stripped
strings, bounded before pandas parses anything.

pandas is imported by `read_csv` only, so that `python -m etl load` can start reading a workbook before it
imports pandas.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

from etl import limits
from etl.errors import LoadError
from etl.read.files import check_file_size

if TYPE_CHECKING:
    import pandas as pd

# Tried in this order: cp1252 decodes every latin-1 text identically except bytes 0x80-0x9F, where
# French files written on Windows carry « œ », « … », « – »; latin-1 is the last resort.
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")


def detect_encoding(raw: bytes, file: str) -> str:
    """The first of `ENCODINGS` that decodes `raw`; UTF-16 and binary content are refused."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:4096]:
        raise LoadError("not_text", file)
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
    raise LoadError("undecodable", file)


def read_text(path: Path) -> tuple[str, str]:
    """The decoded text of `path` and the encoding used."""
    check_file_size(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LoadError("unreadable_file", str(path), reason=exc.strerror) from exc
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
        raise LoadError("empty_file", path.name)
    first = text.split("\n", 1)[0]
    if sep is None:
        sep = ";" if first.count(";") > first.count(",") else ","
    lines = max(text.count("\n"), text.count("\r")) + 1
    fields = first.count(sep) + 1
    if lines - 1 > limits.MAX_ROWS or fields > limits.MAX_COLUMNS or (lines - 1) * fields > limits.MAX_CELLS:
        raise LoadError("csv_too_large", path.name, lines=lines, fields=fields, max_rows=limits.MAX_ROWS,
                          max_columns=limits.MAX_COLUMNS, max_cells=limits.MAX_CELLS)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            quoting=csv.QUOTE_MINIMAL, skipinitialspace=False)
    except (pd.errors.ParserError, ValueError, OverflowError) as exc:
        raise LoadError("unreadable_csv", path.name, detail=exc) from exc
    del text
    if len(frame) > limits.MAX_ROWS or frame.shape[1] > limits.MAX_COLUMNS:
        raise LoadError("table_too_large", path.name, rows=len(frame), columns=frame.shape[1],
                          max_rows=limits.MAX_ROWS, max_columns=limits.MAX_COLUMNS)
    frame.columns = [str(c).strip() for c in frame.columns]
    too_long = [c for c in frame.columns if len(c) > limits.MAX_CELL_CHARS]
    if too_long:
        raise LoadError("header_too_long", path.name, chars=len(too_long[0]), most=limits.MAX_CELL_CHARS)
    frame = frame.loc[:, [not (c == "" or c.startswith("Unnamed:")) for c in frame.columns]]
    for position in range(frame.shape[1]):  # by position: a header may repeat
        column = frame.iloc[:, position].fillna("")
        lengths = column.str.len().to_numpy()
        if len(lengths) and lengths.max() > limits.MAX_CELL_CHARS:
            row = int(lengths.argmax())
            raise LoadError("field_too_long", path.name, row=row + 2, column=str(frame.columns[position]),
                            chars=int(lengths[row]), most=limits.MAX_CELL_CHARS)
        frame.isetitem(position, column.str.strip())
    return frame, encoding
