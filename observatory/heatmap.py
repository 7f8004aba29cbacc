"""How the /filieres heat map (and its phone table) colours a cell, as pure functions.

A rate or share is coloured by its gap to France's figure for the same indicator and period (all occupations),
in the indicator's unit (points for a %), oriented by the catalogue's direction: within the neutral band
(`catalogue.NEUTRAL_BAND`) it is « proche de la France », beyond it « mieux » or « moins bien », and « nettement »
from `STRONG_FACTOR` bands on. Counts (projects, offers, persons) depend on a family's size: never coloured as
better or worse. The heat map and the table read the same classes, so they show the same colours.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from observatory import catalogue
from observatory.formatting import number, points, with_unit

STRONG_FACTOR = 5  # a gap of 5 neutral bands or more (5 points for a rate) is « nettement » better or worse
# Classes in the order of the colour scale (worst to best), then counts; colour-blind-safe (ColorBrewer RdBu).
CLASSES = ("much_worse", "worse", "close", "better", "much_better", "count")
COLOURS = {"much_worse": "#b2182b", "worse": "#f4a582", "close": "#f7f7f7", "better": "#92c5de",
           "much_better": "#2166ac", "count": "#d9d9d9"}
NO_VALUE_COLOUR = "#ffffff"
LEGEND_TITLE = "écart à la France (points)"


@dataclass(frozen=True)
class Column:
    """One heat-map column: the indicator it shows and what its cells are compared with."""

    name: str  # « Taux d'interruption définitive (2024) – fictif »
    indicator_id: str
    reference: float | None  # France, all occupations, same period (None: not published)

    @property
    def entry(self) -> catalogue.Indicator:
        return catalogue.get(self.indicator_id)

    @property
    def compared(self) -> bool:
        """Only rates and shares with a « better » direction are compared; a count never is."""
        return is_compared(self.indicator_id)

    @property
    def band(self) -> float:
        return neutral_band(self.indicator_id)

    @property
    def unit_note(self) -> str:
        """A count's unit, said once in its header (« en personnes ») so its cells hold numbers only."""
        return "" if self.entry.unit == "%" else f"en {self.entry.unit}"

    def text(self, value) -> str:
        """A cell's text: « 81,4 % » for a rate, « 453 188 » for a count (the header gives its unit)."""
        entry = self.entry
        return with_unit(value, entry.unit, entry.decimals) if entry.unit == "%" else number(value, entry.decimals)


def is_compared(indicator_id: str) -> bool:
    entry = catalogue.get(indicator_id)
    return entry.aggregation == "ratio" and entry.direction in ("higher_is_better", "lower_is_better")


def neutral_band(indicator_id: str) -> float:
    return catalogue.NEUTRAL_BAND.get(indicator_id, catalogue.DEFAULT_NEUTRAL_BAND)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def gap_class(gap: float | None, band: float, direction: str) -> str | None:
    """The class of a gap to the reference: None without a gap; « close » strictly inside the band."""
    if _missing(gap):
        return None
    if abs(gap) < band:
        return "close"
    better = gap > 0 if direction == "higher_is_better" else gap < 0
    strong = abs(gap) >= STRONG_FACTOR * band
    return ("much_better" if strong else "better") if better else ("much_worse" if strong else "worse")


def cell_class(value: float | None, column: Column) -> str | None:
    """A cell's class: « count » for a count column (whatever its value), None when there is nothing to show."""
    if _missing(value):
        return None
    if not column.compared:
        return "count"
    if _missing(column.reference):
        return None
    return gap_class(value - column.reference, column.band, column.entry.direction)


def class_label(name: str, column: Column | None = None) -> str:
    """The words of a class (legend, table, hover), the band in the indicator's unit when a column is given."""
    band = points(column.band, column.entry.unit, column.entry.decimals) if column else None
    strong = (points(STRONG_FACTOR * column.band, column.entry.unit, column.entry.decimals).lstrip("+")
              if column else None)
    return {
        "much_worse": "nettement moins bien" + (f" (écart de {strong} ou plus)" if strong else ""),
        "worse": "moins bien",
        "close": "proche de la France" + (f" (écart de moins de {band.lstrip('+')})" if band else ""),
        "better": "mieux",
        "much_better": "nettement mieux" + (f" (écart de {strong} ou plus)" if strong else ""),
        "count": "volume : non comparé",
    }[name]


def legend_items() -> list[tuple[str, str, str]]:
    """(class, colour, words) in the scale's order, with the default band: the page's HTML legend."""
    band = catalogue.DEFAULT_NEUTRAL_BAND
    words = {"much_worse": f"nettement moins bien (écart de {_points(STRONG_FACTOR * band)} ou plus)",
             "worse": "moins bien", "close": f"proche de la France (écart de moins de {_points(band)})",
             "better": "mieux", "much_better": f"nettement mieux (écart de {_points(STRONG_FACTOR * band)} ou plus)",
             "count": "volume (projets, offres, personnes) : non coloré"}
    return [(name, COLOURS[name], words[name]) for name in CLASSES]


SHORT_LABELS = {"much_worse": "nettement moins bien", "worse": "moins bien", "close": "proche de la France",
                "better": "mieux", "much_better": "nettement mieux", "count": "volume : non coloré"}


def _points(value: float) -> str:
    return points(value, "%", 0 if float(value).is_integer() else 1).lstrip("+")


def cells(matrix: pd.DataFrame, columns: list[Column]) -> list[list[dict]]:
    """Every cell of the matrix (rows × columns) as the heat map and the table show it: value text, class,
    colour and the gap in words."""
    grid = []
    for row_name, row in matrix.iterrows():
        line = []
        for column, value in zip(columns, row.tolist()):
            entry = column.entry
            name = cell_class(value, column)
            gap = (value - column.reference) if column.compared and name not in (None, "count") else None
            gap = None if gap is None else round(gap, entry.decimals) + 0.0  # as shown: never « −0,0 point »
            line.append({
                "row": row_name, "column": column.name, "value": None if _missing(value) else float(value),
                "text": column.text(value), "class": name,
                "colour": COLOURS.get(name, NO_VALUE_COLOUR),
                "gap": "" if gap is None else f"{points(gap, entry.unit, entry.decimals)} ({class_label(name)})",
            })
        grid.append(line)
    return grid
