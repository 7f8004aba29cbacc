"""Statistical secrecy the observatory applies itself to totals of establishment figures (TDBMS).

A cell (territory × ESMS category or all categories × period) that adds up 1 to `MIN_PEERS` − 1 establishments
would disclose them (with one, it *is* that establishment's figure): it is **primary** secret. A secret cell that
could be recomputed by subtraction — a published total minus its published parts — is no secret, so
**complementary** (secondary) suppression hides the smallest published part next to it, until every published
total has either no secret part or at least two (Insee's « Guide du secret statistique » and τ-ARGUS's primary
and secondary suppression). The totals checked are the two ways the cells add up: the categories of a territory
make its all-category cell, and the territories below a parent (départements of a région, régions of France) make
the parent's cell of the same category. Suppression is by cell, for every indicator at once: the indicators share
their parts (the headcount is the denominator of three rates), so hiding one and not another would leak it.

Pure functions on frames; the loader calls `protect` while writing a load's totals, so the store, the pages,
the exports and the API all carry the same `secret` cells (value, numerator and denominator NULL).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from observatory.benchmarks import MIN_PEERS

CELL = ["territory_key", "breakdown", "period"]
RULE_FR = (
    "Secret statistique appliqué par l'observatoire aux chiffres d'établissements (tableau de bord de la "
    f"performance) : un total qui regroupe de 1 à {MIN_PEERS - 1} établissements (un territoire, une catégorie "
    "d'établissement, une année) révélerait leurs chiffres ; il est « secret » partout (pages, exports, API), "
    "pour tous ses indicateurs, numérateur et dénominateur compris (secret primaire). Pour qu'aucune cellule secrète "
    "ne puisse être retrouvée par soustraction (total du territoire ou du territoire parent moins les cellules "
    "publiées), la plus petite cellule publiée voisine est masquée à son tour (secret secondaire, ou "
    "complémentaire), jusqu'à ce que chaque total publié compte zéro ou au moins deux cellules secrètes. C'est la "
    "pratique décrite par l'Insee (« Guide du secret statistique ») et mise en œuvre par le logiciel τ-ARGUS."
)


def establishment_counts(units: pd.DataFrame, parent: np.ndarray, breakdown_parent: dict[str, str]) -> pd.DataFrame:
    """Establishments behind every total: one row per cell (CELL columns) with `n`.

    `units` holds one row per establishment figure, its `territory_key` being the establishment's own
    pseudo-territory (whose ancestors, in `parent`, are its département, région and the nation)."""
    one = units[CELL].drop_duplicates()
    rows = []
    territory = one["territory_key"].to_numpy(np.int64)
    breakdowns = [one["breakdown"].to_numpy(object)]
    while True:  # the category, then the category's parent (all categories), and so on
        up = np.array([breakdown_parent.get(b) for b in breakdowns[-1]], dtype=object)
        if not any(b is not None for b in up):
            break
        breakdowns.append(np.where(pd.isna(up), None, up))
    territory = parent[territory]
    while (territory >= 0).any():
        here = territory >= 0
        for breakdown in breakdowns:
            kept = here & pd.notna(breakdown)
            rows.append(pd.DataFrame({"territory_key": territory[kept], "breakdown": breakdown[kept],
                                      "period": one["period"].to_numpy(np.int64)[kept]}))
        territory = np.where(here, parent[np.maximum(territory, 0)], -1)
    counts = pd.concat(rows, ignore_index=True).value_counts(CELL).rename("n").reset_index()
    return counts.sort_values(CELL, kind="stable").reset_index(drop=True)


def secret_cells(totals: pd.DataFrame, counts: pd.DataFrame, parent: np.ndarray,
                 breakdown_parent: dict[str, str]) -> pd.DataFrame:
    """The cells to publish as secret (CELL columns): primary, then complementary to a fixed point.

    `totals` are the rolled-up figures (CELL + `indicator_key`, `denominator`): a cell contributes to an
    indicator's total when its denominator is positive. `counts` comes from `establishment_counts`."""
    cells = counts[CELL].reset_index(drop=True)
    index = pd.MultiIndex.from_frame(cells)
    n = counts["n"].to_numpy(np.int64)
    secret = (n > 0) & (n < MIN_PEERS)
    indicators = np.sort(totals["indicator_key"].unique())
    contributes = np.zeros((len(cells), len(indicators)), dtype=bool)
    at = index.get_indexer(pd.MultiIndex.from_frame(totals[CELL]))
    found = at >= 0
    den = totals["denominator"].to_numpy(float)
    contributes[at[found], np.searchsorted(indicators, totals["indicator_key"].to_numpy()[found])] = (
        np.nan_to_num(den[found]) > 0)
    # Break ties between equally small cells by their ids, so that a rebuild hides the same cells.
    order = np.lexsort((cells["territory_key"].to_numpy(), cells["breakdown"].astype(str).to_numpy(), n))
    rank = np.empty(len(cells), dtype=np.int64)
    rank[order] = np.arange(len(cells))
    groups = _groups(cells, index, parent, breakdown_parent)
    changed = True
    while changed:
        changed = False
        for total, parts in groups:
            if secret[total]:
                continue
            alone = (secret[parts][:, None] & contributes[parts]).sum(axis=0) == 1
            for column in np.flatnonzero(alone):
                if (secret[parts] & contributes[parts, column]).sum() != 1:
                    continue  # an earlier column of this group already hid another part
                open_parts = parts[~secret[parts] & contributes[parts, column]]
                hide = open_parts[np.argmin(rank[open_parts])] if len(open_parts) else total
                secret[hide] = changed = True
                if hide == total:
                    break
    return cells.loc[secret].reset_index(drop=True)


def _groups(cells: pd.DataFrame, index: pd.MultiIndex, parent: np.ndarray,
            breakdown_parent: dict[str, str]) -> list[tuple[int, np.ndarray]]:
    """(total, parts) as cell positions: a territory's categories under its all-category cell, and the
    territories below a parent under the parent's cell of the same category."""
    territory = cells["territory_key"].to_numpy(np.int64)
    breakdown = cells["breakdown"].to_numpy(object)
    period = cells["period"].to_numpy(np.int64)
    up_territory = np.where(territory < len(parent), parent[np.minimum(territory, len(parent) - 1)], -1)
    up_breakdown = np.array([breakdown_parent.get(b) for b in breakdown], dtype=object)
    totals = {}  # (way it adds up, total cell) → parts: one total cell is the sum of two different sets of parts
    for i in range(len(cells)):
        if up_breakdown[i] is not None:
            totals.setdefault(("categories", territory[i], up_breakdown[i], period[i]), []).append(i)
        if up_territory[i] >= 0:
            totals.setdefault(("territories", up_territory[i], breakdown[i], period[i]), []).append(i)
    keys = list(totals)
    where = (index.get_indexer(pd.MultiIndex.from_tuples([k[1:] for k in keys], names=CELL)) if keys
             else np.array([], int))
    return [(int(w), np.array(totals[k], dtype=np.int64))
            for k, w in sorted(zip(keys, where), key=lambda kw: (kw[1], kw[0][0])) if w >= 0]


def protect(totals: pd.DataFrame, secret: pd.DataFrame) -> pd.DataFrame:
    """`totals` with the `secret` cells' rows turned secret: value, numerator and denominator NULL."""
    if secret.empty or totals.empty:
        return totals
    hidden = pd.MultiIndex.from_frame(totals[CELL]).isin(pd.MultiIndex.from_frame(secret[CELL]))
    out = totals.copy()
    for column in ("value", "numerator", "denominator"):
        out[column] = out[column].where(~hidden)
    out["status"] = np.where(hidden, "secret", out["status"].to_numpy(object))
    return out
