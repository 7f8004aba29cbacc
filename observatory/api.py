"""Read-only HTTP API: `/api/v1/indicators`, `/api/v1/observations`, `/api/v1/openapi.json`.

The same query layer as the pages (`queries.Selection`), the same exports as the pages' buttons. JSON is
paginated with the total count; CSV is streamed (memory stays flat whatever the size); XLSX carries a
metadata sheet. An unknown parameter or value is a 400 naming it; nothing is ever truncated silently.
"""
from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import asdict
from urllib.parse import urlencode

from flask import Flask, Response, request, stream_with_context
from pandas.errors import DatabaseError
from sqlalchemy.exc import SQLAlchemyError

from observatory import catalogue, exports, queries
from observatory.schema import TERRITORY_LEVELS

FILTERS = ("indicator", "profession", "territory", "level", "period", "source", "breakdown")
OPTIONS = ("format", "sep", "page", "page_size")
MAX_PAGE_SIZE = 10_000
MAX_PAGE = 1_000_000_000  # (page - 1) × page_size stays a 64-bit integer for every database
MAX_VALUES = 2_000  # distinct values of one filter (every territory id fits; keeps SQL under its bound-parameter cap)


class BadRequest(Exception):
    pass


def _show(value: str) -> str:
    """A value quoted for an error message, cut when long (a message never echoes a megabyte)."""
    return repr(value if len(value) <= 60 else value[:60] + "…")


def _plain(value: str) -> str:
    """A value named in an error message: unquoted, control characters escaped, cut when long."""
    return _show(value)[1:-1]


def _ascii_digits(value: str, most: int) -> bool:
    """`value` is 1 to `most` ASCII digits (str.isdigit also accepts '²', '١٢' or full-width digits)."""
    return 0 < len(value) <= most and value.isascii() and value.isdigit()


_known_sets: list = [None, None]  # (dimensions, allowed values per filter): rebuilt when the store changes


def _known(dims: queries.Dimensions) -> dict[str, frozenset]:
    if _known_sets[0] is not dims:
        sources = dims.sources
        _known_sets[1] = {
            "indicator": frozenset(catalogue.BY_ID), "profession": frozenset(dims.profession_key),
            "territory": frozenset(dims.territory_key), "level": frozenset(TERRITORY_LEVELS),
            "source": frozenset(sources.loc[sources.scope == "published", ["source_id", "series"]].stack())}
        _known_sets[0] = dims
    return _known_sets[1]


def parse_selection(args) -> tuple[queries.Selection, dict]:
    """A Selection from query parameters (filters may repeat); BadRequest names what is wrong.

    An empty value (`indicator=`, as an HTML form sends an empty field) is no filter; a value repeated counts
    once; options (`format`, `sep`, `page`, `page_size`) may be given once only."""
    unknown = sorted(set(args) - set(FILTERS) - set(OPTIONS))
    if unknown:
        raise BadRequest(f"unknown parameter(s): {', '.join(_plain(u) for u in unknown[:10])}; "
                         f"accepted: {', '.join(FILTERS + OPTIONS)}")
    repeated = [name for name in OPTIONS if len(args.getlist(name)) > 1]
    if repeated:
        raise BadRequest(f"{', '.join(repeated)} may be given once only")
    values = {name: list(dict.fromkeys(v for v in args.getlist(name) if v != "")) for name in FILTERS}
    for name, given in values.items():
        if len(given) > MAX_VALUES:
            raise BadRequest(f"at most {MAX_VALUES:,} distinct {name} values per request, not {len(given):,}")
    dims = queries.dimensions()
    for name, allowed in _known(dims).items():
        wrong = [v for v in values[name] if v not in allowed]
        if wrong:
            raise BadRequest(f"unknown {name} value(s): {', '.join(_plain(v) for v in wrong[:10])}"
                             + (f" (and {len(wrong) - 10:,} more)" if len(wrong) > 10 else ""))
    periods = []
    for value in values["period"]:
        if not _ascii_digits(value, 4) or len(value) != 4:
            raise BadRequest(f"period must be a year (4 digits 0-9), not {_show(value)}")
        periods.append(int(value))
    breakdowns = []
    for value in values["breakdown"]:
        if value == "total":
            breakdowns.append("")
        elif value.startswith("esms:") and _ascii_digits(value[5:], 10):
            breakdowns.append(value)
        else:
            raise BadRequest(f"breakdown must be 'total' or 'esms:<category code>' (digits 0-9), not {_show(value)}")
    selection = queries.Selection(
        indicators=tuple(values["indicator"]) or None,
        # a series id (`ft_bmo`) stands for every vintage of it
        sources=tuple(s for v in values["source"] for s in queries.series_sources(v)) or None,
        professions=tuple(values["profession"]) or None, territories=tuple(values["territory"]) or None,
        levels=tuple(values["level"]) or None, periods=tuple(periods) or None,
        breakdowns=tuple(breakdowns) or None,
    )
    return selection, {k: v for k, v in values.items() if v}


def _error(message: str, status: int = 400) -> Response:
    return Response(json.dumps({"error": message}, ensure_ascii=False), status=status,
                    mimetype="application/json")


def _finite(value):
    """The value with every non-finite float (NaN, ±Infinity, which JSON does not have) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def to_json(body) -> str:
    """Strict JSON: never `NaN` or `Infinity` (a non-finite number is written null)."""
    try:
        return json.dumps(body, ensure_ascii=False, allow_nan=False, default=str)
    except ValueError:  # a non-finite float somewhere: rare, so the walk is only paid then
        return json.dumps(_finite(body), ensure_ascii=False, allow_nan=False, default=str)


_ROW_TEMPLATE = "{" + ", ".join(f"{json.dumps(c)}: %s" for c in exports.COLUMNS) + "}"
_encode_string = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes for a str


def _json_column(values: tuple) -> list[str]:
    """One column of rows as JSON values, in one pass per column (a column holds one or two types); a text is
    encoded once however often it repeats (labels, units, sources)."""
    kinds = set(map(type, values))
    if kinds <= {str, type(None)}:
        table = {v: "null" if v is None else _encode_string(v) for v in set(values)}
        return list(map(table.__getitem__, values))
    if kinds <= {int}:
        return list(map(int.__repr__, values))
    if kinds <= {float, int, type(None)}:
        return ["null" if v is None or not math.isfinite(v) else repr(v) for v in values]
    return [to_json(v) for v in values]


def rows_json(rows: list[tuple]) -> str:
    """Export rows as a JSON array of objects keyed by COLUMNS: the same text as `to_json` of the dicts (no NaN,
    no Infinity), written column by column (a page of 1,000 rows in about a third of the time)."""
    if not rows:
        return "[]"
    columns = [_json_column(column) for column in zip(*rows)]
    return "[" + ", ".join([_ROW_TEMPLATE % values for values in zip(*columns)]) + "]"


def observations_response() -> Response:
    try:
        return _observations_response()
    except (SQLAlchemyError, sqlite3.Error, DatabaseError) as error:  # the store is being rebuilt, locked or missing
        response = _error(f"the store cannot be read right now, retry shortly ({type(error).__name__})", 503)
        response.headers["Retry-After"] = "5"
        return response


def _observations_response() -> Response:
    try:
        fmt = _option("format", "json", ("json", "csv", "xlsx"))
        sep = _option("sep", "comma", ("comma", "semicolon"))
        page = _integer("page", 1, minimum=1, maximum=MAX_PAGE)
        page_size = _integer("page_size", 1000, minimum=1, maximum=MAX_PAGE_SIZE)
        selection, filters = parse_selection(request.args)
    except BadRequest as error:
        return _error(str(error))
    total = exports.count(selection)
    headers = {"X-Total-Count": str(total)}
    if fmt == "csv":
        body = exports.csv_stream(selection, semicolon=sep == "semicolon")
        headers["Content-Disposition"] = 'attachment; filename="observations.csv"'
        return Response(stream_with_context(body), mimetype="text/csv; charset=utf-8", headers=headers)
    if fmt == "xlsx":
        try:
            exports.check_xlsx_rows(total)
        except ValueError as error:
            return _error(str(error))
        body = exports.xlsx_stream(exports.stream_chunks(selection), filters=filters, permalink=request.url,
                                   total=total)
        headers["Content-Disposition"] = 'attachment; filename="observations.xlsx"'
        return Response(stream_with_context(body), headers=headers,
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    rows = list(exports.stream_rows(selection, offset=(page - 1) * page_size, limit=page_size))
    pages = max(1, -(-total // page_size))
    next_url = None
    if page < pages:
        args = request.args.to_dict(flat=False)
        args["page"] = [str(page + 1)]
        next_url = f"{request.base_url}?{urlencode(args, doseq=True)}"
    head = to_json({"total": total, "page": page, "page_size": page_size, "pages": pages, "next": next_url,
                    "filters": filters, "columns": list(exports.COLUMNS)})
    return Response(f'{head[:-1]}, "rows": {rows_json(rows)}}}', mimetype="application/json", headers=headers)


def _option(name: str, default: str, allowed: tuple[str, ...]) -> str:
    given = request.args.getlist(name)
    if len(given) > 1:
        raise BadRequest(f"{name} may be given once only")
    if not given:
        return default
    if given[0] not in allowed:
        raise BadRequest(f"{name} must be {', '.join(allowed[:-1])} or {allowed[-1]}, not {_show(given[0])}")
    return given[0]


def _integer(name: str, default: int, *, minimum: int, maximum: int) -> int:
    given = request.args.getlist(name)
    if len(given) > 1:
        raise BadRequest(f"{name} may be given once only")
    if not given:
        return default
    raw = given[0]
    if not _ascii_digits(raw, len(str(maximum))) or not minimum <= int(raw) <= maximum:
        raise BadRequest(f"{name} must be an integer from {minimum} to {maximum} (digits 0-9), not {_show(raw)}")
    return int(raw)


def openapi() -> dict:
    filters = [{"name": name, "in": "query", "required": False, "explode": True,
                "schema": {"type": "array", "items": {"type": "integer" if name == "period" else "string"}},
                "description": description} for name, description in (
        ("indicator", "indicator_id (see /api/v1/indicators); may repeat"),
        ("profession", "profession_id; may repeat"), ("territory", "territory_id (FR, REG-84, DEP-69…); may repeat"),
        ("level", f"territory level: {', '.join(TERRITORY_LEVELS)}; may repeat"), ("period", "year; may repeat"),
        ("source", "source_id; may repeat"), ("breakdown", "'total' or 'esms:<code>'; may repeat"))]
    options = [
        {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv", "xlsx"],
                                                      "default": "json"}},
        {"name": "sep", "in": "query", "schema": {"type": "string", "enum": ["comma", "semicolon"],
                                                   "default": "comma"},
         "description": "CSV only: semicolon also writes decimal commas (French spreadsheets)"},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}},
        {"name": "page_size", "in": "query",
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 1000}},
    ]
    return {
        "openapi": "3.0.3",
        "info": {"title": "Observatoire des métiers du social – API", "version": "1.0.0",
                 "description": "Read-only access to the observatory's indicators and observations."},
        "paths": {
            "/api/v1/indicators": {"get": {"summary": "The indicator catalogue", "responses": {
                "200": {"description": "catalogue", "content": {"application/json": {}}}}}},
            "/api/v1/observations": {"get": {
                "summary": "Observations, filtered (JSON paginated, CSV streamed, XLSX with metadata)",
                "parameters": filters + options,
                "responses": {"200": {"description": "observations", "content": {
                    "application/json": {}, "text/csv": {},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}},
                    "400": {"description": "unknown parameter or value",
                            "content": {"application/json": {}}}}}},
        },
    }


def register(server: Flask) -> None:
    @server.get("/api/v1/indicators")
    def _indicators():
        return Response(to_json([asdict(i) for i in catalogue.INDICATORS]), mimetype="application/json")

    @server.get("/api/v1/observations")
    def _observations():
        return observations_response()

    @server.get("/api/v1/openapi.json")
    def _openapi():
        return Response(to_json(openapi()), mimetype="application/json")
