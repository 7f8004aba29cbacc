"""Read-only HTTP API: `/api/v1/indicators`, `/api/v1/observations`, `/api/v1/projections`, `/api/v1/openapi.json`.

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

from observatory import catalogue, exports, outlook, outlook_data, outlook_export, queries, urlstate
from observatory.schema import TERRITORY_LEVELS

FILTERS = urlstate.PARAMETERS
OPTIONS = ("format", "sep", "lang", "permalink", "page", "page_size")
MAX_PAGE_SIZE = 10_000
MAX_PAGE = 1_000_000_000  # (page - 1) × page_size stays a 64-bit integer for every database
MAX_VALUES = urlstate.MAX_VALUES
JSON = "application/json; charset=utf-8"  # one charset, said once: a client never guesses Latin-1


class BadRequest(Exception):
    pass


_show = urlstate.show
_ascii_digits = urlstate.ascii_digits


def parse_selection(args) -> tuple[queries.Selection, dict]:
    """A Selection from query parameters, read by THE codec (`urlstate.parse`): English keys or their French
    aliases, filters may repeat; BadRequest names what is wrong (French, then English)."""
    try:
        return urlstate.parse(args, OPTIONS)
    except urlstate.BadQuery as error:
        raise BadRequest(str(error)) from None


def _error(message: str, status: int = 400) -> Response:
    return Response(json.dumps({"error": message}, ensure_ascii=False), status=status, content_type=JSON)


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
        lang = _option("lang", "en", ("en", "fr"))
        sep = _option("sep", "semicolon" if lang == "fr" else "comma", ("comma", "semicolon"))
        permalink = _permalink()
        page = _integer("page", 1, minimum=1, maximum=MAX_PAGE)
        page_size = _integer("page_size", 1000, minimum=1, maximum=MAX_PAGE_SIZE)
        selection, filters = parse_selection(request.args)
    except BadRequest as error:
        return _error(str(error))
    total = exports.count(selection)
    headers = {"X-Total-Count": str(total)}
    if fmt == "csv":
        body = exports.csv_stream(selection, semicolon=sep == "semicolon", lang=lang)
        headers["Content-Disposition"] = 'attachment; filename="observations.csv"'
        return Response(stream_with_context(body), content_type="text/csv; charset=utf-8", headers=headers)
    if fmt == "xlsx":
        try:
            exports.check_xlsx_rows(total)
        except ValueError as error:
            return _error(str(error))
        body = exports.xlsx_stream(exports.stream_chunks(selection), filters=filters, total=total, lang=lang,
                                   permalink=request.host_url.rstrip("/") + permalink if permalink else request.url)
        headers["Content-Disposition"] = 'attachment; filename="observations.xlsx"'
        return Response(stream_with_context(body), headers=headers,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    rows = list(exports.stream_rows(selection, offset=(page - 1) * page_size, limit=page_size))
    pages = max(1, -(-total // page_size))
    next_url = None
    if page < pages:
        args = request.args.to_dict(flat=False)
        args["page"] = [str(page + 1)]
        next_url = f"{request.base_url}?{urlencode(args, doseq=True)}"
    head = to_json({"total": total, "page": page, "page_size": page_size, "pages": pages, "next": next_url,
                    "filters": filters, "columns": list(exports.COLUMNS)})
    return Response(f'{head[:-1]}, "rows": {rows_json(rows)}}}', content_type=JSON, headers=headers)


def projections_response() -> Response:
    """The workforce outlook (see observatory/outlook.py): the same codec as the page /perspectives."""
    try:
        fmt = _option("format", "json", ("json", "csv", "xlsx"))
        lang = _option("lang", "en", ("en", "fr"))
        data = outlook_data.store()
        projection_request = outlook_data.parse(request.args.to_dict(flat=False), data)
        projection = outlook_data.run(projection_request, data)
    except BadRequest as error:
        return _error(str(error))
    except outlook.OutlookUnavailable as error:
        return _error(str(error), 503)
    except outlook.OutlookError as error:
        return _error(str(error))
    except (SQLAlchemyError, sqlite3.Error, DatabaseError) as error:
        response = _error(f"the store cannot be read right now, retry shortly ({type(error).__name__})", 503)
        response.headers["Retry-After"] = "5"
        return response
    name = f"projection_{projection_request.family}_{projection_request.territory}"
    if fmt == "csv":
        return Response(outlook_export.csv_bytes(projection, lang), content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if fmt == "xlsx":
        permalink = f"{request.host_url.rstrip('/')}/perspectives?{outlook_data.encode(projection_request)}"
        return Response(outlook_export.xlsx_bytes(projection, permalink),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return Response(to_json(outlook_export.document(projection)), content_type=JSON)


def _option(name: str, default: str, allowed: tuple[str, ...]) -> str:
    given = request.args.getlist(name)
    if len(given) > 1:
        raise BadRequest(f"{name} : une seule valeur / {name} may be given once only")
    if not given:
        return default
    if given[0] not in allowed:
        listed = f"{', '.join(allowed[:-1])} or {allowed[-1]}"
        raise BadRequest(f"{name} vaut {', '.join(allowed[:-1])} ou {allowed[-1]}, pas « {_show(given[0])} » / "
                         f"{name} must be {listed}, not '{_show(given[0])}'")
    return given[0]


def _permalink() -> str | None:
    """`permalink`: the page a export was taken from (a path on this site, with its query), quoted in the XLSX."""
    given = request.args.getlist("permalink")
    if len(given) > 1:
        raise BadRequest("permalink : une seule valeur / permalink may be given once only")
    if not given:
        return None
    value = given[0]
    if not value.startswith("/") or value.startswith("//") or len(value) > 2000 or not value.isascii() \
            or not value.isprintable() or "\\" in value:
        raise BadRequest(f"permalink est un chemin de ce site (« /donnees?… »), pas « {_show(value)} » / "
                         f"permalink must be a path on this site ('/donnees?…'), not '{_show(value)}'")
    return value


def _integer(name: str, default: int, *, minimum: int, maximum: int) -> int:
    given = request.args.getlist(name)
    if len(given) > 1:
        raise BadRequest(f"{name} : une seule valeur / {name} may be given once only")
    if not given:
        return default
    raw = given[0]
    if not _ascii_digits(raw, len(str(maximum))) or not minimum <= int(raw) <= maximum:
        raise BadRequest(f"{name} est un entier de {minimum} à {maximum} (chiffres 0-9), pas « {_show(raw)} » / "
                         f"{name} must be an integer from {minimum} to {maximum} (digits 0-9), not '{_show(raw)}'")
    return int(raw)


def openapi() -> dict:
    filters = [{"name": name, "in": "query", "required": False, "explode": True,
                "schema": {"type": "array", "items": {"type": "integer" if name == "period" else "string"}},
                "description": description} for name, description in (
        ("indicator", "indicator_id (see /api/v1/indicators); may repeat"),
        ("profession", "profession_id; may repeat"), ("territory", "territory_id (FR, REG-84, DEP-69…); may repeat"),
        ("level", f"territory level: {', '.join(TERRITORY_LEVELS)}; may repeat"), ("period", "year; may repeat"),
        ("source", "source_id; may repeat"),
        ("breakdown", "'total', 'esms:<code>' or one of " + ", ".join(catalogue.BREAKDOWNS) + "; may repeat"))]
    options = [
        {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv", "xlsx"],
                                                      "default": "json"}},
        {"name": "sep", "in": "query", "schema": {"type": "string", "enum": ["comma", "semicolon"],
                                                   "default": "comma"},
         "description": "CSV only: semicolon also writes decimal commas (French spreadsheets); the default is "
                        "semicolon with lang=fr, comma otherwise"},
        {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["en", "fr"], "default": "en"},
         "description": "CSV and XLSX: fr writes French column headers and status labels (and, in CSV, `;` and "
                        "decimal commas unless sep=comma); en (default) the codes of the data contract"},
        {"name": "permalink", "in": "query", "schema": {"type": "string"},
         "description": "XLSX: the page (a path on this site) the export was taken from, quoted as its permanent "
                        "link (default: the request's own URL)"},
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
            "/api/v1/projections": {"get": {
                "summary": "Workforce outlook by FAP-87 family × France or région, with assumptions and back-test",
                "parameters": [
                    {"name": "profession", "in": "query", "required": True, "schema": {"type": "string"},
                     "description": "FAP-87 code (T2A…) or a profession_id that maps to one"},
                    {"name": "territory", "in": "query", "schema": {"type": "string", "default": "FR"}},
                    {"name": "from", "in": "query", "schema": {"type": "integer"},
                     "description": "default: the year of the latest stock"},
                    {"name": "to", "in": "query", "schema": {"type": "integer"},
                     "description": f"horizon; default: the first multiple of {outlook_data.HORIZON_STEP} at least "
                                    f"{outlook_data.HORIZON_YEARS} years after the latest stock; at most the last one "
                                    f"within {outlook_data.MAX_YEARS} years of it"},
                    *({"name": p.name, "in": "query", "description": f"{p.label} ({p.unit}); {p.source}",
                       "schema": {"type": "number", "minimum": p.low, "maximum": p.high}}
                      for p in outlook.PARAMETERS.values()),
                    {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv", "xlsx"]}},
                ],
                "responses": {"200": {"description": "projection"}, "400": {"description": "bad parameter"}}}},
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
        return Response(to_json([asdict(i) for i in catalogue.INDICATORS]), content_type=JSON)

    @server.get("/api/v1/observations")
    def _observations():
        return observations_response()

    @server.get("/api/v1/projections")
    def _projections():
        return projections_response()

    @server.get("/api/v1/openapi.json")
    def _openapi():
        return Response(to_json(openapi()), content_type=JSON)
