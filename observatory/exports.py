"""Exports: the observations of a selection as CSV (streamed) or XLSX (data + metadata), safe to open.

One row format for every export (the API, the CLI and the pages' export links, which point to the API):
codes and labels, value, unit, status, source. Rows come from the same query layer as the pages
(`queries.Selection`), streamed from the store in key order by one row builder (`_named`). Two languages:
`en` (the default) writes the data contract's column codes and status codes, byte for byte; `fr` writes
French headers, the status labels the pages show (`status_label`) and « oui »/« non », numbers rounded as
the pages show them (`shown`, `shown_count`), and the CSV uses `;` and decimal commas. Files are named after
what they hold (`filename`). Text cells never start a formula: a leading `=`, `+`, `-`, `@`, tab or carriage
return is neutralised with a quote.
"""
from __future__ import annotations

import csv
import io
import itertools
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pandas as pd
from openpyxl.utils import get_column_letter
from sqlalchemy import text

from observatory import catalogue, figures, queries, urlstate
from observatory.store import Store, cached

COLUMNS = ("indicator_id", "indicator_label", "profession_id", "profession_label", "territory_id",
           "territory_label", "territory_level", "breakdown", "period", "value", "unit", "numerator", "denominator",
           "status", "is_derived", "source_id", "source_label", "series_break")
TEXT_COLUMNS = frozenset({"indicator_id", "indicator_label", "profession_id", "profession_label", "territory_id",
                          "territory_label", "territory_level", "breakdown", "unit", "status", "source_id",
                          "source_label", "series_break"})
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_575  # a sheet's rows, minus the header
CHUNK = 5000
FRENCH_HEADERS = {  # column code → the French header of `lang=fr` exports (the metadata sheet lists both)
    "indicator_id": "Code indicateur", "indicator_label": "Indicateur", "profession_id": "Code métier",
    "profession_label": "Filière, groupe ou métier", "territory_id": "Code territoire", "territory_label": "Territoire",
    "territory_level": "Niveau territorial",
    "breakdown": "Sous-population (catégorie d'établissement, tranche d'âge, motif de sortie)", "period": "Année",
    "value": "Valeur", "unit": "Unité", "numerator": "Numérateur", "denominator": "Dénominateur", "status": "Statut",
    "is_derived": "Calculé", "source_id": "Code source", "source_label": "Source", "series_break": "Rupture de série",
}
LANGS = ("en", "fr")


def status_label(code: str) -> str:
    """A status as the pages show it (« publié », « secret statistique »…): the one table, `figures.STATUS_LABELS`."""
    return figures.STATUS_LABELS.get(code, code) or "publié"


def headers(lang: str = "en") -> tuple[str, ...]:
    return tuple(FRENCH_HEADERS[c] for c in COLUMNS) if lang == "fr" else COLUMNS


STATUS_LEGEND = {code: status_label(code) for code in figures.STATUS_LABELS}
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
    number = float(value)
    return f"{number:.{max(decimals, 0)}f}" if math.isfinite(number) else None


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


def _in_french(chunk: list[tuple], numbers: str = "float", decimal_comma: bool = False) -> list[tuple]:
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


def _slug(label: str, limit: int = 40) -> str:
    """ASCII, lower case, words joined by `-` (« Auvergne-Rhône-Alpes » → `auvergne-rhone-alpes`), cut at a word."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0]
    return slug or "sans-nom"


LEVEL_SLUGS = {"nation": "france", "region": "regions", "departement": "departements", "bassin": "bassins",
               "bassin_emploi": "bassins-emploi"}


def filename(selection: queries.Selection, extension: str, territory_names: dict[str, str], day: date) -> str:
    """`observatoire_<indicateur>_<territoire>_<AAAA-MM-JJ>.<ext>`, named after what the file holds: one
    indicator or territory by its name, several summed up (`plusieurs-indicateurs`), none `tous-…`. ASCII only,
    so that every browser and file system keeps it as it is."""
    indicators = selection.indicators or ()
    if len(indicators) == 1:
        entry = catalogue.BY_ID.get(indicators[0])
        what = _slug(entry.label if entry else indicators[0])
    else:
        what = "plusieurs-indicateurs" if indicators else "tous-indicateurs"
    territories, levels = selection.territories or (), selection.levels or ()
    if len(territories) == 1:
        where = _slug(territory_names.get(territories[0], territories[0]))
    elif territories:
        where = "plusieurs-territoires"
    elif len(levels) == 1:
        where = LEVEL_SLUGS.get(levels[0], _slug(levels[0]))
    else:
        where = "tous-territoires"
    return f"observatoire_{what}_{where}_{day.isoformat()}.{extension}"


def content_disposition(name: str) -> str:
    """`attachment` with the file's name (ASCII by construction: `filename` is enough, no `filename*`)."""
    return f'attachment; filename="{name}"'


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

# A figure is labelled as its own vintage named its métier or bassin (BMO rewrote its labels in 2019; FAP-2021
# in 2025), and carries the series-break notes of its profession and territory. The streamed export reads the
# fact table's integer columns alone and names them from lookup tables read once per store version: SQL joins
# and a correlated per-row subquery for each vintage name cost 18 µs a row, the lookups about 3 µs.
_KEYS_SELECT = ("SELECT o.indicator_key, o.profession_key, o.territory_key, o.breakdown, o.period, o.value, "
                "o.numerator, o.denominator, o.status, o.is_derived, o.source_key FROM observation o WHERE ")
_ORDER = " ORDER BY o.source_key, o.indicator_key, o.territory_key, o.profession_key, o.period, o.breakdown"


@dataclass(frozen=True)
class _Names:
    """What the streamed rows need besides the fact table, keyed by the store's integer keys."""

    indicators: dict  # key → (indicator_id, label, unit)
    professions: dict  # key → (profession_id, label neutralised)
    territories: dict  # key → (territory_id, name neutralised, level)
    sources: dict  # key → (source_id, "producer – title (vintage)", series)
    vintage: dict  # (series, "profession"|"territory", key, period) → the vintage's label, neutralised
    breaks: dict  # (series, "profession"|"territory", key, period) → series-break note
    root: int | None  # the key of the root profession (`ensemble`)
    root_labels: dict  # indicator key → what the root is called for it (`catalogue.root_label`)


ROOT = "ensemble"
FILE_DEFINED_PARENT = "autres_metiers"  # occupations a file defines keep the name each vintage gave them


@cached
def _names(store: Store) -> _Names:
    dims = queries.dimensions(store)
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
    return _Names(indicators, professions, territories, sources, vintage, breaks, root, root_labels)


def _named(chunk: list, names: _Names) -> list[tuple]:
    """Export rows (COLUMNS) from fact-table rows (_KEYS_SELECT)."""
    indicators, professions, territories, sources = names.indicators, names.professions, names.territories, \
        names.sources
    vintage, breaks = names.vintage.get, names.breaks.get
    root, root_labels = names.root, names.root_labels
    out = []
    append = out.append
    for ik, pk, tk, breakdown, period, value, numerator, denominator, status, derived, sk in chunk:
        indicator_id, indicator_label, unit = indicators[ik]
        source_id, source_label, series = sources[sk]
        profession_id, profession_label = professions[pk]
        if pk == root:
            profession_label = root_labels[ik]
        territory_id, territory_name, level = territories[tk]
        on_profession = breaks((series, "profession", pk, period))
        on_territory = breaks((series, "territory", tk, period))
        append((indicator_id, indicator_label, profession_id,
                vintage((series, "profession", pk, period)) or profession_label, territory_id,
                vintage((series, "territory", tk, period)) or territory_name, level, breakdown or None, period, value,
                unit, numerator, denominator, status, derived, source_id, source_label,
                f"{on_profession} ; {on_territory}" if on_profession and on_territory
                else on_profession or on_territory))
    return out


def _split(selection: queries.Selection) -> tuple[queries.Selection | None, queries.Selection | None]:
    """The stored part of a selection (streamed by SQL) and its computed shares (built by the query layer);
    computed shares are exported when asked for by name."""
    asked = selection.indicators or ()
    computed = tuple(i for i in asked if i in catalogue.COMPUTED)
    if not computed:
        return selection, None
    stored = tuple(i for i in asked if i not in catalogue.COMPUTED)
    return (replace(selection, indicators=stored) if stored else None), replace(selection, indicators=computed)


def _computed_frame(store: Store, selection: queries.Selection) -> pd.DataFrame:
    """Computed shares in a fixed order (cached by the query layer: counting and paging reuse it)."""
    frame = queries.select(store, selection)
    key = ["indicator_id", "source_id", "territory_id", "profession_id", "period", "breakdown"]
    return frame.sort_values(key, na_position="first", ignore_index=True)


def count(store: Store, selection: queries.Selection) -> int:
    stored, computed = _split(selection)
    total = len(_computed_frame(store, computed)) if computed else 0
    if stored is None:
        return total
    where, params = _where(store, stored)
    sql = f"SELECT COUNT(*) FROM observation o WHERE {where}"
    engine = store.engine
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":  # the driver's cursor: no statement compiled per request
            return total + conn.connection.driver_connection.execute(sql, params).fetchone()[0]
        return total + conn.execute(text(sql), params).scalar_one()


@cached
def _where(store: Store, selection: queries.Selection) -> tuple[str, dict]:
    """`queries.selection_where`, remembered per selection while the store is unchanged (a JSON page asks for
    it twice, paging asks again for every page). The parameters are shared: never change them."""
    return queries.selection_where(selection, queries.dimensions(store))


def stream_chunks(store: Store, selection: queries.Selection, *, offset: int = 0,
                  limit: int | None = None) -> Iterator[list[tuple]]:
    """Rows of the selection in the store's key order, in chunks of CHUNK rows (memory stays flat); shares
    computed at query time come after the stored rows."""
    stored, computed = _split(selection)
    if computed is None:
        yield from _stream_stored(store, selection, offset=offset, limit=limit)
        return
    stored_total = count(store, stored) if stored is not None else 0
    if stored is not None and (limit is None or offset < stored_total):
        yield from _stream_stored(store, stored, offset=offset, limit=limit)
    frame = _computed_frame(store, computed)
    start = max(0, offset - stored_total)
    taken = max(0, min(stored_total - offset, limit)) if limit is not None and offset < stored_total else 0
    end = len(frame) if limit is None else start + max(0, limit - taken)
    if start >= end:
        return
    names, dims = _names(store), queries.dimensions(store)
    keys = _frame_keys(frame.iloc[start:end], dims)
    for first in range(0, len(keys), CHUNK):  # rows built a chunk at a time, by the one row builder
        yield _named(keys[first:first + CHUNK], names)


def _frame_keys(frame: pd.DataFrame, dims: queries.Dimensions) -> list[tuple]:
    """A query-layer frame as fact-table rows (`_KEYS_SELECT`), so that `_named` builds its export rows."""
    def number(value):
        return None if pd.isna(value) else float(value)
    return [(dims.indicator_key[r.indicator_id], dims.profession_key[r.profession_id],
             dims.territory_key[r.territory_id], r.breakdown if isinstance(r.breakdown, str) else "", int(r.period),
             number(r.value), number(r.numerator), number(r.denominator), r.status, int(r.is_derived),
             dims.source_key[r.source_id]) for r in frame.itertuples(index=False)]


def _stream_stored(store: Store, selection: queries.Selection, *, offset: int = 0, limit: int | None = None,
                   keys_only: bool = False) -> Iterator[list[tuple]]:
    """Chunks of export rows (or, `keys_only`, of the fact table's rows as `_KEYS_SELECT` reads them)."""
    names = _names(store)
    name = (lambda chunk, _names: chunk) if keys_only else _named
    where, params = _where(store, selection)
    sql = _KEYS_SELECT + where
    engine = store.engine
    if limit is not None:
        sql += _ORDER + " LIMIT :limit OFFSET :offset"
        params = {**params, "limit": int(limit), "offset": int(offset)}
    elif engine.dialect.name != "sqlite":  # SQLite scans the clustered table in key order; others must be told
        sql += _ORDER
    with engine.connect().execution_options(stream_results=True, yield_per=CHUNK) as conn:
        if engine.dialect.name == "sqlite":  # the driver's own cursor: plain tuples, no per-row wrapper
            cursor = conn.connection.driver_connection.cursor()
            cursor.execute(sql, params)  # sqlite3 binds :name parameters natively
            while chunk := cursor.fetchmany(CHUNK):
                yield name(chunk, names)
            cursor.close()
        else:
            for chunk in conn.execute(text(sql), params).partitions(CHUNK):
                yield name(chunk, names)


def stream_rows(store: Store, selection: queries.Selection, **window) -> Iterator[tuple]:
    for chunk in stream_chunks(store, selection, **window):
        yield from chunk


def chunks_of(rows: list[tuple]) -> Iterator[list[tuple]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start:start + CHUNK]


def csv_stream(store: Store, selection: queries.Selection, *, semicolon: bool = False,
               lang: str = "en") -> Iterator[bytes]:
    """The CSV of a selection: byte for byte `csv_chunks(stream_chunks(selection))`, but the stored rows are
    written straight from the fact table's keys, with the text of each figure's indicator, métier, territory and
    source written (CSV-quoted) once per export rather than once per row: a full export costs about half."""
    stored, computed = _split(selection)
    if computed is not None:
        yield from csv_chunks(stream_chunks(store, selection), semicolon=semicolon, lang=lang)
        return
    french = lang == "fr"
    d = ";" if semicolon else ","
    special = (d, '"', "\r", "\n")

    def field(value: object) -> str:
        """What csv.writer (excel dialect, QUOTE_MINIMAL) writes for a value: floats by repr (or `_csv_number`
        with `semicolon`), which never holds a delimiter, a quote or a line break; texts quoted when they do."""
        if value is None:
            return ""
        kind = value.__class__
        if kind is float:
            return _csv_number(value, True) if semicolon else repr(value)
        if kind is not str:
            return str(value)
        return '"' + value.replace('"', '""') + '"' if any(c in value for c in special) else value

    names = _names(store)
    indicators = {k: (field(i) + d + field(label) + d, field(unit) + d)
                  for k, (i, label, unit) in names.indicators.items()}
    sources = {k: field(i) + d + field(label) + d for k, (i, label, _series) in names.sources.items()}
    series_of = {k: series for k, (_i, _label, series) in names.sources.items()}
    vintage, breaks = names.vintage, names.breaks
    break_at = {(series, period) for series, _kind, _key, period in breaks}
    break_keys = {k * 10_000 + p for k, s in series_of.items() for series, p in break_at if series == s}
    professions: dict[int, str] = {}
    territories: dict[int, str] = {}
    statuses: dict[str, str] = {}

    def profession(code: int, ik: int, sk: int, pk: int, period: int) -> str:
        profession_id, label = names.professions[pk]
        label = names.root_labels[ik] if pk == names.root else \
            vintage.get((series_of[sk], "profession", pk, period)) or label
        text = professions[code] = field(profession_id) + d + field(label) + d
        return text

    def territory(code: int, sk: int, tk: int, period: int) -> str:
        territory_id, name, level = names.territories[tk]
        name = vintage.get((series_of[sk], "territory", tk, period)) or name
        text = territories[code] = field(territory_id) + d + field(name) + d + field(level) + d
        return text

    def note(sk: int, pk: int, tk: int, period: int) -> str:
        series = series_of[sk]
        on_profession = breaks.get((series, "profession", pk, period))
        on_territory = breaks.get((series, "territory", tk, period))
        return field(f"{on_profession} ; {on_territory}" if on_profession and on_territory
                     else on_profession or on_territory)

    if french:  # the value rounded to its indicator's decimals, the counts as on screen (`_in_french`)
        def figure(value: object, decimals: int) -> str:
            shown_value = shown(value, decimals) if decimals >= 0 else shown_count(value)
            if shown_value is None:
                return ""
            return shown_value.replace(".", ",") if semicolon else shown_value
        decimals_of = {k: DECIMALS.get(i, COUNT_DECIMALS) for k, (i, _label, _unit) in names.indicators.items()}
    else:  # full precision, `field`
        figure, decimals_of = None, {}
    derived_text = {0: "non", 1: "oui"} if french else {}
    status_text = status_label if french else str
    yield ("\ufeff" + d.join(map(field, headers(lang))) + "\r\n").encode("utf-8")
    for chunk in _stream_stored(store, selection, keys_only=True):
        lines = []
        append = lines.append
        for ik, pk, tk, breakdown, period, value, numerator, denominator, status, derived, sk in chunk:
            at = sk * 10_000 + period  # source and period in one int: the caches' keys are ints
            indicator, unit = indicators[ik]
            pat = (ik * 10_000_000 + at) * 100_000 + pk  # the root's name depends on the indicator
            append(
                f"{indicator}{professions.get(pat) or profession(pat, ik, sk, pk, period)}"
                f"{territories.get(at * 100_000 + tk) or territory(at * 100_000 + tk, sk, tk, period)}"
                f"{field(breakdown) if breakdown else ''}{d}{period}{d}"
                f"{figure(value, decimals_of[ik]) if french else field(value)}{d}{unit}"
                f"{figure(numerator, -1) if french else field(numerator)}{d}"
                f"{figure(denominator, -1) if french else field(denominator)}{d}"
                f"{statuses.get(status) or statuses.setdefault(status, field(status_text(status)))}"
                f"{d}{derived_text.get(derived, derived)}{d}{sources[sk]}"
                f"{note(sk, pk, tk, period) if at in break_keys else ''}\r\n")
        yield "".join(lines).encode("utf-8")


def _csv_number(value: object, decimal_comma: bool) -> object:
    if isinstance(value, float):
        text_value = repr(value) if not value.is_integer() else str(int(value))
        return text_value.replace(".", ",") if decimal_comma else text_value
    return value


def csv_chunks(chunks: Iterable[list[tuple]], *, semicolon: bool = False, lang: str = "en") -> Iterator[bytes]:
    """UTF-8 CSV with a BOM (Excel reads the accents); `semicolon`: `;` and decimal commas (French Excel);
    `lang="fr"`: French headers and status labels.

    Takes rows in chunks (see `stream_chunks`) and yields one encoded block per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if semicolon else ",", lineterminator="\r\n")
    writer.writerow(headers(lang))
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    for chunk in chunks:
        buffer.seek(0)
        buffer.truncate()
        if lang == "fr":
            writer.writerows(_in_french(chunk, "text", decimal_comma=semicolon))
        elif semicolon:
            writer.writerows([_csv_number(v, True) for v in row] for row in chunk)
        else:
            writer.writerows(chunk)
        yield buffer.getvalue().encode("utf-8")


def check_xlsx_rows(total: int) -> None:
    """Refuse, before writing anything, a selection that one XLSX sheet cannot hold (CSV has no limit)."""
    if total > XLSX_MAX_ROWS:
        raise ValueError(
            f"{total:,} lignes : une feuille XLSX en contient au plus {XLSX_MAX_ROWS:,} ; exportez en CSV "
            f"(format=csv, sans limite) ou filtrez davantage. / {total:,} rows do not fit in one XLSX sheet "
            f"(at most {XLSX_MAX_ROWS:,}): export as CSV (format=csv, no limit) or narrow the filters.")


def xlsx_bytes(store: Store, rows: Iterable[tuple], *, filters: dict, permalink: str, total: int) -> bytes:
    """A workbook with a « Données » sheet and a « Métadonnées » sheet (definitions, sources, filters…)."""
    return b"".join(xlsx_stream(store, _chunked(rows), filters=filters, permalink=permalink, total=total))


def _chunked(rows: Iterable[tuple]) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, CHUNK)):
        yield chunk


# The workbook is written as SpreadsheetML by hand and streamed: one zip member per part, the « Données » rows a
# chunk at a time, every text in the shared-string table (so a text cell is typed text, never a formula, and a
# label repeated on 800,000 rows is stored once). openpyxl's write-only mode made an object per cell: 166 s for
# 811,490 rows.
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_PKG = "http://schemas.openxmlformats.org/package/2006"
_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XLSX_STATIC = {
    "[Content_Types].xml": f'<Types xmlns="{_PKG}/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_SML}.sheet.main+xml"/>'
    + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_SML}.worksheet+xml"/>'
              for i in (1, 2))
    + f'<Override PartName="/xl/styles.xml" ContentType="{_SML}.styles+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SML}.sharedStrings+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '<Override PartName="/docProps/app.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>',
    "_rels/.rels": f'<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_OFFICE}/officeDocument" Target="xl/workbook.xml"/>'
    f'<Relationship Id="rId2" Type="{_PKG}/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_OFFICE}/extended-properties" Target="docProps/app.xml"/></Relationships>',
    "docProps/app.xml": '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>Observatoire des métiers du social</Application></Properties>",
    "xl/workbook.xml": f"<workbook {_NS} {_NS_R}><bookViews><workbookView/></bookViews><sheets>"
    '<sheet name="Données" sheetId="1" r:id="rId1"/><sheet name="Métadonnées" sheetId="2" r:id="rId2"/>'
    "</sheets></workbook>",
    "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_OFFICE}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_OFFICE}/worksheet" Target="worksheets/sheet2.xml"/>'
    f'<Relationship Id="rId3" Type="{_OFFICE}/styles" Target="styles.xml"/>'
    f'<Relationship Id="rId4" Type="{_OFFICE}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    # cell styles: 0 plain, 1 bold, 2 to 5 "#,##0" with 0 to 3 decimals (a value has its indicator's `decimals`),
    # 6 "#,##0.0##" (a numerator or denominator that is not whole). Never "#,##0.##": Excel shows 859 as « 859. ».
    # The codes are the file format's (`,` grouping, `.` decimals): a French Excel shows « 1 234,5 ».
    "xl/styles.xml": f"<styleSheet {_NS}>"
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="#,##0.0"/><numFmt numFmtId="165" formatCode="#,##0.000"/>'
    '<numFmt numFmtId="166" formatCode="#,##0.0##"/>'
    '</numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
    '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="7"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    + "".join(f'<xf numFmtId="{n}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
              for n in (3, 164, 4, 165, 166))
    + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>',
}
_VALUE_STYLE = {i.indicator_id: f' s="{2 + min(max(i.decimals, 0), 3)}"' for i in catalogue.INDICATORS}
_WHOLE, _FRACTION = ' s="2"', ' s="6"'
_COUNTS = frozenset(COLUMNS.index(c) for c in ("numerator", "denominator"))
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_LETTERS = [get_column_letter(i) for i in range(1, len(COLUMNS) + 1)]


def _xml_text(value: str) -> str:
    """Text for a `<t>` element: XML-escaped; characters XML cannot hold written `_xHHHH_` (as Excel does)."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if _XML_ILLEGAL.search(value):
        value = _XML_ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    return value


class _Sink:
    """A write-only file that hands over what zipfile wrote so far (it has no seek, so zipfile streams)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def _sheet_start(widths: list[float], frozen: bool) -> str:
    view = ('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
            'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            if frozen else '<sheetViews><sheetView workbookViewId="0"/></sheetViews>')
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, start=1))
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS} {_NS_R}>{view}' \
           f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'


def xlsx_stream(store: Store, chunks: Iterable[list[tuple]], *, filters: dict, permalink: str, total: int,
                lang: str = "en") -> Iterator[bytes]:
    """The workbook (« Données » + « Métadonnées »), yielded block by block as the rows come: memory stays
    flat (what grows is the table of distinct texts). `lang="fr"`: French headers and status labels in
    « Données »; the metadata sheet gives each column's code and header and each status's code and label."""
    check_xlsx_rows(total)
    strings: dict[str, int] = {}
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        for name, content in _XLSX_STATIC.items():
            book.writestr(name, content)
        book.writestr("docProps/core.xml", _core_properties())
        yield sink.take()
        widths = {"indicator_label": 34, "profession_label": 40, "territory_label": 28, "source_label": 60}
        indicators, sources, written = set(), set(), 0
        source_at = COLUMNS.index("source_id")
        with book.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(_sheet_start([widths.get(c, 14) for c in COLUMNS], frozen=True).encode())
            sheet.write(_xlsx_rows([headers(lang)], 1, strings, header=True).encode())
            for chunk in chunks:
                if written + len(chunk) > XLSX_MAX_ROWS:  # the store grew after the rows were counted
                    raise ValueError(f"more than {XLSX_MAX_ROWS:,} rows: use CSV")
                sheet.write(_xlsx_rows(_in_french(chunk) if lang == "fr" else chunk, written + 2, strings).encode())
                indicators.update(row[0] for row in chunk)
                sources.update(row[source_at] for row in chunk)
                written += len(chunk)
                yield sink.take()
            sheet.write(b"</sheetData></worksheet>")
        body = []
        for number, line in enumerate(_metadata(store, filters, permalink, written, sorted(indicators),
                                                sorted(sources), lang), start=1):
            bold = ' s="1"' if len(line) == 1 else ""
            cells = "".join(f'<c r="{"AB"[i]}{number}" t="s"{bold if i == 0 else ""}>'
                            f"<v>{_string(strings, v)}</v></c>" for i, v in enumerate(line) if v is not None)
            body.append(f'<row r="{number}">{cells}</row>')
        book.writestr("xl/worksheets/sheet2.xml", _sheet_start([30, 110], frozen=False) + "".join(body)
                      + "</sheetData></worksheet>")
        with book.open("xl/sharedStrings.xml", "w") as table:
            table.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst {_NS} count="{len(strings)}" '
                        f'uniqueCount="{len(strings)}">'.encode())
            ordered = list(strings)
            for start in range(0, len(ordered), CHUNK):
                table.write("".join(f'<si><t xml:space="preserve">{_xml_text(safe_text(v))}</t></si>'
                                    for v in ordered[start:start + CHUNK]).encode())
            table.write(b"</sst>")
    yield sink.take()


def _string(strings: dict[str, int], value: object) -> int:
    value = str(value)
    index = strings.get(value)
    if index is None:
        index = strings[value] = len(strings)
    return index


def _style(j: int, v: float, value_style: str) -> str:
    """The number format of column `j`: a value its indicator's decimals, a count whole when it is whole."""
    if j == _VALUE_AT:
        return value_style
    if j in _COUNTS:
        return _WHOLE if float(v).is_integer() else _FRACTION
    return ""


def _xlsx_rows(rows: list[tuple], first: int, strings: dict[str, int], header: bool = False) -> str:
    """SpreadsheetML of rows numbered from `first`: texts are shared strings (type s), numbers are numbers,
    value / numerator / denominator formatted by unit; an empty or non-finite number is an empty cell."""
    out = []
    append = out.append
    letters = _LETTERS
    get = strings.get
    isfinite = math.isfinite
    bold = ' s="1"' if header else ""
    for number, row in enumerate(rows, start=first):
        n = str(number)
        append(f'<row r="{n}">')
        value_style = _VALUE_STYLE.get(row[0], _FRACTION)
        for j, v in enumerate(row):
            kind = v.__class__
            if kind is str:
                index = get(v)
                if index is None:
                    index = strings[v] = len(strings)
                append(f'<c r="{letters[j]}{n}" t="s"{bold}><v>{index}</v></c>')
            elif kind is float:
                if isfinite(v):
                    append(f'<c r="{letters[j]}{n}"{_style(j, v, value_style)}><v>{v!r}</v></c>')
            elif kind is int:
                append(f'<c r="{letters[j]}{n}"{_style(j, v, value_style)}><v>{v}</v></c>')
            elif v is not None:  # a Decimal, a numpy number, a date…
                try:
                    number_value = float(v)
                except (TypeError, ValueError):
                    append(f'<c r="{letters[j]}{n}" t="s"><v>{_string(strings, v)}</v></c>')
                    continue
                if isfinite(number_value):
                    append(f'<c r="{letters[j]}{n}"{_style(j, number_value, value_style)}><v>{number_value!r}</v></c>')
        append("</row>")
    return "".join(out)


def _core_properties() -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>Observatoire des métiers du social'
            f'</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified></cp:coreProperties>')


def _metadata(store: Store, filters: dict, permalink: str, rows: int, indicators: list[str], sources: list[str],
              lang: str = "en") -> list[tuple]:
    """The « Métadonnées » sheet, read from the same store as the rows it describes."""
    dims = queries.dimensions(store)
    source_rows = dims.sources.set_index("source_id")
    lines: list[tuple] = [
        ("Observatoire des métiers du social – extraction",),
        ("Date d'extraction", datetime.now().strftime("%d/%m/%Y %H:%M")),
        ("Lien permanent", permalink),
        ("Nombre de lignes", f"{rows} (export complet, aucune ligne omise)"),
        ("Filtres", urlstate.describe(store, filters)),
        ("Précision", "Valeurs arrondies comme à l'écran : chaque valeur au nombre de décimales de son indicateur, "
                      "numérateur et dénominateur à une décimale (un compte entier sans « ,0 »). L'API JSON et les "
                      "exports sans lang=fr gardent la précision complète." if lang == "fr" else
         "Précision complète (valeurs telles que stockées)."),
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
    lines += [(), ("Colonnes",), ("code", "en-tête en français (lang=fr) ; l'API et les exports par défaut "
                                          "écrivent les codes")]
    lines += [(code, FRENCH_HEADERS[code]) for code in COLUMNS]
    lines += [(), ("Statuts",), ("code", "libellé (lang=fr et pages)")]
    lines += [(code, label) for code, label in STATUS_LEGEND.items()]
    return lines
