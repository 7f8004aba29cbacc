"""The query layer: every figure, table and export reads the store through these functions.

Pure functions of the store they are given (`store.Store`, made by the entry points) and of their arguments,
kept in that store's one bounded cache (`store.cached`), so the same view asked twice is computed once. SQL
only with bound parameters; the fact table is read by its integer keys (resolved once from the dimension
tables), which its primary key indexes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sqlalchemy import text

from observatory import catalogue, table
from observatory import status as statuses
from observatory.store import Store, cached

ANY_BREAKDOWN = "*"  # every sub-population at once (e.g. all ESMS categories in one query)
SERIES_COLUMNS = ["indicator_id", "profession_id", "territory_id", "breakdown", "period", "value", "numerator",
                  "denominator", "status", "is_derived", "source_id", "series_break"]


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


@cached
def dimensions(store: Store) -> Dimensions:
    """Id ↔ key maps and labels of the store (one read per store version)."""
    with store.engine.connect() as conn:
        def keys(table: str, column: str) -> dict[str, int]:
            return dict(conn.execute(text(f"SELECT {column}, key FROM {table}")).all())  # noqa: S608 (fixed names)
        professions = pd.read_sql(text("SELECT profession_id, label, level, parent_id, is_social_work FROM profession"),
                                  conn)
        territories = pd.read_sql(text("SELECT territory_id, level, code, name, parent_id FROM territory"), conn)
        sources = pd.read_sql(text("SELECT source_id, producer, title, url, licence, vintage, is_illustrative, scope, "
                                   "note, series FROM source"), conn)
        sources["series"] = sources["series"].fillna(sources["source_id"])
        # booleans as booleans on every backend (SQLite gives 0/1)
        professions["is_social_work"] = professions["is_social_work"].astype(bool)
        sources["is_illustrative"] = sources["is_illustrative"].astype(bool)
        return Dimensions(keys("indicator", "indicator_id"), keys("profession", "profession_id"),
                          keys("territory", "territory_id"), keys("source", "source_id"),
                          professions, territories, sources)


def clear_caches(store: Store) -> None:
    """Forget everything cached from the store (the next read asks it again)."""
    store.cache.clear()


@cached
def names(store: Store) -> table.Names:
    """The naming tables of the store (`table.names`: labels, vintage names, break notes by integer key), read
    once per store version: the query layer, the exports and the pages name rows from the same ones."""
    return table.names(store, dimensions(store))


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

    @classmethod
    def covering(cls, frame: pd.DataFrame) -> Selection | None:
        """The smallest selection holding every row of a query-layer frame (what a page's export link asks the
        API for); None for an empty frame. Filters combine as a product, so it may hold a few more rows (a chart
        of one year beside a trend over every year gives every year of both)."""
        if frame.empty:
            return None

        def values(column: str) -> tuple:
            return tuple(sorted(set(frame[column].dropna())))
        return cls(indicators=values("indicator_id"), sources=values("source_id"), professions=values("profession_id"),
                   territories=values("territory_id"), periods=tuple(sorted({int(p) for p in frame["period"]})),
                   breakdowns=tuple(sorted({b if isinstance(b, str) else "" for b in frame["breakdown"]})))


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


@cached
def _observations(store: Store, selection: Selection) -> pd.DataFrame:
    computed = [i for i in selection.indicators or () if i in catalogue.COMPUTED]
    if computed:
        stored = tuple(i for i in selection.indicators if i not in catalogue.COMPUTED)
        parts = [_observations(store, replace(selection, indicators=stored))] if stored else []
        parts += [computed_share(i, _observations(store, replace(selection, indicators=catalogue.COMPUTED[i])))
                  for i in computed]
        return pd.concat(parts, ignore_index=True).sort_values(["period", "territory_id", "profession_id"],
                                                               ignore_index=True)
    dims = dimensions(store)
    where, params = selection_where(selection, dims)
    sql = text(table.KEYS_SELECT + where)
    with store.engine.connect() as conn:
        frame = pd.read_sql(sql, conn, params=params)
    frame["series_break"] = table.break_notes(frame, names(store))
    for column in ("indicator", "profession", "territory", "source"):
        frame[f"{column}_id"] = frame.pop(f"{column}_key").map(dims.key_to(f"{column}_key"))
    frame["breakdown"] = frame["breakdown"].replace("", None)
    return frame[SERIES_COLUMNS].sort_values(["period", "territory_id", "profession_id"], ignore_index=True)


def computed_share(indicator_id: str, counts: pd.DataFrame) -> pd.DataFrame:
    """A share computed from the stored counts of the same cells (numerator / denominator × 100).

    Secret numerator, known denominator: the share is secret at that cell and keeps its denominator; a total
    whose numerator or denominator misses cells is `partial`, with the very counts the store shows. Statuses
    combine by `observatory.status` (the precedence the load-time roll-up uses too)."""
    numerator_id, denominator_id = catalogue.COMPUTED[indicator_id]
    keys = ["profession_id", "territory_id", "breakdown", "period", "source_id"]
    counts = counts.assign(breakdown=counts["breakdown"].fillna(""))
    num = counts[counts.indicator_id == numerator_id].set_index(keys)
    den = counts[counts.indicator_id == denominator_id].set_index(keys)
    both = den[["value", "status", "is_derived", "series_break"]].join(
        num[["value", "status"]], how="inner", lsuffix="_den", rsuffix="_num")
    n, d = both["value_num"].to_numpy(float), both["value_den"].to_numpy(float)
    known = ~np.isnan(n) & ~np.isnan(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(known & (d > 0), 100.0 * n / d, np.nan)
    parts = both[["status_num", "status_den"]].to_numpy(object)
    status = statuses.resolve(
        illustrative=statuses.is_illustrative(parts).any(axis=1), unknown=~known, undefined=known & ~(d > 0),
        missing=~known | statuses.is_incomplete(parts).any(axis=1),
        provisional=(parts == "provisional").any(axis=1), estimated=(parts == "estimated").any(axis=1),
        unavailable=((~np.isnan(n) | (parts[:, 0] == "missing")) & (~np.isnan(d) | (parts[:, 1] == "missing"))))
    out = both.reset_index()
    return pd.DataFrame({
        "indicator_id": indicator_id, "profession_id": out["profession_id"], "territory_id": out["territory_id"],
        "breakdown": out["breakdown"].replace("", None), "period": out["period"], "value": value,
        "numerator": np.where(known, n, np.nan), "denominator": d, "status": status, "is_derived": 1,
        "source_id": out["source_id"], "series_break": out["series_break"],
    })[SERIES_COLUMNS]


@cached
def _breaks(store: Store) -> pd.DataFrame:
    with store.engine.connect() as conn:
        return pd.read_sql(text("SELECT series, kind, subject_id, period, note FROM series_break"), conn)


def breaks(store: Store, series: str | None = None) -> pd.DataFrame:
    """Every recorded series break (series, kind, subject_id, period, note), for the methodology page."""
    frame = _breaks(store)
    return (frame if series is None else frame[frame.series == series]).copy()


def vintage_labels(store: Store, series: str, period: int, kind: str = "profession") -> dict[str, str]:
    """What each subject was called in one vintage of a series (a figure is shown under its own vintage's name)."""
    return dict(_vintage_labels(store, series, int(period), kind))


@cached
def _vintage_labels(store: Store, series: str, period: int, kind: str) -> tuple[tuple[str, str], ...]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT subject_id, label FROM vintage_label WHERE series = :s AND period = :p "
                                 "AND kind = :k ORDER BY code"), {"s": series, "p": period, "k": kind}).all()
    return tuple((subject, label) for subject, label in rows if label)


def select(store: Store, selection: Selection) -> pd.DataFrame:
    """The observations of a selection as a frame (cached)."""
    return _observations(store, selection).copy()


def series_sources(store: Store, series: str) -> tuple[str, ...]:
    """The sources of one series (every vintage of BMO…); a plain source id stands for itself."""
    sources = dimensions(store).sources
    ids = tuple(sources.loc[sources.series == series, "source_id"])
    return ids or ((series,) if series in set(sources.source_id) else ())


def observations(store: Store, indicator_id: str, series: str, *, professions: list[str] | None = None,
                 territories: list[str] | None = None, period: int | None = None, breakdown: str | None = None,
                 territory_level: str | None = None) -> pd.DataFrame:
    """Observations of one indicator from one series (every vintage of it), filtered: the pages' shorthand."""
    selection = Selection(
        indicators=(indicator_id,), sources=series_sources(store, series),
        professions=tuple(professions) if professions is not None else None,
        territories=tuple(territories) if territories is not None else None,
        levels=(territory_level,) if territory_level is not None else None,
        periods=(period,) if period is not None else None,
        breakdowns=None if breakdown == ANY_BREAKDOWN else (breakdown or "",),
        include_private=True,  # a page that names a source may show it (own figures are chosen explicitly)
    )
    return select(store, selection)


def sources_for(store: Store, indicator_id: str, include_private: bool = False) -> tuple[str, ...]:
    """Series holding figures for the indicator: published first, real before illustrative, then the one
    with the most observations. What the store holds decides; no page names a source."""
    indicator_id = catalogue.COMPUTED.get(indicator_id, (indicator_id,))[0]
    return _sources_for(store, indicator_id, include_private)


@cached
def _sources_for(store: Store, indicator_id: str, include_private: bool) -> tuple[str, ...]:
    dims = dimensions(store)
    if indicator_id not in dims.indicator_key:
        return ()
    with store.engine.connect() as conn:  # one range count per source (the table is clustered on it)
        counts = pd.DataFrame(conn.execute(text(
            "SELECT COALESCE(s.series, s.source_id) AS series, s.scope, s.is_illustrative, "
            "(SELECT COUNT(*) FROM observation o WHERE o.source_key = s.key AND o.indicator_key = :i) AS n "
            "FROM source s"), {"i": dims.indicator_key[indicator_id]}).all(),
            columns=["series", "scope", "illustrative", "n"])
    counts = counts[counts.n > 0].assign(illustrative=lambda c: c.illustrative.astype(bool))
    ranked = counts.groupby("series").agg(scope=("scope", "max"), illustrative=("illustrative", "max"), n=("n", "sum"))
    ranked = ranked.assign(published=ranked.scope == "published").sort_values(
        ["published", "illustrative", "n"], ascending=[False, True, False])
    return tuple(series for series, row in ranked.iterrows() if include_private or row.scope == "published")


def periods_for(store: Store, indicator_id: str, series: str) -> tuple[int, ...]:
    """The periods a series holds for an indicator, oldest first (pages open on the last one)."""
    indicator_id = catalogue.COMPUTED.get(indicator_id, (indicator_id,))[0]
    return _periods_for(store, indicator_id, series)


@cached
def _periods_for(store: Store, indicator_id: str, series: str) -> tuple[int, ...]:
    dims = dimensions(store)
    keys = [dims.source_key[s] for s in series_sources(store, series) if s in dims.source_key]
    if indicator_id not in dims.indicator_key or not keys:
        return ()
    # The loads say which periods each source holds; one EXISTS probe per (source, period) on the clustered key
    # then tells which hold this indicator (a DISTINCT over the indicator's rows would read all of them).
    with store.engine.connect() as conn:
        loads = conn.execute(text(
            "SELECT s.key, l.periods FROM etl_load l JOIN source s ON s.source_id = l.source_id WHERE s.key IN "
            f"({', '.join(f':s{n}' for n in range(len(keys)))})"), {f"s{n}": k for n, k in enumerate(keys)}).all()
        candidates = {(key, int(p)) for key, periods in loads for p in json.loads(periods or "[]")}
        found = {period for key, period in candidates if conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM observation WHERE source_key = :s AND indicator_key = :i AND period = :p)"),
            {"s": key, "i": dims.indicator_key[indicator_id], "p": period}).scalar()}
    return tuple(sorted(found))


def source_row(store: Store, source_id: str) -> dict:
    """A source's row, or a series' row (producer, title, the span of its vintages) for a series id: a copy of
    the cached one (the home page asks for 126 rows, 1.5 ms of pandas each when computed)."""
    return dict(_source_row(store, source_id))


@cached
def _source_row(store: Store, source_id: str) -> dict:
    sources = dimensions(store).sources
    members = sources[sources.series == source_id]
    if len(members) > 1 or (len(members) == 1 and members.source_id.iloc[0] != source_id):
        vintages = sorted(v for v in members.vintage.dropna())
        row = members.sort_values("vintage").iloc[-1].to_dict()
        span = f"{vintages[0]}–{vintages[-1]}" if vintages and vintages[0] != vintages[-1] else \
            (vintages[0] if vintages else None)
        return row | {"source_id": source_id, "vintage": span, "sources": tuple(members.source_id)}
    indexed = sources.set_index("source_id")
    return indexed.loc[source_id].to_dict() | {"source_id": source_id} if source_id in indexed.index else {}


def social_professions(store: Store) -> list[str]:
    """Every node of the social-work tree (domain, filières, groups, professions), tree order."""
    return list(_social_professions(store))


@cached
def _social_professions(store: Store) -> tuple[str, ...]:
    professions = dimensions(store).professions
    children: dict[str, list[str]] = {}
    for child, parent in zip(professions.profession_id, professions.parent_id):
        children.setdefault(parent, []).append(child)
    out, stack = [], ["travail_social"]
    while stack:
        node = stack.pop(0)
        out.append(node)
        stack[0:0] = children.get(node, [])
    return tuple(out)


def establishment_values(store: Store, indicator_id: str, period: int) -> pd.DataFrame:
    """Published establishment figures of one indicator and year, with category and territory (for bands)."""
    return _establishment_values(store, indicator_id, int(period)).copy()


@cached
def _establishment_values(store: Store, indicator_id: str, period: int) -> pd.DataFrame:
    with store.engine.connect() as conn:
        return pd.read_sql(text("""
            SELECT o.finess, o.value, e.esms_category, e.territory_id, t.parent_id AS region_id
            FROM establishment_observation o JOIN establishment e ON e.finess = o.finess
            JOIN territory t ON t.territory_id = e.territory_id JOIN source s ON s.source_id = o.source_id
            WHERE o.indicator_id = :i AND o.period = :p AND s.scope = 'published' AND o.value IS NOT NULL"""),
            conn, params={"i": indicator_id, "p": period})
