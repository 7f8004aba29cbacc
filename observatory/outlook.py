"""« Quels métiers demain ? »: a stock-flow workforce outlook by FAP-87 family, nation or région.

Pure functions over the inputs the store holds (see `observatory.outlook_data`): no Dash, no store access.

The method follows DARES / France Stratégie (« Les métiers en 2030 »): positions to fill (`openings`) are
end-of-career exits (`retirements`) plus net job creation (`job_change`); the gap sets them against young
graduates taking a job (`entrants`). Unlike the publication, every parameter is on screen and can be changed,
employment has a band, mid-career exits are counted in a second, complete gap, and a back-test from an earlier
base year says how far the same model landed from what happened.

Year by year, for single years of age 15 … 74:
    employment(t+1) = employment(t) − retirements − other_exits + entrants + other_hires
Employment follows demand (`demand_growth`); `other_hires` (moves from other occupations, returns, migration)
close the identity. End-of-career exits come from the age pyramid aged one year at a time through an exit-age
distribution; mid-career exits from DARES exit rates restricted to definitive exits (resignations, dismissals,
ruptures conventionnelles, other), an upper bound of the exits from the occupation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

AGES = np.arange(15, 75)  # single years of age; nobody stays in employment at 75 or over
BANDS = {  # breakdown code of `employment_by_age` → (first age, last age)
    "age:15-24": (15, 24), "age:25-29": (25, 29), "age:30-34": (30, 34), "age:35-39": (35, 39),
    "age:40-44": (40, 44), "age:45-49": (45, 49), "age:50-54": (50, 54), "age:55-59": (55, 59),
    "age:60+": (60, 74),
}
BROAD_BANDS = {"age:<30": (15, 29), "age:30-49": (30, 49), "age:50+": (50, 74)}
EXIT_AGE_SD = 2.0  # spread of end-of-career ages around their mean (years)
ENTRANT_AGES = (20, 29)  # young graduates start between 20 and 29
OTHER_HIRE_AGES = (20, 59)  # other hires follow the base pyramid's profile at these ages
TREND_YEARS = 10  # the demand trend is the employment trend over the ten years before the base year
GRADUATE_YEARS = 3  # entrants: the mean of the last three years of graduates in the store
DEFINITIVE_EXITS = ("sortie:demission", "sortie:licenciement", "sortie:rupture_conventionnelle", "sortie:autre")
ROW_COLUMNS = ["year", "employment", "employment_low", "employment_high", "retirements", "other_exits",
               "job_change", "openings", "entrants", "gap", "complete_gap", "other_hires", "share_50_plus",
               "status"]


@dataclass(frozen=True)
class Parameter:
    """A scenario control: its range, its default and where the default comes from."""

    name: str
    label: str
    unit: str
    low: float
    high: float
    default: float | None  # None: the family's own value, from the data (see `source`)
    source: str


PARAMETERS: dict[str, Parameter] = {p.name: p for p in (
    Parameter("exit_rate_factor", "Sorties en cours de carrière (× taux observé)", "×", 0.0, 3.0, 1.0,
              "DARES, mouvements de main-d'œuvre : taux de sortie moyen de la famille × part des sorties "
              "définitives (démissions, licenciements, ruptures conventionnelles, autres) ; 1 = taux observé"),
    Parameter("retirement_age_shift", "Décalage de l'âge de fin de carrière", "ans", -3.0, 5.0, 0.0,
              "Âge moyen de fin de carrière estimé sur la pyramide des âges DARES de la famille "
              "(60 + 5 × effectif des 60 ans ou plus / effectif des 55-59 ans), plafonné par le même âge calculé "
              "sur l'ensemble des métiers (les entrées tardives gonflent les 60 ans ou plus des familles qui "
              "recrutent après 50 ans) ; 0 = âge observé"),
    Parameter("training_factor", "Places de formation (× niveau actuel)", "×", 0.0, 3.0, 1.0,
              "DREES, enquête Écoles : moyenne des trois dernières années de diplômés du store "
              "(ILLUSTRATIF aujourd'hui) ; 1 = niveau actuel"),
    Parameter("demand_growth", "Croissance annuelle de l'emploi", "% par an", -5.0, 10.0, None,
              "Par défaut, l'emploi suit la population qu'il sert (son « moteur » : bénéficiaires de l'APA à "
              "domicile, personnes de 85 ans ou plus, enfants de moins de 3 ans, enfants accueillis à l'ASE, "
              "moins de 25 ans), projetée par l'observatoire à partir des projections de l'Insee, avec "
              "l'élasticité observée de l'emploi à ce moteur sur les dix années précédant l'année de base ; "
              "une valeur saisie ici remplace ce calcul (la tendance décennale de l'emploi est proposée comme "
              "scénario de rechange)"),
    Parameter("take_up_rate", "Part des diplômés qui prennent un poste du métier", "%", 0.0, 100.0, 85.0,
              "Hypothèse de l'observatoire (aucune source publiée dans le store) : à remplacer par le taux "
              "d'insertion mesuré par l'enquête DREES auprès des sortants"),
)}


@dataclass(frozen=True)
class FamilyInputs:
    """What the store holds about one FAP-87 family (persons, national unless stated)."""

    fap: str
    label: str
    base_year: int
    pyramid: pd.Series  # BANDS code → persons, three-year window ending at `base_year`
    employment: pd.Series  # window's last year → persons
    broad_age: pd.DataFrame  # index year, columns BROAD_BANDS codes → persons
    exit_rate: float | None  # % of employment leaving an employer per year (DARES DMMO, mean)
    definitive_exit_share: float | None  # % of those exits that are definitive (not end of contract/retirement)
    region_share: pd.Series  # territory_id → fraction of national employment (sums to 1)
    graduates: pd.DataFrame | None = None  # territory_id, period, value: graduates of the mapped diplomas
    diplomas: tuple[str, ...] = ()
    driver: str | None = None  # the demand driver the family's employment follows (observatory/demand.py)
    driver_path: pd.Series | None = None  # year → national driver, observed up to its base year then projected
    driver_label: str = ""
    all_pyramid: pd.Series | None = None  # every occupation's pyramid, same window (the exit age's upper bound)
    departement_share: pd.Series | None = None  # DEP-… → fraction of national employment (each région's split)

    def share(self, territory: str) -> float:
        """The territory's fraction of national employment: 1 for France, NaN where none is known."""
        if territory == "FR":
            return 1.0
        if territory in self.region_share.index:
            return float(self.region_share[territory])
        if self.departement_share is not None and territory in self.departement_share.index:
            return float(self.departement_share[territory])
        return math.nan

    def covers(self, territory: str) -> bool:
        return not math.isnan(self.share(territory))

    @cached_property
    def elasticity(self) -> float | None:
        """Employment's elasticity to its driver over the ten years before the base year."""
        return elasticity(self.employment, self.driver_path, self.base_year)

    # The family's own rates do not depend on the scenario: computed once per family (the store is read once
    # per store version), never again on a request's path.
    @cached_property
    def trend(self) -> float | None:
        """Annual employment growth (%) over the ten years before the base year."""
        return trend(self.employment, self.base_year)

    @cached_property
    def growth_spread(self) -> float:
        return trend_spread(self.employment, self.base_year)

    @cached_property
    def mean_exit_age(self) -> float:
        """The family's own end-of-career age, but never later than every occupation's: a family that hires many
        people in their fifties (aides à domicile, assistantes maternelles, animateurs) has a 60+ band swollen by
        late entrants, which the stationary identity reads as late exits."""
        own = mean_exit_age(self.pyramid)
        return own if self.all_pyramid is None else min(own, mean_exit_age(self.all_pyramid))


@dataclass(frozen=True)
class Scenario:
    exit_rate_factor: float = 1.0
    retirement_age_shift: float = 0.0
    training_factor: float = 1.0
    demand_growth: float | None = None  # % per year; None: the family's trend
    take_up_rate: float = 85.0

    def changed(self) -> dict[str, float]:
        """The parameters that differ from the central scenario."""
        central = Scenario()
        return {k: v for k, v in self.__dict__.items() if v != getattr(central, k)}


class OutlookError(ValueError):
    """A request the outlook cannot answer (the API answers 400): the message in French, then in English."""

    def __init__(self, french: str, english: str) -> None:
        super().__init__(f"{french} / {english}")


class OutlookUnavailable(OutlookError):
    """The store holds none of the outlook's inputs (the API answers 503: the server's state, not the request)."""


def check(scenario: Scenario) -> Scenario:
    for name, value in scenario.__dict__.items():
        if value is None:
            continue
        p = PARAMETERS[name]
        if not (isinstance(value, (int, float)) and math.isfinite(value) and p.low <= value <= p.high):
            raise OutlookError(f"{name} va de {p.low:g} à {p.high:g} ({p.unit}), pas {value!r}",
                               f"{name} must be between {p.low:g} and {p.high:g} ({p.unit}), not {value!r}")
    return scenario


# --- the family's own rates, from its data -------------------------------------------------------------------
def mean_exit_age(pyramid: pd.Series) -> float:
    """Mean end-of-career age from the pyramid, as in a stationary population: the 60+ band holds as many
    single years of the 55-59 cohorts as people stay past 60 on average. Bounded to 58–67."""
    older, before = float(pyramid.get("age:60+", 0.0)), float(pyramid.get("age:55-59", 0.0))
    if before <= 0:
        return 62.0 if older <= 0 else 67.0
    return float(np.clip(60.0 + 5.0 * older / before, 58.0, 67.0))


def exit_hazard(mean_age: float) -> np.ndarray:
    """Probability, per single age, that someone still in employment at that age ends their career that year:
    a normal exit-age distribution (mean `mean_age`, sd EXIT_AGE_SD) turned into a hazard; 1 at 74."""
    edges = AGES.astype(float) - 0.5
    cdf = np.array([0.5 * (1 + math.erf((x - mean_age) / (EXIT_AGE_SD * math.sqrt(2)))) for x in edges])
    density = np.diff(np.append(cdf, 1.0))
    survival = 1.0 - cdf
    hazard = np.divide(density, survival, out=np.ones_like(density), where=survival > 1e-12)
    hazard[-1] = 1.0
    return np.clip(hazard, 0.0, 1.0)


def spread(bands: pd.Series, table: dict[str, tuple[int, int]], hazard: np.ndarray) -> np.ndarray:
    """Persons per single age from age bands: even within a band, except the open last band, spread along the
    survival curve (fewer people at each older age as careers end)."""
    stock = np.zeros(len(AGES))
    survival = np.cumprod(np.append(1.0, 1.0 - hazard[:-1]))
    for code, (first, last) in table.items():
        value = float(bands.get(code, 0.0) or 0.0)
        idx = slice(first - AGES[0], last - AGES[0] + 1)
        weights = survival[idx] if last == AGES[-1] else np.ones(last - first + 1)
        if weights.sum() > 0:
            stock[idx] += value * weights / weights.sum()
    return stock


def trend(employment: pd.Series, end: int, years: int = TREND_YEARS) -> float | None:
    """Annual growth (%) of employment over the `years` before `end` (log-linear least squares)."""
    window = employment[(employment.index > end - years - 1) & (employment.index <= end)]
    window = window[window > 0]
    if len(window) < max(3, years // 2):
        return None
    x, y = window.index.to_numpy(float), np.log(window.to_numpy(float))
    x = x - x.mean()
    slope = float((x * (y - y.mean())).sum() / (x * x).sum())
    return float(np.expm1(slope) * 100)


def trend_spread(employment: pd.Series, end: int, years: int = TREND_YEARS) -> float:
    """How much the ten-year trend itself moved in the family's history: the standard deviation of the trend
    over every ten-year window ending at or before `end` (%-points per year); the band's half-width."""
    ends = [y for y in employment.index if y <= end and trend(employment, y, years) is not None]
    slopes = [trend(employment, y, years) for y in ends]
    return float(np.std(slopes)) if len(slopes) >= 3 else 1.0


ELASTICITY_BOUNDS = (0.0, 2.0)  # beyond, employment moved for other reasons than its driver (policy, reforms)
MIN_DRIVER_CHANGE = 0.02  # a driver that moved less than 2 % in ten years says nothing of an elasticity


def elasticity(employment: pd.Series, driver: pd.Series | None, end: int, years: int = TREND_YEARS) -> float | None:
    """log(E_end / E_start) / log(D_end / D_start) over the `years` before `end` (or the part of them both series
    cover, five years at least), bounded; 1 (jobs per person served held constant) when the driver barely
    moved; None when it is missing (the trend is used instead)."""
    if driver is None:
        return None
    known = [y for y in range(end - years, end - 4) if y in employment.index and y in driver.index]
    if not known or end not in employment.index or end not in driver.index:
        return None
    start = known[0]  # the window's first year both series have (APA exists since 2002), at least five years
    moved = math.log(float(driver[end]) / float(driver[start]))
    if employment[start] <= 0:
        return None
    if abs(moved) < math.log1p(MIN_DRIVER_CHANGE):
        return 1.0  # the driver barely moved: no elasticity can be read; jobs per person served held constant
    return float(np.clip(math.log(float(employment[end]) / float(employment[start])) / moved, *ELASTICITY_BOUNDS))


def driven_growth(driver: pd.Series, elasticity_: float, base_year: int, horizon: int) -> np.ndarray:
    """Employment growth (% per year) for each year base+1 … horizon: the driver's growth that year raised to
    the elasticity."""
    years = np.arange(base_year + 1, horizon + 1)
    values = driver.reindex(np.arange(base_year, horizon + 1)).interpolate(limit_direction="both").to_numpy(float)
    return (np.power(values[1:] / values[:-1], elasticity_) - 1.0) * 100.0 if len(years) else np.zeros(0)


def other_exit_rate(inputs: FamilyInputs) -> float:
    """Mid-career exits per year (fraction of employment): DMMO exit rate × definitive share."""
    if inputs.exit_rate is None or inputs.definitive_exit_share is None:
        return 0.0
    return inputs.exit_rate / 100.0 * inputs.definitive_exit_share / 100.0


def annual_graduates(inputs: FamilyInputs, territory: str) -> tuple[float | None, tuple[int, ...]]:
    """Mean graduates per year over the last GRADUATE_YEARS years in the store (nation: sum of régions)."""
    g = inputs.graduates
    if g is None or g.empty:
        return None, ()
    g = g[g.territory_id.str.startswith("REG-")] if territory == "FR" else g[g.territory_id == territory]
    if g.empty:
        return None, ()
    periods = tuple(sorted(g.period.unique())[-GRADUATE_YEARS:])
    per_year = g[g.period.isin(periods)].groupby("period").value.sum()
    return float(per_year.mean()), periods


# --- the projection ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Path:
    """National flows per projected year (arrays over years base+1 … horizon)."""

    years: np.ndarray
    employment: np.ndarray
    retirements: np.ndarray
    other_exits: np.ndarray
    job_change: np.ndarray
    entrants: np.ndarray
    other_hires: np.ndarray
    share_50_plus: np.ndarray


def simulate(stock: np.ndarray, base_year: int, horizon: int, growth, hazard: np.ndarray,
             exit_rate: float, entrants: float, hire_profile: np.ndarray) -> Path:
    """Age the stock one year at a time; employment follows `growth` (% per year: one value, or one per year)."""
    n = max(horizon - base_year, 0)
    growth = np.broadcast_to(np.asarray(growth, dtype=float), (n,)) if n else np.zeros(0)
    out = {k: np.zeros(n) for k in ("employment", "retirements", "other_exits", "job_change", "entrants",
                                    "other_hires", "share_50_plus")}
    young = np.zeros(len(AGES))
    young[ENTRANT_AGES[0] - AGES[0]:ENTRANT_AGES[1] - AGES[0] + 1] = 1.0
    young /= young.sum()
    fifty = AGES >= 50
    stock = stock.astype(float).copy()
    for i in range(n):
        employment = stock.sum()
        retiring = stock * hazard
        staying = stock - retiring
        leaving = staying * exit_rate
        staying = staying - leaving
        aged = np.zeros_like(staying)
        aged[1:] = staying[:-1]  # the 74-year-olds all left (hazard 1)
        target = employment * (1.0 + growth[i] / 100.0)
        hires = target - aged.sum()
        others = hires - entrants
        stock = np.clip(aged + entrants * young + others * hire_profile, 0.0, None)
        out["employment"][i] = stock.sum()
        out["retirements"][i] = retiring.sum()
        out["other_exits"][i] = leaving.sum()
        out["job_change"][i] = target - employment
        out["entrants"][i] = entrants
        out["other_hires"][i] = others
        out["share_50_plus"][i] = stock[fifty].sum() / stock.sum() * 100 if stock.sum() > 0 else np.nan
    return Path(np.arange(base_year + 1, base_year + 1 + n), **out)


def hire_profile(stock: np.ndarray) -> np.ndarray:
    """Other hires (from other occupations, returns to work) join with the age profile of the people in
    employment aged 20 to 59 in the base year: in care work many start in their forties or fifties."""
    profile = np.where((AGES >= OTHER_HIRE_AGES[0]) & (AGES <= OTHER_HIRE_AGES[1]), stock, 0.0)
    if profile.sum() <= 0:
        profile = ((AGES >= OTHER_HIRE_AGES[0]) & (AGES <= OTHER_HIRE_AGES[1])).astype(float)
    return profile / profile.sum()


@dataclass(frozen=True)
class Rates:
    """The rates a scenario resolves to for one family (shown as the assumptions)."""

    mean_exit_age: float
    growth: float
    growth_spread: float
    other_exit_rate: float
    graduates: float | None
    graduate_periods: tuple[int, ...]
    entrants: float | None
    elasticity: float | None = None  # None: employment does not follow a driver (trend, or growth set by hand)
    driver: str | None = None


def regional_entrants(inputs: FamilyInputs, scenario: Scenario, territory: str) -> float | None:
    graduates, _ = annual_graduates(inputs, territory)
    return None if graduates is None else graduates * scenario.training_factor * scenario.take_up_rate / 100


def follows_driver(inputs: FamilyInputs, scenario: Scenario) -> bool:
    return scenario.demand_growth is None and inputs.elasticity is not None and inputs.driver_path is not None


def growth_path(inputs: FamilyInputs, scenario: Scenario, horizon: int) -> np.ndarray:
    """Employment growth (% per year) for each projected year: its driver's, or a constant (set, or the trend)."""
    n = max(horizon - inputs.base_year, 0)
    if follows_driver(inputs, scenario):
        return driven_growth(inputs.driver_path, inputs.elasticity, inputs.base_year, horizon)
    constant = scenario.demand_growth if scenario.demand_growth is not None else (inputs.trend or 0.0)
    return np.full(n, float(constant))


def rates(inputs: FamilyInputs, scenario: Scenario, territory: str = "FR", horizon: int = 2030) -> Rates:
    if follows_driver(inputs, scenario):
        path = growth_path(inputs, scenario, max(horizon, inputs.base_year + 1))
        growth = float((np.prod(1 + path / 100.0) ** (1 / len(path)) - 1) * 100) if len(path) else 0.0
    else:
        growth = scenario.demand_growth if scenario.demand_growth is not None else (inputs.trend or 0.0)
    graduates, periods = annual_graduates(inputs, territory)
    entrants = None if graduates is None else graduates * scenario.training_factor * scenario.take_up_rate / 100
    driven = follows_driver(inputs, scenario)
    return Rates(inputs.mean_exit_age + scenario.retirement_age_shift, float(growth), inputs.growth_spread,
                 other_exit_rate(inputs) * scenario.exit_rate_factor, graduates, periods, entrants,
                 inputs.elasticity if driven else None, inputs.driver if driven else None)


def base_stock(inputs: FamilyInputs, hazard: np.ndarray) -> np.ndarray:
    """The base year's single-age stock: the pyramid's shape scaled to that year's employment."""
    stock = spread(inputs.pyramid, BANDS, hazard)
    employment = float(inputs.employment.get(inputs.base_year, stock.sum()))
    return stock * employment / stock.sum() if stock.sum() > 0 else stock


def project(inputs: FamilyInputs, scenario: Scenario = Scenario(), territory: str = "FR",
            horizon: int = 2035) -> pd.DataFrame:
    """One row per year after the base year up to `horizon`, in persons (see ROW_COLUMNS)."""
    return project_many(inputs, scenario, (territory,), horizon)[territory]


def project_many(inputs: FamilyInputs, scenario: Scenario, territories: tuple[str, ...],
                 horizon: int = 2035) -> dict[str, pd.DataFrame]:
    """The projection for several territories from one national run.

    A région is the nation's path scaled by its share of the family's employment (so régions add up to the
    nation); its entrants are its own graduates (the nation's are the sum of the régions')."""
    check(scenario)
    national = rates(inputs, scenario, "FR", horizon)
    hazard = exit_hazard(national.mean_exit_age)
    stock = base_stock(inputs, exit_hazard(inputs.mean_exit_age))
    profile = hire_profile(stock)
    growth = growth_path(inputs, scenario, horizon)
    paths = {
        name: simulate(stock, inputs.base_year, horizon, g, hazard, national.other_exit_rate,
                       national.entrants or 0.0, profile)
        for name, g in (("central", growth), ("low", growth - national.growth_spread),
                        ("high", growth + national.growth_spread))
    }
    c = paths["central"]
    base = pd.DataFrame({
        "year": c.years, "employment": c.employment, "employment_low": paths["low"].employment,
        "employment_high": paths["high"].employment, "retirements": c.retirements,
        "other_exits": c.other_exits, "job_change": c.job_change,
    })
    out = {}
    for territory in territories:
        share = inputs.share(territory)
        frame = base.copy()
        frame.iloc[:, 1:] = base.iloc[:, 1:].to_numpy() * share
        frame["share_50_plus"] = c.share_50_plus
        frame["openings"] = frame.retirements + frame.job_change
        entrants = national.entrants if territory == "FR" else regional_entrants(inputs, scenario, territory)
        frame["entrants"] = np.nan if entrants is None else entrants
        frame["gap"] = frame.openings - frame.entrants
        frame["complete_gap"] = frame.gap + frame.other_exits
        # hires not from training close the identity (all hires where no training data is mapped)
        frame["other_hires"] = frame.openings + frame.other_exits - frame.entrants.fillna(0.0)
        frame["status"] = "illustrative" if entrants is not None else "ok"
        out[territory] = frame[ROW_COLUMNS]
    return out


def window(frame: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    """The rows of years start+1 … end (flows *after* `start`)."""
    return frame[(frame.year > start) & (frame.year <= end)]


def totals(frame: pd.DataFrame) -> dict[str, float]:
    """Cumulated flows over a window (the one-sentence summary and the closing figures)."""
    keys = ("retirements", "job_change", "openings", "entrants", "gap", "other_exits", "complete_gap")
    return {k: float(frame[k].sum(min_count=1)) for k in keys}


# --- the back-test -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Backtest:
    """How the same model, run from an earlier base year, landed against what happened."""

    fap: str
    base_year: int
    target_year: int
    actual_employment: float
    projected_employment: float
    naive_employment: float
    actual_share_50_plus: float
    projected_share_50_plus: float
    naive_share_50_plus: float
    growth_used: float
    elasticity: float | None = None  # employment followed its driver (observed) with this elasticity; None: trend
    driver: str | None = None

    @property
    def employment_error(self) -> float:
        return (self.projected_employment / self.actual_employment - 1) * 100

    @property
    def naive_employment_error(self) -> float:
        return (self.naive_employment / self.actual_employment - 1) * 100

    @property
    def share_error(self) -> float:
        return self.projected_share_50_plus - self.actual_share_50_plus

    @property
    def naive_share_error(self) -> float:
        return self.naive_share_50_plus - self.actual_share_50_plus

    def as_dict(self) -> dict:
        return self.__dict__ | {
            "employment_error_pct": round(self.employment_error, 1),
            "naive_employment_error_pct": round(self.naive_employment_error, 1),
            "share_50_plus_error_points": round(self.share_error, 1),
            "naive_share_50_plus_error_points": round(self.naive_share_error, 1),
            "method": BACKTEST_METHOD,
        }


METHOD = (  # in French: the methodology page and the exports' assumptions sheet say it in these words
    "Projection par famille FAP-87, pour la France ou une région, année par année et âge par âge (15-74 ans), "
    "selon l'identité emploi(t+1) = emploi(t) − départs en fin de carrière − sorties en cours de carrière + "
    "jeunes diplômés + autres embauches. L'emploi suit la population que la famille sert (son moteur, projeté "
    "par l'observatoire à partir des projections de l'Insee), avec l'élasticité observée sur les dix années "
    "précédant l'année de base, ou la croissance saisie ; les postes à pourvoir sont les "
    "départs en fin de carrière plus les créations nettes (définition des « Métiers en 2030 » de la DARES et de "
    "France Stratégie) ; l'écart les compare aux jeunes diplômés, l'écart complet ajoute les sorties en cours de "
    "carrière. Une région suit la France à sa part de l'emploi de la famille. Chaque hypothèse est modifiable, "
    "l'emploi a une fourchette et un back-test est publié. Ce n'est ni une prévision ni un nombre de postes "
    "financés ; effectifs en personnes, jamais en ETP."
)

BACKTEST_METHOD = (
    "Même modèle lancé depuis l'année de base moins dix ans : pyramide à trois tranches d'âge de la DARES "
    "(historique 1982-2019) ; l'emploi suit son moteur tel qu'il a été observé sur ces dix ans, avec "
    "l'élasticité des dix années précédentes (la tendance de l'emploi quand la famille n'a pas de moteur) ; "
    "mêmes taux de sortie. Les diplômés "
    "ne sont pas connus avant la série illustrative : toutes les embauches y suivent le profil d'âge des 20-59 ans "
    "en emploi. "
    "L'âge de fin de carrière est celui de la pyramide la plus récente (seule pyramide détaillée disponible), ce "
    "qui avantage un peu le modèle. Projection naïve : emploi et part des 50 ans ou plus constants."
)


def backtest(inputs: FamilyInputs, years: int = 10) -> Backtest | None:
    """Project from `base_year − years` to `base_year` and compare with the stock actually observed."""
    start, end = inputs.base_year - years, inputs.base_year
    ages = inputs.broad_age
    if start not in ages.index or end not in ages.index or start not in inputs.employment.index \
            or end not in inputs.employment.index:
        return None
    e = elasticity(inputs.employment, inputs.driver_path, start)
    growth = trend(inputs.employment, start)
    if e is not None:  # the driver as observed over the back-test's years, the elasticity of the ten before
        growth = driven_growth(inputs.driver_path, e, start, end)
    if growth is None:
        return None
    hazard = exit_hazard(inputs.mean_exit_age)
    stock = spread(ages.loc[start], BROAD_BANDS, hazard)
    employment0 = float(inputs.employment[start])
    if stock.sum() <= 0:
        return None
    stock = stock * employment0 / stock.sum()
    path = simulate(stock, start, end, growth, hazard, other_exit_rate(inputs), 0.0, hire_profile(stock))
    actual = ages.loc[end]
    share_now = float(actual.get("age:50+", np.nan)) / float(actual.sum()) * 100
    share_then = float(ages.loc[start].get("age:50+", np.nan)) / float(ages.loc[start].sum()) * 100
    used = float((np.prod(1 + np.asarray(growth) / 100.0) ** (1 / (end - start)) - 1) * 100) \
        if np.ndim(growth) else float(growth)
    return Backtest(inputs.fap, start, end, float(inputs.employment[end]), float(path.employment[-1]),
                    employment0, share_now, float(path.share_50_plus[-1]), share_then, used, e,
                    inputs.driver if e is not None else None)
