"""Columns of a read table: headers compared without case, accents or spaces, roles found by regex, and a
function applied once per distinct cell value."""
from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from etl.errors import LoadError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


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
            raise LoadError("several_columns", file, sheet=sheet, row=1, role=role, found=[header[i] for i in hits])
        elif role in wanted:
            raise LoadError("missing_column", file, sheet=sheet, row=1, role=role, pattern=pattern,
                            found=[str(h) for h in header])
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
