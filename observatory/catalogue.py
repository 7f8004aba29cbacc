"""The indicator catalogue, defined once.

The store's `indicator` table, validation, the methodology page and export metadata are all generated from
`INDICATORS`, read from `catalogue.toml`; nothing else restates a label, a unit or an aggregation rule.
"""
from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class Indicator:
    indicator_id: str
    label: str
    theme: str
    unit: str
    definition: str
    formula: str
    aggregation: str  # sum | ratio | none
    direction: str  # higher_is_better | lower_is_better | neutral
    sources: str
    numerator_label: str | None = None
    denominator_label: str | None = None
    caveats: str | None = None
    decimals: int = 1

    def as_row(self) -> dict:
        return asdict(self)

    @property
    def anchor(self) -> str:
        """The id of the indicator's section on « Méthodologie » (stable: linked from every chart)."""
        return f"indicateur-{self.indicator_id}"

    @property
    def formula_words(self) -> str:
        """The formula in words, from the named numerator and denominator (the symbols are `formula`); for a
        count or a published figure, what is counted."""
        if self.numerator_label and self.denominator_label:
            return (f"{self.label} = {self.numerator_label} / {self.denominator_label}"
                    + (" × 100" if self.unit == "%" else ""))
        return f"{self.label} : {self.definition[0].lower()}{self.definition[1:]}"


_AGGREGATIONS = ("sum", "ratio", "none")
_DIRECTIONS = ("higher_is_better", "lower_is_better", "neutral")


def _load(path: Path) -> tuple[Indicator, ...]:
    """The catalogue file's indicators, in its order; a wrong key or value fails at import, naming the entry (the
    catalogue is data the whole product trusts: it must not be half read)."""
    entries = tomllib.loads(path.read_text(encoding="utf-8"))["indicator"]
    names = {f.name for f in fields(Indicator)}
    indicators = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path.name}, indicator {number} ({entry.get('indicator_id', '?')})"
        if set(entry) - names:
            raise ValueError(f"{where}: unknown keys {sorted(set(entry) - names)}")
        indicator = Indicator(**entry)
        if indicator.aggregation not in _AGGREGATIONS or indicator.direction not in _DIRECTIONS:
            raise ValueError(f"{where}: aggregation must be one of {_AGGREGATIONS}, direction one of {_DIRECTIONS}")
        indicators.append(indicator)
    return tuple(indicators)


# Every indicator: definitions, formulas, units and sources are data, in `catalogue.toml` beside this module.
INDICATORS: tuple[Indicator, ...] = _load(Path(__file__).with_name("catalogue.toml"))

@dataclass(frozen=True)
class NeedRatio:
    """A ratio of two stored counts for one territory and year (« Besoins et ressources », observatory/needs.py)."""

    ratio_id: str
    label: str
    numerator: str
    denominator: str
    scale: float
    unit: str
    decimals: int
    definition: str
    numerator_breakdown: str = ""
    denominator_breakdown: str = ""
    numerator_profession: str = "ensemble"
    denominator_profession: str = "ensemble"


def _load_ratios(path: Path) -> tuple[NeedRatio, ...]:
    with path.open("rb") as handle:
        return tuple(NeedRatio(**entry) for entry in tomllib.load(handle).get("need_ratio", []))


NEED_RATIOS: dict[str, NeedRatio] = {r.ratio_id: r for r in _load_ratios(Path(__file__).with_name("catalogue.toml"))}

# Shares computed at query time from two stored counts of the same cells (not stored: storing them would cost
# the BMO load its time budget). Same rule as the stored shares: a cell whose numerator is secret counts in the
# denominator only, so the share of a total that misses cells is a lower bound (`partial`).
COMPUTED: dict[str, tuple[str, str]] = {
    "recruitment_seasonal_share": ("recruitment_projects_seasonal", "recruitment_projects"),
}

# Sub-populations a figure may describe, besides the whole population ('') and a category of establishment
# (`esms:<code>`): breakdown code → French label. The dares_outlook adapter writes them; the URL codec accepts them.
BREAKDOWNS: dict[str, str] = {
    "age:15-24": "15 à 24 ans", "age:25-29": "25 à 29 ans", "age:30-34": "30 à 34 ans",
    "age:35-39": "35 à 39 ans", "age:40-44": "40 à 44 ans", "age:45-49": "45 à 49 ans",
    "age:50-54": "50 à 54 ans", "age:55-59": "55 à 59 ans", "age:60+": "60 ans ou plus",
    "age:<30": "moins de 30 ans", "age:30-49": "30 à 49 ans", "age:50+": "50 ans ou plus",
    "sortie:fin_cdd": "fins de CDD", "sortie:demission": "démissions", "sortie:licenciement": "licenciements",
    "sortie:rupture_conventionnelle": "ruptures conventionnelles",
    "sortie:fin_periode_essai": "fins de période d'essai", "sortie:retraite": "départs en retraite",
    "sortie:autre": "autres sorties",
    # Insee's five-year bands (population): 0 à 4 ans … 90 à 94 ans, 95 ans ou plus (90+ for the DOM, 1990–98)
    **{f"age:{low}-{low + 4}": f"{low} à {low + 4} ans" for low in range(0, 95, 5)},
    "age:95+": "95 ans ou plus", "age:90+": "90 ans ou plus",
    "age:75+": "75 ans ou plus", "age:85+": "85 ans ou plus",
    # Insee's national projections: single years of age 0 … 104, then 105 or more
    **{f"age:{a}": f"{a} an{'s' if a > 1 else ''}" for a in range(105)}, "age:105+": "105 ans ou plus",
    "perimetre:69D": "Rhône hors Métropole (69D)", "perimetre:69M": "Métropole de Lyon (69M)",
}

# Which indicators each page shows, in order (the first one opens the page). Sources, periods and vintages are
# never named here: the store says which exist, and every page opens on the latest period.
PAGES: dict[str, tuple[str, ...]] = {
    "recrutement": ("recruitment_difficulty_share", "recruitment_projects", "recruitment_projects_difficult",
                    "recruitment_projects_seasonal", "recruitment_seasonal_share"),
    "ressources-humaines": ("turnover_rate", "entry_rate", "exit_rate", "absenteeism_rate", "vacancy_rate",
                            "turnover_rate_all_contracts", "entry_rate_all_contracts", "exit_rate_all_contracts"),
    "formation": ("students_enrolled", "first_year_entrants", "graduates", "training_interruptions",
                  "training_interruption_rate", "graduates_per_entrant"),
    "filieres": ("recruitment_difficulty_share", "recruitment_projects", "job_offers", "jobseekers_abc",
                 "students_enrolled", "training_interruption_rate", "graduates_per_entrant"),
    "territoires": ("recruitment_difficulty_share", "recruitment_projects", "turnover_rate", "vacancy_rate",
                    "absenteeism_rate", "students_enrolled", "graduates", "job_offers"),
    # a territory's profile against its région and France (social work and all occupations where published)
    "territoires-profil": ("turnover_rate", "vacancy_rate", "absenteeism_rate", "recruitment_difficulty_share"),
    # the home page's « ce qui a changé »: national series, last two periods of the same series
    "accueil": ("recruitment_difficulty_share", "recruitment_projects", "turnover_rate", "vacancy_rate",
                "absenteeism_rate", "students_enrolled", "graduates", "turnover_rate_all_contracts"),
}

# Heat maps (/filieres) colour a rate or share by its gap to France's figure (all occupations, same period); a gap
# smaller than the indicator's neutral band, in its unit (points for a %), is shown « proche de la France »: about
# the rounding of the published rates, too small to call better or worse. Counts are never coloured.
DEFAULT_NEUTRAL_BAND = 1.0
NEUTRAL_BAND: dict[str, float] = {
    "recruitment_difficulty_share": 1.0, "training_interruption_rate": 1.0, "graduates_per_entrant": 1.0,
}

# The population a figure's `ensemble` stands for, when it is not « all occupations »: TDBMS figures cover the
# permanent staff of medico-social establishments, never every occupation.
ESMS_STAFF = "Personnel permanent des ESMS"
POPULATION: dict[str, str] = {
    **{indicator_id: ESMS_STAFF
       for indicator_id in ("turnover_rate", "entry_rate", "exit_rate", "absenteeism_rate", "vacancy_rate")},
    "population": "Toute la population",
}

BY_ID: dict[str, Indicator] = {i.indicator_id: i for i in INDICATORS}


def root_label(indicator_id: str, default: str) -> str:
    """What the root profession (`ensemble`) is called for an indicator: its population when the catalogue names
    one, else `default` (the store's label). Dropdowns, chart titles, tables and exports all read it here."""
    return POPULATION.get(indicator_id, default)


def methodology_href(indicator_id: str) -> str:
    """The link to an indicator's definition and formula on « Méthodologie »."""
    return f"/methodologie#{get(indicator_id).anchor}"


def get(indicator_id: str) -> Indicator:
    """The catalogue entry, or a KeyError naming the unknown id."""
    try:
        return BY_ID[indicator_id]
    except KeyError:
        raise KeyError(f"unknown indicator {indicator_id!r}") from None


@dataclass(frozen=True)
class TerritoryLevel:
    """How every page, sentence and export names one territory level (`schema.TERRITORY_LEVELS`)."""

    level: str
    label: str  # « Département » : a place's kind, before its name (`place`)
    plural: str  # « Départements » : a level to choose (`level_options`)
    by: str  # « par département » : a map or a table over the level
    of: str  # « du département » : « les pairs du département »
    the: str  # « le département »
    slug: str  # in an export's file name

    def place(self, name: str) -> str:
        """« Département : Gironde »; France is named alone."""
        return self.label if self.level == "nation" else f"{self.label} : {name}"


_BASSIN = ("Bassin d'emploi", "Bassins d'emploi", "par bassin d'emploi", "du bassin d'emploi", "le bassin d'emploi")
# The one table of territory-level words (hrcard, views, benchmarks, the pages and the exports read it).
TERRITORY_LEVELS: dict[str, TerritoryLevel] = {t.level: t for t in (
    TerritoryLevel("nation", "France", "France", "en France", "de France", "la France", "france"),
    TerritoryLevel("region", "Région", "Régions", "par région", "de la région", "la région", "regions"),
    TerritoryLevel("departement", "Département", "Départements", "par département", "du département",
                   "le département", "departements"),
    TerritoryLevel("bassin", *_BASSIN, "bassins"),
    TerritoryLevel("bassin_emploi", *_BASSIN, "bassins-emploi"),
)}


def place(level: str, name: str) -> str:
    """« Région : Bretagne », « France »: a territory named with its level."""
    return TERRITORY_LEVELS[level].place(name)


def level_options(levels: tuple[str, ...]) -> list[dict]:
    """A level dropdown's options: « Régions », « Départements »…"""
    return [{"label": TERRITORY_LEVELS[level].plural, "value": level} for level in levels]
