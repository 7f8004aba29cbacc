"""The families page: job families × indicators, latest year of each, and the heat map's columns."""
from __future__ import annotations

import pandas as pd

from observatory import catalogue, figures, heatmap, queries
from observatory.store import Store
from observatory.views.names import latest


def families_matrix(store: Store, territory: str = "FR") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Job families (the filières, all social work and all occupations) × indicators, latest year of each.

    Returns the values matrix and the long frame behind it (for the data table)."""
    professions = queries.dimensions(store).professions
    rows = ["ensemble", "travail_social", *professions.loc[professions.parent_id == "travail_social", "profession_id"]]
    names = dict(zip(professions.profession_id, professions.label))
    frames = []
    for indicator_id in catalogue.PAGES["filieres"]:
        if (found := latest(store, indicator_id)) is not None:
            series, period = found
            frames.append(queries.observations(store, indicator_id, series, professions=rows, territories=[territory],
                                               period=period))
    long = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=queries.SERIES_COLUMNS)
    matrix = long.pivot_table(index="profession_id", columns="indicator_id", values="value", aggfunc="first")
    matrix = matrix.reindex(index=[r for r in rows if r in matrix.index],
                            columns=[i for i in catalogue.PAGES["filieres"] if i in matrix.columns])
    matrix.index = [names[r] for r in matrix.index]
    names = family_column_names(long)
    matrix.columns = [names[c] for c in matrix.columns]
    return matrix, long


def family_column_names(long: pd.DataFrame) -> dict[str, str]:
    """Heat-map column titles: indicator and period, and « fictif » on illustrative columns only."""
    names = {}
    for indicator_id, part in long.groupby("indicator_id"):
        fictive = figures.is_illustrative(part)
        names[indicator_id] = (f"{catalogue.get(indicator_id).label} ({int(part.period.max())})"
                               + (" – fictif" if fictive else ""))
    return names


def family_columns(store: Store, matrix: pd.DataFrame, long: pd.DataFrame) -> list[heatmap.Column]:
    """The heat map's columns (`matrix`'s, in order), each with France's figure for all occupations at the
    column's period: what a rate's cells are compared with (`observatory.heatmap`)."""
    ids = {name: indicator_id for indicator_id, name in family_column_names(long).items()}
    periods = long.groupby("indicator_id")["period"].max()
    _matrix, france = families_matrix(store, "FR")
    known = france[(france.profession_id == "ensemble") & france.value.notna()]
    reference = {(r.indicator_id, int(r.period)): float(r.value) for r in known.itertuples(index=False)}
    return [heatmap.Column(name, ids[name], reference.get((ids[name], int(periods[ids[name]]))))
            for name in matrix.columns]
