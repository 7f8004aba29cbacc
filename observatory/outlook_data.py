"""The outlook's inputs read from the store, and a request's answer (`run`, `ranking`, `assumptions`).

Everything the model needs comes from the store (published DARES figures and the DREES graduates, illustrative
today), read once per store version and shared by every request of the process.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import text

from observatory import demand, outlook, queries, sources
from observatory import store as stores
from observatory.outlook import FamilyInputs, Scenario

if TYPE_CHECKING:  # the request is read by the one query-string codec, which reads this module
    from observatory.urlstate import OutlookRequest

# The store's inputs of a projection, in the order its source lines name them: the one list of them (what the
# store is read for, what a projection rests on: `used_inputs`). The broad age bands feed the back-test only.
INPUTS = ("employment_by_age", "employment", "employment_region_share", "exit_rate_all_contracts", "exit_type_share",
          "graduates")
INDICATORS = (*INPUTS, "employment_by_broad_age")


@dataclass(frozen=True)
class Store:
    """Every family's inputs, the territories the outlook covers and where each input comes from."""

    families: dict[str, FamilyInputs]  # FAP-87 code → inputs
    profession_family: dict[str, str]  # profession_id (any node mapping to one FAP-87) → FAP-87 code
    territories: dict[str, str]  # territory_id → name (FR and régions)
    sources: dict[str, dict]  # indicator → {"source": …, "vintage": …, "illustrative": bool}
    base_year: int | None
    backtests: dict[str, outlook.Backtest | None]  # FAP-87 code → the back-test (computed once per store)
    social: tuple[str, ...] = ()  # the FAP-87 families of the travail social professions (see social_families)
    source: stores.Store | None = None  # where a variant's driver paths are read when first asked for

    def family(self, fap: str, population: str = "central") -> FamilyInputs:
        """A family's inputs with its driver projected under Insee's `population` scenario (a variant's path is
        made when first asked for, then kept in the store's cache)."""
        inputs = self.families[fap]
        if population == "central" or not inputs.driver or self.source is None:
            return inputs
        path = driver_path(self.source, inputs.driver, population)
        return inputs if path is None else replace(inputs, driver_path=path)


# The population each social family serves (domain reference § 7): its employment follows it.
FAMILY_DRIVERS = {"T2A": "apa_recipients_home", "T2B": "population_0_2", "V0Z": "population_85_plus",
                  "V4Z": "population", "V5Z": "population_0_24"}
DRIVER_HORIZON = 2070  # Insee's horizon: the drivers are projected that far once
POPULATION_SCENARIOS = demand.SCENARIOS  # Insee's central scenario and its variants, for the drivers
POPULATION_LABELS = {s: sources.PROJECTION_SCENARIOS[s] for s in POPULATION_SCENARIOS}


@stores.cached
def driver_path(source: stores.Store, name: str, scenario: str = "central") -> pd.Series | None:
    """The national driver, observed then projected under Insee's `scenario`, year → persons; None when the
    store cannot make it (no population or projection loaded)."""
    try:
        rows, _ = demand.series(source, name, "FR", 1990, DRIVER_HORIZON, scenario)
    except demand.DemandError:
        return None
    series = pd.Series({r["year"]: r["value"] for r in rows}, dtype=float)
    return series if len(series) else None


def _with_departements(source: stores.Store, families: dict[str, FamilyInputs], parent: dict[str, str]
                       ) -> dict[str, FamilyInputs]:
    """Each family's share of national employment for every département too: its région's share (DARES) split
    between the région's départements by the family's driver (by population for a family without one), so that
    départements add up to their région."""
    weights_of: dict[str | None, dict[str, float]] = {}
    out = {}
    for fap, family in families.items():
        if family.driver not in weights_of:
            weights_of[family.driver] = demand.departement_weights(source, family.driver)
        weights = weights_of[family.driver]
        by_region: dict[str, float] = {}
        for dep, w in weights.items():
            by_region[parent.get(dep)] = by_region.get(parent.get(dep), 0.0) + w
        shares = {dep: float(family.region_share[parent[dep]]) * w / by_region[parent[dep]]
                  for dep, w in weights.items()
                  if parent.get(dep) in family.region_share.index and by_region[parent[dep]] > 0}
        out[fap] = replace(family, departement_share=pd.Series(shares, dtype=float))
    return out


# V0Z « Aides-soignants » holds the accompagnants éducatifs et sociaux (ex-AMP, FAP-2009 V0Z60 ↔ ROME K1301 in the
# DARES FAP-225 ↔ ROME table): a link the store's crosswalk cannot carry without assigning every aide-soignant to
# the AES, so it is the one family added by hand to those the crosswalk names.
SOCIAL_BY_CONTENT = ("V0Z",)


def social_families(professions: pd.DataFrame, family_of, fap2009: Mapping[str, str]) -> set[str]:
    """The FAP-87 families of the travail social professions, as the store's reference says: the FAP-87 node each
    profession sits under (T2A, T2B, V4Z), the FAP-87 prefix of its FAP-2009 code (V5Z81 → V5Z), plus
    SOCIAL_BY_CONTENT. Professions only: a FAP-87 node with no profession under it (T2Z = T2A + T2B) is left out."""
    social = professions[professions.is_social_work.astype(bool) & (professions.level == "profession")]
    found = {family_of(p) for p in social.profession_id} | {
        code[:3] for code, p in fap2009.items() if p in set(social.profession_id)}
    return {f for f in found if f} | set(SOCIAL_BY_CONTENT)


@stores.cached
def store(source: stores.Store) -> Store:
    """The outlook's inputs read from `source` (once per store version, in its cache)."""
    dims = queries.dimensions(source)
    frame = queries.select(source, queries.Selection(indicators=INDICATORS, breakdowns=None))
    frame = frame[frame.value.notna()].copy()
    frame["breakdown"] = frame.breakdown.fillna("")  # the whole population reads back as NULL/NaN
    with source.engine.connect() as conn:
        crosswalk = dict(conn.execute(text("SELECT profession_id, source_code FROM profession_crosswalk "
                                           "WHERE nomenclature = :n"), {"n": "fap87"}).all())
        fap2009 = dict(conn.execute(text("SELECT source_code, profession_id FROM profession_crosswalk "
                                         "WHERE nomenclature = :n"), {"n": "fap2009"}).all())
    labels = dict(zip(dims.professions.profession_id, dims.professions.label))
    parents = dict(zip(dims.professions.profession_id, dims.professions.parent_id))

    def family_of(profession_id: str) -> str | None:
        node, seen = profession_id, set()
        while node and node not in seen:
            if node in crosswalk:
                return crosswalk[node]
            seen.add(node)
            node = parents.get(node)
        return None

    national = frame[frame.territory_id == "FR"]
    employment = national[(national.indicator_id == "employment") & (national.breakdown == "")]
    pyramid = national[national.indicator_id == "employment_by_age"]
    base_year = int(pyramid.period.max()) if not pyramid.empty else None
    broad = national[national.indicator_id == "employment_by_broad_age"]
    regions = frame[frame.indicator_id == "employment_region_share"]
    exits = national[national.indicator_id == "exit_type_share"]
    exit_rates = national[(national.indicator_id == "exit_rate_all_contracts") & (national.breakdown == "")]
    graduates = frame[(frame.indicator_id == "graduates") & (frame.breakdown == "")].copy()
    graduates["fap"] = graduates.profession_id.map(family_of)
    graduates = graduates[graduates.profession_id.isin(
        [p for p, level in zip(dims.professions.profession_id, dims.professions.level) if level == "profession"])]

    every = pyramid[(pyramid.period == base_year) & (pyramid.profession_id == "ensemble")]
    all_pyramid = every.set_index("breakdown").value if not every.empty else None
    families: dict[str, FamilyInputs] = {}
    for profession_id, rows in pyramid[pyramid.period == base_year].groupby("profession_id"):
        fap = crosswalk.get(profession_id)  # the FAP-87 rows themselves, not a FAP-225 member of one
        if fap is None or len(fap) != 3:
            continue
        history = employment[employment.profession_id == profession_id].set_index("period").value.sort_index()
        ages = broad[broad.profession_id == profession_id].pivot_table(
            index="period", columns="breakdown", values="value", aggfunc="sum")
        ages = ages.dropna() if not ages.empty else ages
        shares = regions[regions.profession_id == profession_id].set_index("territory_id").value / 100
        rate = exit_rates[exit_rates.profession_id == profession_id].value
        types = exits[exits.profession_id == profession_id]
        definitive = types[types.breakdown.isin(outlook.DEFINITIVE_EXITS)].value.sum() if not types.empty else None
        mine = graduates[graduates.fap == fap]
        families[fap] = FamilyInputs(
            fap=fap, label=labels.get(profession_id, fap), base_year=base_year,
            pyramid=rows.set_index("breakdown").value, employment=history, broad_age=ages,
            exit_rate=float(rate.mean()) if len(rate) else None,
            definitive_exit_share=None if definitive is None else float(definitive),
            region_share=shares / shares.sum() if shares.sum() > 0 else shares,
            graduates=mine[["territory_id", "period", "value"]] if not mine.empty else None,
            diplomas=tuple(sorted(mine.profession_id.unique())), all_pyramid=all_pyramid,
        )
    profession_family = {p: family_of(p) for p in dims.professions.profession_id}
    profession_family = {p: f for p, f in profession_family.items() if f in families}

    def provenance(indicator: str) -> dict:
        ids = sorted(set(frame.loc[frame.indicator_id == indicator, "source_id"]))
        rows = [queries.source_row(source, s) for s in ids]
        return {"sources": ids, "titles": [r.get("title") for r in rows],
                "producers": sorted({r.get("producer") for r in rows if r.get("producer")}),
                "vintages": sorted({str(r.get("vintage")) for r in rows if r.get("vintage")}),
                "illustrative": any(bool(r.get("is_illustrative")) for r in rows)}
    sources = {indicator: provenance(indicator) for indicator in INDICATORS}
    for fap, name in FAMILY_DRIVERS.items():
        if fap in families:
            path = driver_path(source, name)
            if path is not None:
                families[fap] = replace(families[fap], driver=name, driver_path=path,
                                        driver_label=demand.DRIVERS[name])
    families = _with_departements(source, families, dict(zip(dims.territories.territory_id,
                                                             dims.territories.parent_id)))
    covered = set(regions.territory_id) | {t for f in families.values() if f.departement_share is not None
                                           for t in f.departement_share.index}
    territories = {"FR": "France"} | {
        t: n for t, n, level in zip(dims.territories.territory_id, dims.territories.name, dims.territories.level)
        if level in ("region", "departement") and t in covered}
    backtests = {fap: outlook.backtest(inputs) for fap, inputs in families.items()}
    social = social_families(dims.professions, family_of, fap2009)
    return Store(families, profession_family, territories, sources, base_year, backtests,
                 tuple(sorted(f for f in social if f in families)), source)



# --- the horizons a request may ask for (the request's codec: `urlstate.parse_outlook`) ----------------------
# Horizons are round years (a multiple of HORIZON_STEP) counted from the store's base year, never a fixed year:
# a newer pyramid in the store moves them all.
HORIZON_STEP = 5
HORIZON_YEARS = 15  # default: the first round year at least 15 years after the base year (2019 → 2035)
MAX_YEARS = 30  # the model's reach: the last round year within 30 years of the base year (2019 → 2045); beyond,
#                 every age of the base pyramid has passed retirement age and the trend is extrapolated too far


def default_horizon(base_year: int) -> int:
    return -(-(base_year + HORIZON_YEARS) // HORIZON_STEP) * HORIZON_STEP


def max_horizon(base_year: int) -> int:
    return (base_year + MAX_YEARS) // HORIZON_STEP * HORIZON_STEP


def horizons(base_year: int) -> list[int]:
    """The horizons the page offers: every round year after the base year up to the model's reach."""
    first = (base_year // HORIZON_STEP + 1) * HORIZON_STEP
    return list(range(first, max_horizon(base_year) + 1, HORIZON_STEP))


def default_family(data: Store) -> str:
    """The family a page opens on without a link: the first travail social family the store holds."""
    return (data.social or tuple(sorted(data.families)))[0]


def resolve(profession: str, data: Store) -> str | None:
    """The FAP-87 family of a FAP code (any case) or of a profession id of the observatory."""
    if profession.upper() in data.families:
        return profession.upper()
    return data.profession_family.get(profession)



# --- the answer ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Projection:
    request: OutlookRequest
    family: FamilyInputs
    rows: pd.DataFrame  # outlook.ROW_COLUMNS, years start+1 … end
    central: pd.DataFrame  # the central scenario's rows, same years (the user's scenario is compared with it)
    rates: outlook.Rates
    backtest: outlook.Backtest | None
    assumptions: list[dict]
    source: str  # one line: whose model, on which producers' data and vintages (every export row carries it)


def used_inputs(family: FamilyInputs, territory: str | None = None) -> tuple[str, ...]:
    """The store's inputs a projection rests on: the graduates only for a family with training data, the regional
    shares only for a région (`territory=None`: whichever territory, as an export's source line says)."""
    return tuple(i for i in INPUTS if (i != "graduates" or family.graduates is not None)
                 and (i != "employment_region_share" or territory != "FR"))


def provenance(data: Store, family: FamilyInputs) -> str:
    """« Projection de l'observatoire » and, per input used, its producer and vintages (« illustratif » flagged)."""
    parts = []
    for indicator in used_inputs(family):
        p = data.sources.get(indicator, {})
        if p.get("producers"):
            producers = ", ".join(p["producers"])
            flag = " (illustratif)" if p["illustrative"] and "illustratif" not in producers.lower() else ""
            parts.append(f"{producers} {', '.join(p['vintages'])}{flag}".strip())
    if family.driver:  # what employment follows: Insee's people (and DREES's recipients), projected by the observatory
        parts.append("Insee (estimations et projections de population 2021-2070)")
        if family.driver.startswith(("apa_", "pch_", "ase_")):
            parts.append("DREES (enquête Aide sociale)")
    return "Projection de l'observatoire ; données : " + " ; ".join(dict.fromkeys(parts))


def run(request: OutlookRequest, data: Store) -> Projection:
    family = data.family(request.family, request.population)
    full = outlook.project(family, request.scenario, request.territory, horizon=request.end)
    rows = outlook.window(full, request.start, request.end).reset_index(drop=True)
    central = rows if not request.scenario.changed() and request.population == "central" else outlook.window(
        outlook.project(data.families[request.family], Scenario(), request.territory, horizon=request.end),
        request.start, request.end).reset_index(drop=True)
    rates = outlook.rates(family, request.scenario, request.territory, request.end)
    bt = data.backtests.get(request.family)
    return Projection(request, family, rows, central, rates, bt, assumptions(request, family, rates, data),
                      provenance(data, family))


def ranking(request: OutlookRequest, data: Store) -> list[dict]:
    """The travail social families side by side for the request's territory, window and scenario, largest openings
    first: per family the totals the API answers for the same request with that family (`totals` is
    `outlook.totals` of the same rows), None where the DARES publishes no employment of it in the territory."""
    out = []
    for fap in data.social:
        family = data.family(fap, request.population)
        covered = family.covers(request.territory)
        totals = outlook.totals(outlook.window(outlook.project(
            family, request.scenario, request.territory, horizon=request.end), request.start, request.end)) \
            if covered else None
        out.append({"family": fap, "label": family.label, "totals": totals,
                    "illustrative": family.graduates is not None and bool(
                        data.sources.get("graduates", {}).get("illustrative"))})
    return sorted(out, key=lambda r: (r["totals"] is None, -(r["totals"] or {}).get("openings", 0.0), r["family"]))


def _source(data: Store, *indicators: str) -> str:
    parts = []
    for indicator in indicators:
        p = data.sources.get(indicator, {})
        if p.get("titles"):
            label = "; ".join(sorted(set(filter(None, p["titles"]))))
            vintages = ", ".join(p["vintages"])
            flag = " – ILLUSTRATIF" if p["illustrative"] else ""
            parts.append(f"{label}{f' ({vintages})' if vintages else ''}{flag}")
    return " · ".join(parts) or "non disponible dans le store"


def assumptions(request: OutlookRequest, family: FamilyInputs, rates: outlook.Rates, data: Store) -> list[dict]:
    """Every parameter with its value, unit, range, source and whether it rests on illustrative data."""
    s = request.scenario
    grads = data.sources.get("graduates", {})
    rows = [
        {"parameter": "base_year", "label": "Année de base (stock le plus récent)", "value": family.base_year,
         "unit": "année", "range": "", "source": _source(data, "employment_by_age", "employment"),
         "illustrative": False},
        {"parameter": "mean_exit_age", "label": "Âge moyen de fin de carrière (après décalage)",
         "value": round(rates.mean_exit_age, 2), "unit": "ans", "range": "",
         "source": outlook.PARAMETERS["retirement_age_shift"].source + " · " + _source(data, "employment_by_age"),
         "illustrative": False},
        {"parameter": "exit_age_sd", "label": "Dispersion des âges de fin de carrière", "value": outlook.EXIT_AGE_SD,
         "unit": "ans", "range": "", "source": "Convention de l'observatoire", "illustrative": False},
        {"parameter": "other_exit_rate", "label": "Taux de sortie en cours de carrière (après facteur)",
         "value": round(rates.other_exit_rate * 100, 2), "unit": "% par an", "range": "",
         "source": _source(data, "exit_rate_all_contracts", "exit_type_share"), "illustrative": False},
        {"parameter": "growth_band", "label": "Demi-largeur de la fourchette de croissance",
         "value": round(rates.growth_spread, 2), "unit": "points de % par an", "range": "",
         "source": "Écart-type des tendances décennales de l'emploi de la famille (même source que la croissance)",
         "illustrative": False},
        {"parameter": "graduates", "label": "Diplômés par an (moyenne des dernières années)",
         "value": None if rates.graduates is None else round(rates.graduates, 1), "unit": "personnes",
         "range": "", "source": (_source(data, "graduates") + f" ; années {', '.join(map(str, rates.graduate_periods))}"
                                 f" ; diplômes rattachés : {', '.join(family.diplomas) or 'aucun'}"),
         "illustrative": bool(grads.get("illustrative")) and family.graduates is not None},
    ]
    if family.driver:
        rows.append({"parameter": "driver", "label": "Moteur de la demande (population servie)",
                     "value": family.driver_label, "unit": "", "range": "",
                     "source": "Observatoire, à partir des estimations et projections de population de l'Insee et "
                     "de l'enquête Aide sociale de la DREES (voir /api/v1/demand)", "illustrative": False})
        rows.append({"parameter": "elasticity", "label": "Élasticité de l'emploi à son moteur",
                     "value": None if family.elasticity is None else round(family.elasticity, 3), "unit": "",
                     "range": f"{outlook.ELASTICITY_BOUNDS[0]:g} – {outlook.ELASTICITY_BOUNDS[1]:g}",
                     "source": "Emploi de la famille (DARES) et moteur observé sur les dix années précédant "
                     "l'année de base", "illustrative": False})
        rows.append({"parameter": "population_scenario", "label": "Scénario de population de l'Insee",
                     "value": POPULATION_LABELS.get(request.population, request.population), "unit": "",
                     "range": ", ".join(POPULATION_SCENARIOS), "source": "Insee, Projections de population "
                     "2021-2070 (scénario central et variantes)", "illustrative": False})
    for name, p in outlook.PARAMETERS.items():
        value = getattr(s, name)
        if name == "demand_growth":
            value = round(rates.growth, 3)
        rows.append({"parameter": name, "label": p.label, "value": value, "unit": p.unit,
                     "range": f"{p.low:g} – {p.high:g}", "source": p.source,
                     "illustrative": name == "training_factor" and bool(grads.get("illustrative"))
                     and family.graduates is not None})
    return rows
