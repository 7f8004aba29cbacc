"""Read-only HTTP API: `/api/v1/indicators`, `/api/v1/observations`, `/api/v1/projections`, the code lists
(`/api/v1/territories`, `/api/v1/professions`, `/api/v1/sources`) and `/api/v1/openapi.json`; any other `/api/…`
path is a JSON 404 (never the dashboard's page, which Dash serves for every other path).

The same query layer as the pages (`queries.Selection`), the same exports as the pages' buttons. JSON is
paginated with the total count; CSV is streamed (memory stays flat whatever the size); XLSX carries a
metadata sheet. An unknown parameter or value is a 400 naming it; nothing is ever truncated silently.

The store is the app's (`register(server, store)` keeps it in the Flask config, `current_store()` reads it):
the API never looks for a store itself.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import sqlite3
from dataclasses import asdict
from datetime import date
from urllib.parse import urlencode

from flask import Flask, Response, current_app, request, stream_with_context
from pandas.errors import DatabaseError
from sqlalchemy.exc import SQLAlchemyError

from observatory import (
    catalogue,
    codelists,
    demand,
    download,
    exports,
    outlook,
    outlook_data,
    outlook_export,
    queries,
    table,
    urlstate,
)
from observatory.schema import TERRITORY_LEVELS
from observatory.store import Store

FILTERS = urlstate.PARAMETERS
OPTIONS = ("format", "sep", "lang", "permalink", "page", "page_size")
MAX_PAGE_SIZE = 10_000
MAX_PAGE = 1_000_000_000  # (page - 1) × page_size stays a 64-bit integer for every database
MAX_VALUES = urlstate.MAX_VALUES
JSON = "application/json; charset=utf-8"  # one charset, said once: a client never guesses Latin-1
STORE_KEY = "OBSERVATORY_STORE"  # the Flask config entry holding the app's `Store`


class BadRequest(Exception):
    pass


_show = urlstate.show
_ascii_digits = urlstate.ascii_digits


def current_store() -> Store:
    """The store of the app serving this request (set once by `register`)."""
    return current_app.config[STORE_KEY]


def parse_selection(store: Store, args) -> tuple[queries.Selection, dict]:
    """A Selection from query parameters, read by THE codec (`urlstate.parse`): English keys or their French
    aliases, filters may repeat; BadRequest names what is wrong (French, then English)."""
    try:
        return urlstate.parse(store, args, OPTIONS)
    except urlstate.BadQuery as error:
        raise BadRequest(str(error)) from None


def store_unreadable(error: Exception) -> Response:
    """503 with Retry-After: the store could not be read (a load holding it, a dropped connection), never a 500."""
    response = _error(f"the store cannot be read right now, retry shortly ({type(error).__name__})", 503)
    response.headers["Retry-After"] = "5"
    return response


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


_ROW_TEMPLATE = "{" + ", ".join(f"{json.dumps(c)}: %s" for c in table.COLUMNS) + "}"
_encode_string = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes for a str


def _json_column(values: tuple) -> list[str]:
    """One column of rows as JSON values, in one pass per column (a column holds one or two types); a text is
    encoded once however often it repeats (labels, units, sources)."""
    kinds = set(map(type, values))
    if kinds <= {str, type(None)}:
        encoded = {v: "null" if v is None else _encode_string(v) for v in set(values)}
        return list(map(encoded.__getitem__, values))
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
        return store_unreadable(error)


def _observations_response() -> Response:
    store = current_store()
    try:
        fmt = _option("format", "json", ("json", "csv", "xlsx"))
        lang = _option("lang", "en", ("en", "fr"))
        sep = _option("sep", "semicolon" if lang == "fr" else "comma", ("comma", "semicolon"))
        permalink = _permalink()
        page = _integer("page", 1, minimum=1, maximum=MAX_PAGE)
        page_size = _integer("page_size", 1000, minimum=1, maximum=MAX_PAGE_SIZE)
        selection, filters = parse_selection(store, request.args)
    except BadRequest as error:
        return _error(str(error))
    if fmt == "json":
        return _json_page(store, selection, filters, page, page_size)
    total = exports.count(store, selection)
    headers = {"X-Total-Count": str(total),
               "Content-Disposition": download.content_disposition(_filename(store, selection, fmt))}
    if fmt == "csv":
        body = exports.csv_stream(store, selection, semicolon=sep == "semicolon", lang=lang)
        return Response(stream_with_context(body), content_type="text/csv; charset=utf-8", headers=headers)
    if fmt == "xlsx":
        try:
            exports.check_xlsx_rows(total)
        except ValueError as error:
            return _error(str(error))
        body = exports.xlsx_stream(store, exports.stream_chunks(store, selection), filters=filters, total=total,
                                   lang=lang, permalink=public_url(permalink or request.full_path.rstrip("?"),
                                                                   request.host_url))
        return Response(stream_with_context(body), headers=headers,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _json_page(store: Store, selection: queries.Selection, filters: dict, page: int, page_size: int) -> Response:
    """One page of rows, with the selection's total: a page that is not full (and not past the end) is the last
    one, so its total is known without a second query (`COUNT(*)` cost a third of a small query)."""
    offset = (page - 1) * page_size
    rows = list(exports.stream_rows(store, selection, offset=offset, limit=page_size))
    last = len(rows) < page_size and (bool(rows) or page == 1)
    total = offset + len(rows) if last else exports.count(store, selection)
    headers = {"X-Total-Count": str(total)}
    pages = max(1, -(-total // page_size))
    next_url = None
    if page < pages:
        args = request.args.to_dict(flat=False)
        args["page"] = [str(page + 1)]
        next_url = public_url(f"{request.path}?{urlencode(args, doseq=True)}")
    head = to_json({"total": total, "page": page, "page_size": page_size, "pages": pages, "next": next_url,
                    "filters": filters, "columns": list(table.COLUMNS)})
    return Response(f'{head[:-1]}, "rows": {rows_json(rows)}}}', content_type=JSON, headers=headers)


def _filename(store: Store, selection: queries.Selection, extension: str) -> str:
    """The file's name from its selection and today's date (the extraction's)."""
    territories = queries.dimensions(store).territories
    names = dict(zip(territories.territory_id, territories.name))
    return download.filename(selection, extension, names, date.today())


def codelist_response(kind: str) -> Response:
    """A code list (`codelists`) as JSON (an array of entries) or CSV (`format=csv`: one column per
    nomenclature); any other parameter is a 400 naming it."""
    try:
        unknown = sorted(set(request.args) - {"format"})
        if unknown:
            raise BadRequest(f"paramètre inconnu : {_show(unknown[0])} / unknown parameter: {_show(unknown[0])} "
                             "(format=json|csv only)")
        fmt = _option("format", "json", ("json", "csv"))
        entries = codelists.READERS[kind](current_store().url)
    except BadRequest as error:
        return _error(str(error))
    except (SQLAlchemyError, sqlite3.Error) as error:
        return store_unreadable(error)
    if fmt == "json":
        return Response(to_json(entries), content_type=JSON, headers={"X-Total-Count": str(len(entries))})
    header, rows = codelists.csv_rows(entries)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([int(v) if isinstance(v, bool) else download.safe_text(v) for v in row] for row in rows)
    name = f"observatoire_{CODELIST_NAMES[kind]}_{date.today().isoformat()}.csv"
    return Response(("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": download.content_disposition(name),
                             "X-Total-Count": str(len(entries))})


CODELIST_NAMES = {"territories": "territoires", "professions": "metiers", "sources": "sources"}


def not_found() -> Response:
    """Any `/api/…` path the API does not have: a JSON 404 (French, then English) listing the ones it has."""
    paths = ", ".join(openapi()["paths"])
    if request.path in openapi()["paths"]:  # a path the API has, asked with another method than GET
        response = _error(f"{request.method} : l'API est en lecture seule (GET) / {request.method}: the API is "
                          "read-only (GET)", 405)
        response.headers["Allow"] = "GET, HEAD"
        return response
    return _error(f"chemin inconnu : {_show(request.path)} ; l'API a {paths} / unknown path: {_show(request.path)}; "
                  f"the API has {paths}", 404)


def projections_response() -> Response:
    """The workforce outlook (see observatory/outlook.py): the same codec as the page /perspectives."""
    try:
        fmt = _option("format", "json", ("json", "csv", "xlsx"))
        lang = _option("lang", "en", ("en", "fr"))
        data = outlook_data.store(current_store())
        projection_request = urlstate.parse_outlook(request.args.to_dict(flat=False), data)
        projection = outlook_data.run(projection_request, data)
    except BadRequest as error:
        return _error(str(error))
    except outlook.OutlookUnavailable as error:
        return _error(str(error), 503)
    except outlook.OutlookError as error:
        return _error(str(error))
    except (SQLAlchemyError, sqlite3.Error, DatabaseError) as error:
        return store_unreadable(error)
    name = f"projection_{projection_request.family}_{projection_request.territory}"
    if fmt == "csv":
        return Response(outlook_export.csv_bytes(projection, lang), content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if fmt == "xlsx":
        permalink = f"{request.host_url.rstrip('/')}/perspectives?{urlstate.encode_outlook(projection_request)}"
        return Response(outlook_export.xlsx_bytes(projection, permalink),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return Response(to_json(outlook_export.document(projection)), content_type=JSON)


DEMAND_PARAMETERS = ("driver", "territory", "from", "to", "scenario", "format")


def demand_response() -> Response:
    """The outlook's demand drivers (observatory/demand.py): observed years, then projected ones."""
    try:
        unknown = sorted(set(request.args) - set(DEMAND_PARAMETERS))
        if unknown:
            raise BadRequest(f"paramètre(s) inconnu(s) : {_show(', '.join(unknown))} / unknown parameter(s): "
                             f"{_show(', '.join(unknown))}; known: {', '.join(DEMAND_PARAMETERS)}")
        fmt = _option("format", "json", ("json", "csv"))
        name = _option("driver", "", tuple(demand.DRIVERS)) if request.args.get("driver") else None
        if name is None:
            raise BadRequest(f"driver est obligatoire ({', '.join(demand.DRIVERS)}) / driver is required: "
                             f"{', '.join(demand.DRIVERS)}")
        scenario = _option("scenario", "central", demand.SCENARIOS)
        territory = request.args.getlist("territory")
        if len(territory) > 1:
            raise BadRequest("territory : une seule valeur / territory may be given once only")
        territory = territory[0] if territory else "FR"
        store = current_store()
        base = demand.base_year_of(store, name, scenario)
        start = _integer("from", base - 10, minimum=1975, maximum=2070)
        end = _integer("to", base + 10, minimum=1975, maximum=2070)
        rows, source = demand.series(store, name, _show(territory), start, end, scenario)
    except BadRequest as error:
        return _error(str(error))
    except demand.DemandError as error:
        return _error(str(error))
    except (SQLAlchemyError, sqlite3.Error, DatabaseError) as error:
        return store_unreadable(error)
    if fmt == "csv":
        lines = ["driver,territory,scenario,year,value,status,source"]
        lines += [",".join([name, territory, scenario, str(r["year"]), f"{r['value']:.1f}", r["status"],
                            '"' + r["source"].replace('"', "'") + '"']) for r in rows]
        return Response("\ufeff" + "\n".join(lines) + "\n", content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="demand_{name}_{territory}.csv"'})
    return Response(to_json({"driver": name, "label": demand.DRIVERS[name], "territory": territory,
                             "scenario": scenario, "source": source, "base_year": base, "rows": rows}),
                    content_type=JSON)


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
         "description": "CSV and XLSX: fr writes French column headers and status labels, the value rounded to "
                        "its indicator's decimals and the counts to one decimal without a trailing ,0 (as the "
                        "pages show them; and, in CSV, `;` and decimal commas unless sep=comma); en (default) "
                        "the codes of the data contract, full precision (as JSON always is)"},
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
                    {"name": "population_scenario", "in": "query",
                     "schema": {"type": "string", "enum": list(demand.SCENARIOS), "default": "central"},
                     "description": "Insee's scenario the demand drivers are projected under"},
                    {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv", "xlsx"]}},
                ],
                "responses": {"200": {"description": "projection"}, "400": {"description": "bad parameter"}}}},
            "/api/v1/demand": {"get": {
                "summary": "Demand drivers of the outlook (persons) by territory: observed, then projected",
                "parameters": [
                    {"name": "driver", "in": "query", "required": True,
                     "schema": {"type": "string", "enum": list(demand.DRIVERS)}},
                    {"name": "territory", "in": "query", "schema": {"type": "string", "default": "FR"},
                     "description": "FR, REG-… or DEP-…"},
                    {"name": "from", "in": "query", "schema": {"type": "integer"}},
                    {"name": "to", "in": "query", "schema": {"type": "integer"}},
                    {"name": "scenario", "in": "query",
                     "schema": {"type": "string", "enum": list(demand.SCENARIOS), "default": "central"}},
                    {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]}},
                ],
                "responses": {"200": {"description": "rows {year, value, status, source}"},
                              "400": {"description": "unknown driver, territory, scenario or year"}}}},
            **{f"/api/v1/{kind}": {"get": {
                "summary": summary,
                "parameters": [{"name": "format", "in": "query",
                                "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"},
                                "description": "csv: one row per entry, one `code_<nomenclature>` column per "
                                               "nomenclature (several codes joined by ' | ')"}],
                "responses": {"200": {"description": "an array of {" + ", ".join(fields) + "}", "content": {
                    "application/json": {}, "text/csv": {}}},
                    "400": {"description": "unknown parameter", "content": {"application/json": {}}}}}}
                for kind, summary, fields in CODELIST_DOCS},
            "/api/v1/openapi.json": {"get": {"summary": "This description", "responses": {
                "200": {"description": "OpenAPI 3", "content": {"application/json": {}}}}}},
            "/api/v1/observations": {"get": {
                "summary": "Observations, filtered (JSON paginated, CSV streamed, XLSX with metadata)",
                "parameters": filters + options,
                "responses": {"200": {"description": "observations", "content": {
                    "application/json": {}, "text/csv": {},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}},
                    "400": {"description": "unknown parameter or value",
                            "content": {"application/json": {}}}}}},
        },
        "x-not-found": "any other /api/… path answers 404 with a JSON {\"error\": …} (French, then English)",
    }


CODELIST_DOCS = (
    ("territories", "Territories: nation, régions, départements, bassins (filter value `id`)",
     ("id", "label", "level", "parent", "codes: {insee_cog | france_travail_bassin | iso_3166: code}")),
    ("professions", "Professions and their groupings, with their codes in each nomenclature (crosswalk)",
     ("id", "label", "level", "parent", "is_social_work", "codes: {fap2009 | fap87 | rome | …: [codes]}")),
    ("sources", "Published sources (own figures are never listed)",
     codelists.SOURCE_FIELDS),
)


def public_url(path: str, default_base: str = "") -> str:
    """A link to `path` on the public site: `OBSERVATORY_PUBLIC_URL` (e.g. https://observatoire.example.fr) +
    path when set, else `default_base` + path (relative by default) — never the request's `Host` header."""
    base = os.environ.get("OBSERVATORY_PUBLIC_URL", "").strip() or default_base
    return base.rstrip("/") + path


def register(server: Flask, store: Store) -> None:
    """The API's routes on `server`, reading `store`."""
    server.config[STORE_KEY] = store

    @server.get("/api/v1/indicators")
    def _indicators():
        return Response(to_json([asdict(i) for i in catalogue.INDICATORS]), content_type=JSON)

    @server.get("/api/v1/observations")
    def _observations():
        return observations_response()

    @server.get("/api/v1/projections")
    def _projections():
        return projections_response()

    @server.get("/api/v1/demand")
    def _demand():
        return demand_response()

    @server.get("/api/v1/openapi.json")
    def _openapi():
        return Response(to_json(openapi()), content_type=JSON)

    for kind in codelists.KINDS:
        server.add_url_rule(f"/api/v1/{kind}", f"api_{kind}", lambda kind=kind: codelist_response(kind),
                            methods=["GET"])

    # Dash answers every other path with the dashboard's page (`/<path:path>`): these rules, more specific, keep
    # the API's namespace to the API.
    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    server.add_url_rule("/api", "api_not_found", not_found, methods=methods)
    server.add_url_rule("/api/", "api_not_found_slash", not_found, methods=methods)
    server.add_url_rule("/api/<path:_rest>", "api_not_found_under", lambda _rest: not_found(), methods=methods)
