"""The outlook's demand drivers by territory, observed then projected (`/api/v1/demand`, « Perspectives »).

Read from the store through the query layer: Insee's population estimates by département × five-year band,
Insee's national projection by single age (one source per scenario), DREES's APA prevalence by age (2019) and the
APA, PCH and ASE counts by département. People are projected by `observatory.demography`; from them:
- APA recipients (all, at home): the prevalence by age band × the projected people, calibrated on each
  département's own count of the base year (its ratio of observed to expected recipients is kept);
- PCH recipients and ASE children: the trend of their rate per inhabitant (ASE: per inhabitant under 20) over
  the last five observed years, extended, × the projected people.
Départements add up to their région and régions to the nation (people are calibrated per age; counts are sums).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from observatory import demography, queries, sources
from observatory.store import Store, cached

DRIVERS = {  # driver → (label, how it is made)
    "population": "Population (tous âges)",
    "population_0_2": "Enfants de moins de 3 ans",
    "population_0_5": "Enfants de moins de 6 ans",
    "population_75_plus": "Personnes de 75 ans ou plus",
    "population_85_plus": "Personnes de 85 ans ou plus",
    "population_0_24": "Personnes de moins de 25 ans",
    "apa_recipients": "Bénéficiaires de l'APA",
    "apa_recipients_home": "Bénéficiaires de l'APA à domicile",
    "pch_recipients": "Bénéficiaires de la PCH",
    "ase_children": "Enfants accueillis à l'ASE",
}
AGE_RANGES = {"population": (0, 105), "population_0_2": (0, 2), "population_0_5": (0, 5),
              "population_75_plus": (75, 105), "population_85_plus": (85, 105), "population_0_24": (0, 24)}
SCENARIOS = tuple(s for s in sources.PROJECTION_SCENARIOS if not s.startswith("mig_"))
BAND_CODES = [demography.band_code(b) for b in demography.BANDS]
SINGLE_AGES = [f"age:{a}" for a in range(demography.MAX_AGE)] + [f"age:{demography.MAX_AGE}+"]
COUNT_TREND_YEARS = 5  # PCH and ASE: the rate per inhabitant's trend over the last five observed years…
TREND_REACH = 5  # …extended five years, then held: a decade of a linear trend would double some départements
APA_PREVALENCE = {"apa_recipients": "apa_prevalence", "apa_recipients_home": "apa_prevalence_home"}


class DemandError(ValueError):
    """A request the demand API cannot answer (400), in French then English."""


@dataclass(frozen=True)
class Inputs:
    territories: tuple[str, ...]  # départements, in the arrays' row order
    parent: dict[str, str]  # département → région
    estimates: dict[int, np.ndarray]  # year → (départements, 20 bands)
    national: dict[int, np.ndarray]  # year → (106,) single ages, the scenario's
    latest_estimate: int


def _source_id(scenario: str) -> str:
    return f"insee_proj_2021_{scenario}"


@cached
def _estimates(store: Store) -> tuple[tuple[str, ...], dict[str, str], dict[int, np.ndarray]] | None:
    """The départements (in order), their régions and Insee's estimates by band, year → grid (shared by every
    scenario)."""
    dims = queries.dimensions(store).territories
    deps = dims[dims.level == "departement"].sort_values("code")
    territories = tuple(deps.territory_id)
    est = queries.select(store, queries.Selection(indicators=("population",), levels=("departement",),
                                                  breakdowns=tuple(BAND_CODES)))
    if est.empty:
        return None
    band_index = {c: i for i, c in enumerate(BAND_CODES)}
    row_index = {t: i for i, t in enumerate(territories)}
    estimates = {}
    for year, part in est.groupby("period"):
        grid = np.zeros((len(territories), len(BAND_CODES)))
        rows = part["territory_id"].map(row_index).to_numpy()
        cols = part["breakdown"].map(band_index).to_numpy()
        ok = ~pd.isna(rows) & ~pd.isna(cols)
        grid[rows[ok].astype(int), cols[ok].astype(int)] = part["value"].to_numpy(float)[ok]
        if (grid.sum(axis=1) > 0).sum() >= len(territories) - 5:  # years before Mayotte (2014) lack one row
            estimates[int(year)] = np.nan_to_num(grid)
    return territories, dict(zip(deps.territory_id, deps.parent_id)), estimates


@cached
def inputs(store: Store, scenario: str = "central") -> Inputs | None:
    """The population inputs of one scenario, or None when the store lacks them."""
    shared = _estimates(store)
    nat = queries.select(store, queries.Selection(indicators=("population_projection",), territories=("FR",),
                                                  sources=(_source_id(scenario),), breakdowns=tuple(SINGLE_AGES)))
    if shared is None or nat.empty:
        return None
    territories, parent, estimates = shared
    age_index = {c: i for i, c in enumerate(SINGLE_AGES)}
    national = {}
    for year, part in nat.groupby("period"):
        vector = np.zeros(len(SINGLE_AGES))
        vector[part["breakdown"].map(age_index).to_numpy(int)] = part["value"].to_numpy(float)
        national[int(year)] = vector
    return Inputs(territories, parent, estimates, national, max(estimates))


def people(store: Store, scenario: str, base_year: int, horizon: int) -> demography.Projection:
    return _people(store, scenario, base_year, horizon)


@cached
def _people(store: Store, scenario: str, base_year: int, horizon: int) -> demography.Projection:
    data = inputs(store, scenario)
    if data is None or base_year not in data.estimates or base_year not in data.national \
            or horizon not in data.national or base_year - demography.HISTORY not in data.estimates \
            or horizon <= base_year:
        raise DemandError(f"pas de population pour partir de {base_year} / no population to start from {base_year}")
    years = [y for y in (base_year - demography.HISTORY, base_year - demography.HISTORY // 2, base_year)
             if y in data.estimates]
    split = {y: demography.split_bands(data.estimates[y], _profile(data, y)) for y in years}
    migration = demography.relative_migration(split[years[0]], split[base_year], base_year - years[0])
    # a département the older estimate lacks (Mayotte before 2014): its migration from the shorter window
    missing = split[years[0]].sum(axis=1) <= 0
    if missing.any() and len(years) == 3:
        short = demography.relative_migration(split[years[1]], split[base_year], base_year - years[1])
        migration[missing] = short[missing]
    return demography.project(split[base_year], migration, data.national, base_year, horizon, data.territories)


def _profile(data: Inputs, year: int) -> np.ndarray:
    """The national single-age profile a year's bands are split with: that year's, or the nearest the projection
    file holds (it starts in 2014, with Mayotte)."""
    return data.national.get(year, data.national[min(data.national, key=lambda y: abs(y - year))])


def _counts(store: Store, indicator: str) -> pd.DataFrame:
    frame = queries.select(store, queries.Selection(indicators=(indicator,), breakdowns=("",),
                                                    levels=("departement", "region", "nation")))
    return frame[frame["value"].notna()][["territory_id", "period", "value"]]


def _prevalence(store: Store, indicator: str) -> tuple[np.ndarray, int] | None:
    """Per single age (106,): the share (fraction) of the people receiving the APA, from DREES's bands."""
    frame = queries.select(store, queries.Selection(indicators=(indicator,), territories=("FR",), breakdowns=None))
    frame = frame[frame["breakdown"].notna() & frame["value"].notna()]
    if frame.empty:
        return None
    out = np.zeros(len(demography.AGES))
    for code, value in zip(frame["breakdown"], frame["value"]):
        low, _, high = code.removeprefix("age:").partition("-")
        low = int(low.rstrip("+"))
        high = int(high) if high else demography.MAX_AGE
        out[low:high + 1] = float(value) / 100.0
    return out, int(frame["period"].max())


@dataclass(frozen=True)
class Driver:
    """One driver for every département, observed years then projected (values, not yet aggregated)."""

    observed: pd.DataFrame  # territory_id (département or REG-94 for Corse), period, value
    projected: dict[int, np.ndarray]  # year → (départements,)
    source: str


def driver(store: Store, name: str, scenario: str, base_year: int, horizon: int) -> Driver:
    return _driver(store, name, scenario, base_year, horizon)


@cached
def _driver(store: Store, name: str, scenario: str, base_year: int, horizon: int) -> Driver:
    data = inputs(store, scenario)
    proj = people(store, scenario, base_year, horizon)
    estimates_title = queries.source_row(store, "insee_estim_pop").get("title", "insee_estim_pop")
    projection_title = queries.source_row(store, _source_id(scenario)).get("title", _source_id(scenario))
    if name in AGE_RANGES:
        lo, hi = AGE_RANGES[name]
        projected = {int(y): proj.people[i][:, lo:hi + 1].sum(axis=1) for i, y in enumerate(proj.years)}
        rows = []
        for year, grid in data.estimates.items():
            ages = demography.split_bands(grid, _profile(data, year))
            rows.append(pd.DataFrame({"territory_id": data.territories, "period": year,
                                      "value": ages[:, lo:hi + 1].sum(axis=1)}))
        split = " (moins de 3 ou 6 ans : tranche 0-4 ou 5-9 répartie par âge comme la France)" \
            if hi < 75 and hi != 105 else ""
        return Driver(pd.concat(rows, ignore_index=True), projected,
                      f"Insee – {estimates_title}{split} ; projection : {projection_title}, "
                      "répartie par département par cohortes")
    counts = _counts(store, name)
    if name in APA_PREVALENCE:
        found = _prevalence(store, APA_PREVALENCE[name])
        if found is None:
            raise DemandError(f"pas de prévalence de l'APA / no APA prevalence for {name}")
        prevalence, _ = found
        base_people = proj.at(base_year)
        expected = base_people @ prevalence
        observed = _by_departement(counts, data, base_year, expected)
        # a département DREES does not cover (Mayotte) has no figure: NaN, left out of every sum
        factor = np.divide(observed, expected, out=np.full_like(expected, np.nan), where=expected > 0)
        projected = {int(y): factor * (proj.people[i] @ prevalence) for i, y in enumerate(proj.years)}
        how = ("DREES, enquête Aide sociale (hors Mayotte) ; projection : part des bénéficiaires par âge (DREES) × "
               "personnes "
               f"projetées, calée sur le nombre observé de chaque département en {base_year}")
    else:
        ages = (0, 19) if name == "ase_children" else (0, demography.MAX_AGE)
        rates = []
        for year in range(base_year - COUNT_TREND_YEARS + 1, base_year + 1):
            if year not in data.estimates:
                continue
            who = demography.split_bands(data.estimates[year], _profile(data, year))
            population = who[:, ages[0]:ages[1] + 1].sum(axis=1)
            rates.append(_by_departement(counts, data, year, population) / np.where(population > 0, population, np.nan))
        rates = np.array(rates)
        if not len(rates):
            raise DemandError(f"pas d'historique pour {name} / no history for {name}")
        years = np.arange(len(rates), dtype=float)
        slope = np.array([np.polyfit(years[~np.isnan(r)], r[~np.isnan(r)], 1)[0] if (~np.isnan(r)).sum() >= 3
                          else 0.0 for r in rates.T])
        last = rates[-1]
        projected = {}
        for i, y in enumerate(proj.years):  # the trend for TREND_REACH years, then the rate it reached
            rate = np.clip(last + slope * min(y - base_year, TREND_REACH), 0.0, None)
            projected[int(y)] = rate * proj.people[i][:, ages[0]:ages[1] + 1].sum(axis=1)
        how = (f"DREES, enquête Aide sociale (hors Mayotte) ; projection : tendance sur {COUNT_TREND_YEARS} ans du "
               f"nombre par habitant{' de moins de 20 ans' if name == 'ase_children' else ''}, prolongée "
               f"{TREND_REACH} ans puis maintenue, × personnes projetées")
    return Driver(counts, projected, how)


def _by_departement(counts: pd.DataFrame, data: Inputs, year: int, weights: np.ndarray) -> np.ndarray:
    """A count per département for `year`; where the file gives only the Collectivité de Corse (REG-94), it is
    shared between 2A and 2B in proportion to `weights`."""
    part = counts[counts["period"] == year].set_index("territory_id")["value"]
    out = np.array([part.get(t, np.nan) for t in data.territories], dtype=float)
    corsica = [i for i, t in enumerate(data.territories) if data.parent.get(t) == "REG-94"]
    if corsica and np.isnan(out[corsica]).all() and "REG-94" in part.index:
        w = weights[corsica]
        out[corsica] = part["REG-94"] * w / w.sum() if w.sum() > 0 else np.nan
    return out


def series(store: Store, name: str, territory: str, start: int, end: int, scenario: str = "central"
           ) -> tuple[list[dict], str]:
    """Rows {year, value, status, source} for one territory, observed up to the base year then projected."""
    if name not in DRIVERS:
        raise DemandError(f"driver inconnu : {name} (attendus : {', '.join(DRIVERS)}) / unknown driver {name}")
    if scenario not in SCENARIOS:
        raise DemandError(f"scénario inconnu : {scenario} (attendus : {', '.join(SCENARIOS)}) / unknown scenario")
    data = inputs(store, scenario)
    if data is None:
        raise DemandError("l'entrepôt ne contient pas la population / the store holds no population")
    members = _members(data, territory)
    base_year = base_year_of(store, name, scenario)
    horizon = max(d for d in data.national)
    if not (1975 <= start <= end <= horizon):
        raise DemandError(f"années entre 1975 et {horizon}, from ≤ to / years between 1975 and {horizon}")
    d = driver(store, name, scenario, base_year, horizon)
    index = [data.territories.index(t) for t in members]
    rows = []
    observed = d.observed
    for year in range(start, min(end, base_year) + 1):
        part = observed[observed["period"] == year].set_index("territory_id")["value"]
        # the store's own figure of the territory when it has one (France: DREES's estimate; a région: the sum of
        # its départements, or the Collectivité de Corse), else the sum of its départements
        values = [part[territory]] if territory in part.index else [part.get(t) for t in members]
        if any(v is None or v != v for v in values):
            continue
        rows.append({"year": year, "value": round(float(sum(values)), 1), "status": "observed"})
    for year in range(max(start, base_year + 1), end + 1):
        rows.append({"year": year, "value": round(float(np.nansum(d.projected[year][index])), 1),
                     "status": "projected"})
    for row in rows:
        row["source"] = d.source
    return rows, d.source


def base_year_of(store: Store, name: str, scenario: str = "central") -> int:
    """The projection starts from the latest year the driver is observed and the population estimated."""
    data = inputs(store, scenario)
    if name in AGE_RANGES:
        return min(data.latest_estimate, max(data.national))
    counts = _counts(store, name)
    return int(min(counts["period"].max(), data.latest_estimate)) if len(counts) else data.latest_estimate


def _members(data: Inputs, territory: str) -> list[str]:
    if territory == "FR":
        return list(data.territories)
    if territory.startswith("REG-"):
        found = [t for t in data.territories if data.parent.get(t) == territory]
    else:
        found = [territory] if territory in data.territories else []
    if not found:
        raise DemandError(f"territoire inconnu : {territory} / unknown territory {territory}")
    return found


def departement_weights(store: Store, name: str | None) -> dict[str, float]:
    """Each département's value of a driver in its base year (people: the latest estimate), what a family's
    regional employment is shared out with (`outlook_data`); a département the driver lacks (Mayotte for the
    DREES counts) takes its population's weight. Empty when the store holds no population."""
    data = inputs(store, "central")
    if data is None:
        return {}
    people = demography.split_bands(data.estimates[data.latest_estimate], _profile(data, data.latest_estimate))
    weights = people.sum(axis=1)
    if name is not None:
        try:
            base = base_year_of(store, name)
            values = driver(store, name, "central", base, max(data.national)).projected[base]
            weights = np.where(np.isnan(values), weights * np.nanmean(values / weights), values)
        except DemandError:
            pass
    return dict(zip(data.territories, weights.astype(float)))
