"""The HR card (« fiche RH », after Skills for Care's workforce summaries): turnover, absenteeism and vacancy of
one ESMS category in one département, side by side with its région and France, on one screen.

Each figure carries its year, status and source; names, units and decimals come from the catalogue; which series
and year come from the store (the latest period of the preferred series of each indicator). Secrecy is the store's
(applied at load, `observatory/secrecy.py`): a secret cell reads « secret », never 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from observatory import catalogue, figures, queries
from observatory.store import Store

INDICATORS = ("turnover_rate", "absenteeism_rate", "vacancy_rate")
LEVELS = ("departement", "region", "nation")


@dataclass(frozen=True)
class CardFigure:
    level: str
    territory_id: str | None
    place: str  # « Département : Gironde », « Région : Nouvelle-Aquitaine », « France »
    value: float | None  # None when secret or missing
    status: str | None  # the stored status (secret: applied at load)
    text: str  # what a person reads: « 24,4 % », « secret », « pas de donnée »


@dataclass(frozen=True)
class CardIndicator:
    indicator_id: str
    label: str
    unit: str
    period: int | None
    source_id: str | None  # the series read (every vintage of it)
    figures: tuple[CardFigure, ...]

    @property
    def illustrative(self) -> bool:
        return any(isinstance(f.status, str) and f.status.startswith("illustrative") for f in self.figures)


def indicator_card(store: Store, indicator_id: str, departement_id: str, breakdown: str,
                   names: dict[str, str]) -> CardIndicator:
    """One indicator of the card: the département, its région and France for one category (`esms:<code>`),
    latest year."""
    entry = catalogue.get(indicator_id)
    series = next(iter(queries.sources_for(store, indicator_id)), None)
    periods = queries.periods_for(store, indicator_id, series) if series else ()
    period = periods[-1] if periods else None
    parent = queries.dimensions(store).territories.set_index("territory_id").parent_id.get(departement_id)
    where = {"departement": departement_id, "region": parent, "nation": "FR"}
    frame = (queries.observations(store, indicator_id, series, professions=["ensemble"], period=period,
                                  territories=[t for t in where.values() if t], breakdown=breakdown)
             if period is not None else pd.DataFrame(columns=["territory_id", "value", "status", "source_id"]))
    by_place = {row.territory_id: row for row in frame.itertuples()}
    out = []
    for level in LEVELS:
        territory = where[level]
        place = catalogue.place(level, names.get(territory, territory))
        row = by_place.get(territory)
        value = None if row is None or pd.isna(row.value) else float(row.value)
        status = None if row is None else row.status
        text = ("secret" if status == "secret" else "pas de donnée" if value is None else
                figures.with_unit(value, entry.unit, entry.decimals))
        out.append(CardFigure(level, territory, place, value, status, text))
    return CardIndicator(indicator_id, entry.label, entry.unit, period, series, tuple(out))


def hr_card(store: Store, departement_id: str, breakdown: str, names: dict[str, str]) -> list[CardIndicator]:
    """The three indicators of the card for a département and a category (`esms:<code>`; `names`: territory id →
    name)."""
    return [indicator_card(store, i, departement_id, breakdown, names) for i in INDICATORS]
