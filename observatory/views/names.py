"""How the pages name things: professions, territories, ESMS categories and sources, read from the store,
and the rows of « voir les données » named as every export names them (`table.named`).

Shared by every page view (explorer, home, families, own figures) and the pages; cached per store version."""
from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd
from sqlalchemy import text

from observatory import catalogue, queries, table
from observatory.config import database_url


def source_short(source_id: str) -> str:
    """A source as a sentence names it: the acronym in its title (« BMO »), else the last one of its producer
    (« TDBMS »), else its producer."""
    row = queries.source_row(source_id)
    if not row:
        return source_id
    found = (re.findall(r"\(([A-ZÉ][A-Za-zÉ]+)\)", row.get("title", ""))
             or re.findall(r"\b[A-ZÉ]{3,}\b", row.get("producer", "")))
    return found[-1] if found else row.get("producer", source_id)


def source_label(source_id: str) -> str:
    row = queries.source_row(source_id)
    if not row:
        return source_id
    label = f"{row['producer']} – {row['title']}"
    label = label if len(label) < 90 else label[:87] + "…"
    return label + (f" ({row['vintage']})" if row.get("vintage") else "")


def labels(kind: str) -> dict[str, str]:
    queries.dimensions()  # notices a changed store (and clears this cache through `on_store_change`)
    return _labels(kind, database_url())


@lru_cache(maxsize=8)
def _labels(kind: str, url: str) -> dict[str, str]:
    dims = queries.dimensions(url)
    if kind == "profession":
        return dict(zip(dims.professions.profession_id, dims.professions.label))
    return dict(zip(dims.territories.territory_id, dims.territories.name))


def esms_labels() -> dict[str, str]:
    queries.dimensions()
    return dict(_esms_labels(database_url()))


@lru_cache(maxsize=4)
def _esms_labels(url: str) -> tuple[tuple[str, str], ...]:
    with queries.get_engine(url).connect() as conn:
        rows = conn.execute(text("SELECT code, label FROM esms_category ORDER BY code")).all()
    return tuple((f"esms:{code}", label) for code, label in rows)


queries.on_store_change(_labels.cache_clear)


queries.on_store_change(_esms_labels.cache_clear)


def population_labels(indicator_id: str) -> dict[str, str]:
    """Profession labels, with `ensemble` named for what the indicator covers (TDBMS: permanent staff of
    medico-social establishments, never « all occupations »)."""
    names = labels("profession")
    return {**names, "ensemble": catalogue.root_label(indicator_id, names.get("ensemble", "ensemble"))}


def source_names() -> dict[str, str]:
    """Each source as a reader quotes it: producer, title and vintage."""
    rows = queries.dimensions().sources
    return {r.source_id: f"{r.producer} – {r.title}" + (f" ({r.vintage})" if r.vintage else "")
            for r in rows.itertuples(index=False)}


def named_rows(frame: pd.DataFrame) -> list[dict]:
    """A query-layer frame's rows as their exports name them (`table.named`), keyed by `table.COLUMNS`."""
    dims = queries.dimensions()
    return [dict(zip(table.COLUMNS, row)) for row in table.named(table.frame_keys(frame, dims),
                                                                  table.names(database_url(), dims))]


def table_rows(frame: pd.DataFrame) -> list[dict]:
    """« Voir les données » under a chart: the frame's rows named as their exports name them (`table.page_rows`)."""
    return table.page_rows(named_rows(frame))


def latest(indicator_id: str) -> tuple[str, int] | None:
    """The store's preferred series for an indicator and its latest period with figures (what a page that shows
    « the last year » reads); None when the store holds none."""
    series = queries.sources_for(indicator_id)
    periods = queries.periods_for(indicator_id, series[0]) if series else ()
    return (series[0], periods[-1]) if periods else None
