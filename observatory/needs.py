"""Need against resources, département by département (« Besoins et ressources »): pure functions over the
query layer, so the page, its exports and any script read the same figures.

Need: people aged 75+ and 85+ (Insee), APA, PCH and ASE recipients (DREES); resources: recruitment projects and
the share judged difficult for the social métiers of BMO, the département's social staff and foster carers
(DREES). Each figure keeps its own latest year, source and status; ratios (`catalogue.NEED_RATIOS`) divide two
stored counts of the same territory and year, so a région's or France's ratio is a ratio of sums.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from observatory import catalogue, queries
from observatory import status as statuses
from observatory.store import Store, cached

# (key, indicator, breakdown, profession): what the page shows, in order.
NEED = (
    ("people_75plus", "population", "age:75+", "ensemble"),
    ("people_85plus", "population", "age:85+", "ensemble"),
    ("apa_recipients", "apa_recipients", "", "ensemble"),
    ("pch_recipients", "pch_recipients", "", "ensemble"),
    ("ase_children", "ase_children", "", "ensemble"),
)
WORKFORCE_PROFESSIONS = ("aide_a_domicile", "accompagnant_educatif_social", "educateur_specialise",
                         "professionnel_action_sociale")
RESOURCES = (
    *((f"projects:{p}", "recruitment_projects", "", p) for p in WORKFORCE_PROFESSIONS),
    *((f"difficulty:{p}", "recruitment_difficulty_share", "", p) for p in WORKFORCE_PROFESSIONS),
    ("dept_social_staff", "dept_social_staff", "", "ensemble"),
    ("foster_carers", "foster_carers", "", "ensemble"),
)
MEASURES = {key: (indicator, breakdown, profession) for key, indicator, breakdown, profession in (*NEED, *RESOURCES)}
RATIOS = ("apa_per_1000_75plus", "ase_children_per_foster_carer", "people_75plus_per_home_care_project")
SCATTER_PROFESSION = "aide_a_domicile"  # the y of the need-vs-difficulty chart: the home-care métier
LEVELS = ("nation", "region", "departement")
COLUMNS = ["key", "territory_id", "period", "value", "status", "source_id", "series_break"]


def selection() -> queries.Selection:
    """Every observation the page reads (its export link asks the API for exactly this)."""
    return queries.Selection(
        indicators=tuple(sorted({m[0] for m in MEASURES.values()})),
        professions=tuple(sorted({m[2] for m in MEASURES.values()})),
        breakdowns=tuple(sorted({m[1] for m in MEASURES.values()})), levels=LEVELS)


@cached
def measures(store: Store) -> pd.DataFrame:
    """One row per measure × territory × year (columns `COLUMNS`), published sources only."""
    frame = queries.select(store, selection())
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    frame = frame.assign(breakdown=frame["breakdown"].fillna(""))
    parts = []
    for key, (indicator, breakdown, profession) in MEASURES.items():
        rows = frame[(frame["indicator_id"] == indicator) & (frame["breakdown"] == breakdown)
                     & (frame["profession_id"] == profession)]
        parts.append(rows.assign(key=key))
    out = pd.concat(parts, ignore_index=True)
    # one series per measure: the latest vintage of a year wins (BMO vintages never overlap in year)
    out = out.sort_values("period").drop_duplicates(["key", "territory_id", "period"], keep="last")
    return out[COLUMNS].reset_index(drop=True)


@cached
def series_of(store: Store) -> dict[tuple[str, str], pd.DataFrame]:
    """`measures` split once into its series, (key, territory_id) → rows by period (the page reads one series at a
    time: a dictionary lookup instead of a filter over every row)."""
    data = measures(store)
    return {key: rows.reset_index(drop=True) for key, rows in data.groupby(["key", "territory_id"], sort=False)}


EMPTY = pd.DataFrame(columns=COLUMNS)


def _latest(rows: pd.DataFrame) -> pd.Series | None:
    known = rows[rows["value"].notna()]
    return known.loc[known["period"].idxmax()] if len(known) else None


def change_5y(rows: pd.DataFrame, period: int) -> float | None:
    """(value at `period` / value five years before − 1) × 100; None when either is missing or incomplete (a
    partial total is a lower bound: its change would be an artefact) or a series break lies between them (the
    definition of `change_5y` in the catalogue)."""
    by_year = rows.set_index("period")
    if period not in by_year.index or period - 5 not in by_year.index:
        return None
    if statuses.is_incomplete(by_year.loc[[period, period - 5], "status"]).any():
        return None
    now, before = by_year.at[period, "value"], by_year.at[period - 5, "value"]
    breaks = rows[(rows["period"] > period - 5) & (rows["period"] <= period)]["series_break"].notna().any()
    if now != now or before != before or not before or breaks:
        return None
    return (now / before - 1.0) * 100.0


@cached
def profile(store: Store, territories: tuple[str, ...]) -> pd.DataFrame:
    """For each measure and territory: the latest year with a value, the value, its status and source, and the
    change over five years (rows in `MEASURES` order; measures the store lacks are left out)."""
    split = series_of(store)
    rows = []
    for key in MEASURES:
        for territory in territories:
            series = split.get((key, territory), EMPTY)
            latest = _latest(series)
            if latest is None:
                continue
            rows.append({"key": key, "territory_id": territory, "period": int(latest["period"]),
                         "value": float(latest["value"]), "status": latest["status"],
                         "source_id": latest["source_id"], "change_5y": change_5y(series, int(latest["period"]))})
    return pd.DataFrame(rows, columns=["key", "territory_id", "period", "value", "status", "source_id", "change_5y"])


def _series(data: pd.DataFrame, indicator: str, breakdown: str, profession: str) -> pd.DataFrame:
    key = next(k for k, m in MEASURES.items() if m == (indicator, breakdown, profession))
    return data[data["key"] == key]


@cached
def ratio(store: Store, ratio_id: str, period: int | None = None) -> pd.DataFrame:
    """A need ratio for every territory (`territory_id`, `period`, `value`, `status`, `numerator`,
    `denominator`): both counts of the same territory and year; `period` None: the latest year both have."""
    entry = catalogue.NEED_RATIOS[ratio_id]
    data = measures(store)
    num = _series(data, entry.numerator, entry.numerator_breakdown, entry.numerator_profession)
    den = _series(data, entry.denominator, entry.denominator_breakdown, entry.denominator_profession)
    both = num.merge(den, on=["territory_id", "period"], suffixes=("_num", "_den"))
    both = both[both["value_num"].notna() & both["value_den"].notna()]
    if period is None and len(both):
        period = int(both["period"].max())
    both = both[both["period"] == period]
    n, d = both["value_num"].to_numpy(float), both["value_den"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(d > 0, n / d * entry.scale, np.nan)
    status = [statuses.combine((a, b), (True, True), all_parts=True, undefined=not dd > 0)
              for a, b, dd in zip(both["status_num"], both["status_den"], d)]
    return pd.DataFrame({"territory_id": both["territory_id"].to_numpy(), "period": both["period"].to_numpy(),
                         "value": value, "status": status, "numerator": n, "denominator": d})


@cached
def need_vs_difficulty(store: Store) -> pd.DataFrame:
    """One row per département: the five-year change of its people aged 75+ (x, latest Insee year) against the
    share of home-care recruitment projects judged difficult (y, latest BMO year), with both years and the
    projects. The chart that answers « where does need grow fastest while recruitment is hardest? »"""
    split = series_of(store)
    territories = sorted({t for (key, t) in split if key == "people_75plus" and t.startswith("DEP-")})
    rows = []
    for territory in territories:
        series = split[("people_75plus", territory)]
        latest = _latest(series)
        difficulty = _latest(split.get((f"difficulty:{SCATTER_PROFESSION}", territory), EMPTY))
        if latest is None or difficulty is None:
            continue
        year = int(difficulty["period"])
        planned = split.get((f"projects:{SCATTER_PROFESSION}", territory), EMPTY)
        planned = planned[planned["period"] == year]["value"]
        rows.append({"territory_id": territory, "people_75plus": float(latest["value"]),
                     "need_year": int(latest["period"]),
                     "growth_75plus": change_5y(series, int(latest["period"])),
                     "difficulty_share": float(difficulty["value"]), "difficulty_year": year,
                     "difficulty_status": difficulty["status"],
                     "projects": float(planned.iloc[0]) if len(planned) else None})
    return pd.DataFrame(rows, columns=["territory_id", "people_75plus", "need_year", "growth_75plus",
                                       "difficulty_share", "difficulty_year", "difficulty_status", "projects"])
