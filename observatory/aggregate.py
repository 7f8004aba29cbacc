"""Roll-ups along the territory and profession trees (pure functions on frames).

Counts are summed; ratios are recomputed as the ratio of summed numerators and denominators, never as
a mean of ratios. Statuses combine as `observatory.status` says (one precedence with the query-time shares):
an aggregate that misses a secret child is `partial` (a lower bound for counts); one
with no known child at all is `secret`; one with an illustrative child is `illustrative`, or
`illustrative_incomplete` when it misses cells (an `nd` of demo data is never `secret`; the totals of 1 to 4
establishments are, by the observatory's own rule: `secrecy.py`, applied by the loader); a ratio whose summed
denominator is zero is `undefined` (no division, no value).

Frames carry the store's integer keys (`indicator_key`, `profession_key`, `territory_key`) and the
trees are given as parent arrays (`parent[key]`, -1 at the root), so each climb is array indexing
plus one group-by.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from observatory import status as statuses

KEYS = ["indicator_key", "profession_key", "territory_key", "breakdown", "period"]
_SUMS = ["num", "den", "n_known", "n_missing", "n_illustrative", "n_provisional", "n_estimated", "n_secret"]


def parent_array(parents: dict[int, int | None]) -> np.ndarray:
    """`parents` (key → parent key or None) as an array indexed by key, -1 for no parent."""
    size = max(parents, default=-1) + 1
    out = np.full(size, -1, dtype=np.int64)
    for child, parent in parents.items():
        out[child] = -1 if parent is None else parent
    return out


def _prepare(base: pd.DataFrame, aggregation: dict[int, str]) -> pd.DataFrame:
    rule = base["indicator_key"].map(aggregation)
    frame = base.loc[rule.isin(["sum", "ratio"]).to_numpy()]
    is_ratio = (rule.loc[frame.index] == "ratio").to_numpy()
    value = frame["value"].to_numpy(float)
    num = frame["numerator"].to_numpy(float)
    den = frame["denominator"].to_numpy(float)
    # A ratio child contributes through its parts; a count child through its value. A ratio child whose
    # numerator is secret but whose denominator is known (BMO: xmet secret, met published) counts in the
    # denominator only, as the publisher counts it: the total is then a lower bound (`partial`).
    known = np.where(is_ratio, ~np.isnan(num) & ~np.isnan(den), ~np.isnan(value))
    denominator_only = is_ratio & np.isnan(num) & ~np.isnan(den)
    status = frame["status"].to_numpy(object)
    out = pd.DataFrame({
        "indicator_key": frame["indicator_key"].to_numpy(np.int64),
        "profession_key": frame["profession_key"].to_numpy(np.int64),
        "territory_key": frame["territory_key"].to_numpy(np.int64),
        "breakdown": frame["breakdown"].to_numpy(object),
        "period": frame["period"].to_numpy(np.int64),
        "num": np.where(known, np.where(is_ratio, num, value), 0.0),
        "den": np.where((known | denominator_only) & is_ratio, den, 0.0),
        "n_known": known.astype(np.int64),
        "n_missing": (~known | statuses.is_incomplete(status)).astype(np.int64),
        "n_illustrative": statuses.is_illustrative(status).astype(np.int64),
        "n_provisional": (status == "provisional").astype(np.int64),
        "n_estimated": (status == "estimated").astype(np.int64),
        "n_secret": (~known & (status != "missing")).astype(np.int64),  # unknown for a reason other than « ND »
    })
    # A ratio published without its parts (DARES rates) is not rolled up.
    with_parts = np.unique(out["indicator_key"].to_numpy()[is_ratio & known])
    keep = ~is_ratio | np.isin(out["indicator_key"].to_numpy(), with_parts)
    return out.loc[keep].reset_index(drop=True)


class _Keys:
    """Packs the five key columns into one int64 so that each group-by hashes a single column."""

    def __init__(self, frame: pd.DataFrame, territory_parent: np.ndarray, profession_parent: np.ndarray,
                 breakdowns: list[str]) -> None:
        self.breakdowns = pd.Index(breakdowns)
        periods = frame["period"].to_numpy()
        self.first_period = int(periods.min())
        self.sizes = (
            int(frame["indicator_key"].max()) + 1,
            max(len(profession_parent), int(frame["profession_key"].max()) + 1),
            max(len(territory_parent), int(frame["territory_key"].max()) + 1),
            len(self.breakdowns),
            int(periods.max()) - self.first_period + 1,
        )
        if np.prod([float(n) for n in self.sizes]) >= 2.0 ** 62:
            raise OverflowError("too many distinct keys to pack")

    def pack(self, ind, prof, terr, brk, period) -> np.ndarray:
        _, n_prof, n_terr, n_brk, n_year = self.sizes
        return (((ind * n_prof + prof) * n_terr + terr) * n_brk + brk) * n_year + (period - self.first_period)

    def unpack(self, key: np.ndarray) -> dict[str, np.ndarray]:
        _, n_prof, n_terr, n_brk, n_year = self.sizes
        key, period = np.divmod(key, n_year)
        key, brk = np.divmod(key, n_brk)
        key, terr = np.divmod(key, n_terr)
        ind, prof = np.divmod(key, n_prof)
        return {"indicator_key": ind, "profession_key": prof, "territory_key": terr,
                "breakdown": self.breakdowns.to_numpy()[brk], "period": period + self.first_period}


def _climb(sums: pd.DataFrame, parts: dict[str, np.ndarray], column: str, parent: np.ndarray,
           keys: _Keys) -> list[tuple[dict[str, np.ndarray], pd.DataFrame]]:
    """Sums at every ancestor along `column`, one level at a time (each step covers disjoint base rows)."""
    steps = []
    while len(sums):
        current = parts[column]
        parents = np.where(current < len(parent), parent[np.minimum(current, len(parent) - 1)], -1)
        has_parent = parents >= 0
        if not has_parent.any():
            break
        moved = {c: (parents if c == column else v)[has_parent] for c, v in parts.items()}
        packed = keys.pack(moved["indicator_key"], moved["profession_key"], moved["territory_key"],
                           moved["breakdown"], moved["period"])
        sums = sums.loc[has_parent].groupby(packed, sort=False).sum()
        parts = keys.unpack(sums.index.to_numpy())
        parts["breakdown"] = keys.breakdowns.get_indexer(parts["breakdown"])
        steps.append((parts, sums))
    return steps


def roll_up(
    base: pd.DataFrame,
    territory_parent: np.ndarray,
    profession_parent: np.ndarray,
    aggregation: dict[int, str],
    breakdown_parent: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Every aggregate of `base` over breakdown, profession and territory ancestors, and their combinations.

    `base` has the columns of KEYS plus value, numerator, denominator and status. `breakdown_parent` maps
    a sub-population to the one it belongs to (`esms:500` → `` for all categories). Returns derived
    observations (is_derived = 1) for the keys not already in `base`.
    """
    columns = KEYS + ["value", "numerator", "denominator", "status", "is_derived"]
    prepared = _prepare(base, aggregation)
    if prepared.empty:
        return pd.DataFrame(columns=columns)
    breakdown_parent = breakdown_parent or {}
    names = list(dict.fromkeys([*pd.unique(prepared["breakdown"]), *breakdown_parent.values()]))
    keys = _Keys(prepared, territory_parent, profession_parent, names)
    breakdown_tree = np.array([names.index(breakdown_parent[b]) if b in breakdown_parent else -1 for b in names],
                              dtype=np.int64)
    parts = {c: prepared[c].to_numpy(np.int64) for c in ("indicator_key", "profession_key", "territory_key", "period")}
    parts["breakdown"] = keys.breakdowns.get_indexer(prepared["breakdown"])
    levels = [(parts, prepared[_SUMS].reset_index(drop=True))]
    steps = []
    for column, tree in (("breakdown", breakdown_tree), ("profession_key", profession_parent),
                         ("territory_key", territory_parent)):
        start_parts = {c: np.concatenate([p[c] for p, _ in levels]) for c in parts}
        start_sums = pd.concat([s for _, s in levels], ignore_index=True)
        climbed = _climb(start_sums, start_parts, column, tree, keys)
        levels += climbed
        steps += climbed
    if not steps:
        return pd.DataFrame(columns=columns)
    packed = np.concatenate([s.index.to_numpy() for _, s in steps])
    summed = pd.concat([s for _, s in steps], ignore_index=True).groupby(packed, sort=False).sum()
    summed_index = summed.index.to_numpy()
    unpacked = keys.unpack(summed_index)
    summed = pd.DataFrame({**unpacked, **{c: summed[c].to_numpy() for c in _SUMS}})
    return _finish(summed, base, aggregation, keys, packed_sums=summed_index)[columns]


def _finish(summed: pd.DataFrame, base: pd.DataFrame, aggregation: dict[int, str], keys: _Keys,
            packed_sums: np.ndarray) -> pd.DataFrame:
    is_ratio = (summed["indicator_key"].map(aggregation) == "ratio").to_numpy()
    num = summed["num"].to_numpy(float)
    den = summed["den"].to_numpy(float)
    known = summed["n_known"].to_numpy() > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den > 0, 100.0 * num / den, np.nan)
    status = statuses.resolve(
        illustrative=summed["n_illustrative"].to_numpy() > 0, missing=summed["n_missing"].to_numpy() > 0,
        unknown=~known, undefined=is_ratio & ~(den > 0), provisional=summed["n_provisional"].to_numpy() > 0,
        estimated=summed["n_estimated"].to_numpy() > 0, unavailable=summed["n_secret"].to_numpy() == 0)
    out = summed[KEYS].copy()
    out["breakdown"] = out["breakdown"].astype(object)
    out["value"] = np.where(~known, np.nan, np.where(is_ratio, ratio, num))
    out["numerator"] = np.where(is_ratio & known, num, np.nan)
    # A share whose every numerator is secret keeps its denominator, as its cells do.
    out["denominator"] = np.where(is_ratio & (den > 0), den, np.nan)
    out["status"] = status
    out["is_derived"] = 1
    # Keys the source published itself stay as published: compare packed keys (one int64 each).
    breakdown = base["breakdown"].fillna("").astype(object).to_numpy()
    codes = (np.full(len(base), keys.breakdowns.get_loc(""), dtype=np.int64) if "" in keys.breakdowns
             and not breakdown.any() else keys.breakdowns.get_indexer(breakdown))
    sizes = np.array(keys.sizes)
    columns = [base["indicator_key"].to_numpy(np.int64), base["profession_key"].to_numpy(np.int64),
               base["territory_key"].to_numpy(np.int64), codes.astype(np.int64),
               base["period"].to_numpy(np.int64) - keys.first_period]
    packable = np.all([(c >= 0) & (c < n) for c, n in zip(columns, sizes)], axis=0)
    published = keys.pack(*[c[packable] for c in columns[:4]], columns[4][packable] + keys.first_period)
    already = pd.Index(published).unique()  # hash lookups: np.isin would sort both arrays
    return out.loc[already.get_indexer(packed_sums) < 0].reset_index(drop=True)
