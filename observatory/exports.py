"""Exports: the observations of a selection as CSV (streamed) or XLSX (data + metadata), safe to open.

One row format for every export (the API, the CLI and the pages' export buttons): codes and labels,
value, unit, status, source. Rows come from the same query layer as the pages (`queries.Selection`),
either streamed from the store in key order or taken from the frame a page shows. Text cells never
start a formula: a leading `=`, `+`, `-`, `@`, tab or carriage return is neutralised with a quote.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import text

from observatory import catalogue, figures, queries
from observatory.config import database_url
from observatory.schema import BREAK_JOINS, BREAK_NOTE
from observatory.store import get_engine

COLUMNS = ("indicator_id", "indicator_label", "profession_id", "profession_label", "territory_id",
           "territory_label", "territory_level", "breakdown", "period", "value", "unit", "numerator", "denominator",
           "status", "is_derived", "source_id", "source_label", "series_break")
TEXT_COLUMNS = frozenset({"indicator_id", "indicator_label", "profession_id", "profession_label", "territory_id",
                          "territory_label", "territory_level", "breakdown", "unit", "status", "source_id",
                          "source_label", "series_break"})
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_575  # a sheet's rows, minus the header
CHUNK = 5000
STATUS_LEGEND = {code: label or "publié tel quel par la source" for code, label in figures.STATUS_LABELS.items()}


def safe_text(value: object) -> object:
    """Neutralise a text cell that a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _safe_row(row: tuple, text_positions: tuple[int, ...]) -> tuple:
    if not any(isinstance(row[i], str) and row[i].startswith(FORMULA_START) for i in text_positions):
        return row
    return tuple(safe_text(v) if i in text_positions else v for i, v in enumerate(row))


TEXT_POSITIONS = tuple(i for i, c in enumerate(COLUMNS) if c in TEXT_COLUMNS)

# A figure is labelled as its own vintage named the métier (BMO rewrote its labels in 2019; FAP-2021 in 2025).
def _vintage_name(kind: str, subject: str, current: str) -> str:
    """SQL: what the figure's own vintage called its métier or bassin, else today's name (fixed SQL fragments)."""
    return (f"COALESCE((SELECT MIN(v.label) FROM vintage_label v WHERE v.series = s.series AND v.kind = '{kind}' "
            f"AND v.subject_id = {subject} AND v.period = o.period), {current})")


VINTAGE_LABEL = _vintage_name("profession", "p.profession_id", "p.label")
VINTAGE_NAME = _vintage_name("territory", "t.territory_id", "t.name")

# Labels that come from loaded files (métier and bassin names) are neutralised in SQL, so that the hot loop
# of a full export is the CSV writer alone; ids, units and statuses are the observatory's own.
_SAFE = "CASE WHEN substr({c}, 1, 1) IN (:f0, :f1, :f2, :f3, :f4, :f5) THEN :quote || {c} ELSE {c} END"
_FORMULA_PARAMS = {**{f"f{i}": ch for i, ch in enumerate(FORMULA_START)}, "quote": "'"}
_SELECT = """
SELECT i.indicator_id, i.label, p.profession_id, """ + _SAFE.format(c=VINTAGE_LABEL) + """, t.territory_id,
       """ + _SAFE.format(c=VINTAGE_NAME) + """, t.level,
       NULLIF(o.breakdown, ''), o.period, o.value, i.unit, o.numerator, o.denominator, o.status, o.is_derived,
       s.source_id, s.producer || ' – ' || s.title || COALESCE(' (' || s.vintage || ')', ''), """ + BREAK_NOTE + """
FROM observation o
JOIN indicator i ON i.key = o.indicator_key
JOIN profession p ON p.key = o.profession_key
JOIN territory t ON t.key = o.territory_key
JOIN source s ON s.key = o.source_key
""" + BREAK_JOINS.replace("{", "{{").replace("}", "}}") + """
WHERE {where}
"""


def _split(selection: queries.Selection) -> tuple[queries.Selection | None, queries.Selection | None]:
    """The stored part of a selection (streamed by SQL) and its computed shares (built by the query layer);
    computed shares are exported when asked for by name."""
    asked = selection.indicators or ()
    computed = tuple(i for i in asked if i in catalogue.COMPUTED)
    if not computed:
        return selection, None
    stored = tuple(i for i in asked if i not in catalogue.COMPUTED)
    return (replace(selection, indicators=stored) if stored else None), replace(selection, indicators=computed)


def _computed_frame(selection: queries.Selection, url: str) -> pd.DataFrame:
    """Computed shares in a fixed order (cached by the query layer: counting and paging reuse it)."""
    frame = queries.select(selection, url)
    key = ["indicator_id", "source_id", "territory_id", "profession_id", "period", "breakdown"]
    return frame.sort_values(key, na_position="first", ignore_index=True)


def count(selection: queries.Selection, url: str | None = None) -> int:
    url = url or database_url()
    stored, computed = _split(selection)
    total = len(_computed_frame(computed, url)) if computed else 0
    if stored is None:
        return total
    where, params = queries.selection_where(stored, queries.dimensions(url))
    with get_engine(url).connect() as conn:
        return total + conn.execute(text(f"SELECT COUNT(*) FROM observation o WHERE {where}"), params).scalar_one()


def stream_chunks(selection: queries.Selection, url: str | None = None, *, offset: int = 0,
                  limit: int | None = None) -> Iterator[list[tuple]]:
    """Rows of the selection in the store's key order, in chunks of CHUNK rows (memory stays flat); shares
    computed at query time come after the stored rows."""
    url = url or database_url()
    stored, computed = _split(selection)
    if computed is None:
        yield from _stream_stored(selection, url, offset=offset, limit=limit)
        return
    stored_total = count(stored, url) if stored is not None else 0
    if stored is not None and (limit is None or offset < stored_total):
        yield from _stream_stored(stored, url, offset=offset, limit=limit)
    frame = _computed_frame(computed, url)
    start = max(0, offset - stored_total)
    taken = max(0, min(stored_total - offset, limit)) if limit is not None and offset < stored_total else 0
    end = len(frame) if limit is None else start + max(0, limit - taken)
    for first in range(start, end, CHUNK):  # rows built a chunk at a time
        yield rows_from_frame(frame.iloc[first:min(first + CHUNK, end)], url)


def _stream_stored(selection: queries.Selection, url: str, *, offset: int = 0,
                   limit: int | None = None) -> Iterator[list[tuple]]:
    where, params = queries.selection_where(selection, queries.dimensions(url))
    sql = _SELECT.format(where=where)
    params = {**params, **_FORMULA_PARAMS}
    if limit is not None:
        sql += " ORDER BY o.source_key, o.indicator_key, o.territory_key, o.profession_key, o.period, o.breakdown" \
               " LIMIT :limit OFFSET :offset"
        params = {**params, "limit": int(limit), "offset": int(offset)}
    engine = get_engine(url)
    with engine.connect().execution_options(stream_results=True, yield_per=CHUNK) as conn:
        if engine.dialect.name == "sqlite":  # the driver's own cursor: plain tuples, no per-row wrapper
            cursor = conn.connection.driver_connection.cursor()
            cursor.execute(sql, params)  # sqlite3 binds :name parameters natively
            while chunk := cursor.fetchmany(CHUNK):
                yield chunk
            cursor.close()
        else:
            for chunk in conn.execute(text(sql), params).partitions(CHUNK):
                yield [tuple(row) for row in chunk]


def stream_rows(selection: queries.Selection, url: str | None = None, **window) -> Iterator[tuple]:
    for chunk in stream_chunks(selection, url, **window):
        yield from chunk


def chunks_of(rows: list[tuple]) -> Iterator[list[tuple]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start:start + CHUNK]


def rows_from_frame(frame: pd.DataFrame, url: str | None = None) -> list[tuple]:
    """The rows of a frame a page shows, in the export format (so a page's export is exactly its view).

    Métiers and bassins are named as their own vintage named them (as the SQL export does)."""
    dims = queries.dimensions(url)
    professions = dict(zip(dims.professions.profession_id, dims.professions.label))
    territory_names = dict(zip(dims.territories.territory_id, dims.territories.name))
    territory_levels = dict(zip(dims.territories.territory_id, dims.territories.level))
    sources = {r.source_id: r for r in dims.sources.itertuples(index=False)}
    vintage: dict[tuple[str, int, str], dict[str, str]] = {}

    def named(kind: str, series: str, period: int) -> dict[str, str]:
        if (series, period, kind) not in vintage:
            vintage[series, period, kind] = queries.vintage_labels(series, period, kind, url=url)
        return vintage[series, period, kind]

    rows = []
    for r in frame.itertuples(index=False):
        entry = catalogue.get(r.indicator_id)
        source = sources[r.source_id]
        period = int(r.period)
        row = (r.indicator_id, entry.label, r.profession_id,
               named("profession", source.series, period).get(r.profession_id)
               or professions.get(r.profession_id, r.profession_id),
               r.territory_id, named("territory", source.series, period).get(r.territory_id)
               or territory_names.get(r.territory_id), territory_levels.get(r.territory_id),
               r.breakdown if isinstance(r.breakdown, str) and r.breakdown else None, period,
               None if pd.isna(r.value) else float(r.value), entry.unit,
               None if pd.isna(r.numerator) else float(r.numerator),
               None if pd.isna(r.denominator) else float(r.denominator), r.status, int(r.is_derived), r.source_id,
               f"{source.producer} – {source.title}" + (f" ({source.vintage})" if source.vintage else ""),
               getattr(r, "series_break", None) or None)
        rows.append(_safe_row(row, TEXT_POSITIONS))
    return rows


def _csv_number(value: object, decimal_comma: bool) -> object:
    if isinstance(value, float):
        text_value = repr(value) if not value.is_integer() else str(int(value))
        return text_value.replace(".", ",") if decimal_comma else text_value
    return value


def csv_chunks(chunks: Iterable[list[tuple]], *, semicolon: bool = False) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM (Excel reads the accents); `semicolon`: `;` and decimal commas (French Excel).

    Takes rows in chunks (see `stream_chunks`) and yields one encoded block per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if semicolon else ",", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    for chunk in chunks:
        buffer.seek(0)
        buffer.truncate()
        if semicolon:
            writer.writerows([_csv_number(v, True) for v in row] for row in chunk)
        else:
            writer.writerows(chunk)
        yield buffer.getvalue().encode("utf-8")


def xlsx_bytes(rows: Iterable[tuple], *, filters: dict, permalink: str, total: int) -> bytes:
    """A workbook with a « Données » sheet and a « Métadonnées » sheet (definitions, sources, filters…)."""
    if total > XLSX_MAX_ROWS:
        raise ValueError(f"{total} rows do not fit in one XLSX sheet (at most {XLSX_MAX_ROWS}); use CSV")
    book = Workbook(write_only=True)
    data = book.create_sheet("Données")
    widths = {"indicator_label": 34, "profession_label": 40, "territory_label": 28, "source_label": 60}
    for i, column in enumerate(COLUMNS, start=1):
        data.column_dimensions[get_column_letter(i)].width = widths.get(column, 14)
    data.freeze_panes = "A2"
    bold = Font(bold=True)
    data.append([_cell(data, c, font=bold) for c in COLUMNS])
    indicators, sources, written = set(), set(), 0
    value_at, unit_at = COLUMNS.index("value"), COLUMNS.index("unit")
    for row in rows:
        indicators.add(row[0])
        sources.add(row[COLUMNS.index("source_id")])
        number_format = {"%": "0.0", "€ net / mois": "#,##0"}.get(row[unit_at], "#,##0.##")
        cells = []
        for position, value in enumerate(row):
            if position in TEXT_POSITIONS:
                cells.append(_cell(data, value, as_text=True))
            elif position in (value_at, value_at + 2, value_at + 3):
                cells.append(_cell(data, value, number_format=number_format))
            else:
                cells.append(value)
        data.append(cells)
        written += 1
    meta = book.create_sheet("Métadonnées")
    meta.column_dimensions["A"].width = 30
    meta.column_dimensions["B"].width = 110
    for line in _metadata(filters, permalink, written, sorted(indicators), sorted(sources)):
        meta.append([_cell(meta, v, as_text=True, font=bold if i == 0 and len(line) == 1 else None)
                     for i, v in enumerate(line)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(sheet, value, *, as_text: bool = False, number_format: str | None = None, font=None):
    cell = WriteOnlyCell(sheet, value=safe_text(value) if as_text else value)
    if as_text and isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text
    if number_format:
        cell.number_format = number_format
    if font is not None:
        cell.font = font
    return cell


def _metadata(filters: dict, permalink: str, rows: int, indicators: list[str], sources: list[str]) -> list[tuple]:
    dims = queries.dimensions()
    source_rows = dims.sources.set_index("source_id")
    lines: list[tuple] = [
        ("Observatoire des métiers du social – extraction",),
        ("Date d'extraction", datetime.now().strftime("%d/%m/%Y %H:%M")),
        ("Lien permanent", permalink),
        ("Nombre de lignes", f"{rows} (export complet, aucune ligne omise)"),
        ("Filtres", "; ".join(f"{k} = {', '.join(map(str, v))}" for k, v in filters.items() if v) or "aucun"),
        (),
        ("Indicateurs",),
    ]
    for indicator_id in indicators:
        entry = catalogue.get(indicator_id)
        lines += [(entry.label, f"{entry.definition} Formule : {entry.formula}. Unité : {entry.unit}. "
                   f"Agrégation : {entry.aggregation}." + (f" Précautions : {entry.caveats}" if entry.caveats else ""))]
    lines += [(), ("Sources",)]
    for source_id in sources:
        row = source_rows.loc[source_id]
        illustrative = " DONNÉES FICTIVES CALIBRÉES." if row.is_illustrative else ""
        lines += [(f"{row.producer}", f"{row.title}. Millésime : {row.vintage or 'n.c.'}. Licence : {row.licence}. "
                   f"{row.url or ''}{illustrative}")]
    lines += [(), ("Ruptures de série",),
              ("series_break", "Renseignée quand le chiffre n'est pas comparable à la période précédente de sa série "
               "(code ou intitulé de métier modifié, composition d'une famille modifiée, bassin redécoupé, changement "
               "de nomenclature) ; vide sinon. La liste complète est sur la page Méthodologie.")]
    lines += [(), ("Statuts",)] + [(code, label) for code, label in STATUS_LEGEND.items()]
    return lines
