"""How the pages name things: professions, territories, ESMS categories and sources, read from the store,
and the rows of « voir les données » named as every export names them (`table.named`).

Shared by every page view (explorer, home, families, own figures) and the pages; cached per store version."""
from __future__ import annotations

import re

import pandas as pd
from sqlalchemy import text

from observatory import catalogue, queries, table
from observatory.store import Store, cached


def source_short(store: Store, source_id: str) -> str:
    """A source as a sentence names it: the acronym in its title (« BMO »), else the last one of its producer
    (« TDBMS »), else its producer."""
    row = queries.source_row(store, source_id)
    if not row:
        return source_id
    found = (re.findall(r"\(([A-ZÉ][A-Za-zÉ]+)\)", row.get("title", ""))
             or re.findall(r"\b[A-ZÉ]{3,}\b", row.get("producer", "")))
    return found[-1] if found else row.get("producer", source_id)


def source_label(store: Store, source_id: str) -> str:
    row = queries.source_row(store, source_id)
    if not row:
        return source_id
    label = f"{row['producer']} – {row['title']}"
    label = label if len(label) < 90 else label[:87] + "…"
    return label + (f" ({row['vintage']})" if row.get("vintage") else "")


@cached
def labels(store: Store, kind: str) -> dict[str, str]:
    """Profession (`kind="profession"`) or territory names by id (shared: copy before changing)."""
    dims = queries.dimensions(store)
    if kind == "profession":
        return dict(zip(dims.professions.profession_id, dims.professions.label))
    return dict(zip(dims.territories.territory_id, dims.territories.name))


def esms_labels(store: Store) -> dict[str, str]:
    return dict(_esms_labels(store))


@cached
def _esms_labels(store: Store) -> tuple[tuple[str, str], ...]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT code, label FROM esms_category ORDER BY code")).all()
    return tuple((f"esms:{code}", label) for code, label in rows)


def population_labels(store: Store, indicator_id: str) -> dict[str, str]:
    """Profession labels, with `ensemble` named for what the indicator covers (TDBMS: permanent staff of
    medico-social establishments, never « all occupations »)."""
    names = labels(store, "profession")
    return {**names, "ensemble": catalogue.root_label(indicator_id, names.get("ensemble", "ensemble"))}


def source_names(store: Store) -> dict[str, str]:
    """Each source as a reader quotes it: producer, title and vintage."""
    rows = queries.dimensions(store).sources
    return {r.source_id: f"{r.producer} – {r.title}" + (f" ({r.vintage})" if r.vintage else "")
            for r in rows.itertuples(index=False)}


def named_rows(store: Store, frame: pd.DataFrame) -> list[dict]:
    """A query-layer frame's rows as their exports name them (`table.named`), keyed by `table.COLUMNS`."""
    dims = queries.dimensions(store)
    return [dict(zip(table.COLUMNS, row)) for row in table.named(table.frame_keys(frame, dims),
                                                                  queries.names(store))]


def table_rows(store: Store, frame: pd.DataFrame) -> list[dict]:
    """« Voir les données » under a chart: the frame's rows named as their exports name them (`table.page_rows`)."""
    return table.page_rows(named_rows(store, frame))


def latest(store: Store, indicator_id: str) -> tuple[str, int] | None:
    """The store's preferred series for an indicator and its latest period with figures (what a page that shows
    « the last year » reads); None when the store holds none."""
    series = queries.sources_for(store, indicator_id)
    periods = queries.periods_for(store, indicator_id, series[0]) if series else ()
    return (series[0], periods[-1]) if periods else None
