"""Roll-up rules on hand-computed cases: ratio of sums, partial, secret, undefined, illustrative."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from observatory.aggregate import parent_array, roll_up

# territories: 0 FR ← 1 REG ← 2, 3 DEP ; professions: 10 ensemble ← 11, 12
TERRITORY = parent_array({0: None, 1: 0, 2: 1, 3: 1})
PROFESSION = parent_array({10: None, 11: 10, 12: 10})
RULES = {1: "sum", 2: "ratio", 3: "none"}


def base(rows):
    frame = pd.DataFrame(rows, columns=["indicator_key", "profession_key", "territory_key", "value",
                                        "numerator", "denominator", "status"])
    return frame.assign(breakdown="", period=2023, is_derived=0)


def at(result, indicator, profession, territory):
    row = result[(result.indicator_key == indicator) & (result.profession_key == profession)
                 & (result.territory_key == territory)]
    assert len(row) == 1
    return row.iloc[0]


def test_ratio_is_a_ratio_of_sums_not_a_mean_of_ratios():
    result = roll_up(base([(2, 11, 2, 50.0, 1, 2, "ok"), (2, 11, 3, 10.0, 10, 100, "ok")]),
                     TERRITORY, PROFESSION, RULES)
    region = at(result, 2, 11, 1)
    assert region.value == pytest.approx(100 * 11 / 102)  # not (50 + 10) / 2
    assert (region.numerator, region.denominator, region.status) == (11, 102, "ok")


def test_missing_secret_child_makes_a_partial_lower_bound():
    result = roll_up(base([(1, 11, 2, 7.0, None, None, "ok"), (1, 11, 3, None, None, None, "secret")]),
                     TERRITORY, PROFESSION, RULES)
    assert (at(result, 1, 11, 0).value, at(result, 1, 11, 0).status) == (7.0, "partial")


def test_all_children_secret_gives_secret_null():
    result = roll_up(base([(1, 11, 2, None, None, None, "secret")]), TERRITORY, PROFESSION, RULES)
    row = at(result, 1, 10, 0)
    assert np.isnan(row.value) and row.status == "secret"


def test_zero_denominator_is_undefined_without_division_error():
    result = roll_up(base([(2, 11, 2, None, 0, 0, "undefined")]), TERRITORY, PROFESSION, RULES)
    row = at(result, 2, 11, 1)
    assert np.isnan(row.value) and row.status == "undefined"


def test_illustrative_wins_and_none_is_never_aggregated():
    result = roll_up(base([(1, 11, 2, 1.0, None, None, "illustrative"), (1, 12, 2, 2.0, None, None, "ok"),
                           (3, 11, 2, 9.0, None, None, "ok")]), TERRITORY, PROFESSION, RULES)
    assert (at(result, 1, 10, 0).value, at(result, 1, 10, 0).status) == (3.0, "illustrative")
    assert not (result.indicator_key == 3).any()


def test_published_keys_are_not_overwritten_by_aggregates():
    result = roll_up(base([(1, 11, 2, 1.0, None, None, "ok"), (1, 11, 1, 5.0, None, None, "ok")]),
                     TERRITORY, PROFESSION, RULES)
    assert not ((result.profession_key == 11) & (result.territory_key == 1)).any()


def test_ratio_published_without_parts_is_not_rolled_up():
    result = roll_up(base([(2, 11, 2, 71.65, None, None, "ok")]), TERRITORY, PROFESSION, RULES)
    assert result.empty
