"""The grid calamine would allocate for a worksheet: from A1 to the furthest cell it places, checked against
MAX_ROWS, MAX_COLUMNS and MAX_CELLS (etl/limits.py) — by a regex proving every cell inside the declared dimension
on the usual path, else by replaying the cells as calamine numbers them (`Replay`)."""
from __future__ import annotations

import functools
import re

from etl import limits
from etl.errors import LoadError

_ELEMENT = re.compile(rb'<(/?)(?:[A-Za-z_][\w.\-]*:)?(c|row)(?=[\s>/])((?:[^>"\']|"[^"]*"|\'[^\']*\')*)>')
_R_ATTRIBUTE = re.compile(rb'(?:^|\s)r\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
_REFERENCE = re.compile(rb'\$?([A-Za-z]{1,7})?\$?(\d{1,10})?')


def column_number(letters: bytes) -> int:
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
def outside_cells(rows: int, columns: int) -> re.Pattern:
    """A regex finding a `<c>` not of the canonical form `r="…"` within a grid that holds rows × columns and
    stays within the limits.

    The cheapest test that proves the limits is used: as many digits and letters as the declared end
    (`N50438` → any cell up to Z99999: one character class each), else the same first digit and letter
    (`CX43509` → up to CZ49999), else the exact comparison (three times slower)."""
    letters, digits = _column_letters(columns), str(rows)
    top, k, a = int(digits[0]), len(digits), len(letters)
    if _within(10 ** k - 1, column_number(b"Z" * a)):
        row, column = f"[1-9][0-9]{{0,{k - 1}}}", f"[A-Z]{{1,{a}}}"
    elif _within((top + 1) * 10 ** (k - 1) - 1, column_number((letters[0] + "Z" * (a - 1)).encode())):
        row = f"(?:[1-9][0-9]{{0,{k - 2}}}|[1-{top}][0-9]{{{k - 1}}})" if k > 1 else f"[1-{top}]"
        column = f"(?:[A-Z]{{1,{a - 1}}}|[A-{letters[0]}][A-Z]{{{a - 1}}})" if a > 1 else f"[A-{letters[0]}]"
    else:
        row, column = _at_most(digits, "0123456789"), _at_most(letters, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return re.compile(f'<c(?! r="{column}{row}")[\\s>/]'.encode())


def check_grid(file: str, sheet: str, rows: int, columns: int, *, declared: str | None = None) -> None:
    cells = rows * columns
    if _within(rows, columns):
        return
    size = f"{rows:,} row{'s' * (rows != 1)} × {columns:,} column{'s' * (columns != 1)}"
    what = f"declares {declared} ({size})" if declared else f"spans {size}"
    raise LoadError("sheet_too_large", file, sheet=sheet, extent=what, cells=cells, max_rows=limits.MAX_ROWS,
                    max_columns=limits.MAX_COLUMNS, max_cells=limits.MAX_CELLS)



class Replay:
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
                row, column = int(parsed.group(2)) - 1, column_number(parsed.group(1)) - 1
                if not empty:
                    self.column = column + 1
            elif empty:
                continue  # calamine skips an empty `<c/>` without position
            else:
                row, column = self.row, self.column
                self.column += 1
            if row >= self.rows or column >= self.columns:
                self.rows, self.columns = max(self.rows, row + 1), max(self.columns, column + 1)
                check_grid(self.file, self.sheet, self.rows, self.columns)
