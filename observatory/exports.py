"""Exports: the observations of a selection as CSV (streamed) or XLSX (data + metadata), safe to open.

One row format for every export (the API, the CLI and the pages' export links, which point to the API):
codes and labels, value, unit, status, source, named by the one table view (`table.named`). Rows come from the
same query layer as the pages (`queries.Selection`), streamed from the store in key order. Two languages:
`en` (the default) writes the data contract's column codes and status codes, byte for byte; `fr` writes
French headers, the status labels the pages show (`table.status_label`) and « oui »/« non », numbers rounded as
the pages show them (`table.shown`, `table.shown_count`), and the CSV uses `;` and decimal commas. The XLSX
is written by `xlsx`; file names and formula neutralising are `download`'s.
"""
from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime

import pandas as pd
from sqlalchemy import text

from observatory import catalogue, queries, table, urlstate, xlsx
from observatory.store import Store, cached
from observatory.table import (
    COLUMNS,
    COUNT_DECIMALS,
    DECIMALS,
    FRENCH_HEADERS,
    STATUS_LEGEND,
    headers,
    in_french,
    shown,
    shown_count,
    status_label,
)

CHUNK = 5000
_ORDER = " ORDER BY o.source_key, o.indicator_key, o.territory_key, o.profession_key, o.period, o.breakdown"


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
    names, dims = queries.names(store), queries.dimensions(store)
    keys = table.frame_keys(frame.iloc[start:end], dims)
    for first in range(0, len(keys), CHUNK):  # rows built a chunk at a time, by the one row builder
        yield table.named(keys[first:first + CHUNK], names)


def _stream_stored(store: Store, selection: queries.Selection, *, offset: int = 0, limit: int | None = None,
                   keys_only: bool = False) -> Iterator[list[tuple]]:
    """Chunks of export rows (or, `keys_only`, of the fact table's rows as `table.KEYS_SELECT` reads them)."""
    names = queries.names(store)
    name = (lambda chunk, _names: chunk) if keys_only else table.named
    where, params = _where(store, selection)
    sql = table.KEYS_SELECT + where
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

    names = queries.names(store)
    indicators = {k: (field(i) + d + field(label) + d, field(unit) + d)
                  for k, (i, label, unit) in names.indicators.items()}
    sources = {k: field(i) + d + field(label) + d for k, (i, label, _series) in names.sources.items()}
    series_of = {k: series for k, (_i, _label, series) in names.sources.items()}
    break_keys = {k * 10_000 + p for k, s in series_of.items() for series, p in names.break_periods if series == s}
    professions: dict[int, str] = {}
    territories: dict[int, str] = {}
    statuses: dict[str, str] = {}

    def profession(code: int, ik: int, sk: int, pk: int, period: int) -> str:
        label = names.profession_label(ik, pk, series_of[sk], period)
        text = professions[code] = field(names.professions[pk][0]) + d + field(label) + d
        return text

    def territory(code: int, sk: int, tk: int, period: int) -> str:
        territory_id, _name, level = names.territories[tk]
        name = names.territory_label(tk, series_of[sk], period)
        text = territories[code] = field(territory_id) + d + field(name) + d + field(level) + d
        return text

    def note(sk: int, pk: int, tk: int, period: int) -> str:
        return field(names.note(series_of[sk], pk, tk, period))

    if french:  # the value rounded to its indicator's decimals, the counts as on screen (`table.in_french`)
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
            writer.writerows(in_french(chunk, "text", decimal_comma=semicolon))
        elif semicolon:
            writer.writerows([_csv_number(v, True) for v in row] for row in chunk)
        else:
            writer.writerows(chunk)
        yield buffer.getvalue().encode("utf-8")


def check_xlsx_rows(total: int) -> None:
    """Refuse, before writing anything, a selection that one XLSX sheet cannot hold (CSV has no limit)."""
    if total > xlsx.XLSX_MAX_ROWS:
        raise ValueError(
            f"{total:,} lignes : une feuille XLSX en contient au plus {xlsx.XLSX_MAX_ROWS:,} ; exportez en CSV "
            f"(format=csv, sans limite) ou filtrez davantage. / {total:,} rows do not fit in one XLSX sheet "
            f"(at most {xlsx.XLSX_MAX_ROWS:,}): export as CSV (format=csv, no limit) or narrow the filters.")


def xlsx_bytes(store: Store, rows: Iterable[tuple], *, filters: dict, permalink: str, total: int) -> bytes:
    """A workbook with a « Données » sheet and a « Métadonnées » sheet (definitions, sources, filters…)."""
    return b"".join(xlsx_stream(store, _chunked(rows), filters=filters, permalink=permalink, total=total))


def _chunked(rows: Iterable[tuple]) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, CHUNK)):
        yield chunk


def xlsx_stream(store: Store, chunks: Iterable[list[tuple]], *, filters: dict, permalink: str, total: int,
                lang: str = "en") -> Iterator[bytes]:
    """The workbook (« Données » + « Métadonnées »), yielded block by block as the rows come (`xlsx.workbook`).
    `lang="fr"`: French headers and status labels in « Données »; the metadata sheet gives each column's code
    and header and each status's code and label."""
    check_xlsx_rows(total)
    indicators, sources = set(), set()
    source_at = COLUMNS.index("source_id")

    def rows() -> Iterator[list[tuple]]:
        for chunk in chunks:
            indicators.update(row[0] for row in chunk)
            sources.update(row[source_at] for row in chunk)
            yield in_french(chunk) if lang == "fr" else chunk

    yield from xlsx.workbook(headers(lang), rows(), lambda written: _metadata(
        store, filters, permalink, written, sorted(indicators), sorted(sources), lang))


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
