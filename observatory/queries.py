"""The query layer: every figure, table and export reads the store through these functions.

Pure functions of their arguments (and of the store, which the app only reads), cached per argument
tuple, so the same view asked twice is computed once. SQL only with bound parameters; the fact table is
read by its integer keys (resolved once from the dimension tables), which its primary key indexes.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
from sqlalchemy import text

from observatory.config import database_url
from observatory.store import get_engine

ANY_BREAKDOWN = "*"  # every sub-population at once (e.g. all ESMS categories in one query)
SERIES_COLUMNS = ["indicator_id", "profession_id", "territory_id", "breakdown", "period", "value", "numerator",
                  "denominator", "status", "is_derived", "source_id"]


@dataclass(frozen=True)
class Dimensions:
    """Id ↔ key maps and labels, read once per store."""

    indicator_key: dict[str, int]
    profession_key: dict[str, int]
    territory_key: dict[str, int]
    source_key: dict[str, int]
    professions: pd.DataFrame  # profession_id, label, level, parent_id, is_social_work
    territories: pd.DataFrame  # territory_id, level, code, name, parent_id
    sources: pd.DataFrame  # source_id, producer, title, url, licence, vintage, is_illustrative, scope

    def key_to(self, column: str) -> dict[int, str]:
        return {k: i for i, k in getattr(self, column).items()}


def dimensions(url: str | None = None) -> Dimensions:
    return _dimensions(url or database_url())


@lru_cache(maxsize=4)
def _dimensions(url: str) -> Dimensions:
    engine = get_engine(url)
    with engine.connect() as conn:
        def keys(table: str, column: str) -> dict[str, int]:
            return dict(conn.execute(text(f"SELECT {column}, key FROM {table}")).all())  # noqa: S608 (fixed names)
        professions = pd.read_sql(text("SELECT profession_id, label, level, parent_id, is_social_work FROM profession"),
                                  conn)
        territories = pd.read_sql(text("SELECT territory_id, level, code, name, parent_id FROM territory"), conn)
        sources = pd.read_sql(text("SELECT source_id, producer, title, url, licence, vintage, is_illustrative, scope, "
                                   "note FROM source"), conn)
        return Dimensions(keys("indicator", "indicator_id"), keys("profession", "profession_id"),
                          keys("territory", "territory_id"), keys("source", "source_id"),
                          professions, territories, sources)


def clear_caches() -> None:
    """Forget cached results (after a load into the store the app reads)."""
    for function in (_dimensions, _observations, _sources_for, _periods_for, _establishment_values):
        function.cache_clear()


@dataclass(frozen=True)
class Selection:
    """Which observations: every filter of every page, export and API call, in one place.

    Each field is a tuple of accepted values (`None`: no restriction). `breakdowns`: `("",)` is the whole
    population, `None` every sub-population too. Private sources are never selected unless asked for.
    """

    indicators: tuple[str, ...] | None = None
    sources: tuple[str, ...] | None = None
    professions: tuple[str, ...] | None = None
    territories: tuple[str, ...] | None = None
    levels: tuple[str, ...] | None = None
    periods: tuple[int, ...] | None = None
    breakdowns: tuple[str, ...] | None = ("",)
    include_private: bool = False


def selection_where(selection: Selection, dims: Dimensions) -> tuple[str, dict]:
    """The WHERE clause (on `observation o`) and its bound parameters for a selection.

    Ids are turned into the store's integer keys here; an id the store does not know matches nothing.
    """
    clauses, params = [], {}

    def among(column: str, name: str, values) -> None:
        values = list(values)
        clauses.append(f"{column} IN ({', '.join(f':{name}{i}' for i in range(len(values))) or 'NULL'})")
        params.update({f"{name}{i}": v for i, v in enumerate(values)})

    if selection.indicators is not None:
        among("o.indicator_key", "i", [dims.indicator_key[x] for x in selection.indicators if x in dims.indicator_key])
    sources = dims.sources
    allowed = set(sources.source_id if selection.include_private else sources.loc[sources.scope == "published",
                                                                                    "source_id"])
    wanted = allowed if selection.sources is None else allowed & set(selection.sources)
    if selection.sources is not None or not selection.include_private:
        among("o.source_key", "s", sorted(dims.source_key[x] for x in wanted if x in dims.source_key))
    if selection.professions is not None:
        among("o.profession_key", "p", [dims.profession_key[x] for x in selection.professions
                                         if x in dims.profession_key])
    if selection.territories is not None:
        among("o.territory_key", "t", [dims.territory_key[x] for x in selection.territories
                                        if x in dims.territory_key])
    if selection.levels is not None:
        territories = dims.territories
        among("o.territory_key", "l", [int(dims.territory_key[x]) for x in territories.loc[
            territories.level.isin(selection.levels), "territory_id"]])
    if selection.periods is not None:
        among("o.period", "y", [int(y) for y in selection.periods])
    if selection.breakdowns is not None:
        among("o.breakdown", "b", list(selection.breakdowns))
    return (" AND ".join(clauses) or "1 = 1"), params


@lru_cache(maxsize=2048)
def _observations(url: str, selection: Selection) -> pd.DataFrame:
    dims = dimensions(url)
    where, params = selection_where(selection, dims)
    sql = text("SELECT o.indicator_key, o.profession_key, o.territory_key, o.breakdown, o.period, o.value, "
               "o.numerator, o.denominator, o.status, o.is_derived, o.source_key FROM observation o WHERE " + where)
    with get_engine(url).connect() as conn:
        frame = pd.read_sql(sql, conn, params=params)
    for column in ("indicator", "profession", "territory", "source"):
        frame[f"{column}_id"] = frame.pop(f"{column}_key").map(dims.key_to(f"{column}_key"))
    frame["breakdown"] = frame["breakdown"].replace("", None)
    return frame[SERIES_COLUMNS].sort_values(["period", "territory_id", "profession_id"], ignore_index=True)


def select(selection: Selection, url: str | None = None) -> pd.DataFrame:
    """The observations of a selection as a frame (cached)."""
    return _observations(url or database_url(), selection).copy()


def observations(indicator_id: str, source_id: str, *, professions: list[str] | None = None,
                 territories: list[str] | None = None, period: int | None = None, breakdown: str | None = None,
                 territory_level: str | None = None, url: str | None = None) -> pd.DataFrame:
    """Observations of one indicator from one source, filtered: the pages' shorthand for `select`."""
    selection = Selection(
        indicators=(indicator_id,), sources=(source_id,),
        professions=tuple(professions) if professions is not None else None,
        territories=tuple(territories) if territories is not None else None,
        levels=(territory_level,) if territory_level is not None else None,
        periods=(period,) if period is not None else None,
        breakdowns=None if breakdown == ANY_BREAKDOWN else (breakdown or "",),
        include_private=True,  # a page that names a source may show it (own figures are chosen explicitly)
    )
    return select(selection, url)


def sources_for(indicator_id: str, url: str | None = None, include_private: bool = False) -> tuple[str, ...]:
    """Sources holding figures for the indicator, published first, most observations first."""
    return _sources_for(indicator_id, url or database_url(), include_private)


@lru_cache(maxsize=256)
def _sources_for(indicator_id: str, url: str, include_private: bool) -> tuple[str, ...]:
    dims = dimensions(url)
    if indicator_id not in dims.indicator_key:
        return ()
    with get_engine(url).connect() as conn:
        rows = conn.execute(text(
            "SELECT s.source_id, s.scope, COUNT(*) AS n FROM observation o JOIN source s ON s.key = o.source_key "
            "WHERE o.indicator_key = :i GROUP BY s.source_id, s.scope ORDER BY s.scope DESC, n DESC"),
            {"i": dims.indicator_key[indicator_id]}).all()
    return tuple(r.source_id for r in rows if include_private or r.scope == "published")


def periods_for(indicator_id: str, source_id: str, url: str | None = None) -> tuple[int, ...]:
    return _periods_for(indicator_id, source_id, url or database_url())


@lru_cache(maxsize=256)
def _periods_for(indicator_id: str, source_id: str, url: str) -> tuple[int, ...]:
    dims = dimensions(url)
    if indicator_id not in dims.indicator_key or source_id not in dims.source_key:
        return ()
    with get_engine(url).connect() as conn:
        return tuple(conn.execute(text(
            "SELECT DISTINCT period FROM observation WHERE indicator_key = :i AND source_key = :s ORDER BY period"),
            {"i": dims.indicator_key[indicator_id], "s": dims.source_key[source_id]}).scalars())


def source_row(source_id: str, url: str | None = None) -> dict:
    sources = dimensions(url).sources.set_index("source_id")
    return sources.loc[source_id].to_dict() | {"source_id": source_id} if source_id in sources.index else {}


def social_professions(url: str | None = None) -> list[str]:
    """Every node of the social-work tree (domain, filières, groups, professions), tree order."""
    professions = dimensions(url).professions
    out, stack = [], ["travail_social"]
    while stack:
        node = stack.pop(0)
        out.append(node)
        stack[0:0] = professions.loc[professions.parent_id == node, "profession_id"].tolist()
    return out


def establishment_values(indicator_id: str, period: int, url: str | None = None) -> pd.DataFrame:
    """Published establishment figures of one indicator and year, with category and territory (for bands)."""
    return _establishment_values(indicator_id, period, url or database_url()).copy()


@lru_cache(maxsize=64)
def _establishment_values(indicator_id: str, period: int, url: str) -> pd.DataFrame:
    with get_engine(url).connect() as conn:
        return pd.read_sql(text("""
            SELECT o.finess, o.value, e.esms_category, e.territory_id, t.parent_id AS region_id
            FROM establishment_observation o JOIN establishment e ON e.finess = o.finess
            JOIN territory t ON t.territory_id = e.territory_id JOIN source s ON s.source_id = o.source_id
            WHERE o.indicator_id = :i AND o.period = :p AND s.scope = 'published' AND o.value IS NOT NULL"""),
            conn, params={"i": indicator_id, "p": period})
