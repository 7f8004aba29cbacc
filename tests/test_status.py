"""One status module: the load-time roll-up and the query-time shares combine statuses by one precedence.

Every pair of cells (every status, with and without a value), both ways round: the roll-up of the two cells
(`aggregate.roll_up`) and the share of one over the other (`queries.computed_share`) get the status
`status.combine` gives, and where both cells have a value the sum and the share agree.
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from observatory import catalogue, exports, figures, queries, schema, status
from observatory.aggregate import parent_array, roll_up

# `secret` and `missing` (DREES « ND ») cells have no value; a demo `nd` has none either
CELLS = [(code, code not in ("secret", "missing")) for code in status.CODES] + [("illustrative", False)]
PAIRS = list(itertools.product(CELLS, repeat=2))
SHARE = "recruitment_seasonal_share"
NUMERATOR, DENOMINATOR = catalogue.COMPUTED[SHARE]


def _id(pair) -> str:
    return " + ".join(f"{code}{'' if known else ' (no value)'}" for code, known in pair)


def rolled_up(a: tuple[str, bool], b: tuple[str, bool]) -> str:
    """Two départements (2, 3) of one région (1): the région's status for a count."""
    rows = [(1, 11, territory, 7.0 if known else np.nan, np.nan, np.nan, code)
            for territory, (code, known) in ((2, a), (3, b))]
    base = pd.DataFrame(rows, columns=["indicator_key", "profession_key", "territory_key", "value", "numerator",
                                       "denominator", "status"]).assign(breakdown="", period=2023, is_derived=0)
    result = roll_up(base, parent_array({0: None, 1: 0, 2: 1, 3: 1}), parent_array({10: None, 11: 10}),
                     {1: "sum"})
    return result[(result.territory_key == 1) & (result.profession_key == 11)].status.item()


def shared(numerator: tuple[str, bool], denominator: tuple[str, bool]) -> str:
    """The query-time share of one cell's numerator over its denominator."""
    counts = pd.DataFrame([
        {"indicator_id": indicator, "profession_id": "p", "territory_id": "FR", "breakdown": None, "period": 2023,
         "value": value if known else np.nan, "numerator": np.nan, "denominator": np.nan, "status": code,
         "is_derived": 0, "source_id": "s", "series_break": None}
        for indicator, value, (code, known) in ((NUMERATOR, 3.0, numerator), (DENOMINATOR, 10.0, denominator))])
    return queries.computed_share(SHARE, counts).status.item()


@pytest.mark.parametrize("pair", PAIRS, ids=[_id(p) for p in PAIRS])
def test_one_precedence_for_the_roll_up_and_the_query_time_share(pair):
    (a, known_a), (b, known_b) = pair
    codes, known = (a, b), (known_a, known_b)
    assert rolled_up(*pair) == rolled_up(*reversed(pair)) == status.combine(codes, known)
    assert shared(*pair) == shared(*reversed(pair)) == status.combine(codes, known, all_parts=True)
    if all(known):  # the same cells, summed or divided: the same status
        assert rolled_up(*pair) == shared(*pair)


def test_the_precedence_names_every_status_once_and_the_labels_cover_them():
    assert sorted(status.PRECEDENCE) == sorted(status.CODES) == sorted(status.LABELS)
    assert schema.STATUSES == status.CODES and set(status.SHORT) == set(status.CODES) - {"ok"}
    assert status.label("ok") == "publié" and status.label("secret") == "secret statistique"
    assert figures.STATUS_LABELS is status.LABELS and exports.status_label is status.label
    styled = set(figures.STATUS_SYMBOLS) | set(figures.STATUS_PATTERNS) | set(status.MARKED)
    assert styled <= set(status.CODES)  # a chart never styles a status the store cannot hold


def test_the_cases_the_two_layers_used_to_disagree_on():
    """A provisional part made the share `ok`, an illustrative part without a value made it `illustrative`."""
    assert shared(("provisional", True), ("ok", True)) == "provisional"
    assert shared(("illustrative", False), ("illustrative", True)) == "illustrative_incomplete"
    assert rolled_up(("illustrative_incomplete", True), ("ok", True)) == "illustrative_incomplete"
    assert rolled_up(("secret", False), ("secret", False)) == shared(("secret", False), ("ok", True)) == "secret"
