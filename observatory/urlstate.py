"""THE query-string codec: one selection (`queries.Selection`), one way to read and write it in a URL.

The pages, the HTTP API, the exports and the CLI all read a query string here:

* keys: the API's English names are the contract (`indicator`, `profession`, `territory`, `level`, `period`,
  `source`, `breakdown`); the French names that page links use (`indicateur`, `territoire`, `niveau`, `annee`,
  `categorie`) are accepted everywhere as aliases of them;
* `parse(store, args)` is the strict reading (API and CLI): every value checked against the store, a `BadQuery` names
  what is wrong (in French, with the English clause the contract documents); filters may repeat;
* `decode(query, defaults)` is the lenient reading a page does of its own link: the same keys and value rules,
  but a value that does not parse is ignored (the page falls back to its default rather than failing);
* `encode(filters, defaults)` writes a page's link (French keys, only what differs from the page's defaults);
  `encode_selection(store, selection)` writes the API query of a selection (what the pages' export links point to);
* `parse_outlook(query, data, strict=)` and `encode_outlook(request)` do the same for a workforce projection
  (`/perspectives`, `/api/v1/projections`, `scripts/outlook_figures.py`): its own keys (`profession`, `territory`,
  `from`, `to` and the scenario's parameters), read from the same query-string forms.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from urllib.parse import parse_qsl, urlencode

from observatory import catalogue, outlook, outlook_data, queries
from observatory.formatting import parse_number
from observatory.outlook import OutlookError, Scenario
from observatory.schema import TERRITORY_LEVELS
from observatory.store import Store, cached

PARAMETERS = ("indicator", "profession", "territory", "level", "period", "source", "breakdown")  # the API's keys
KEYS = {  # parameter (and Filters attribute) → the French key page links use
    "indicator": "indicateur", "profession": "profession", "territory": "territoire", "level": "niveau",
    "period": "annee", "breakdown": "categorie", "source": "source", "compare": "comparer",
}
COMPARE = ("region", "france")  # `comparer=region,france`: a page's territory also against its région, France
ALIASES = {KEYS[name]: name for name in PARAMETERS if KEYS[name] != name}  # French key → API parameter
_PAGE_ALIASES = {french: name for name, french in KEYS.items() if french != name}  # pages: also page-only keys
FIELDS = {"indicator": "indicators", "profession": "professions", "territory": "territories", "level": "levels",
          "period": "periods", "source": "sources", "breakdown": "breakdowns"}  # parameter → Selection field
FRENCH_NAMES = {"indicator": "indicateur", "profession": "métier", "territory": "territoire", "level": "niveau",
                "period": "année", "source": "source", "breakdown": "catégorie"}  # in messages and metadata
LEVELS = TERRITORY_LEVELS
MAX_VALUES = 2_000  # distinct values of one filter (every territory id fits; keeps SQL under its bound-parameter cap)


class BadQuery(ValueError):
    """A query string the API refuses: the message names the parameter or value (French, then English)."""


@dataclass(frozen=True)
class Filters:
    """A page's filters: one value per filter (the pages' view of a selection; see `selection`)."""

    indicator: str
    profession: str = "ensemble"
    territory: str = "FR"
    level: str = "region"
    period: int | None = None  # None: the latest period with data
    breakdown: str | None = None  # None: the whole population
    source: str | None = None  # None: the page's default source for the indicator
    compare: tuple[str, ...] = ()  # pages only: also show the territory's région and/or France (`COMPARE`)


def selection(store: Store, f: Filters) -> queries.Selection:
    """THE selection of a page's filters (what its table shows and its export links ask the API for): one
    indicator, profession and sub-population, a series' every vintage, one period or (None) every period; the
    territory chosen, else « France » for the `nation` level, else every territory of the level. A page that
    shows more (every year of a trend, every territory of a map) says so by the filters it passes."""
    territories = (f.territory,) if f.territory else (("FR",) if f.level == "nation" else None)
    return queries.Selection(
        indicators=(f.indicator,), sources=(queries.series_sources(store, f.source) if f.source else ()) or None,
        professions=(f.profession,), territories=territories, levels=None if territories else (f.level,),
        periods=(f.period,) if f.period is not None else None, breakdowns=(f.breakdown or "",))


def show(value: str) -> str:
    """A value named in a message: control characters escaped, cut when long (never echoes a megabyte)."""
    return repr(value if len(value) <= 60 else value[:60] + "…")[1:-1]


def ascii_digits(value: str, most: int) -> bool:
    """`value` is 1 to `most` ASCII digits (str.isdigit also accepts '²', '١٢' or full-width digits)."""
    return 0 < len(value) <= most and value.isascii() and value.isdigit()


def _pairs(query) -> list[tuple[str, str]]:
    """(key, value) pairs of a query string, a Werkzeug MultiDict, the kwargs Dash gives a page's layout, or a
    dict of lists (`parse_qs`, a CLI's arguments)."""
    if isinstance(query, str):
        return parse_qsl(query.lstrip("?"), keep_blank_values=True)
    if hasattr(query, "getlist"):
        return [(k, v) for k in query for v in query.getlist(k)]
    return [(k, item) for k, v in query.items() for item in ([v] if isinstance(v, str) else
                                                             v if isinstance(v, (list, tuple)) else [])
            if isinstance(item, str)]


def canonical(query, aliases: dict[str, str] = ALIASES) -> dict[str, list[str]]:
    """Every key under its API name (French aliases folded in), its values in order, as given."""
    out: dict[str, list[str]] = {}
    for key, value in _pairs(query):
        out.setdefault(aliases.get(key, key), []).append(value)
    return out


def _period(text: str) -> int | None:
    return int(text) if ascii_digits(text, 4) and len(text) == 4 else None


def _breakdown(text: str) -> str | None:
    """`total` (or '') is the whole population; `esms:<digits>` a category of establishment; `age:<band>` and
    `sortie:<type>` the sub-populations of `catalogue.BREAKDOWNS`; else None."""
    if text in ("total", ""):
        return ""
    if text in catalogue.BREAKDOWNS:
        return text
    if text.endswith(" ") and text[:-1] + "+" in catalogue.BREAKDOWNS:  # `age:60+` typed in a URL: + reads as a space
        return text[:-1] + "+"
    return text if text.startswith("esms:") and ascii_digits(text[5:], 10) else None


# The age breakdowns in a few words (the full list has a hundred and fifty: single ages of the projections too)
_AGE_BANDS = "DARES 15-24 … 60+, <30, 30-49, 50+; Insee 0-4 … 90-94, 95+, 90+, 75+, 85+, single ages 0 … 105+"
_EXIT_TYPES = ", ".join(b.removeprefix("sortie:") for b in catalogue.BREAKDOWNS if b.startswith("sortie:"))


@cached
def _known(store: Store) -> dict[str, frozenset]:
    """The values each filter accepts in this store (read once per store version)."""
    dims = queries.dimensions(store)
    sources = dims.sources
    return {"indicator": frozenset(catalogue.BY_ID), "profession": frozenset(dims.profession_key),
            "territory": frozenset(dims.territory_key), "level": frozenset(TERRITORY_LEVELS),
            "source": frozenset(sources.loc[sources.scope == "published", ["source_id", "series"]].stack())}


def parse(store: Store, query, options: tuple[str, ...] = ()) -> tuple[queries.Selection, dict[str, list[str]]]:
    """The Selection of a query string (strict: API and CLI) and its filters as given (API names → values).

    An empty value (`indicator=`, as an HTML form sends an empty field) is no filter; a value repeated counts
    once; `options` (`format`, `sep`…) are accepted keys the caller reads itself, given once at most."""
    given = canonical(query)
    unknown = sorted(set(given) - set(PARAMETERS) - set(options))
    if unknown:
        names = ", ".join(show(u) for u in unknown[:10])
        accepted = ", ".join(PARAMETERS + options)
        raise BadQuery(f"paramètre inconnu : {names} (acceptés : {accepted} ; en français : "
                       f"{', '.join(ALIASES)}) / unknown parameter(s): {names}; accepted: {accepted}")
    repeated = [name for name in options if len(given.get(name, ())) > 1]
    if repeated:
        raise BadQuery(f"{', '.join(repeated)} : une seule valeur / {', '.join(repeated)} may be given once only")
    values = {name: list(dict.fromkeys(v for v in given.get(name, ()) if v != "")) for name in PARAMETERS}
    for name, wanted in values.items():
        if len(wanted) > MAX_VALUES:
            raise BadQuery(f"au plus {MAX_VALUES} valeurs de {FRENCH_NAMES[name]} par requête, pas {len(wanted)} / "
                           f"at most {MAX_VALUES:,} distinct {name} values per request, not {len(wanted):,}")
    for name, allowed in _known(store).items():
        wrong = [v for v in values[name] if v not in allowed]
        if wrong:
            listed = ", ".join(show(v) for v in wrong[:10]) + (f" (+ {len(wrong) - 10})" if len(wrong) > 10 else "")
            raise BadQuery(f"{FRENCH_NAMES[name]} inconnu(e) : {listed} / unknown {name} value(s): {listed}")
    periods = []
    for value in values["period"]:
        if _period(value) is None:
            raise BadQuery(f"l'année s'écrit en 4 chiffres (0-9), pas « {show(value)} » / period must be a year "
                           f"(4 digits 0-9), not '{show(value)}'")
        periods.append(int(value))
    breakdowns = []
    for value in values["breakdown"]:
        if _breakdown(value) is None:
            raise BadQuery(f"la catégorie s'écrit « total », « esms:<code> » (chiffres 0-9), « age:<tranche> », "
                           f"« perimetre:69D|69M » ou « sortie:<motif> », pas « {show(value)} » / breakdown must be "
                           f"'total', 'esms:<category code>' (digits 0-9), 'age:<band>' ({_AGE_BANDS}; + written "
                           f"%2B), 'perimetre:69D' or '69M', or 'sortie:<exit type>' ({_EXIT_TYPES}), not "
                           f"'{show(value)}'")
        breakdowns.append(_breakdown(value))
    selection = queries.Selection(
        indicators=tuple(values["indicator"]) or None,
        # a series id (`ft_bmo`) stands for every vintage of it
        sources=tuple(s for v in values["source"] for s in queries.series_sources(store, v)) or None,
        professions=tuple(values["profession"]) or None, territories=tuple(values["territory"]) or None,
        levels=tuple(values["level"]) or None, periods=tuple(periods) or None,
        breakdowns=tuple(dict.fromkeys(breakdowns)) or None,
    )
    return selection, {k: v for k, v in values.items() if v}


def _series_of(store: Store, sources: tuple[str, ...]) -> list[str]:
    """Source ids written back as their series id where a selection holds every vintage of the series."""
    table = queries.dimensions(store).sources
    series_of = dict(zip(table.source_id, table.series))
    wanted, out = list(dict.fromkeys(sources)), []
    for source_id in wanted:
        series = series_of.get(source_id, source_id)
        vintages = set(table.source_id[table.series == series])
        value = series if vintages and vintages <= set(wanted) else source_id
        if value not in out:
            out.append(value)
    return out


def selection_pairs(store: Store, selection: queries.Selection) -> list[tuple[str, str]]:
    """A selection as the API's query pairs (English keys): `parse` of them selects the same rows.

    `breakdowns=None` (every sub-population) is the API's default: no `breakdown` pair; the whole population
    alone (the Selection's default) is `breakdown=total`."""
    pairs = []
    for name in PARAMETERS:
        values = getattr(selection, FIELDS[name])
        if values is None:
            continue
        if not values:
            raise ValueError(f"an empty {name} filter selects nothing and cannot be written as a query")
        if name == "source":
            values = _series_of(store, tuple(values))
        elif name == "breakdown":
            values = list(dict.fromkeys("total" if not v else v for v in values))
        pairs += [(name, str(v)) for v in values]
    return pairs


def encode_selection(store: Store, selection: queries.Selection) -> str:
    """`indicator=…&territory=…` (no leading `?`): the API query of a selection."""
    return urlencode(selection_pairs(store, selection))


def decode(query, defaults: Filters) -> Filters:
    """A page's filters from its link (a query string or the kwargs Dash passes to `layout`), over `defaults`:
    the keys and value rules of `parse`, but what does not parse is ignored (the last value of a key wins)."""
    values = {}
    for name, given in canonical(query, _PAGE_ALIASES).items():
        if name not in KEYS or not given or not given[-1].strip():
            continue
        text = given[-1].strip()
        if name == "period":
            if _period(text) is not None:
                values["period"] = int(text)
        elif name == "level":
            if text in LEVELS:
                values["level"] = text
        elif name == "breakdown":
            if _breakdown(text):
                values["breakdown"] = text
        elif name == "compare":
            values["compare"] = tuple(c for c in COMPARE if c in text.split(","))
        else:
            values[name] = text[:64]
    return replace(defaults, **values)


def encode(filters: Filters, defaults: Filters) -> str:
    """`?indicateur=…&annee=…` with only the values that differ from `defaults` ('' when none do)."""
    pairs = [(KEYS[f.name], ",".join(v) if isinstance(v, tuple) else v) for f in fields(Filters)
             if (v := getattr(filters, f.name)) != getattr(defaults, f.name) and v is not None]
    return "?" + urlencode(pairs, safe=",") if pairs else ""


CARD_KEYS = ("fiche_departement", "fiche_categorie")  # pages only: the « Ressources humaines » HR card's own choice


def decode_card(query) -> tuple[str | None, str | None]:
    """The HR card's département and ESMS category (`esms:<code>`, as `categorie`) from a page's link (lenient:
    what does not parse is None)."""
    given = {k: v[-1].strip() for k, v in canonical(query, {}).items() if k in CARD_KEYS and v}
    departement = given.get("fiche_departement", "")
    code = given.get("fiche_categorie", "").removeprefix("esms:")
    return (departement[:16] if departement.startswith("DEP-") else None,
            f"esms:{code}" if ascii_digits(code, 10) else None)


def with_card(search: str | None, departement: str | None, category: str | None) -> str:
    """A page's query string with the HR card's choice written in (other keys kept as they are)."""
    pairs = [(k, v) for k, v in _pairs(search or "") if k not in CARD_KEYS]
    pairs += [(k, v) for k, v in zip(CARD_KEYS, (departement, category)) if v]
    return "?" + urlencode(pairs, safe=",:") if pairs else ""


def keep_card(encoded: str, search: str | None) -> str:
    """`encode`'s query string with the HR card's keys of the current `search` kept (the explorer rewrites the
    link of the same page)."""
    departement, category = decode_card(search or "")
    return with_card(encoded, departement, category) if departement or category else encoded


def describe(store: Store, filters: dict[str, list[str]]) -> str:
    """Filters in French for the export metadata: « indicateur : Taux de rotation (turnover_rate) ; année : 2023 »."""
    dims = queries.dimensions(store)
    professions = dict(zip(dims.professions.profession_id, dims.professions.label))
    territories = dict(zip(dims.territories.territory_id, dims.territories.name))
    sources = dict(zip(dims.sources.source_id, dims.sources.title)) | dict(zip(dims.sources.series,
                                                                                 dims.sources.title))

    def named(name: str, value: str) -> str:
        label = {"indicator": lambda v: catalogue.BY_ID[v].label if v in catalogue.BY_ID else None,
                 "profession": professions.get, "territory": territories.get, "source": sources.get,
                 "breakdown": lambda v: "ensemble" if v in ("", "total") else catalogue.BREAKDOWNS.get(v),
                 }.get(name, lambda v: None)(value)
        return f"{label} ({value})" if label and label != value else str(value)

    parts = [f"{FRENCH_NAMES.get(k, k)} : {', '.join(named(k, str(v)) for v in values)}"
             for k, values in filters.items() if values]
    return " ; ".join(parts) or "aucun (toutes les observations publiées)"


# --- the outlook's request: /perspectives, /api/v1/projections and scripts/outlook_figures.py ------------------
# the API's keys, the page's too; `population_scenario`: Insee's scenario the demand drivers are projected under
OUTLOOK_KEYS = ("profession", "territory", "from", "to", *outlook.PARAMETERS, "population_scenario")


@dataclass(frozen=True)
class OutlookRequest:
    """One projection asked for: a family (as asked and as resolved), a territory, a window, a scenario."""

    family: str  # FAP-87 code
    profession: str  # as asked (a profession id or the FAP code)
    territory: str
    start: int
    end: int
    scenario: Scenario
    base_year: int  # the store's latest stock: `from` by default, left out of links when equal
    population: str = "central"  # Insee's scenario of the demand drivers (outlook_data.POPULATION_SCENARIOS)


def _scenario_value(name: str, raw: str) -> float:
    """A scenario value, French decimals included (« 1,5 » is 1.5): the page's fields are typed by people."""
    try:
        value = parse_number(raw)
    except ValueError:
        raise OutlookError(f"{name} est un nombre (exemple : 1,5), pas {raw[:40]!r}",
                           f"{name} must be a number, not {raw[:40]!r}") from None
    if value is None or not math.isfinite(value):
        raise OutlookError(f"{name} est un nombre fini, pas {raw[:40]!r}",
                           f"{name} must be a finite number, not {raw[:40]!r}")
    return value


def _year(name: str, raw: str) -> int:
    """A year: four ASCII digits (the rule of `period`)."""
    if _period(raw) is None:
        raise OutlookError(f"{name} est une année (quatre chiffres), pas {raw[:40]!r}",
                           f"{name} must be a year (four digits), not {raw[:40]!r}")
    return int(raw)


def parse_outlook(query, data: outlook_data.Store, *, strict: bool = True) -> OutlookRequest:
    """A projection request from a query string (a string, a MultiDict, a dict of values or of lists: `canonical`);
    OutlookError (→ 400) on anything unknown or out of range, OutlookUnavailable (→ 503) on a store without
    the outlook's inputs. `strict=False` (the page's own link) falls back to defaults instead of failing."""
    given = canonical(query, {})  # English keys only: no French alias is part of this contract

    def get(name: str) -> str | None:
        values = given.get(name) or [None]
        if strict and len(values) > 1:
            raise OutlookError(f"{name} : une seule valeur", f"{name} is given {len(values)} times; give it once")
        return None if values[0] is None or values[0].strip() == "" else values[0].strip()

    allowed = {*OUTLOOK_KEYS, "format", "lang"}
    unknown = sorted(set(given) - allowed)
    if strict and unknown:
        raise OutlookError(f"paramètre inconnu {unknown[0][:40]!r} ; attendus : {', '.join(sorted(allowed))}",
                           f"unknown parameter {unknown[0][:40]!r}; expected one of {sorted(allowed)}")
    if data.base_year is None or not data.families:
        raise outlook.OutlookUnavailable("le store ne contient pas de pyramide des âges : chargez d'abord les "
                                         "fichiers DARES", "the store holds no age pyramid: load the DARES outlook "
                                         "files first")
    profession = get("profession") or ("" if strict else outlook_data.default_family(data))
    family = outlook_data.resolve(profession, data)
    if family is None:
        if strict:
            raise OutlookError(f"profession inconnue {profession[:60]!r} : un code FAP-87 (T2A, V4Z…) ou un "
                               "métier de l'observatoire rattaché à une famille FAP-87",
                               f"unknown profession {profession[:60]!r}: expected a FAP-87 code among "
                               f"{', '.join(sorted(data.families))} or a profession of the observatory that maps "
                               "to one")
        family = profession = outlook_data.default_family(data)
    territory = get("territory") or "FR"
    if territory not in data.territories:
        if strict:
            regions = ", ".join(sorted(t for t in data.territories if t.startswith("REG-")))
            raise OutlookError(f"territoire inconnu {territory[:40]!r} : FR, une région ({regions}) ou un "
                               "département (DEP-01 …)",
                               f"unknown territory {territory[:40]!r}: expected FR, a région ({regions}) or a "
                               "département (DEP-01 …)")
        territory = "FR"
    if not data.families[family].covers(territory):
        if strict:
            raise OutlookError(f"la DARES ne publie pas l'emploi de {family} en {territory} (trop peu "
                               "d'observations) : choisissez FR ou une autre région",
                               f"the DARES publishes no employment of {family} in {territory} (too few "
                               "observations): choose FR or another région")
        territory = "FR"
    values: dict[str, float] = {}
    for name in outlook.PARAMETERS:
        raw = get(name)
        if raw is None:
            continue
        try:
            values[name] = _scenario_value(name, raw)
            outlook.check(Scenario(**{name: values[name]}))
        except OutlookError:
            if strict:
                raise
            values.pop(name, None)
    population = get("population_scenario") or "central"
    if population not in outlook_data.POPULATION_SCENARIOS:
        if strict:
            raise OutlookError(f"population_scenario vaut {', '.join(outlook_data.POPULATION_SCENARIOS)}, pas "
                               f"{population[:40]!r}", f"population_scenario must be one of "
                               f"{', '.join(outlook_data.POPULATION_SCENARIOS)}, not {population[:40]!r}")
        population = "central"
    top = outlook_data.max_horizon(data.base_year)
    try:
        start = _year("from", get("from")) if get("from") else data.base_year
        end = _year("to", get("to")) if get("to") else outlook_data.default_horizon(data.base_year)
        if not data.base_year <= start < end <= top:
            raise OutlookError(f"from et to vérifient {data.base_year} ≤ from < to ≤ {top} (la projection "
                               f"part du stock le plus récent, {data.base_year})",
                               f"from and to must satisfy {data.base_year} ≤ from < to ≤ {top} "
                               f"(the projection starts from the latest stock, {data.base_year})")
    except OutlookError:
        if strict:
            raise
        start, end = data.base_year, outlook_data.default_horizon(data.base_year)
    return OutlookRequest(family, profession, territory, start, end, Scenario(**values), data.base_year, population)


def encode_outlook(request: OutlookRequest) -> str:
    """The query string of a request, defaults left out (the page's URL and the API's permalink)."""
    pairs = [("profession", request.profession), ("territory", request.territory)]
    if request.start != request.base_year:
        pairs.append(("from", str(request.start)))
    if request.end != outlook_data.default_horizon(request.base_year):
        pairs.append(("to", str(request.end)))
    pairs += [(k, f"{v:g}") for k, v in request.scenario.changed().items()]
    if request.population != "central":
        pairs.append(("population_scenario", request.population))
    return urlencode(pairs)
