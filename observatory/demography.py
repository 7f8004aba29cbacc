"""People by single year of age per département, projected year by year (pure numpy; no store, no Dash).

A cohort-component step calibrated on Insee's national projection (what Insee's Omphale does with more detail):
- the départements' five-year bands (Insee estimates) are split into single years of age with the national
  single-age profile of the same year;
- each year, every département's cohort ages one year with the *national* cohort change ratio of that age
  (deaths and national migration, from Insee's projection: N(a+1, t+1) / N(a, t)) times the département's own
  relative migration at that age, estimated from the estimates ten years apart (its cohort change against the
  nation's, per year);
- newborns: the département keeps its ratio of under-fives to adults aged 20–44 of the base year;
- then every age is calibrated so that the départements add up to the national projection (scenario), so
  départements add up to their région and régions to the nation by construction.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_AGE = 105  # single ages 0 … 104 and an open 105+ (Insee's projection table)
AGES = np.arange(MAX_AGE + 1)
BANDS = [(lo, lo + 4) for lo in range(0, 95, 5)] + [(95, MAX_AGE)]  # Insee's five-year bands, 95+ open
MIGRATION_BOUNDS = (0.95, 1.05)  # per year: beyond ±5 % a year a relative migration is noise of small cells
HISTORY = 10  # years between the two estimates the relative migration is read from


def band_code(band: tuple[int, int]) -> str:
    return f"age:{band[0]}+" if band[1] >= MAX_AGE else f"age:{band[0]}-{band[1]}"


def split_bands(bands: np.ndarray, national: np.ndarray) -> np.ndarray:
    """Single ages (…, 106) from five-year bands (…, 20), each band spread like the national single ages of the
    same year (`national`, shape (106,))."""
    out = np.zeros(bands.shape[:-1] + (len(AGES),))
    for b, (lo, hi) in enumerate(BANDS):
        weights = national[lo:hi + 1].astype(float)
        weights = weights / weights.sum() if weights.sum() > 0 else np.full(hi - lo + 1, 1.0 / (hi - lo + 1))
        out[..., lo:hi + 1] = bands[..., b:b + 1] * weights
    return out


def to_bands(ages: np.ndarray) -> np.ndarray:
    return np.stack([ages[..., lo:hi + 1].sum(axis=-1) for lo, hi in BANDS], axis=-1)


def relative_migration(before: np.ndarray, after: np.ndarray, years: int = HISTORY) -> np.ndarray:
    """(départements, 106) yearly factor: a département's cohort change over `years` against the nation's (sum of
    the départements), as a yearly rate, bounded. Ages the cohort had not reached (under `years` at the end)
    take the factor of the youngest known age."""
    n_dep = before.shape[0]
    factor = np.ones((n_dep, len(AGES)))
    for a in range(len(AGES) - years):
        end = min(a + years, MAX_AGE)
        dep = np.divide(after[:, end], before[:, a], out=np.ones(n_dep), where=before[:, a] > 0)
        nat = after[:, end].sum() / before[:, a].sum() if before[:, a].sum() > 0 else 1.0
        factor[:, end] = np.clip((dep / nat) ** (1.0 / years) if nat > 0 else 1.0, *MIGRATION_BOUNDS)
    factor[:, :years] = factor[:, [years]]
    return factor


@dataclass(frozen=True)
class Projection:
    """People by département (rows in `territories` order) × single age × year."""

    territories: tuple[str, ...]
    years: np.ndarray
    people: np.ndarray  # (years, départements, 106)

    def at(self, year: int) -> np.ndarray:
        return self.people[int(np.searchsorted(self.years, year))]


def project(base: np.ndarray, migration: np.ndarray, national: dict[int, np.ndarray], base_year: int,
            horizon: int, territories: tuple[str, ...]) -> Projection:
    """Project `base` (départements × 106 single ages at 1 January `base_year`) to `horizon`, each year calibrated
    to `national[year]` (106 single ages)."""
    adults = slice(20, 45)
    with np.errstate(divide="ignore", invalid="ignore"):
        child_ratio = np.where(base[:, adults].sum(axis=1) > 0,
                               base[:, :5].sum(axis=1) / base[:, adults].sum(axis=1), 0.0)
    people = [base.astype(float)]
    current = base.astype(float)
    for year in range(base_year, horizon):
        n0, n1 = national[year].astype(float), national[year + 1].astype(float)
        survival = np.ones(len(AGES))
        survival[1:MAX_AGE] = np.divide(n1[1:MAX_AGE], n0[:MAX_AGE - 1], out=np.ones(MAX_AGE - 1),
                                        where=n0[:MAX_AGE - 1] > 0)
        top = n0[MAX_AGE - 1] + n0[MAX_AGE]
        nxt = np.zeros_like(current)
        nxt[:, 1:MAX_AGE] = current[:, :MAX_AGE - 1] * survival[1:MAX_AGE] * migration[:, 1:MAX_AGE]
        nxt[:, MAX_AGE] = (current[:, MAX_AGE - 1] + current[:, MAX_AGE]) * (n1[MAX_AGE] / top if top > 0 else 0.0) \
            * migration[:, MAX_AGE]
        weight = child_ratio * nxt[:, adults].sum(axis=1)
        nxt[:, 0] = weight / weight.sum() * n1[0] if weight.sum() > 0 else 0.0
        totals = nxt.sum(axis=0)
        nxt *= np.divide(n1, totals, out=np.zeros_like(n1), where=totals > 0)
        people.append(nxt)
        current = nxt
    return Projection(territories, np.arange(base_year, horizon + 1), np.stack(people))
