"""The one table view: how an observation row is named, whatever renders it.

An export row (`COLUMNS`) is a fact-table row with its indicator, métier, territory and source named and its
series-break note attached, by one function (`named`) over lookup tables read once per store version
(`names`). The rules live here once: a métier or territory is called what its own vintage called it
(BMO rewrote its labels in 2019; FAP-2021 in 2025) when the file defines it, the root profession is named for
what the indicator covers (`catalogue.root_label`), a source is « producer – title (vintage) », and a figure's
break note is its profession's and its territory's notes in its series and period (`break_note`). The JSON
API, the CSV and XLSX exports (`exports`), the query layer's `series_break` column (`queries`) and the pages'
« voir les données » tables (`page_rows`) all read them from here. The SQL view `observations` (schema.py)
keeps the break-note rule in SQL for analysts; a test checks both agree.

Imports no query layer (the query layer imports this module): the store's key maps come in as `Dimensions`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import text

from observatory import catalogue
from observatory.download import safe_text
from observatory.formatting import number
from observatory.status import LABELS as STATUS_LABELS
from observatory.status import label as status_label  # « publié », « secret statistique »…
from observatory.store import Store

if TYPE_CHECKING:
    from observatory.queries import Dimensions

COLUMNS = ("indicator_id", "indicator_label", "profession_id", "profession_label", "territory_id",
           "territory_label", "territory_level", "breakdown", "period", "value", "unit", "numerator", "denominator",
           "status", "is_derived", "source_id", "source_label", "series_break")
FRENCH_HEADERS = {  # column code → the French header of `lang=fr` exports (the metadata sheet lists both)
    "indicator_id": "Code indicateur", "indicator_label": "Indicateur", "profession_id": "Code métier",
    "profession_label": "Filière, groupe ou métier", "territory_id": "Code territoire", "territory_label": "Territoire",
    "territory_level": "Niveau territorial",
    "breakdown": "Sous-population (catégorie d'établissement, tranche d'âge, motif de sortie)", "period": "Année",
    "value": "Valeur", "unit": "Unité", "numerator": "Numérateur", "denominator": "Dénominateur", "status": "Statut",
    "is_derived": "Calculé", "source_id": "Code source", "source_label": "Source", "series_break": "Rupture de série",
}
LANGS = ("en", "fr")
BREAK_SEPARATOR = " ; "  # between a figure's profession note and its territory note (the SQL view writes the same)




def headers(lang: str = "en") -> tuple[str, ...]:
    """The header row of an export: the column codes, or their French headers (`lang="fr"`)."""
    return tuple(FRENCH_HEADERS[c] for c in COLUMNS) if lang == "fr" else COLUMNS


def break_note(on_profession: str | None, on_territory: str | None) -> str | None:
    """A figure's series-break note: its profession's and its territory's, joined; None when neither."""
    if on_profession and on_territory:
        return f"{on_profession}{BREAK_SEPARATOR}{on_territory}"
    return on_profession or on_territory


STATUS_LEGEND = {code: status_label(code) for code in STATUS_LABELS}
_STATUS_AT = COLUMNS.index("status")
_DERIVED_AT = COLUMNS.index("is_derived")
_VALUE_AT = COLUMNS.index("value")
_NUMERATOR_AT = COLUMNS.index("numerator")
DECIMALS = {i.indicator_id: i.decimals for i in catalogue.INDICATORS}  # the catalogue's, as the pages show them
COUNT_DECIMALS = 1  # a numerator or denominator as « voir les données » shows it: whole counts read as integers


def shown(value: object, decimals: int) -> str | None:
    """A number as the screen rounds it, with a decimal point (`24.0` at 1 decimal, `678` at 0); None when empty
    or not finite."""
    if value is None:
        return None
    figure = float(value)
    return f"{figure:.{max(decimals, 0)}f}" if math.isfinite(figure) else None


def shown_count(value: object) -> str | None:
    """A count as the screen rounds it, « ,0 » dropped: `678.0` → `678`, `2.44` (FTE) → `2.4`."""
    text_value = shown(value, COUNT_DECIMALS)
    return text_value[:-2] if text_value is not None and text_value.endswith(".0") else text_value


def _rounded(row: tuple) -> tuple:
    """The value rounded to its indicator's decimals, the counts as `shown_count`: numbers, for XLSX cells."""
    value, numerator, denominator = (shown(row[_VALUE_AT], DECIMALS.get(row[0], COUNT_DECIMALS)),
                                     shown_count(row[_NUMERATOR_AT]), shown_count(row[_NUMERATOR_AT + 1]))
    return row[:_VALUE_AT] + (None if value is None else float(value),) + row[_VALUE_AT + 1:_NUMERATOR_AT] + (
        None if numerator is None else float(numerator), None if denominator is None else float(denominator)) \
        + row[_NUMERATOR_AT + 2:]


def in_french(chunk: list[tuple], numbers: str = "float", decimal_comma: bool = False) -> list[tuple]:
    """Rows as the pages show them: the status as its label, `is_derived` as « oui » / « non », the value
    rounded to the catalogue's decimals and the counts as on screen (`numbers="text"`: written as text, with
    decimal commas if asked, for CSV, « 24,0 » keeping its zero). The JSON API keeps full precision."""
    out = []
    for row in chunk:
        row = row[:_STATUS_AT] + (status_label(row[_STATUS_AT]), "oui" if row[_DERIVED_AT] else "non") \
            + row[_DERIVED_AT + 1:]
        if numbers == "text":
            cells = (shown(row[_VALUE_AT], DECIMALS.get(row[0], COUNT_DECIMALS)), shown_count(row[_NUMERATOR_AT]),
                     shown_count(row[_NUMERATOR_AT + 1]))
            if decimal_comma:
                cells = tuple(None if c is None else c.replace(".", ",") for c in cells)
            out.append(row[:_VALUE_AT] + cells[:1] + row[_VALUE_AT + 1:_NUMERATOR_AT] + cells[1:]
                       + row[_NUMERATOR_AT + 2:])
        else:
            out.append(_rounded(row))
    return out


# A figure is labelled as its own vintage named its métier or bassin, and carries the series-break notes of its
# profession and territory. Rows are named from the fact table's integer columns by lookup tables read once per
# store version: SQL joins and a correlated per-row subquery for each vintage name cost 18 µs a row, the lookups
# about 3 µs.
KEYS_SELECT = ("SELECT o.indicator_key, o.profession_key, o.territory_key, o.breakdown, o.period, o.value, "
               "o.numerator, o.denominator, o.status, o.is_derived, o.source_key FROM observation o WHERE ")
ROOT = "ensemble"
FILE_DEFINED_PARENT = "autres_metiers"  # occupations a file defines keep the name each vintage gave them


@dataclass(frozen=True)
class Names:
    """What the named rows need besides the fact table, keyed by the store's integer keys."""

    indicators: dict  # key → (indicator_id, label, unit)
    professions: dict  # key → (profession_id, label neutralised)
    territories: dict  # key → (territory_id, name neutralised, level)
    sources: dict  # key → (source_id, "producer – title (vintage)", series)
    vintage: dict  # (series, "profession"|"territory", key, period) → the vintage's label, neutralised
    breaks: dict  # (series, "profession"|"territory", key, period) → series-break note
    root: int | None  # the key of the root profession (`ensemble`)
    root_labels: dict  # indicator key → what the root is called for it (`catalogue.root_label`)
    break_periods: frozenset = frozenset()  # (series, period) holding a break: most rows skip the note lookups

    def profession_label(self, ik: int, pk: int, series: str, period: int) -> str:
        """The métier as its vintage named it (file-defined occupations), else the root named for the
        indicator, else the observatory's label."""
        return self.vintage.get((series, "profession", pk, period)) or (
            self.root_labels[ik] if pk == self.root else self.professions[pk][1])

    def territory_label(self, tk: int, series: str, period: int) -> str:
        """The territory as its vintage named it (a bassin renamed), else its name."""
        return self.vintage.get((series, "territory", tk, period)) or self.territories[tk][1]

    def note(self, series: str, pk: int, tk: int, period: int) -> str | None:
        """The row's series-break note (`break_note` of its profession's and territory's)."""
        if (series, period) not in self.break_periods:
            return None
        get = self.breaks.get
        return break_note(get((series, "profession", pk, period)), get((series, "territory", tk, period)))


def names(store: Store, dims: Dimensions) -> Names:
    """The lookup tables of the store (`dims`: its key maps), read from it now: `queries.names` keeps them in
    the store's cache, once per store version."""
    profession_key, territory_key = dims.profession_key, dims.territory_key
    with store.engine.connect() as conn:
        def rows(sql: str) -> list:
            return conn.execute(text(sql)).all()
        indicators = {k: (i, label, unit) for k, i, label, unit in rows(
            "SELECT key, indicator_id, label, unit FROM indicator")}
        professions, named_by_file = {}, set()
        for k, i, label, parent in rows("SELECT key, profession_id, label, parent_id FROM profession"):
            professions[k] = (i, safe_text(label))
            if parent == FILE_DEFINED_PARENT:
                named_by_file.add(i)
        territories = {k: (i, safe_text(name), level) for k, i, name, level in rows(
            "SELECT key, territory_id, name, level FROM territory")}
        sources = {k: (i, f"{producer} – {title}" + (f" ({vintage})" if vintage is not None else ""),
                       series or i) for k, i, producer, title, vintage, series in rows(
            "SELECT key, source_id, producer, title, vintage, series FROM source")}

        def keyed(series, kind, subject, period):
            key = (profession_key if kind == "profession" else territory_key).get(subject)
            return None if key is None else (series, kind, key, int(period))
        vintage = {}
        for series, kind, subject, period, label in rows(
                "SELECT series, kind, subject_id, period, MIN(label) FROM vintage_label WHERE label IS NOT NULL "
                "GROUP BY series, kind, subject_id, period"):
            if kind == "profession" and subject not in named_by_file:
                continue  # the observatory's own professions keep one name (the dropdown's) in every vintage
            if (at := keyed(series, kind, subject, period)) is not None:
                vintage[at] = safe_text(label)
        breaks = {}
        for series, kind, subject, period, note in rows(
                "SELECT series, kind, subject_id, period, note FROM series_break"):
            if (at := keyed(series, kind, subject, period)) is not None:
                breaks[at] = note
        root = profession_key.get(ROOT)
        root_labels = {k: safe_text(catalogue.root_label(i, professions[root][1] if root in professions else ROOT))
                       for k, (i, _label, _unit) in indicators.items()}
    return Names(indicators, professions, territories, sources, vintage, breaks, root, root_labels,
                 frozenset((series, period) for series, _kind, _key, period in breaks))


def named(chunk: list, names: Names) -> list[tuple]:
    """Export rows (COLUMNS) from fact-table rows (KEYS_SELECT): THE function that names observation rows."""
    indicators, territories, sources = names.indicators, names.territories, names.sources
    profession_label, territory_label, note = names.profession_label, names.territory_label, names.note
    out = []
    append = out.append
    for ik, pk, tk, breakdown, period, value, numerator, denominator, status, derived, sk in chunk:
        indicator_id, indicator_label, unit = indicators[ik]
        source_id, source_label, series = sources[sk]
        territory_id, _name, level = territories[tk]
        append((indicator_id, indicator_label, names.professions[pk][0], profession_label(ik, pk, series, period),
                territory_id, territory_label(tk, series, period), level, breakdown or None, period, value, unit,
                numerator, denominator, status, derived, source_id, source_label, note(series, pk, tk, period)))
    return out


def break_notes(keys: pd.DataFrame, names: Names) -> pd.Series:
    """The series-break note of each fact-table row of a frame (`source_key`, `profession_key`, `territory_key`,
    `period` columns), or None: what the query layer gives its frames as `series_break`."""
    if keys.empty or not names.breaks:
        return pd.Series([None] * len(keys), index=keys.index, dtype=object)
    sources, note = names.sources, names.note
    return pd.Series([note(sources[sk][2], pk, tk, int(period)) for sk, pk, tk, period in zip(
        keys["source_key"], keys["profession_key"], keys["territory_key"], keys["period"])],
        index=keys.index, dtype=object)


def frame_keys(frame: pd.DataFrame, dims: Dimensions) -> list[tuple]:
    """A query-layer frame as fact-table rows (`KEYS_SELECT`), so that `named` builds its rows."""
    def number_or_none(value):
        return None if pd.isna(value) else float(value)
    return [(dims.indicator_key[r.indicator_id], dims.profession_key[r.profession_id],
             dims.territory_key[r.territory_id], r.breakdown if isinstance(r.breakdown, str) else "", int(r.period),
             number_or_none(r.value), number_or_none(r.numerator), number_or_none(r.denominator), r.status,
             int(r.is_derived), dims.source_key[r.source_id]) for r in frame.itertuples(index=False)]


def page_rows(rows: list[dict]) -> list[dict]:
    """« Voir les données »: named rows (`named`, keyed by `COLUMNS`) as a page's table shows them: French
    numbers at the catalogue's decimals and the status in words, beside the names every export of them has."""
    return [{"Indicateur": r["indicator_label"], "Profession": r["profession_label"],
             "Territoire": r["territory_label"], "Année": r["period"],
             "Valeur": number(r["value"], DECIMALS.get(r["indicator_id"], COUNT_DECIMALS)), "Unité": r["unit"],
             "Statut": status_label(r["status"]), "Source": r["source_label"],
             "Rupture de série": r["series_break"] or ""} for r in rows]
