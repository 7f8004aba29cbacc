"""The status of an observation: its codes, their French words, and how statuses combine.

One module because three things must never drift apart: the code stored in `observation.status`, the words a
page, a chart or an export writes for it, and the precedence that gives a figure made of several cells (a
roll-up at load time in `aggregate`, a share computed at query time in `queries`) its status. Pure Python and
numpy; anything in `observatory/` may import it, it imports nothing of the project.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

CODES = ("ok", "secret", "provisional", "estimated", "partial", "illustrative", "illustrative_incomplete",
         "undefined", "missing")  # what `observation.status` may hold (the schema's CHECK)

# The words a page, a chart's hover and an export's « Statut » write (`label`: « publié » for a plain value).
LABELS = {
    "ok": "", "secret": "secret statistique", "partial": "partiel : cellules secrètes exclues",
    "provisional": "provisoire", "estimated": "estimé", "illustrative": "données fictives calibrées",
    "undefined": "non calculable", "illustrative_incomplete": "fictif, incomplet : cellules non renseignées",
    # Not transmitted to the producer (DREES « ND »): no value, and no suppression either (never `secret`).
    "missing": "non disponible",
}
PUBLISHED = "publié"  # the label of `ok` where a column needs a word
# A word for the value's quality, written beside it (summaries, bar labels): « 100,0 % (Ardennes, partiel) ».
SHORT = {"secret": "secret", "partial": "partiel", "provisional": "provisoire", "estimated": "estimé",
         "illustrative": "fictif", "illustrative_incomplete": "fictif, incomplet", "undefined": "non calculable",
         "missing": "non disponible"}

# What a cell brings to a figure it is part of.
ILLUSTRATIVE = ("illustrative", "illustrative_incomplete")  # demo data: the figure is demo data too
INCOMPLETE = ("partial", "illustrative_incomplete")  # a cell that itself misses cells: so does the figure
MARKED = INCOMPLETE  # the cells a map outlines (its value is a lower bound or misses demo cells)

# The status of a figure made of several cells: the first that holds, in this order.
PRECEDENCE = ("illustrative_incomplete", "illustrative", "missing", "secret", "undefined", "partial",
              "provisional", "estimated", "ok")


def label(code: str) -> str:
    """A status as the pages and French exports write it: « publié », « secret statistique »…"""
    return LABELS.get(code, code) or PUBLISHED


def is_illustrative(statuses) -> np.ndarray:
    """Per cell: demo data (`illustrative`, `illustrative_incomplete`)."""
    return np.isin(np.asarray(statuses, dtype=object), ILLUSTRATIVE)


def is_incomplete(statuses) -> np.ndarray:
    """Per cell: a figure that itself misses cells (`partial`, `illustrative_incomplete`)."""
    return np.isin(np.asarray(statuses, dtype=object), INCOMPLETE)


def resolve(*, illustrative, missing, unknown, undefined, provisional, estimated, unavailable=None) -> np.ndarray:
    """The status of each combined figure from what its cells bring (boolean arrays, one entry per figure):

    `illustrative` a demo cell; `missing` a cell without a value or itself incomplete; `unknown` no value at all
    (nothing known, or a share missing a part); `undefined` a ratio whose denominator is zero; `provisional`,
    `estimated` a cell so marked; `unavailable` (optional) no value because every cell lacking one is `missing`
    (not transmitted), so the figure is `missing` rather than `secret`. The first condition of PRECEDENCE that
    holds wins."""
    unavailable = np.zeros_like(np.asarray(unknown, dtype=bool)) if unavailable is None else unavailable
    holds = {"illustrative_incomplete": np.logical_and(illustrative, missing), "illustrative": illustrative,
             "missing": np.logical_and(unknown, unavailable),
             "secret": unknown, "undefined": undefined, "partial": missing, "provisional": provisional,
             "estimated": estimated}
    if not len(np.atleast_1d(holds["illustrative"])):
        return np.array([], dtype=object)
    return np.select([np.asarray(holds[code], dtype=bool) for code in PRECEDENCE[:-1]], list(PRECEDENCE[:-1]),
                     default="ok").astype(object)


def combine(statuses: Iterable[str], known: Iterable[bool], *, all_parts: bool = False,
            undefined: bool = False) -> str:
    """The status of one figure made of cells with these statuses, `known` saying which cells have a value.

    A sum (`all_parts=False`) is known as soon as one cell is (a lower bound when another is missing); a share
    of two counts (`all_parts=True`) needs every part. `undefined`: its denominator is zero. The reference
    the roll-up (`aggregate`) and the query-time shares (`queries`) both follow (tests/test_status.py)."""
    codes, values = np.array(list(statuses), dtype=object), np.array(list(known), dtype=bool)
    missing = bool((~values).any() or is_incomplete(codes).any())
    unknown = not values.all() if all_parts else not values.any()
    unavailable = bool((codes[~values] == "missing").all())
    return str(resolve(illustrative=[bool(is_illustrative(codes).any())], missing=[missing], unknown=[unknown],
                       undefined=[undefined and not unknown], provisional=[bool((codes == "provisional").any())],
                       estimated=[bool((codes == "estimated").any())], unavailable=[unavailable])[0])
