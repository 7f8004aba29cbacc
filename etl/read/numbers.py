"""French numbers ("1 234,5", narrow no-break spaces) and secret markers, parsed once per distinct cell value;
what is never a figure (inf, NaN, overflow, out of bounds) flagged."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from etl import limits
from etl.errors import reason

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

SECRET_MARKERS = frozenset({"*", "s", "nd", "nr", "ns", "nc", "/", "-", "n"})

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]")


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


NON_FINITE = reason("non_finite")  # why a non-finite cell is rejected


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
